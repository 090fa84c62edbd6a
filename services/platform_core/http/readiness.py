"""``GET /readyz``: whether this API process can serve now — Redis answers, and (for an API that
publishes) the Kafka brokers answer a metadata request.

``/healthz`` stays a constant 200: it is the liveness probe, and a process is not restarted
because Redis or the brokers are away (restarting would not bring them back). ``/readyz`` is the
readiness probe: while a dependency is down every request would 503 anyway (docs/redis-outage.md),
so the pod is taken out of its Service until it is back.

Each check's outcome is kept ``cache_s`` seconds and concurrent probes share one check, so a
probe storm (many kubelets, a load balancer, a curious operator) costs at most one PING and one
metadata request per process per period. The answer names each dependency and whether it is
``ok`` or ``unavailable``, never an address, a URL, a user or an error text that might carry them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from redis.exceptions import RedisError

# How long one probe's outcome answers the next ones.
READINESS_CACHE_S = 3.0
# A dependency that has not answered within this is unavailable for this probe (a kubelet's
# probe times out after 1 s by default; the manifests give it more).
CHECK_TIMEOUT_S = 2.0

Check = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Readiness:
    checks: Mapping[str, bool]

    @property
    def ready(self) -> bool:
        return all(self.checks.values())

    def body(self) -> dict[str, object]:
        return {
            "status": "ready" if self.ready else "unavailable",
            "checks": {name: "ok" if ok else "unavailable" for name, ok in self.checks.items()},
        }


def redis_check(redis: Redis) -> Check:
    async def ping() -> object:
        return await redis.ping()

    return ping


def kafka_check(producer: AIOKafkaProducer) -> Check:
    """A metadata request to any broker the producer knows: answered, the brokers can take the
    API's events (the producer reconnects by itself; this does not touch its batches)."""

    async def metadata() -> object:
        return await producer.client.fetch_all_metadata()

    return metadata


class ReadinessProbe:
    def __init__(
        self,
        checks: Mapping[str, Check],
        *,
        cache_s: float = READINESS_CACHE_S,
        timeout_s: float = CHECK_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._checks = dict(checks)
        self._cache_s = cache_s
        self._timeout_s = timeout_s
        self._clock = clock
        self._last: Readiness | None = None
        self._checked_at = 0.0
        self._lock = asyncio.Lock()

    async def readiness(self) -> Readiness:
        async with self._lock:  # one check at a time: the others wait for, and share, its outcome
            if self._last is not None and self._clock() - self._checked_at < self._cache_s:
                return self._last
            names = list(self._checks)
            outcomes = await asyncio.gather(*(self._passes(self._checks[name]) for name in names))
            self._last = Readiness(dict(zip(names, outcomes, strict=True)))
            self._checked_at = self._clock()
            return self._last

    async def _passes(self, check: Check) -> bool:
        try:
            await asyncio.wait_for(check(), self._timeout_s)
        except (RedisError, KafkaError, OSError, TimeoutError):
            return False  # not answering in time, or refusing: not ready; never raised further
        return True


def install_readiness(app: FastAPI) -> None:
    """Adds ``GET /readyz``, answered from ``app.state.readiness`` (a :class:`ReadinessProbe` the
    lifespan sets once its clients exist): 200 when every dependency answers, else 503."""

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        probe: ReadinessProbe = request.app.state.readiness
        readiness = await probe.readiness()
        return JSONResponse(
            readiness.body(),
            status_code=200 if readiness.ready else 503,
            headers={"Cache-Control": "no-store"},
        )
