"""The read model's batch step on a real Redis: a batch applies as the events would one by one,
an event id counts once however often and in whatever batch it comes again, and amounts stay
exact past a double's 53 bits."""

from __future__ import annotations

import uuid

import pytest

from services.platform_core.events.envelope import decode_record, encode_envelope
from services.reporting.domain.facts import Fact
from services.reporting.domain.ledger import Ledger
from services.reporting.domain.metrics import OPEN_PUSHES, REGISTERED_AMOUNT_FEN, CounterKey
from services.reporting.event_codec import fact_from_envelope
from services.reporting.read_model import MetricsReadModel
from tests.unit.reporting.event_mix import events_with_deadlines_set
from tests.unit.reporting.factories import announced, registered

pytestmark = pytest.mark.integration


def _facts(count: int) -> list[Fact]:
    """Facts of every kind, each aggregate's in order, through the real codec."""
    found = []
    for outgoing in events_with_deadlines_set(count, seed=11, tag=uuid.uuid4().hex[:6]):
        value, headers = encode_envelope(outgoing.envelope)
        fact = fact_from_envelope(decode_record(value, headers))
        if fact is not None:
            found.append(fact)
    return found


def _fold(facts: list[Fact]) -> Ledger:
    ledger = Ledger()
    for fact in facts:
        ledger.apply(fact)
    return ledger


async def test_batches_apply_as_events_one_by_one(model: MetricsReadModel) -> None:
    facts = _facts(3000)
    ledger = _fold(facts)
    applied = 0
    for start in range(0, len(facts), 700):
        applied += await model.apply_facts(facts[start : start + 700])
    assert applied == len(facts) == await model.version()
    assert await model.counters() == ledger.figures()
    assert await model.index(OPEN_PUSHES) == ledger.indexes[OPEN_PUSHES]


async def test_an_event_counts_once_however_it_comes_again(model: MetricsReadModel) -> None:
    facts = _facts(2000)
    ledger = _fold(facts)
    half = len(facts) // 2
    assert await model.apply_facts(facts[:half]) == half
    # Replayed after a kill: the first half again, with the rest, and a repeat in the batch.
    again = [*facts[half // 2 :], facts[-1], *facts[:10]]
    assert await model.apply_facts(again) == len(facts) - half
    assert await model.apply_facts(facts) == 0
    assert await model.version() == len(facts)
    assert await model.counters() == ledger.figures()


async def test_a_replayed_registration_leaves_its_announcement_counted_once(
    model: MetricsReadModel,
) -> None:
    registration = registered("P-1", "2023-03-01 09:00")
    announcement = announced("P-1", "2023-03-11 09:00")
    assert await model.apply_facts([registration]) == 1
    # The registration was applied before: its state is the one the announcement needs.
    assert await model.apply_facts([registration, announcement, announcement]) == 1
    assert await model.counters() == _fold([registration, announcement]).figures()


async def test_amounts_past_53_bits_stay_exact(model: MetricsReadModel) -> None:
    big = 2**55 + 1  # not a double: summed as a float it would come out even
    facts: list[Fact] = [registered("P-big", "2023-03-01 09:00", budget=big)]
    facts.append(registered("P-big-2", "2023-03-02 09:00", budget=big))
    await model.apply_facts(facts)
    counters = await model.counters(REGISTERED_AMOUNT_FEN)
    assert counters[CounterKey(REGISTERED_AMOUNT_FEN)] == 2 * big


async def test_a_batch_planned_ahead_applies_as_one_by_one(model: MetricsReadModel) -> None:
    """The batch consumer plans the next batch from the states the current one leaves, before
    Redis has applied it: applied in order, the figures are those of the events one by one."""
    facts = _facts(3000)
    ledger = _fold(facts)
    first, second = facts[:1500], facts[1500:]
    planned_first = model.plan(first, await model.read_states(first))
    states = await model.read_states(second)
    states.update(planned_first.states_after)
    planned_second = model.plan(second, states)
    assert await model.execute(planned_first) == len(first)
    assert await model.execute(planned_second) == len(second)
    assert await model.counters() == ledger.figures()
    assert await model.index(OPEN_PUSHES) == ledger.indexes[OPEN_PUSHES]


async def test_a_batch_planned_from_wrong_states_is_planned_again(
    model: MetricsReadModel,
) -> None:
    """A plan whose assumed states are not the stored ones (the batch before it failed, or
    another reader moved them) applies nothing as planned: it is planned again from Redis."""
    facts = _facts(3000)
    ledger = _fold(facts)
    first, second = facts[:1500], facts[1500:]
    # Planned as if nothing had been applied: every aggregate of the first half looks new.
    planned_second = model.plan(second, await model.read_states(second))
    assert await model.apply_facts(first) == len(first)
    assert await model.execute(planned_second) == len(second)
    # And replayed whole, planned from stale states: nothing counts twice.
    assert await model.execute(model.plan(facts, {})) == 0
    assert await model.version() == len(facts)
    assert await model.counters() == ledger.figures()


async def test_a_periods_counters_of_some_metrics_are_those_of_the_whole_hash(
    model: MetricsReadModel,
) -> None:
    """counters_in (one read of the hash, the dashboard's) picks what counters() would."""
    await model.apply_facts(_facts(1500))
    everything = await model.counters()
    periods = {key.period for key in everything}
    assert len(periods) >= 3  # all time and at least two half-years
    metrics = ("registrations", "transactions_completed", "detected_signals")
    for period in periods:
        expected = {
            key: value
            for key, value in everything.items()
            if key.metric in metrics and key.period == period
        }
        assert expected
        assert await model.counters_in(metrics, period) == expected
    assert await model.counters_in(("registrations",), "1999-H1") == {}
