"""The aggregation worker's consumer group rebalances while events arrive — another member joins,
reads a little and leaves, twice — and the worker keeps reading through it: it rejoins, takes
every partition back when the other member has gone, commits the whole log, and its figures equal
the independent recompute.

Rebalances happen in production whenever a second reporting worker starts or stops, or a member
dies in the middle of a join. The batch consumer once fetched its next batch while holding the
lock its rebalance listener waits for; aiokafka's getmany waits for the rebalance to finish, so
the worker hung for good (found by the fault suite's worker kills).
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from redis.asyncio import Redis

from bench.reporting_events import synthetic_events
from services.platform_core.events.envelope import encode_envelope
from services.platform_core.events.topics import EVENT_TOPICS
from services.platform_core.kafka.clients import create_producer
from services.platform_core.settings import PlatformSettings
from services.reporting.domain.figures import diff
from services.reporting.read_model import MetricsReadModel
from services.reporting.recompute import recompute_from_log
from tests.integration.reporting.conftest import fresh_namespace, start_worker
from tests.support.consumer_lag import wait_until_caught_up
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

EVENTS = 12_000
VISITS = 2  # times another member joins the group, reads for a while and leaves


async def _publish_steadily(settings: PlatformSettings, tag: str) -> int:
    """The events in bursts of 500, so that the worker is busy whenever the group rebalances."""
    producer = create_producer(settings, client_id="reporting-rebalance-test")
    await producer.start()
    sent = 0
    try:
        pending = []
        for outgoing in synthetic_events(EVENTS, seed=5, tag=tag):
            value, headers = encode_envelope(outgoing.envelope)
            pending.append(
                await producer.send(
                    outgoing.topic.name, value=value, key=outgoing.key.encode(), headers=headers
                )
            )
            if len(pending) >= 500:
                await asyncio.gather(*pending)
                sent += len(pending)
                pending = []
                await asyncio.sleep(0.1)
        await asyncio.gather(*pending)
        sent += len(pending)
    finally:
        await producer.stop()
    return sent


async def _visit_the_group(settings: PlatformSettings, group_id: str) -> int:
    """Join the worker's group, read (and never commit) for a few seconds, leave: two
    rebalances. Returns how many records this member was handed."""
    visitor = AIOKafkaConsumer(
        *(topic.name for topic in EVENT_TOPICS),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        client_id="reporting-rebalance-visitor",
        enable_auto_commit=False,
        session_timeout_ms=int(settings.broker_session_timeout_s * 1000),
        heartbeat_interval_ms=int(settings.broker_heartbeat_interval_s * 1000),
    )
    await visitor.start()
    handed = 0
    try:
        deadline = asyncio.get_running_loop().time() + 4
        while asyncio.get_running_loop().time() < deadline:
            batches = await visitor.getmany(timeout_ms=200)
            handed += sum(len(records) for records in batches.values())
    finally:
        await visitor.stop()  # leaves the group: its partitions go back, uncommitted
    return handed


async def test_the_worker_reads_on_through_rebalances_of_its_group(
    settings: PlatformSettings, stack_env: dict[str, str], log_dir: Path
) -> None:
    namespace = fresh_namespace("batch")
    redis = Redis.from_url(settings.redis_url)
    read_model = MetricsReadModel(redis, namespace.prefix)
    worker = await asyncio.to_thread(start_worker, namespace, stack_env, log_dir)
    try:
        publishing = asyncio.create_task(_publish_steadily(settings, f"rb{uuid.uuid4().hex[:6]}"))
        handed = []
        for _ in range(VISITS):
            await asyncio.sleep(1.0)
            handed.append(await _visit_the_group(settings, namespace.consumer_group))
        assert await publishing >= EVENTS
        # The visitor really was a member: it was handed records it never committed.
        assert sum(handed) > 0, handed

        await wait_until_caught_up(
            settings,
            namespace.consumer_group,
            EVENT_TOPICS,
            timeout_s=120,
            consumers_alive=worker.check_alive,
        )
        recomputed = (await recompute_from_log(settings)).ledger.figures()

        async def differences() -> list[tuple[str, int, int]]:
            return diff(await read_model.counters(), recomputed)

        assert await eventually(differences, lambda found: not found, timeout_s=60) == []
    finally:
        worker.stop()
        await redis.aclose()
