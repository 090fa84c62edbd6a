"""A Redis client whose commands, issued concurrently by many requests, travel together.

An API under load has dozens of requests in flight, each awaiting one Redis command at a time.
Sent one by one, every command pays redis-py's whole per-call path (a pooled connection taken
and given back, a retry wrapper, a task for the send, observability hooks): about 50 µs of CPU
per command on the 2-CPU test machine, against about 19 µs per command in a pipeline of 20.

:class:`AutoPipelinedRedis` is a drop-in ``redis.asyncio.Redis``. A command issued while the
client is idle is sent at once, alone. Commands issued while earlier ones are on the wire wait
for the next send and go together as one non-transactional pipeline (the way ioredis'
``enableAutoPipelining`` and Lettuce do it). Nothing is delayed on a timer: a command waits at
most for the round trip already under way. Each caller gets the reply, or the error, it would
have got alone, and a request's own commands — awaited one after the other — keep their order.

Blocking commands are never queued behind others: they are sent alone, on their own
connection. MULTI/EXEC transactions and WATCH go through :meth:`pipeline` as before, untouched.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

# Sent alone: they hold their connection, and would hold up every command pipelined with them.
_SENT_ALONE = frozenset(
    {
        "BLPOP",
        "BRPOP",
        "BRPOPLPUSH",
        "BLMOVE",
        "BLMPOP",
        "BZPOPMIN",
        "BZPOPMAX",
        "BZMPOP",
        "XREAD",
        "XREADGROUP",
        "WAIT",
        "WAITAOF",
        "MONITOR",
        "SUBSCRIBE",
        "PSUBSCRIBE",
        "SSUBSCRIBE",
        "SELECT",
        "WATCH",
        "UNWATCH",
        "MULTI",
        "EXEC",
        "DISCARD",
    }
)

_Queued = tuple[tuple[Any, ...], dict[str, Any], "asyncio.Future[Any]"]


class AutoPipelinedRedis(Redis):
    """``Redis`` that pipelines the commands its concurrent callers issue (see the module)."""

    # Sends that may be on the wire at once. Two keeps one pipeline filling while the other
    # travels, and a slow command (a long LRANGE, a SCAN page) does not stall all the others.
    max_sends_in_flight = 2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queued: list[_Queued] = []
        self._sends_in_flight = 0
        self._flush_scheduled = False
        self._sends: set[asyncio.Task[None]] = set()

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        name = str(args[0]).upper() if args else ""
        if name in _SENT_ALONE or self.single_connection_client:
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Any] = loop.create_future()
        self._queued.append((args, options, reply))
        if not self._flush_scheduled:
            # Let every caller that runs in this turn of the loop join the same send.
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await reply

    def _flush(self) -> None:
        self._flush_scheduled = False
        while self._queued and self._sends_in_flight < self.max_sends_in_flight:
            batch, self._queued = self._queued, []
            self._sends_in_flight += 1
            send = asyncio.get_running_loop().create_task(self._send(batch))
            self._sends.add(send)
            send.add_done_callback(self._sends.discard)

    async def _send(self, batch: list[_Queued]) -> None:
        try:
            if len(batch) == 1:
                args, options, reply = batch[0]
                try:
                    result = await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
                except Exception as exc:  # the caller's error, as if sent alone
                    _settle(reply, exc)
                else:
                    _settle(reply, result)
                return
            pipe = self.pipeline(transaction=False)
            for args, options, _ in batch:
                pipe.pipeline_execute_command(*args, **options)  # type: ignore[no-untyped-call]
            try:
                results = await pipe.execute(raise_on_error=False)
            except Exception as exc:  # the connection failed: every command in it failed
                for _, _, reply in batch:
                    _settle(reply, exc)
                return
            for (_, _, reply), result in zip(batch, results, strict=True):
                _settle(reply, result)
        except asyncio.CancelledError:
            for _, _, reply in batch:
                reply.cancel()
            raise
        finally:
            self._sends_in_flight -= 1
            if self._queued and not self._flush_scheduled:
                self._flush()

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        # Commands already issued are answered before the pool closes.
        while self._sends or self._queued:
            if self._sends:
                await asyncio.gather(*self._sends, return_exceptions=True)
            else:
                self._flush()
                await asyncio.sleep(0)
        await super().aclose(close_connection_pool)


def _settle(reply: asyncio.Future[Any], outcome: Any) -> None:
    if reply.done():  # the caller was cancelled; the command ran anyway, as a sent one does
        return
    if isinstance(outcome, BaseException):
        reply.set_exception(outcome)
    else:
        reply.set_result(outcome)
