"""The readiness probe's own rules: a check that fails, raises or does not answer in time makes
the process unavailable, naming only the dependency; an outcome answers the probes of the next
few seconds, and probes arriving together share one check."""

from __future__ import annotations

import asyncio

from redis.exceptions import ConnectionError as RedisConnectionError

from services.platform_core.http.readiness import ReadinessProbe


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_failing_or_silent_dependency_is_named_without_detail() -> None:
    async def ok() -> object:
        return True

    async def refused() -> object:
        raise RedisConnectionError("Error 111 connecting to redis://:hunter2@10.0.0.7:6379")

    async def silent() -> object:
        await asyncio.sleep(60)
        return True

    probe = ReadinessProbe({"redis": refused, "kafka": silent, "other": ok}, timeout_s=0.05)
    readiness = await probe.readiness()
    assert not readiness.ready
    body = readiness.body()
    assert body == {
        "status": "unavailable",
        "checks": {"redis": "unavailable", "kafka": "unavailable", "other": "ok"},
    }
    assert "hunter2" not in repr(body)


async def test_an_outcome_is_kept_a_few_seconds_and_shared_by_concurrent_probes() -> None:
    calls = 0
    up = True

    async def redis() -> object:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        if not up:
            raise RedisConnectionError("down")
        return True

    clock = Clock()
    probe = ReadinessProbe({"redis": redis}, cache_s=3.0, clock=clock)
    outcomes = await asyncio.gather(*(probe.readiness() for _ in range(20)))
    assert all(outcome.ready for outcome in outcomes)
    assert calls == 1
    up = False
    clock.now += 2.9
    assert (await probe.readiness()).ready  # still the kept outcome
    assert calls == 1
    clock.now += 0.2
    assert not (await probe.readiness()).ready
    assert calls == 2
