"""Waiting for remote_eval's outbox: the state a reader sees is stored before its events go
out (with their outbox, in one MULTI), so the log has caught up when the outbox is empty."""

from __future__ import annotations

from redis.asyncio import Redis

from services.platform_core.settings import PlatformSettings
from services.remote_eval.store import OUTBOX_KEY
from tests.support.polling import eventually


async def remote_eval_outbox_empty(settings: PlatformSettings, timeout_s: float = 60) -> None:
    """Until every decision remote_eval stored has its events on the log."""
    redis = Redis.from_url(settings.redis_url)
    try:

        async def pending() -> int:
            return int(await redis.hlen(OUTBOX_KEY))

        await eventually(pending, lambda n: n == 0, timeout_s=timeout_s)
    finally:
        await redis.aclose()
