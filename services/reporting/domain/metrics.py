"""Which counters each fact moves.

A counter is a metric name plus its dimensions; the read model adds the increments of an event
once, keyed by the event id, so replays and redeliveries never double-count.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.reporting.domain.facts import Fact, ProjectRegisteredFact

REGISTRATIONS = "registrations"
REGISTERED_AMOUNT_FEN = "registered_amount_fen"


@dataclass(frozen=True)
class CounterKey:
    metric: str
    dimensions: tuple[tuple[str, str], ...] = ()

    def encode(self) -> str:
        """A stable string form: ``metric|dim=value|dim=value`` with dimensions sorted."""
        parts = [self.metric, *(f"{name}={value}" for name, value in sorted(self.dimensions))]
        return "|".join(parts)

    @classmethod
    def decode(cls, text: str) -> CounterKey:
        metric, *rest = text.split("|")
        dimensions = tuple(tuple(part.split("=", 1)) for part in rest)
        return cls(metric, dimensions)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Increment:
    key: CounterKey
    by: int


def increments_for(fact: Fact) -> list[Increment]:
    if isinstance(fact, ProjectRegisteredFact):
        return _registration(fact)
    return []


def _registration(fact: ProjectRegisteredFact) -> list[Increment]:
    cuts: list[tuple[tuple[str, str], ...]] = [
        (),
        (("region", fact.region_code),),
        (("category", fact.category),),
        (("region", fact.region_code), ("category", fact.category)),
        (("department", fact.registering_department),),
    ]
    increments: list[Increment] = []
    for dimensions in cuts:
        increments.append(Increment(CounterKey(REGISTRATIONS, dimensions), 1))
        increments.append(Increment(CounterKey(REGISTERED_AMOUNT_FEN, dimensions), fact.budget_fen))
    return increments
