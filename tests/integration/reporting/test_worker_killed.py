"""SIGKILL the aggregation worker several times while many events arrive: after restarts the
figures equal the independent recompute exactly — nothing double-counted, nothing lost."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.platform_core.settings import PlatformSettings
from services.reporting.domain.figures import diff
from services.reporting.read_model import MetricsReadModel
from services.reporting.recompute import recompute_from_log
from tests.integration.reporting.conftest import fresh_namespace, publish_synthetic, start_worker
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

EVENTS = int(os.environ.get("PRT_TEST_KILL_EVENTS", "20000"))
KILLS = 3


@pytest.mark.parametrize("consumer", ["faust", "batch"])
async def test_killed_worker_leaves_figures_equal_to_the_recompute(
    consumer: str,
    settings: PlatformSettings,
    stack_env: dict[str, str],
    log_dir: Path,
) -> None:
    namespace = fresh_namespace(consumer)
    redis = Redis.from_url(settings.redis_url)
    read_model = MetricsReadModel(redis, namespace.prefix)
    tag = f"k{uuid.uuid4().hex[:6]}"
    worker = await asyncio.to_thread(start_worker, namespace, stack_env, log_dir)
    # Spread over the kills: 2,000 events at a time, 0.2 s apart.
    publishing = asyncio.create_task(publish_synthetic(settings, tag, EVENTS, seed=3, pause_s=0.2))
    try:
        applied_at_kill = []
        for _ in range(KILLS):
            await asyncio.sleep(2.5)
            applied_at_kill.append(await read_model.version())
            worker.kill()  # SIGKILL: no commit, no flush, no goodbye
            worker = await asyncio.to_thread(start_worker, namespace, stack_env, log_dir)
        sent = await publishing
        assert sent >= EVENTS
        # The kills fell while the worker was applying events, not before or after.
        assert applied_at_kill[0] > 0

        started = time.monotonic()
        result = await recompute_from_log(settings)
        recomputed = result.ledger.figures()

        async def differences() -> list[tuple[str, int, int]]:
            return diff(await read_model.counters(), recomputed)

        assert await eventually(differences, lambda found: not found, timeout_s=300) == []
        # Every event of the log was applied exactly once (the version counts applications).
        assert await read_model.version() == len(result.ledger.applied)
        print(
            f"{consumer} consumer: {sent} events, {KILLS} kills at versions {applied_at_kill}; "
            f"caught up {time.monotonic() - started:.1f}s after the last event"
        )
    finally:
        worker.stop()
        await redis.aclose()
