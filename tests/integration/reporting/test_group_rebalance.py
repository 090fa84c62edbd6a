"""The aggregation worker's consumer group rebalances while events arrive — another member (a
plain consumer for the batch consumer's group, a second worker for Faust's) joins, works for a
few seconds and leaves, twice — and the worker keeps reading through it: it rejoins, takes every
partition back when the other member has gone, commits the whole log, and its figures equal the
independent recompute. Both aggregation consumers (batch and Faust).

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

from services.platform_core.events.topics import EVENT_TOPICS
from services.platform_core.settings import PlatformSettings
from services.reporting.domain.figures import diff
from services.reporting.read_model import MetricsReadModel
from services.reporting.recompute import recompute_from_log
from tests.integration.reporting.conftest import (
    READY,
    Namespace,
    fresh_namespace,
    publish_synthetic,
    start_worker,
)
from tests.support.consumer_lag import wait_until_caught_up
from tests.support.polling import eventually
from tests.support.processes import worker_process

pytestmark = pytest.mark.integration

BURST = 6_000  # events per round of publishing; rounds go on until the visits are over
VISITS = 2  # times a second worker joins the group, works for a while and leaves


async def _a_consumer_visits(namespace: Namespace, settings: PlatformSettings) -> bool:
    """A plain consumer joins the group, reads (never committing) for a few seconds and leaves:
    two rebalances, the first within a fraction of a second. True if it was handed records.
    (Faust's group speaks its own assignment protocol; a Faust worker visits that one.)"""
    visitor = AIOKafkaConsumer(
        *(topic.name for topic in EVENT_TOPICS),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=namespace.consumer_group,
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
    return handed > 0


async def _a_second_worker_visits(
    namespace: Namespace, stack_env: dict[str, str], log_dir: Path, visit: int
) -> bool:
    """A second worker of the same group starts, works for a few seconds and stops (leaving the
    group): two rebalances. True if it was given partitions while there."""
    visitor = worker_process(
        f"reporting-visitor-{namespace.consumer_group}-{visit}",
        "services.reporting.stream_worker",
        namespace.env(stack_env),
        log_dir,
    )
    visitor.start()
    try:
        await asyncio.to_thread(visitor.wait_for_log, READY[namespace.consumer], 90)
        await asyncio.sleep(4)
    finally:
        await asyncio.to_thread(visitor.stop)
    # aiokafka's line (the batch consumer) or Faust's table, naming the partitions given.
    _, _, assignment = visitor.log_path.read_text().partition("Setting newly assigned partitions")
    return any(topic.name in assignment for topic in EVENT_TOPICS)


@pytest.mark.parametrize("consumer", ["batch", "faust"])
async def test_the_worker_reads_on_through_rebalances_of_its_group(
    consumer: str, settings: PlatformSettings, stack_env: dict[str, str], log_dir: Path
) -> None:
    namespace = fresh_namespace(consumer)
    redis = Redis.from_url(settings.redis_url)
    read_model = MetricsReadModel(redis, namespace.prefix)
    tag = f"rb{uuid.uuid4().hex[:6]}"
    # A backlog first: the worker starts busy (a fresh group reads the whole log).
    await publish_synthetic(settings, f"{tag}b", BURST)
    worker = await asyncio.to_thread(start_worker, namespace, stack_env, log_dir)
    try:
        visits_over = asyncio.Event()
        # Then 500 events a tenth of a second apart until the visits are over: the worker is
        # busy whenever the group rebalances.
        publishing = asyncio.create_task(
            publish_synthetic(settings, tag, BURST, batch=500, pause_s=0.1, until=visits_over)
        )
        assigned = []
        for visit in range(VISITS):
            if consumer == "batch":
                assigned.append(await _a_consumer_visits(namespace, settings))
            else:
                assigned.append(await _a_second_worker_visits(namespace, stack_env, log_dir, visit))
            await asyncio.sleep(1.0)
        visits_over.set()
        assert await publishing >= BURST
        # The visitors really were members: the group shared its partitions with them.
        assert all(assigned), assigned

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
