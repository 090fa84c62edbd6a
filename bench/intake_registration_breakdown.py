"""Where a registration's CPU goes: the full path with one stage taken out at a time, next to
the bare FastAPI→aiokafka endpoint, all driven in this process through ASGI (no HTTP server,
no sockets to clients), so what is measured is the application's own work per request.

    PRT_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:39092 PRT_REDIS_URL=redis://127.0.0.1:36379/0 \\
        .venv/bin/python -m bench.intake_registration_breakdown --requests 4000

``bench.intake_registration`` measures the issue's figure (req/s through uvicorn at 50
clients). This one answers why the full path's figure is what it is: each variant replaces one
piece of the app's wiring (``app.state.intake_context``) with a stand-in that skips it — the
Kafka publish (envelope encoding and the acks=all send), the read model's read-your-writes
write, the Idempotency-Key store — and the last skips all three, leaving authentication,
validation, the domain rules, the event's construction and the answer. Variants run in turns
(``--rounds``), each round in every variant, so drift on a shared machine hits all of them; the
median is printed. A variant's saving is its stage's cost. Requests travel 50 at a time, as at
the bench's 50 clients, so Redis commands and Kafka sends batch as they do under that load.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import Any

import uvloop
from fastapi import FastAPI
from redis.asyncio import Redis

from bench.intake_registration import BODY, _bare_lifespan, bare_app
from services.intake.http_api.app import app as intake_app
from services.intake.http_api.app import lifespan as intake_lifespan
from services.intake.http_api.dependencies import IntakeContext
from services.platform_core.auth.api_keys import ApiKeyStore
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.http.idempotency import IdempotentAnswer, StoredResponse
from services.platform_core.settings import get_settings

CLIENTS = 50


class _NoPublish:
    """Stands in for the EventPublisher: the event is built, not encoded or sent."""

    async def publish(self, *_: object, **__: object) -> None:
        return None


class _NoReadModelWrite:
    """Stands in for the read model: every read-model call of a registration is skipped."""

    async def record_after_publish(self, *_: object) -> None:
        return None

    async def claim_deal_code(self, *_: object) -> None:
        return None

    async def release_deal_code(self, *_: object) -> None:
        return None


class _NoIdempotency:
    """Stands in for the Idempotency-Key store: the action runs, nothing is recorded."""

    async def answer(
        self,
        _scope: str,
        _key: str | None,
        _body: Any,
        action: Callable[[], Awaitable[StoredResponse]],
        _wait_timeout_s: float = 0,
    ) -> IdempotentAnswer:
        response = await action()
        return IdempotentAnswer(response.status, response.body)


Variant = Callable[[IntakeContext], IntakeContext]
VARIANTS: dict[str, Variant] = {
    "full path": lambda c: c,
    "  without the Kafka publish": lambda c: replace(c, publisher=_NoPublish()),  # type: ignore[arg-type]
    "  without the read-model write": lambda c: replace(c, read_model=_NoReadModelWrite()),  # type: ignore[arg-type]
    "  without Idempotency-Key": lambda c: replace(c, idempotency=_NoIdempotency()),  # type: ignore[arg-type]
    "  without all three": lambda c: IntakeContext(
        _NoPublish(),  # type: ignore[arg-type]
        _NoReadModelWrite(),  # type: ignore[arg-type]
        _NoIdempotency(),  # type: ignore[arg-type]
    ),
}


def _scope(api_key: str) -> dict[str, Any]:
    headers = [
        (b"host", b"127.0.0.1"),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
        (b"x-api-key", api_key.encode()),
        (b"idempotency-key", str(uuid.uuid4()).encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/projects",
        "raw_path": b"/v1/projects",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _one_request(app: FastAPI, api_key: str) -> None:
    delivered = False
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": BODY, "more_body": False}
        await asyncio.Event().wait()  # the client never hangs up
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(_scope(api_key), receive, send)
    if statuses != [201]:
        raise RuntimeError(f"registration answered {statuses}, not 201")


async def _cpu_us_per_request(app: FastAPI, api_key: str, requests: int) -> float:
    async def client(count: int) -> None:
        for _ in range(count):
            await _one_request(app, api_key)

    started = time.process_time()
    await asyncio.gather(*(client(requests // CLIENTS) for _ in range(CLIENTS)))
    return (time.process_time() - started) / (requests // CLIENTS * CLIENTS) * 1e6


@asynccontextmanager
async def _both_apps() -> AsyncIterator[None]:
    lifespans: list[AbstractAsyncContextManager[None]] = [
        intake_lifespan(intake_app),
        _bare_lifespan(bare_app),
    ]
    for lifespan in lifespans:
        await lifespan.__aenter__()
    try:
        yield
    finally:
        for lifespan in reversed(lifespans):
            await lifespan.__aexit__(None, None, None)


async def run(args: argparse.Namespace) -> dict[str, list[float]]:
    settings = get_settings()
    redis = Redis.from_url(settings.redis_url)
    issued = await ApiKeyStore(redis, settings.api_key_pepper).issue(
        PrincipalKind.DEPARTMENT, "BENCH", "压测部门", frozenset({"370113"})
    )
    await redis.aclose()
    figures: dict[str, list[float]] = {name: [] for name in [*VARIANTS, "bare endpoint"]}
    async with _both_apps():
        wired = intake_app.state.intake_context
        try:
            for _ in range(args.rounds + 1):  # the first round warms up and is not counted
                for name, variant in VARIANTS.items():
                    intake_app.state.intake_context = variant(wired)
                    figures[name].append(
                        await _cpu_us_per_request(intake_app, issued.key, args.requests)
                    )
                figures["bare endpoint"].append(
                    await _cpu_us_per_request(bare_app, issued.key, args.requests)
                )
        finally:
            intake_app.state.intake_context = wired
    return {name: values[1:] for name, values in figures.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000, help="per variant and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    figures = uvloop.run(run(args))
    print(
        f"machine: {platform.node()} {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; in-process ASGI, "
        f"{CLIENTS} requests in flight, {args.requests} requests per variant and round"
    )
    full = statistics.median(figures["full path"])
    print(f"{'variant':34} {'CPU us/req':>10} {'saves':>7}")
    for name, values in figures.items():
        cpu = statistics.median(values)
        saving = f"{full - cpu:7.0f}" if name.startswith("  ") else ""
        print(f"{name:34} {cpu:10.0f} {saving:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
