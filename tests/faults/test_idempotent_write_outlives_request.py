"""An event write that outlives its request (the broker cannot make it durable yet) answers 503,
goes on, and a retry with the same Idempotency-Key gets its outcome: the action runs once.
Against the real Redis of the test stack; the slow write is an awaited event set by the test."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from redis.asyncio import Redis

from services.platform_core.http.errors import ApiError
from services.platform_core.http.idempotency import IdempotencyStore, StoredResponse
from services.platform_core.settings import PlatformSettings


@pytest.mark.integration
async def test_a_slow_write_answers_503_and_a_retry_gets_its_outcome(
    settings: PlatformSettings,
) -> None:
    redis = Redis.from_url(settings.redis_url)
    store = IdempotencyStore(redis, answer_within_s=0.3)
    durable = asyncio.Event()
    runs = 0

    async def write() -> StoredResponse:
        nonlocal runs
        runs += 1
        await durable.wait()  # the broker confirms only later
        return StoredResponse(201, {"event_id": "e-1"})

    key = str(uuid.uuid4())
    try:
        with pytest.raises(ApiError) as refused:
            await store.run("faults:test", key, {"a": 1}, write)
        assert refused.value.status == 503
        assert refused.value.headers == {"Retry-After": "2"}

        retry = asyncio.ensure_future(store.run("faults:test", key, {"a": 1}, write))
        await asyncio.sleep(0.2)
        assert not retry.done()  # waits for the first write's outcome, does not run again
        durable.set()
        answer = await retry
        assert answer.status_code == 201
        assert json.loads(bytes(answer.body)) == {"event_id": "e-1"}
        assert runs == 1
    finally:
        await redis.aclose()
