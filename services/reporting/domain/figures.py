"""Reading figures out of counters: selecting a metric's cut and period, and deriving the
statistics that are not stored (ratios, median and p90 of a histogram). Pure."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.reporting.domain.catalogue import MetricDefinition
from services.reporting.domain.metrics import PERIOD, CounterKey


@dataclass(frozen=True)
class Figure:
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    period: str | None
    value: int

    @property
    def key(self) -> CounterKey:
        period = ((PERIOD, self.period),) if self.period else ()
        return CounterKey(self.metric, (*self.dimensions, *period))


def select(
    counters: Mapping[CounterKey, int],
    metric: str | None,
    by: frozenset[str] | None,
    period: str | None,
    where: Mapping[str, str] | None = None,
) -> list[Figure]:
    """Counters of ``metric`` (all when None) cut by exactly ``by`` (any cut when None), in
    ``period`` (all time when None), whose dimensions match ``where``."""
    selected: list[Figure] = []
    for key, value in counters.items():
        if metric is not None and key.metric != metric:
            continue
        if key.period != period:
            continue
        dimensions = key.without_period()
        if by is not None and frozenset(dimensions) != by:
            continue
        if where and any(dimensions.get(name) != wanted for name, wanted in where.items()):
            continue
        selected.append(Figure(key.metric, tuple(sorted(dimensions.items())), period, value))
    selected.sort(key=lambda figure: figure.key.encode())
    return selected


def value_of(
    counters: Mapping[CounterKey, int], metric: str, period: str | None, **dimensions: str
) -> int:
    period_part = ((PERIOD, period),) if period else ()
    return counters.get(CounterKey(metric, (*tuple(dimensions.items()), *period_part)), 0)


@dataclass(frozen=True)
class Distribution:
    count: int
    median: float | None
    p90: float | None


def nearest_rank(histogram: Mapping[int, int], quantile: float) -> int | None:
    """The nearest-rank quantile of values given as value → how many."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(quantile * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return None  # unreachable: rank <= total


def distribution(histogram: Mapping[int, int]) -> Distribution:
    median = nearest_rank(histogram, 0.5)
    p90 = nearest_rank(histogram, 0.9)
    return Distribution(
        sum(histogram.values()),
        None if median is None else float(median),
        None if p90 is None else float(p90),
    )


def histogram_of(
    counters: Mapping[CounterKey, int],
    definition: MetricDefinition,
    period: str | None,
    where: Mapping[str, str] | None = None,
) -> dict[int, int]:
    """The histogram (days → projects) of a distribution metric at the cut given by ``where``."""
    wanted = frozenset({*(where or {}), "days"})
    histogram: dict[int, int] = {}
    for figure in select(counters, definition.key, wanted, period, where):
        days = int(dict(figure.dimensions)["days"])
        histogram[days] = histogram.get(days, 0) + figure.value
    return histogram


def ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def diff(
    live: Mapping[CounterKey, int], recomputed: Mapping[CounterKey, int]
) -> list[tuple[str, int, int]]:
    """(counter, live, recomputed) for every counter where they differ; zeros count as absent."""
    keys: Iterable[CounterKey] = {*live, *recomputed}
    differences = [
        (key.encode(), live.get(key, 0), recomputed.get(key, 0))
        for key in keys
        if live.get(key, 0) != recomputed.get(key, 0)
    ]
    return sorted(differences)


@dataclass(frozen=True)
class DerivedFigure:
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    period: str | None
    value: float | None
    numerator: int | None = None
    denominator: int | None = None
    count: int | None = None
    median: float | None = None
    p90: float | None = None


def derive(
    counters: Mapping[CounterKey, int],
    definition: MetricDefinition,
    by: frozenset[str],
    period: str | None,
) -> list[DerivedFigure]:
    """A ratio per cut (from its numerator and denominator counters), or a distribution's
    median and p90 per cut (from its days histogram)."""
    derived: list[DerivedFigure] = []
    if definition.kind == "ratio":
        for base in select(counters, definition.denominator, by, period):
            numerator = value_of(counters, definition.numerator, period, **dict(base.dimensions))
            derived.append(
                DerivedFigure(
                    definition.key,
                    base.dimensions,
                    period,
                    ratio(numerator, base.value),
                    numerator=numerator,
                    denominator=base.value,
                )
            )
    elif definition.kind == "distribution":
        groups: dict[tuple[tuple[str, str], ...], dict[int, int]] = {}
        for figure in select(counters, definition.key, by | {"days"}, period):
            dimensions = dict(figure.dimensions)
            days = int(dimensions.pop("days"))
            histogram = groups.setdefault(tuple(sorted(dimensions.items())), {})
            histogram[days] = histogram.get(days, 0) + figure.value
        for dimensions_key, histogram in sorted(groups.items()):
            stats = distribution(histogram)
            derived.append(
                DerivedFigure(
                    definition.key,
                    dimensions_key,
                    period,
                    stats.median,
                    count=stats.count,
                    median=stats.median,
                    p90=stats.p90,
                )
            )
    return derived
