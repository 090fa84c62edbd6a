"""``/v1/metrics``: the catalogue, the figures (with filters), and each figure's evidence."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request

from services.platform_core.http.errors import ApiError, FieldProblem
from services.reporting.domain.catalogue import BY_KEY, CATALOGUE, MetricDefinition
from services.reporting.domain.figures import Figure, derive, select
from services.reporting.domain.periods import InvalidPeriod, parse_period
from services.reporting.http_api.dependencies import Reader, ReadModel
from services.reporting.http_api.schemas import (
    CataloguePublic,
    CounterPublic,
    DerivedPublic,
    EvidencePublic,
    MetricDefinitionPublic,
    MetricsPublic,
)

router = APIRouter(prefix="/v1/metrics", tags=["metrics"])

MAX_EVIDENCE_PAGE = 1000


def refuse(field: str, problem: str) -> ApiError:
    return ApiError(
        422, "invalid_request", f"{field}: {problem}", [FieldProblem(field=field, problem=problem)]
    )


def checked_metric(key: str) -> MetricDefinition:
    definition = BY_KEY.get(key)
    if definition is None:
        raise refuse("metric", f"unknown metric {key!r}; GET /v1/metrics/catalogue lists them")
    return definition


def checked_period(period: str | None) -> str | None:
    if period is None:
        return None
    try:
        return parse_period(period).name
    except InvalidPeriod as exc:
        raise refuse("period", str(exc)) from exc


def evidence_link(metric: str, period: str | None, dimensions: dict[str, str]) -> str:
    params = {"metric": metric, **({"period": period} if period else {}), **dimensions}
    return f"/v1/metrics/evidence?{urlencode(params)}"


def counter_public(figure: Figure) -> CounterPublic:
    dimensions = dict(figure.dimensions)
    return CounterPublic(
        metric=figure.metric,
        dimensions=dimensions,
        period=figure.period,
        value=figure.value,
        evidence=evidence_link(figure.metric, figure.period, dimensions),
    )


@router.get(
    "/catalogue",
    response_model=CataloguePublic,
    summary="The metrics catalogue: what each figure counts, from which events, by what",
)
async def get_catalogue(_: Reader) -> CataloguePublic:
    return CataloguePublic(
        metrics=[
            MetricDefinitionPublic(
                key=m.key,
                name_zh=m.name_zh,
                name_en=m.name_en,
                definition=m.definition,
                source_events=list(m.source_events),
                dimensions=list(m.dimensions),
                cuts=[list(cut) for cut in m.cuts],
                unit=m.unit,
                kind=m.kind,
                numerator=m.numerator or None,
                denominator=m.denominator or None,
            )
            for m in CATALOGUE
        ]
    )


@router.get(
    "",
    response_model=MetricsPublic,
    summary="A metric's values for a period, broken down by the dimensions asked for",
)
async def get_metrics(
    _: Reader,
    model: ReadModel,
    metric: Annotated[str | None, Query(description="only this metric, e.g. registrations")] = None,
    by: Annotated[
        str | None,
        Query(
            description="only figures cut by exactly these dimensions, comma-separated, "
            "e.g. region or category,region; empty for totals; absent for every cut"
        ),
    ] = None,
    period: Annotated[
        str | None, Query(description="2023, 2023-H1, 2023-Q2 or 2023-05; absent: all time")
    ] = None,
) -> MetricsPublic:
    definition = checked_metric(metric) if metric is not None else None
    period = checked_period(period)
    wanted = None if by is None else frozenset(filter(None, by.split(",")))
    if definition is not None and wanted is not None:
        unknown = sorted(wanted - set(definition.dimensions))
        if unknown:
            raise refuse(
                "by",
                f"{', '.join(unknown)} is not a dimension of {definition.key}; "
                f"its dimensions are {', '.join(definition.dimensions) or 'none'}",
            )
    stored = definition.numerator if definition and definition.kind == "ratio" else metric
    counters = await model.counters(stored)
    if definition is not None and definition.kind == "ratio":
        counters.update(await model.counters(definition.denominator))
    derived = []
    if definition is not None and definition.kind != "counter":
        derived = [
            DerivedPublic(
                metric=d.metric,
                dimensions=dict(d.dimensions),
                period=d.period,
                value=d.value,
                numerator=d.numerator,
                denominator=d.denominator,
                count=d.count,
                median=d.median,
                p90=d.p90,
            )
            for d in derive(counters, definition, wanted or frozenset(), period)
        ]
    figures = (
        []
        if definition is not None and definition.kind == "ratio"
        else select(counters, metric, wanted, period)
    )
    return MetricsPublic(counters=[counter_public(f) for f in figures], derived=derived)


@router.get(
    "/evidence",
    response_model=EvidencePublic,
    summary="The events behind one figure: every bulletin number is traceable to them",
    description=(
        "The ids of the events behind one figure, a page at a time in event-id (time) order; "
        "the figure's dimensions go as query parameters (e.g. `&region=370113`), exactly as "
        "the figure's `evidence` link has them.\n\n"
        "Some events take from a figure: the measure taken after 立案 takes a push out of "
        "`pushes_in_hand`, the real deadlines (PushDeadlinesSet) take it off "
        "`pushes_on_estimated_deadlines` and may move it out of `pushes_fed_back_on_time`. "
        "Those are listed apart: `added_ids` and `subtracted_ids` split each page's "
        "`event_ids`, and `added` and `subtracted` count them over all pages (`total` is how "
        "many events are listed). Most events move a count by one, so `added − subtracted` is "
        "the figure; a few move it by more at once — an evaluation's cancellation takes back "
        "each of its shared experts, a step in time may void two overdue deadlines and their "
        "escalations — and then the figure is lower by the difference. "
        "For an amount (fen) they are the events that moved it.\n\n"
        "Evidence stored before events were told apart by sign lists the subtracting events "
        "as adding ones; `python -m services.reporting.rebuild --yes` (the reporting worker "
        "stopped, then started again) recomputes it from the log."
    ),
)
async def get_evidence(
    *,
    request: Request,
    _: Reader,
    model: ReadModel,
    metric: Annotated[str, Query(description="the figure's metric")],
    period: Annotated[str | None, Query(description="the figure's period")] = None,
    after: Annotated[str | None, Query(description="page after this event id")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EVIDENCE_PAGE)] = 100,
) -> EvidencePublic:
    """The events behind one figure (see the route's description: those that added to it apart
    from those that subtracted)."""
    definition = checked_metric(metric)
    period = checked_period(period)
    reserved = {"metric", "period", "after", "limit", "key"}
    where = {name: value for name, value in request.query_params.items() if name not in reserved}
    unknown = sorted(set(where) - set(definition.dimensions))
    if unknown:
        raise refuse(
            unknown[0],
            f"not a dimension of {definition.key}; its dimensions are "
            f"{', '.join(definition.dimensions) or 'none'}",
        )
    stored = definition.numerator if definition.kind == "ratio" else definition.key
    page = await model.evidence(stored, period, where, after, limit)
    next_link = None
    if page.next_cursor is not None:
        next_link = (
            evidence_link(metric, period, where)
            + "&"
            + urlencode({"after": page.next_cursor, "limit": limit})
        )
    return EvidencePublic(
        metric=metric,
        period=period,
        dimensions=where,
        total=page.total,
        added=page.added,
        subtracted=page.subtracted,
        event_ids=page.event_ids,
        added_ids=page.added_ids,
        subtracted_ids=page.subtracted_ids,
        next=next_link,
    )
