"""Idempotency-Key for POSTs that emit events: a retry never emits twice.

The first request with a key runs; its response (status and body) is stored with a hash of the
request body, per principal and route. A repeat with the same key and the same body gets the
stored response and emits nothing; the same key with a different body is refused (422). A
repeat arriving while the first is still running waits for its result, so concurrent retries
also produce one event.

A process killed after the broker acknowledged but before the response was stored leaves only
its in-flight marker, which its process no longer renews: ``IN_FLIGHT_SECONDS`` after the last
renewal a retry takes the marker over and runs the action again. The marker carries the first
run's id seed, and every run derives its event and aggregate ids from it
(:func:`~services.platform_core.events.ids.ids_from_seed`), so the second run writes the same
ids: the project, report or evaluation is the same one, and consumers drop the repeated events
by event id.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.platform_core.events.ids import ids_from_seed, new_event_id
from services.platform_core.http.errors import ApiError
from services.platform_core.settings import get_settings

IDEMPOTENCY_HEADER = "Idempotency-Key"
KEY_PREFIX = "prt:idempotency:"
IN_FLIGHT_SECONDS = 30
REMEMBER_SECONDS = 7 * 24 * 3600
# How long an action that has run keeps trying to record its outcome while Redis is away.
RECORD_OUTCOME_FOR_SECONDS = 600
MAX_KEY_LENGTH = 200


KEY_DESCRIPTION = (
    f"A fresh key (e.g. a UUID) per request, at most {MAX_KEY_LENGTH} printable characters. A "
    "retry with the same key and body gets the first answer and emits nothing new; the same key "
    "with another body is refused (422)."
)


async def _idempotency_key_header(request: Request) -> str | None:
    # Read from the headers directly: declared as a FastAPI Header parameter, the key cost about
    # 40 µs of parameter validation per request (measured: a registration 455 -> 415 µs of CPU);
    # check_key validates it. document_idempotency_key puts it in the OpenAPI document.
    return request.headers.get(IDEMPOTENCY_HEADER)


IdempotencyKey = Annotated[str | None, Depends(_idempotency_key_header)]
"""The request's Idempotency-Key, for the signature of every POST that emits events."""


def document_idempotency_key(app: FastAPI) -> None:
    """Declare the Idempotency-Key header in the OpenAPI operation of every route that takes
    :data:`IdempotencyKey` (call once, after the routers are included)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        # Route contexts, not app.routes: included routers are resolved lazily, with prefixes.
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            if not (isinstance(route, APIRoute) and _takes_idempotency_key(route.dependant)):
                continue
            for method in context.methods or ():
                operation = schema["paths"][context.path_format][method.lower()]
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == IDEMPOTENCY_HEADER for p in parameters):
                    parameters.append(
                        {
                            "name": IDEMPOTENCY_HEADER,
                            "in": "header",
                            # check_key refuses a request without one (400): clients generated
                            # from the document, and /docs' "Try it out", must send it.
                            "required": True,
                            "description": KEY_DESCRIPTION,
                            "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
                            "example": "6f1c2a3e-8d4b-4f6a-9c1e-2b7d5e8f0a13",
                        }
                    )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _takes_idempotency_key(dependant: Dependant) -> bool:
    return any(
        sub.call is _idempotency_key_header or _takes_idempotency_key(sub)
        for sub in dependant.dependencies
    )


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any


@dataclass(frozen=True)
class IdempotentAnswer:
    """What a request with an Idempotency-Key is answered: the first run's outcome, fresh or
    replayed from the store."""

    status: int
    body: Any
    replayed: bool = False

    def response(self) -> JSONResponse:
        return StoredJSONResponse(
            self.body, status_code=self.status, headers=_replayed() if self.replayed else None
        )

    def headers(self) -> dict[str, str]:
        return _replayed() if self.replayed else {}


def body_fingerprint(body: Any) -> str:
    """A hash of the request body, independent of key order and whitespace."""
    try:
        # json.dumps(sort_keys=True, ensure_ascii=False, compact)'s bytes for the strings,
        # integers, booleans and lists of request bodies, at a fifth of the cost.
        canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # an integer beyond 64 bits, which orjson does not write
        canonical = json.dumps(
            body, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        ).encode()
    return hashlib.sha256(canonical).hexdigest()


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise ApiError(
            400,
            "idempotency_key_required",
            f"Send an {IDEMPOTENCY_HEADER} header (e.g. a UUID) so that a retry of this request "
            "cannot take effect twice",
        )
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            400,
            "idempotency_key_invalid",
            f"{IDEMPOTENCY_HEADER} must be printable and at most {MAX_KEY_LENGTH} characters",
        )
    return key


class IdempotencyStore:
    def __init__(
        self,
        redis: Redis,
        poll_interval_s: float = 0.02,
        answer_within_s: float | None = None,
    ) -> None:
        """``answer_within_s``: how long the first request waits for its action before it
        answers 503 (default: PRT_IDEMPOTENT_ANSWER_WITHIN_S; None waits for the outcome).
        The action goes on either way — an event the broker cannot make durable yet, e.g.
        below min.insync.replicas, is retried by the idempotent producer until it lands — and
        its outcome is recorded under the key, so a retry with the same key gets that outcome
        and never runs the action a second time."""
        self._redis = redis
        self._take_over = redis.register_script(_TAKE_OVER)
        self._renew = redis.register_script(_RENEW)
        self._poll = poll_interval_s
        self._answer_within = (
            answer_within_s
            if answer_within_s is not None
            else get_settings().idempotent_answer_within_s
        )

    async def run(
        self,
        scope: str,
        key: str | None,
        body: Any,
        action: Callable[[], Awaitable[StoredResponse]],
        wait_timeout_s: float = IN_FLIGHT_SECONDS,
    ) -> JSONResponse:
        """Run ``action`` once per (scope, key); scope names the principal and the route."""
        return (await self.answer(scope, key, body, action, wait_timeout_s)).response()

    async def answer(
        self,
        scope: str,
        key: str | None,
        body: Any,
        action: Callable[[], Awaitable[StoredResponse]],
        wait_timeout_s: float = IN_FLIGHT_SECONDS,
    ) -> IdempotentAnswer:
        """:meth:`run`, answered as status and JSON values rather than a Starlette response."""
        redis_key = KEY_PREFIX + scope + ":" + check_key(key)
        fingerprint = body_fingerprint(body)
        seed = new_event_id()
        marker = _in_flight(fingerprint, seed)
        deadline = time.monotonic() + wait_timeout_s
        while True:
            # One round trip takes the key or reads who holds it (SET NX GET: Redis 7.0+);
            # execute_command skips redis-py's argument wrapper, a third of a command's cost.
            # The marker outlives its run (REMEMBER_SECONDS): its seed must reach a retry.
            raw = await self._redis.execute_command(  # type: ignore[no-untyped-call]
                "SET", redis_key, marker, "NX", "GET", "EX", REMEMBER_SECONDS, get=True
            )
            if raw is None:
                return await self._first(redis_key, fingerprint, seed, action)
            record = orjson.loads(raw)
            if record["fingerprint"] != fingerprint:
                raise ApiError(
                    422,
                    "idempotency_key_reused",
                    f"{IDEMPOTENCY_HEADER} {key!r} was already used with a different request "
                    "body; use a new key for a new request",
                )
            if record["state"] == "done":
                return IdempotentAnswer(record["status"], record["body"], replayed=True)
            # A marker without "until" is an older process's: it expires by its own TTL.
            if record.get("until", math.inf) < time.time():
                # Its run stopped renewing it (the process died): run again, with its seed.
                taken = _in_flight(fingerprint, record["seed"])
                if await self._take_over(keys=[redis_key], args=[raw, taken, REMEMBER_SECONDS]):
                    return await self._first(redis_key, fingerprint, record["seed"], action)
                continue  # another retry took it first: wait on that one
            if time.monotonic() > deadline:
                raise ApiError(
                    409,
                    "idempotency_key_in_flight",
                    f"A request with {IDEMPOTENCY_HEADER} {key!r} is still being processed; "
                    "retry shortly",
                    headers={"Retry-After": "1"},
                )
            await asyncio.sleep(self._poll)

    async def _first(
        self,
        redis_key: str,
        fingerprint: str,
        seed: str,
        action: Callable[[], Awaitable[StoredResponse]],
    ) -> IdempotentAnswer:
        outcome = asyncio.ensure_future(self._settle(redis_key, fingerprint, seed, action))
        outcome.add_done_callback(_retrieve_exception)
        # shield: neither a timeout nor a client that hangs up stops the action half-way.
        if self._answer_within is None:
            response = await asyncio.shield(outcome)
        else:
            try:
                response = await asyncio.wait_for(asyncio.shield(outcome), self._answer_within)
            except TimeoutError:
                raise ApiError(
                    503,
                    "event_log_unavailable",
                    "The event log has not confirmed the write yet; retry later with the same "
                    f"{IDEMPOTENCY_HEADER}: the retry gets this request's outcome and never "
                    "writes twice.",
                    headers={"Retry-After": "2"},
                ) from None
        return IdempotentAnswer(response.status, response.body)

    async def _settle(
        self,
        redis_key: str,
        fingerprint: str,
        seed: str,
        action: Callable[[], Awaitable[StoredResponse]],
    ) -> StoredResponse:
        """Runs the action to its end, its ids derived from ``seed``, and records its outcome
        under the key."""
        keeper = _InFlightKeeper(self._renew, redis_key, seed)
        try:
            with ids_from_seed(seed):
                response = await action()
        except BaseException:
            # Nothing was emitted that the caller was told about: let a retry run again.
            await self._redis.delete(redis_key)
            raise
        finally:
            keeper.stop()
        if response.status < 500:
            record = {
                "state": "done",
                "fingerprint": fingerprint,
                "status": response.status,
                "body": response.body,
            }
            await self._record_outcome(redis_key, orjson.dumps(record))
        else:
            await self._redis.delete(redis_key)
        return response

    async def _record_outcome(self, redis_key: str, record: bytes) -> None:
        """The action has run (its event is on the log): its outcome must reach the key, or a
        retry would run the action again. While Redis is away, keep trying; the request waits
        meanwhile (or has answered 503), and a retry waits on the in-flight marker."""
        deadline = time.monotonic() + RECORD_OUTCOME_FOR_SECONDS
        while True:
            try:
                await self._redis.execute_command(  # type: ignore[no-untyped-call]
                    "SET", redis_key, record, "EX", REMEMBER_SECONDS
                )
                return
            except (RedisConnectionError, RedisTimeoutError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


class _InFlightKeeper:
    """While an action runs, its marker must stay fresh, or a retry would take it over and run
    the action a second time.

    A timer, not a task: nearly every action ends long before the first renewal, and a task
    per request (created, then cancelled) cost more than the rest of the bookkeeping."""

    def __init__(self, renew: AsyncScript, redis_key: str, seed: str) -> None:
        self._renew_script = renew
        self._key = redis_key
        self._seed = seed
        self._loop = asyncio.get_running_loop()
        self._renewal: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = self._loop.call_later(
            IN_FLIGHT_SECONDS / 3, self._renew
        )

    def _renew(self) -> None:
        self._renewal = self._loop.create_task(self._stay_fresh())
        self._renewal.add_done_callback(_ignore_outcome)
        self._timer = self._loop.call_later(IN_FLIGHT_SECONDS / 3, self._renew)

    async def _stay_fresh(self) -> None:
        await self._renew_script(
            keys=[self._key], args=[self._seed, str(time.time() + IN_FLIGHT_SECONDS)]
        )

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._renewal is not None:
            self._renewal.cancel()


def _in_flight(fingerprint: str, seed: str) -> bytes:
    """The marker of a run in progress: fresh until ``until`` (epoch seconds), renewed while
    the run lasts."""
    return orjson.dumps(
        {
            "state": "in_flight",
            "fingerprint": fingerprint,
            "seed": seed,
            "until": time.time() + IN_FLIGHT_SECONDS,
        }
    )


# Replaces a stale marker (ARGV[1], as read) with a fresh one (ARGV[2]) unless another retry
# replaced it (or the outcome landed) meanwhile.
_TAKE_OVER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""

# Moves a running action's marker's freshness on (ARGV[2], epoch seconds), only while it is
# still that run's (ARGV[1]: its seed) and still in flight: never over a recorded outcome.
_RENEW = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local record = cjson.decode(raw)
if record['state'] ~= 'in_flight' or record['seed'] ~= ARGV[1] then return 0 end
record['until'] = tonumber(ARGV[2])
redis.call('SET', KEYS[1], cjson.encode(record), 'KEEPTTL')
return 1
"""


def _ignore_outcome(task: asyncio.Task[None]) -> None:
    # A failed renewal is retried at the next tick; the marker lives IN_FLIGHT_SECONDS.
    if not task.cancelled():
        task.exception()


class StoredJSONResponse(JSONResponse):
    """A JSON response rendered by orjson: the same compact UTF-8 bytes as Starlette's, at a
    fraction of the cost (stored bodies hold strings, integers, booleans and lists)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def _retrieve_exception(task: asyncio.Future[StoredResponse]) -> None:
    # The outcome of an action that outlived its request is recorded in Redis; its exception
    # (if any) was answered already or is answered to the retry, not left unretrieved.
    if not task.cancelled():
        task.exception()


def _replayed() -> dict[str, str]:
    return {"Idempotent-Replayed": "true"}
