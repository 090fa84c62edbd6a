"""A counter that would pass Redis's signed 64 bits on a real Redis: the batch is never
half-applied. Every other event of it is applied wholly (counters, applied marks, evidence,
states), the event that would overflow not at all, and a replay changes nothing. Through the
worker (either consumer), that event is dead-lettered, naming the counter, and what follows it
is still counted."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prt.v1 import common_pb2, intake_pb2
from redis.asyncio import Redis

from services.platform_core.events.envelope import Envelope, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import PROJECT_EVENTS, dead_letter_topic
from services.platform_core.kafka.clients import create_consumer, create_producer
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings
from services.reporting.domain.facts import Fact
from services.reporting.domain.ledger import Ledger
from services.reporting.domain.metrics import (
    OPEN_PUSHES,
    REGISTERED_AMOUNT_FEN,
    REGISTRATIONS,
    CounterKey,
    contribute,
)
from services.reporting.read_model import CounterWouldOverflow, MetricsReadModel
from tests.integration.reporting.conftest import fresh_namespace, start_worker
from tests.integration.reporting.test_read_model_batches import _facts
from tests.support.polling import eventually
from tests.unit.reporting.factories import announced, registered

pytestmark = pytest.mark.integration

INT64_MAX = 2**63 - 1


def _amount_field(department: str) -> str:
    """The registered amount of one department, for all time: a counter its registrations
    (and no one else's) add their budgets to."""
    return CounterKey(REGISTERED_AMOUNT_FEN, (("department", department),)).encode()


def _fold(facts: list[Fact]) -> Ledger:
    ledger = Ledger()
    for fact in facts:
        ledger.apply(fact)
    return ledger


async def _applied_marks(model: MetricsReadModel, facts: list[Fact]) -> list[bool]:
    redis = model._redis
    found = await redis.mget([model._key("applied", fact.event_id) for fact in facts])
    return [value is not None for value in found]


async def _evidence(model: MetricsReadModel) -> dict[str, set[str]]:
    """Every evidence cell and the ids of the events in it."""
    redis = model._redis
    start = len(model._key("evidence", ""))
    found: dict[str, set[str]] = {}
    async for key in redis.scan_iter(match=model._key("evidence", "*"), count=1000):
        members: set[bytes] = await redis.smembers(key)  # type: ignore[assignment]
        found[key.decode()[start:]] = {member.decode() for member in members}
    return found


async def _snapshot(model: MetricsReadModel) -> dict[Any, Any]:
    """Every key of the read model and its value (sets and hashes as sorted items)."""
    redis = model._redis
    found: dict[Any, Any] = {}
    async for key in redis.scan_iter(match=f"{model._prefix}*", count=1000):
        kind = await redis.type(key)
        if kind == b"string":
            found[key] = await redis.get(key)
        elif kind == b"set":
            found[key] = sorted(await redis.smembers(key))
        else:
            found[key] = sorted((await redis.hgetall(key)).items())
    return found


async def test_an_overflowing_event_is_refused_and_every_other_one_applied(
    model: MetricsReadModel,
) -> None:
    department = f"OVF-{uuid.uuid4().hex[:6]}"
    field = _amount_field(department)
    near_the_limit = INT64_MAX - 50
    overflowing = registered("P-ovf", "2023-03-01 09:00", budget=100, department=department)
    assert field in {f for c in contribute(overflowing, None).counted for f in c.fields}
    # Its project's announcement follows in the batch: counted as for a project never
    # registered, as it would be were the registration not on the log at all.
    after = announced("P-ovf", "2023-03-11 09:00")
    same_department = registered("P-ok", "2023-03-02 09:00", budget=0, department=department)
    mix = _facts(1500)
    facts = [*mix[:700], overflowing, after, same_department, *mix[700:]]
    others = [fact for fact in facts if fact is not overflowing]
    await model._redis.hset(model.counters_key, field, near_the_limit)

    with pytest.raises(CounterWouldOverflow) as refused:
        await model.apply_facts(facts)

    assert refused.value.applied == len(others)
    assert [event.event_id for event in refused.value.refused] == [overflowing.event_id]
    assert field in refused.value.refused[0].counters
    ledger = _fold(others)
    expected = ledger.figures()
    expected[CounterKey.decode(field)] = near_the_limit
    assert await model.counters() == expected
    assert await _applied_marks(model, others) == [True] * len(others)
    assert await _applied_marks(model, [overflowing]) == [False]
    evidence = await _evidence(model)
    assert evidence == ledger.evidence
    assert overflowing.event_id not in set().union(*evidence.values())
    ledger_state = ledger.states.get("project:P-ovf")
    stored = await model.states("project", ["P-ovf"])
    assert stored == ({"P-ovf": ledger_state} if ledger_state else {})
    assert await model.index(OPEN_PUSHES) == ledger.indexes[OPEN_PUSHES]
    assert await model.version() == len(others)

    # Replayed (the worker killed before its commit): nothing changes, the event is refused
    # again.
    before = await _snapshot(model)
    with pytest.raises(CounterWouldOverflow) as again:
        await model.apply_facts(facts)
    assert again.value.applied == 0
    assert [event.event_id for event in again.value.refused] == [overflowing.event_id]
    assert await _snapshot(model) == before


async def test_events_fine_alone_but_not_together_apply_until_the_counter_is_full(
    model: MetricsReadModel,
) -> None:
    """The batch's sum would overflow though no event alone would: the events are applied in
    order while they fit, the one that would take the counter past the limit is refused."""
    department = f"OVF-{uuid.uuid4().hex[:6]}"
    field = _amount_field(department)
    # The script refuses from 9.2e18 (Lua's doubles are 1,024 apart there: far below 50,000).
    start = 9_200_000_000_000_000_000 - 250_000
    first, second, third = (
        registered(f"P-{n}", "2023-03-01 09:00", budget=100_000, department=department)
        for n in range(3)
    )
    await model._redis.hset(model.counters_key, field, start)

    with pytest.raises(CounterWouldOverflow) as refused:
        await model.apply_facts([first, second, third])

    assert refused.value.applied == 2
    assert [event.event_id for event in refused.value.refused] == [third.event_id]
    counters = await model.counters(REGISTERED_AMOUNT_FEN)
    assert counters[CounterKey.decode(field)] == start + 200_000
    registrations = await model.counters(REGISTRATIONS)
    assert registrations[CounterKey(REGISTRATIONS, (("department", department),))] == 2


async def test_a_batch_without_overflow_is_one_script_call(model: MetricsReadModel) -> None:
    """The hot path: the overflow check costs no extra round trip."""
    facts = _facts(1500)
    calls = 0
    run_script = model._run_script

    async def counted(payload: bytes) -> Any:
        nonlocal calls
        calls += 1
        return await run_script(payload)

    model._run_script = counted  # type: ignore[method-assign]
    assert await model.apply_facts(facts) == len(facts)
    assert calls == 1
    assert await model.counters() == _fold(facts).figures()


def _registration(
    project: str, department: str, budget: int
) -> tuple[bytes, list[tuple[str, bytes]]]:
    return encode_envelope(
        Envelope(
            message=intake_pb2.ProjectRegistered(
                project_id=project,
                occurred_at=to_timestamp(datetime(2023, 3, 1, 1, tzinfo=UTC)),
                actor_department=department,
                category=common_pb2.PROJECT_CATEGORY_HOUSING,
                region_code="370102",
                budget_fen=budget,
            ),
            source="/tests/reporting",
            subject=project,
        )
    )


@pytest.mark.parametrize("consumer", ["faust", "batch"])
async def test_the_worker_dead_letters_an_overflowing_event_and_goes_on(
    consumer: str, settings: PlatformSettings, stack_env: dict[str, str], log_dir: Path
) -> None:
    namespace = fresh_namespace(consumer)
    department = f"OVF-{uuid.uuid4().hex[:6]}"
    project = f"overflow-{department}"  # one key: every event on one partition, in order
    field = _amount_field(department)
    redis = Redis.from_url(settings.redis_url)
    # Only this worker's read model is near the limit: other read models count the events.
    await redis.hset(f"{namespace.prefix}counters", field, INT64_MAX - 50)
    # On a fresh broker this may be the first test to write intake's topic: created as the
    # services create it (with its partitions), not auto-created.
    await ensure_topics(settings, [PROJECT_EVENTS])
    producer = create_producer(settings, client_id="reporting-overflow-test")
    await producer.start()
    worker = None
    try:
        overflowing, overflowing_headers = _registration(f"{project}-big", department, 100)
        goods = [_registration(f"{project}-{n}", department, 0) for n in range(3)]
        # Sent together (one batch, most likely) before the worker starts, and one after.
        for value, headers in [goods[0], (overflowing, overflowing_headers), goods[1]]:
            await producer.send(
                PROJECT_EVENTS.name, value=value, key=project.encode(), headers=headers
            )
        await producer.flush()
        worker = await asyncio.to_thread(start_worker, namespace, stack_env, log_dir)
        value, headers = goods[2]
        await producer.send_and_wait(
            PROJECT_EVENTS.name, value=value, key=project.encode(), headers=headers
        )
        model = MetricsReadModel(redis, namespace.prefix)
        figure = CounterKey(REGISTRATIONS, (("department", department),))

        async def counted() -> int:
            return (await model.counters(REGISTRATIONS)).get(figure, 0)

        assert await eventually(counted, lambda found: found == len(goods), timeout_s=180)
        amounts = await model.counters(REGISTERED_AMOUNT_FEN)
        assert amounts[CounterKey.decode(field)] == INT64_MAX - 50
        assert worker.process is not None
        assert worker.process.poll() is None  # still running

        letters = create_consumer(
            settings,
            dead_letter_topic(f"reporting.aggregator.{namespace.consumer_group}").name,
            group_id=None,
            client_id="reporting-overflow-test",
        )
        await letters.start()
        try:
            found: list[tuple[bytes | None, dict[str, bytes]]] = []
            while not found:
                batch = await asyncio.wait_for(letters.getmany(timeout_ms=1000), timeout=60)
                for records in batch.values():
                    for record in records:
                        if record.key == project.encode():
                            found.append((record.value, dict(record.headers)))
        finally:
            await letters.stop()
        assert {value for value, _ in found} == {overflowing}
        reason = found[0][1]["dlq-reason"].decode()
        assert "would overflow" in reason
        assert field in reason
    finally:
        await producer.stop()
        if worker is not None:
            worker.stop()
        await redis.aclose()
