from __future__ import annotations

from datetime import UTC, datetime

from services.reporting.domain.facts import ProjectRegisteredFact
from services.reporting.domain.metrics import (
    REGISTERED_AMOUNT_FEN,
    REGISTRATIONS,
    CounterKey,
    increments_for,
)


def _fact(region: str, category: str, budget: int) -> ProjectRegisteredFact:
    return ProjectRegisteredFact(
        event_id="e",
        project_id="p",
        region_code=region,
        category=category,
        budget_fen=budget,
        registering_department="JYZX",
        registered_at=datetime(2023, 1, 5, tzinfo=UTC),
    )


def _totals(facts: list[ProjectRegisteredFact]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for fact in facts:
        for inc in increments_for(fact):
            totals[inc.key.encode()] = totals.get(inc.key.encode(), 0) + inc.by
    return totals


def test_registrations_are_counted_by_region_and_category() -> None:
    totals = _totals(
        [
            _fact("370113", "HOUSING", 500),
            _fact("370113", "WATER", 300),
            _fact("370115", "HOUSING", 7),
        ]
    )
    assert totals["registrations"] == 3
    assert totals["registrations|region=370113"] == 2
    assert totals["registrations|category=HOUSING"] == 2
    assert totals["registrations|category=HOUSING|region=370113"] == 1
    assert totals["registered_amount_fen|region=370113"] == 800
    assert totals["registered_amount_fen"] == 807


def test_counter_keys_round_trip() -> None:
    key = CounterKey(REGISTRATIONS, (("region", "370113"), ("category", "WATER")))
    assert CounterKey.decode(key.encode()).encode() == key.encode()
    assert CounterKey(REGISTERED_AMOUNT_FEN).encode() == "registered_amount_fen"
