"""``python -m services.reporting.rebuild``: with the worker stopped, the read model is deleted and
the worker's group rewound; started again, the worker replays the log into the same figures,
states and indexes. With the worker running it refuses and deletes nothing."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.platform_core.events.topics import EVENT_TOPICS
from services.platform_core.kafka.log_replay import GroupStillConsuming
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings
from services.reporting.domain.metrics import OPEN_PUSHES
from services.reporting.read_model import MetricsReadModel
from services.reporting.rebuild import rebuild
from tests.integration.reporting.conftest import (
    fresh_namespace,
    publish_synthetic,
    start_worker,
    wait_caught_up,
)
from tests.support.stream_workers import run_module

pytestmark = pytest.mark.integration


async def _read_model(model: MetricsReadModel, redis: Redis, prefix: str) -> dict[str, object]:
    """What the read model holds: its figures, how many events it applied, the open pushes and
    every aggregate's state (the push board's report kinds among them)."""
    state_keys = sorted(
        [key.decode() async for key in redis.scan_iter(match=f"{prefix}state:*", count=5000)]
    )
    states = await redis.mget(state_keys) if state_keys else []
    return {
        "counters": await model.counters(),
        "version": await model.version(),
        "open pushes": await model.index(OPEN_PUSHES),
        "states": dict(zip(state_keys, states, strict=True)),
    }


async def test_a_rebuilt_read_model_is_the_one_it_replaced(
    settings: PlatformSettings, stack_env: dict[str, str], log_dir: Path
) -> None:
    namespace = fresh_namespace()
    redis = Redis.from_url(settings.redis_url)
    model = MetricsReadModel(redis, namespace.prefix)
    await ensure_topics(settings, EVENT_TOPICS)
    await publish_synthetic(settings, f"rb{uuid.uuid4().hex[:6]}", 3000, seed=21)
    env = namespace.env(stack_env)
    try:
        worker = await asyncio.to_thread(start_worker, namespace, stack_env, log_dir)
        try:
            await wait_caught_up(settings, model)
            before = await _read_model(model, redis, namespace.prefix)
            states = before["states"]
            assert isinstance(states, dict)
            assert any(key.startswith(f"{namespace.prefix}state:report:") for key in states)
            # The worker is running: the rewind is refused and nothing is deleted, and the
            # command says why.
            with pytest.raises(GroupStillConsuming, match="stop its workers first"):
                await rebuild(settings, namespace.prefix, namespace.consumer_group)
            with pytest.raises(AssertionError, match="nothing deleted: consumer group"):
                await run_module("services.reporting.rebuild", env, "--yes")
            assert await _read_model(model, redis, namespace.prefix) == before
        finally:
            worker.stop()

        await run_module("services.reporting.rebuild", env, "--yes")  # as an operator runs it
        assert await model.version() == 0
        assert await model.counters() == {}

        worker = await asyncio.to_thread(start_worker, namespace, stack_env, log_dir)
        try:
            await wait_caught_up(settings, model)
            assert await _read_model(model, redis, namespace.prefix) == before
        finally:
            worker.stop()
    finally:
        keys = [key async for key in redis.scan_iter(match=f"{namespace.prefix}*", count=5000)]
        if keys:
            await redis.unlink(*keys)
        await redis.aclose()
