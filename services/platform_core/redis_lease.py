"""One holder at a time across processes: a lease in Redis, with a fence for the holder's writes.

A process-local ``asyncio.Lock`` serialises the work of one process only; a second process
(a second worker started by mistake, or by a rebalance overlap) would decide against the same
shared state at the same time. The lease is a key set with ``NX`` and an expiry holding the
holder's random token; it is released only by its holder (compare-and-delete). If a holder
pauses past the expiry, another process may take the lease: the fence stops the first one's
late write — its MULTI runs under ``WATCH`` of the lease key and only while the key still holds
its token, so the write fails with :class:`LeaseLost` and stores nothing, and the work is done
again (the error is among the platform's transient errors, so the event is retried).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from services.platform_core.errors import PlatformError

# KEYS: the lease; ARGV: the holder's token. Deletes the lease only if this holder still has it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class LeaseLost(PlatformError):
    """The lease expired and was taken before the holder's write: nothing was written."""


class RedisLease:
    """``async with lease.held(): ... await lease.fenced_transaction(pipe)`` — see the module."""

    def __init__(
        self, redis: Redis, key: str, *, lease_ms: int = 30_000, poll_s: float = 0.005
    ) -> None:
        self._redis = redis
        self.key = key
        self._lease_ms = lease_ms
        self._poll_s = poll_s
        self._local = asyncio.Lock()  # this process's holders queue here, not on Redis
        self._token: str | None = None

    @asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        async with self._local:
            token = uuid.uuid4().hex
            wait = self._poll_s
            while not await self._redis.set(self.key, token, nx=True, px=self._lease_ms):
                await asyncio.sleep(wait)
                wait = min(wait * 2, 0.1)
            self._token = token
            try:
                yield
            finally:
                self._token = None
                await self._redis.eval(_RELEASE, 1, self.key, token)

    @property
    def holding(self) -> bool:
        return self._token is not None

    async def begin_fenced(self, pipe: Pipeline) -> None:
        """Starts ``pipe``'s MULTI under the fence: call before queueing the commands, then
        ``await execute_fenced(pipe)``. Raises LeaseLost when the lease is no longer ours."""
        token = self._token
        if token is None:
            raise LeaseLost(f"a fenced write outside the lease {self.key}")
        await pipe.watch(self.key)
        current: Any = await pipe.get(self.key)
        if (current.decode() if isinstance(current, bytes) else current) != token:
            await pipe.reset()  # type: ignore[no-untyped-call]
            raise LeaseLost(f"the lease {self.key} expired and was taken before this write")
        pipe.multi()  # type: ignore[no-untyped-call]

    async def execute_fenced(self, pipe: Pipeline) -> list[Any]:
        try:
            result: list[Any] = await pipe.execute()
        except WatchError as exc:
            raise LeaseLost(f"the lease {self.key} changed hands during this write") from exc
        return result
