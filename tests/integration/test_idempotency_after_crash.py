"""A process that dies after its write reached the log, before it recorded the outcome under the
Idempotency-Key: the retry runs the write again, and makes the same ids, so the project, report
or evaluation is the same one and consumers drop the repeat by event id.

The first run is a real process killed by SIGKILL (os.kill of itself) half-way through its
action, against the real Redis of the test stack."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid

import pytest
from redis.asyncio import Redis

from services.platform_core.events.ids import new_event_id
from services.platform_core.http import idempotency
from services.platform_core.http.errors import ApiError
from services.platform_core.http.idempotency import IdempotencyStore, StoredResponse
from services.platform_core.settings import PlatformSettings

pytestmark = pytest.mark.integration

# The first run: makes its ids (as a route does: an aggregate id, then its event's id), says
# them, and dies before the outcome reaches the key.
FIRST_RUN = """
import asyncio, os, signal, sys
from redis.asyncio import Redis
from services.platform_core.events.ids import new_event_id
from services.platform_core.http import idempotency
from services.platform_core.http.idempotency import IdempotencyStore

idempotency.IN_FLIGHT_SECONDS = 1  # a marker left unrenewed is stale after a second

async def main() -> None:
    store = IdempotencyStore(Redis.from_url(sys.argv[1]), answer_within_s=None)

    async def write():
        print(new_event_id(), new_event_id(), flush=True)  # "published"
        os.kill(os.getpid(), signal.SIGKILL)  # no outcome recorded, no cleanup

    await store.answer("crash:test", sys.argv[2], {"name": "济南"}, write)

asyncio.run(main())
"""


async def test_a_retry_after_the_process_died_mid_write_makes_the_same_ids(
    settings: PlatformSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "IN_FLIGHT_SECONDS", 1)
    key = str(uuid.uuid4())
    child = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", FIRST_RUN, settings.redis_url, key],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert child.returncode == -9, child.stderr
    first_ids = child.stdout.split()
    assert len(first_ids) == 2

    redis = Redis.from_url(settings.redis_url)
    store = IdempotencyStore(redis, answer_within_s=None)
    runs: list[list[str]] = []

    async def write() -> StoredResponse:
        made = [new_event_id(), new_event_id()]
        runs.append(made)
        return StoredResponse(201, {"ids": made})

    try:
        # At once the dead run's marker is still fresh: the retry waits, and is told to retry.
        with pytest.raises(ApiError) as in_flight:
            await store.answer("crash:test", key, {"name": "济南"}, write, wait_timeout_s=0.2)
        assert in_flight.value.status == 409
        await asyncio.sleep(1.2)  # the dead run no longer renews its marker
        answer = await store.answer("crash:test", key, {"name": "济南"}, write)
        assert answer.status == 201 and not answer.replayed
        assert runs == [first_ids]  # run again, with the first run's ids
        again = await store.answer("crash:test", key, {"name": "济南"}, write)
        assert again.replayed and again.body == {"ids": first_ids}
        assert runs == [first_ids]  # and not a third time
        raw = await redis.get(idempotency.KEY_PREFIX + "crash:test:" + key)
        assert raw is not None
        assert json.loads(raw)["state"] == "done"
    finally:
        await redis.aclose()


async def test_a_live_run_keeps_its_marker_fresh_so_no_retry_takes_it_over(
    settings: PlatformSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "IN_FLIGHT_SECONDS", 0.6)
    redis = Redis.from_url(settings.redis_url)
    store = IdempotencyStore(redis, answer_within_s=None)
    key = str(uuid.uuid4())
    release = asyncio.Event()
    runs = 0

    async def slow_write() -> StoredResponse:
        nonlocal runs
        runs += 1
        await release.wait()
        return StoredResponse(201, {"run": runs})

    try:
        first = asyncio.ensure_future(store.answer("crash:test", key, {"a": 1}, slow_write))
        await asyncio.sleep(0.1)
        retry = asyncio.ensure_future(
            store.answer("crash:test", key, {"a": 1}, slow_write, wait_timeout_s=10)
        )
        await asyncio.sleep(2.0)  # three times the freshness window: renewed, not taken over
        assert runs == 1
        release.set()
        assert (await first).body == {"run": 1}
        replayed = await retry
        assert replayed.replayed and replayed.body == {"run": 1}
        assert runs == 1
    finally:
        await redis.aclose()
