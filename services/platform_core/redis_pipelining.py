"""A Redis client whose commands, issued concurrently by many requests, travel together.

An API under load has dozens of requests in flight, each awaiting one Redis command at a time.
Sent one by one through redis-py, every command pays its whole per-call path: a pooled
connection taken and given back, a retry wrapper, the command packed in Python, a stream read
under a timeout context, observability hooks — about 50 µs of CPU per command on the 2-CPU test
machine, and still about 19 µs per command inside a redis-py pipeline.

:class:`AutoPipelinedRedis` is a drop-in ``redis.asyncio.Redis``. Its ordinary commands go over
one multiplexed connection, the way ioredis' ``enableAutoPipelining`` and Lettuce do it: the
commands issued in one turn of the event loop are packed by hiredis (C) and written together,
and the replies, parsed by hiredis as they arrive, settle the callers' futures in order. Nothing
is delayed on a timer: a command issued while the loop is idle goes out on that turn. Each
caller gets the reply, or the error, it would have got alone (redis-py's reply callbacks and
error classes are applied), and a request's own commands — awaited one after the other — keep
their order. A lost connection fails the commands on it with ``redis.ConnectionError``; the next
command connects again. Commands are never re-sent once they may have run; a refused connection
and a command Redis refuses while loading its data are tried again (RETRY_DELAYS_S).

Blocking commands are never queued behind others: they go through redis-py's pool, alone on a
connection, as do MULTI/EXEC transactions and WATCH (:meth:`pipeline`), clients that decode
replies, and RESP3 clients.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Callable
from typing import Any, cast

import hiredis
from redis._parsers.base import BaseParser
from redis._parsers.response_callbacks import get_response_callbacks
from redis.asyncio import Redis
from redis.asyncio.connection import UnixDomainSocketConnection
from redis.exceptions import BusyLoadingError, InvalidResponse, RedisError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

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
        "CLIENT",
        "QUIT",
        "RESET",
        "HELLO",
        "AUTH",
    }
)
# redis-py's options that shape a reply without being sent (see Redis.parse_response).
_EMPTY_RESPONSE = "EMPTY_RESPONSE"
_NEVER_DECODE = "NEVER_DECODE"
# When the client sets no connect timeout, a connection attempt gives up after this long.
CONNECT_TIMEOUT_S = 10.0
# A refused connection, or a command Redis refused while loading its data, is tried again
# after these pauses — then the caller gets the error (an API answers 503 with Retry-After).
RETRY_DELAYS_S = (0.05, 0.2, 0.5)

_Queued = tuple[bytes, "asyncio.Future[Any]"]


class _Multiplexed(asyncio.Protocol):
    """One connection shared by every pipelined command: requests are written in order, and
    each reply settles the oldest waiting future."""

    def __init__(
        self, address: str, on_answered: Callable[[], None], on_lost: Callable[[], None]
    ) -> None:
        self._address = address
        self._on_answered = on_answered
        self._on_lost = on_lost
        self._transport: asyncio.Transport | None = None
        self._unanswered_writes: deque[int] = deque()  # replies still due, per write
        self._reader = hiredis.Reader(protocolError=InvalidResponse, replyError=_reply_error)
        self._waiting: deque[asyncio.Future[Any]] = deque()
        self._all_replied = asyncio.Event()
        self._all_replied.set()
        self._lost = False

    @property
    def usable(self) -> bool:
        transport = self._transport
        return transport is not None and not transport.is_closing() and not self._lost

    @property
    def unanswered_writes(self) -> int:
        return len(self._unanswered_writes)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def write(self, data: bytes, replies: list[asyncio.Future[Any]]) -> None:
        """Sends commands whose replies settle ``replies``; raises redis's ConnectionError
        when the connection is going (then nothing was sent)."""
        if not self.usable:
            raise RedisConnectionError(f"Connection to Redis at {self._address} is closing")
        assert self._transport is not None
        try:
            self._transport.write(data)
        except (OSError, RuntimeError) as exc:  # uvloop raises on a transport closed under us
            raise RedisConnectionError(f"Writing to Redis at {self._address}: {exc}") from exc
        self._waiting.extend(replies)
        self._unanswered_writes.append(len(replies))
        self._all_replied.clear()

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        reader.feed(data)
        waiting = self._waiting
        writes = self._unanswered_writes
        answered = False
        while (reply := reader.gets()) is not False:
            if not waiting:  # a reply nobody asked for: the stream cannot be trusted
                assert self._transport is not None
                self._transport.abort()
                return
            future = waiting.popleft()
            if not future.done():  # a cancelled caller's command ran anyway, as a sent one does
                future.set_result(reply)
            writes[0] -= 1
            if not writes[0]:
                writes.popleft()
                answered = True
        if not waiting:
            self._all_replied.set()
        if answered:
            self._on_answered()

    def connection_lost(self, exc: Exception | None) -> None:
        reason = f"Connection to Redis at {self._address} lost" + (f": {exc}" if exc else "")
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(RedisConnectionError(reason))
        self._unanswered_writes.clear()
        self._all_replied.set()
        self._lost = True
        self._on_lost()
        self._on_answered()  # what waits to be written goes to the next connection

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    async def wait_replied(self) -> None:
        await self._all_replied.wait()


def _reply_error(message: str) -> ResponseError:
    # redis-py's own mapping: NOSCRIPT -> NoScriptError (so scripts reload), etc.
    error: ResponseError = BaseParser.parse_error(message)  # type: ignore[no-untyped-call]
    return error


class AutoPipelinedRedis(Redis):
    """``Redis`` that pipelines the commands its concurrent callers issue (see the module)."""

    # Writes whose replies may be outstanding at once. Commands issued meanwhile wait for the
    # oldest write's replies and go together: under load, one write carries a whole turn's
    # commands instead of a few (a socket write costs 20-50 µs of CPU on the test VM); when
    # idle, a command goes out at once. Two keeps one batch filling while the other travels.
    max_unanswered_writes = 2

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queued: list[_Queued] = []
        self._flush_scheduled = False
        self._connection: _Multiplexed | None = None
        self._connecting: asyncio.Task[_Multiplexed] | None = None
        self._sends: set[asyncio.Task[None]] = set()
        self._closing = False
        pool_kwargs = self.connection_pool.connection_kwargs
        # The multiplexed connection speaks RESP2 and hands replies over undecoded. redis-py's
        # pool connections negotiate RESP3 unless told otherwise, and turn its replies into the
        # same Python shapes as RESP2's ("legacy responses"); so replies here go through
        # redis-py's RESP2 callbacks, which give those shapes from RESP2 replies.
        self._multiplexes = not pool_kwargs.get("decode_responses", False) and pool_kwargs.get(
            "protocol"
        ) in (None, 2, "2")
        callbacks = get_response_callbacks(
            user_protocol=2, legacy_responses=pool_kwargs.get("legacy_responses", True)
        )
        self._resp2_callbacks = {name.upper(): callback for name, callback in callbacks.items()}

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        name = args[0] if args else ""
        if (
            not self._multiplexes
            or self.single_connection_client
            or str(name).upper() in _SENT_ALONE
            or _NEVER_DECODE in options
        ):
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        packed = self._pack(args)
        for delay in (*RETRY_DELAYS_S, None):
            response = await self._issue(packed)
            # Loading its data after a restart, Redis refuses commands without running them:
            # asking again is safe (redis-py's pool connections do so too).
            if not isinstance(response, BusyLoadingError) or delay is None:
                break
            await asyncio.sleep(delay)
        if isinstance(response, RedisError):  # an error reply, as redis-py would raise it
            if _EMPTY_RESPONSE in options and isinstance(response, ResponseError):
                return options[_EMPTY_RESPONSE]
            raise response
        options.pop(_EMPTY_RESPONSE, None)
        options.pop("keys", None)  # redis-py's client-side cache hint, not a callback option
        callback = self._resp2_callbacks.get(name) or self._resp2_callbacks.get(str(name).upper())
        if callback is None:
            return response
        result = callback(response, **options)
        return await result if inspect.isawaitable(result) else result

    def _issue(self, packed: bytes) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Any] = loop.create_future()
        self._queued.append((packed, reply))
        if not self._flush_scheduled:
            # Let every caller that runs in this turn of the loop join the same send.
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return reply

    def _pack(self, args: tuple[Any, ...]) -> bytes:
        head = args[0]
        if isinstance(head, str) and " " in head:  # e.g. "SCRIPT LOAD": separate words
            args = (*head.split(), *args[1:])
        try:
            packed: bytes = hiredis.pack_command(args)
        except TypeError:
            # Not str, bytes, int or float: redis-py's encoder says why (DataError).
            encode = self.connection_pool.get_encoder().encode  # type: ignore[no-untyped-call]
            packed = hiredis.pack_command(tuple(encode(arg) for arg in args))
        return packed

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._queued:
            return
        connection = self._connection
        if connection is not None and connection.usable:
            if connection.unanswered_writes >= self.max_unanswered_writes:
                return  # written when the oldest write is answered (_Multiplexed.on_answered)
            batch, self._queued = self._queued, []
            try:
                self._write(connection, batch)  # the usual case: no task, no await
            except RedisConnectionError:
                pass  # the connection is going: sent below on a new one
            else:
                return
        else:
            batch, self._queued = self._queued, []
        send = asyncio.get_running_loop().create_task(self._send(batch))
        self._sends.add(send)
        send.add_done_callback(self._sends.discard)

    async def _send(self, batch: list[_Queued]) -> None:
        """Writes a batch once the connection is up (or fails every command in it). A refused
        connection is tried again after RETRY_DELAYS_S: nothing of the batch was sent yet."""
        try:
            for delay in (*RETRY_DELAYS_S, None):
                try:
                    connection = await self._connected()
                except (RedisConnectionError, RedisTimeoutError):
                    if delay is None:
                        raise
                    await asyncio.sleep(delay)
                else:
                    self._write(connection, batch)
                    return
        except asyncio.CancelledError:
            for _, reply in batch:
                reply.cancel()
            raise
        except Exception as exc:  # e.g. Redis is away: every command of the batch failed
            for _, reply in batch:
                if not reply.done():
                    reply.set_exception(exc)

    def _write(self, connection: _Multiplexed, batch: list[_Queued]) -> None:
        connection.write(b"".join(packed for packed, _ in batch), [reply for _, reply in batch])

    async def _connected(self) -> _Multiplexed:
        if self._connection is not None and self._connection.usable:
            return self._connection
        # Callers that arrive while a connection is being made wait for that one.
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.get_running_loop().create_task(self._connect())
        return await asyncio.shield(self._connecting)

    async def _connect(self) -> _Multiplexed:
        kwargs = self.connection_pool.connection_kwargs
        loop = asyncio.get_running_loop()
        timeout = (
            kwargs.get("socket_connect_timeout")
            or kwargs.get("socket_timeout")
            or CONNECT_TIMEOUT_S
        )
        unix = issubclass(self.connection_pool.connection_class, UnixDomainSocketConnection)
        address = (
            kwargs["path"]
            if unix
            else f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"
        )
        protocol = _Multiplexed(address, on_answered=self._flush, on_lost=self._forget_pooled)
        try:
            async with asyncio.timeout(timeout):
                if unix:
                    await loop.create_unix_connection(lambda: protocol, kwargs["path"])
                else:
                    await loop.create_connection(
                        lambda: protocol, kwargs.get("host", "localhost"), kwargs.get("port", 6379)
                    )
                await _handshake(protocol, kwargs)
        except TimeoutError as exc:
            protocol.close()
            raise RedisTimeoutError(f"Timeout connecting to Redis at {address}") from exc
        except OSError as exc:
            protocol.close()
            raise RedisConnectionError(f"Error connecting to Redis at {address}: {exc}") from exc
        except BaseException:
            protocol.close()
            raise
        self._connection = protocol
        return protocol

    def _forget_pooled(self) -> None:
        """The multiplexed connection was lost: Redis went away (or restarted), and the pool's
        idle connections, kept for transactions, went with it. They are closed now, so the next
        transaction connects afresh instead of failing on a dead socket (redis-py does not
        retry a MULTI/EXEC)."""
        if self._closing:
            return
        closing = asyncio.get_running_loop().create_task(
            self.connection_pool.disconnect(inuse_connections=False)
        )
        self._sends.add(closing)
        closing.add_done_callback(self._sends.discard)

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        self._closing = True
        # Commands already issued are answered before the connection closes.
        while self._sends or self._queued:
            if self._sends:
                await asyncio.gather(*self._sends, return_exceptions=True)
            else:
                self._flush()
                await asyncio.sleep(0)
        if self._connection is not None:
            await self._connection.wait_replied()
            self._connection.close()
            self._connection = None
        await super().aclose(close_connection_pool)


async def _handshake(protocol: _Multiplexed, kwargs: dict[str, Any]) -> None:
    """AUTH and SELECT as the pool's connections do, before any caller's command."""
    commands: list[tuple[Any, ...]] = []
    password = kwargs.get("password")
    if password:
        username = kwargs.get("username")
        commands.append(("AUTH", username, password) if username else ("AUTH", password))
    db = int(kwargs.get("db") or 0)
    if db:
        commands.append(("SELECT", db))
    if not commands:
        return
    loop = asyncio.get_running_loop()
    replies: list[asyncio.Future[Any]] = [loop.create_future() for _ in commands]
    protocol.write(b"".join(hiredis.pack_command(c) for c in commands), replies)
    for reply in replies:
        response = await reply
        if isinstance(response, RedisError):  # e.g. WRONGPASS, a ConnectionError in redis-py
            raise RedisConnectionError(f"Redis refused the connection's set-up: {response}")
