from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from services.reporting.domain.facts import ProjectRegisteredFact
from services.reporting.domain.ledger import Ledger
from services.reporting.domain.metrics import (
    REGISTERED_AMOUNT_FEN,
    REGISTRATIONS,
    CounterKey,
    contribute,
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


def test_a_ledger_sums_the_counters_its_groups_move() -> None:
    """The ledger adds an amount to a group of counters at once; read back, each counter has
    what adding every increment one by one gives, periods included."""
    facts = [
        _fact("370113", "HOUSING", 500),
        _fact("370113", "WATER", 300),
        _fact("370115", "HOUSING", 7),
    ]
    ledger = Ledger()
    one_by_one: dict[str, int] = {}
    for n, made in enumerate(facts):
        fact = replace(made, event_id=f"e{n}", project_id=f"p{n}")
        ledger.apply(fact)
        for inc in increments_for(fact):
            one_by_one[inc.field] = one_by_one.get(inc.field, 0) + inc.by
    assert dict(ledger.counters) == one_by_one
    assert ledger.value("registered_amount_fen|period=2023-Q1") == 807
    assert ledger.value("registrations|category=HOUSING|period=2023-01") == 2
    assert ledger.figures() == {CounterKey.decode(k): v for k, v in one_by_one.items()}


def test_counting_the_same_values_again_reuses_their_counter_keys() -> None:
    first = contribute(_fact("370113", "HOUSING", 500), None)
    second = contribute(replace(_fact("370113", "HOUSING", 9), event_id="e2"), None)
    assert [c.fields for c in first.counted] == [c.fields for c in second.counted]
    assert [c.by for c in second.counted] == [1, 9]
    assert first.evidence == second.evidence
