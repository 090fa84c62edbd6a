"""Registration throughput and latency at 50 concurrent clients: the full intake path (API key,
validation, Idempotency-Key, deal-code claim, acks=all publish, read-model write) next to a bare
FastAPI endpoint that only sends the body to aiokafka (acks=all), measured in the same run.

Run against a stack you may fill with benchmark projects (they stay on the topic, and a
reporting worker on that stack will read them)::

    PRT_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:39092 PRT_REDIS_URL=redis://127.0.0.1:36379/0 \\
        .venv/bin/python -m bench.intake_registration --requests 4000

Both servers run as their own uvicorn process (one worker each), with the platform's settings
for a FastAPI process (no per-request OpenTelemetry probe; the garbage collector's start-up
freeze), so the bare endpoint is as lean as the framework allows; the load comes from this
process through a minimal HTTP/1.1 keep-alive client, so the client costs both sides the same.
Rounds alternate bare/full so drift on a shared machine hits both. The full path enters through
intake's direct route for POST /v1/projects (services/platform_core/http/direct_routes.py);
the bare endpoint through FastAPI's routing, as a bare FastAPI endpoint does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request, Response
from redis.asyncio import Redis

from services.platform_core.auth.api_keys import ApiKeyStore
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.topics import TopicSpec
from services.platform_core.garbage_collection import collect_less_often_for_good
from services.platform_core.http.telemetry import telemetry_config
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import get_settings

REPO = Path(__file__).resolve().parents[1]
BASELINE_TOPIC = TopicSpec(
    name="bench.intake-baseline.v1",
    key="request number",
    message_types=frozenset(),
    retention_ms=3600 * 1000,
    description="Raw bytes from the bare benchmark endpoint.",
)
BODY = json.dumps(
    {
        "name": "压测项目 长清区文昌街道老旧小区改造工程",
        "category": "HOUSING",
        "region_code": "370113",
        "tenderer": {"name": "济南市长清区住房和城乡建设局", "credit_code": "91110000600037341L"},
        "budget_fen": 1_250_000_000,
    },
    ensure_ascii=False,
).encode()


# --- the bare endpoint: FastAPI + aiokafka, nothing else -----------------------------------


@asynccontextmanager
async def _bare_lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    await ensure_topics(settings, [BASELINE_TOPIC])
    producer = create_producer(settings, client_id="bench-bare")
    await producer.start()
    app.state.producer = producer
    collect_less_often_for_good()  # as every service's API does once started
    try:
        yield
    finally:
        await producer.stop()


bare_app = FastAPI(lifespan=_bare_lifespan, telemetry=telemetry_config())


@bare_app.post("/v1/projects", status_code=201)
async def bare_register(request: Request) -> Response:
    body = await request.body()
    await request.app.state.producer.send_and_wait(BASELINE_TOPIC.name, value=body)
    return Response(b'{"ok":true}', status_code=201, media_type="application/json")


@bare_app.get("/healthz")
async def bare_healthz() -> dict[str, str]:
    return {"status": "ok"}


# --- load ----------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    failures: int
    server_cpu_s: float = 0.0  # CPU the server process spent on the round

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu_s / self.requests * 1e6

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _request(api_key: str) -> bytes:
    return (
        f"POST /v1/projects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n"
        f"X-API-Key: {api_key}\r\nIdempotency-Key: {uuid.uuid4()}\r\n\r\n"
    ).encode() + BODY


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> bool:
    """Sends one request on a keep-alive connection and reads the answer; True on 201."""
    writer.write(request)
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return b" 201 " in status_line


async def _one_client(
    port: int, api_key: str, count: int, latencies: list[float], failures: list[int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(count):
            request = _request(api_key)
            started = time.perf_counter()
            created = await _exchange(reader, writer, request)
            latencies.append((time.perf_counter() - started) * 1000)
            if not created:
                failures.append(1)
    finally:
        writer.close()


async def _offered_load(
    name: str, port: int, api_key: str, rate: float, *, seconds: float, connections: int
) -> Result:
    """Open loop: request i is due at start + i/rate, whatever the server's pace. Latency runs
    from the due time, so a server that falls behind is charged for the wait (no coordinated
    omission). Enough connections are opened that one is free when a request is due."""
    total = int(rate * seconds)
    latencies: list[float] = []
    failures: list[int] = []
    next_index = 0
    started = time.perf_counter()

    async def connection() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while next_index < total:
                index, next_index = next_index, next_index + 1
                due = started + index / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                if not await _exchange(reader, writer, _request(api_key)):
                    failures.append(1)
                latencies.append((time.perf_counter() - due) * 1000)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return Result(name, len(latencies), time.perf_counter() - started, latencies, len(failures))


async def _load(name: str, port: int, api_key: str, requests: int, clients: int) -> Result:
    latencies: list[float] = []
    failures: list[int] = []
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _one_client(port, api_key, requests // clients, latencies, failures)
            for _ in range(clients)
        )
    )
    return Result(name, len(latencies), time.perf_counter() - started, latencies, len(failures))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process: a figure less shaken by a busy machine than req/s."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _server(module: str, port: int) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "uvicorn", module, "--port", str(port), "--log-level", "error"]
    return subprocess.Popen(argv, cwd=REPO, env={**os.environ})


async def _wait_healthy(port: int) -> None:
    for _ in range(300):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            if b"200" in await reader.readline():
                writer.close()
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError(f"no server on {port}")


async def run(args: argparse.Namespace) -> tuple[list[Result], list[Result]]:
    settings = get_settings()
    redis = Redis.from_url(settings.redis_url)
    issued = await ApiKeyStore(redis, settings.api_key_pepper).issue(
        PrincipalKind.DEPARTMENT, "BENCH", "压测部门", frozenset({"370113"})
    )
    await redis.aclose()
    servers = {
        "bare FastAPI + aiokafka": (_server("bench.intake_registration:bare_app", 8191), 8191),
        "intake full path": (_server("services.intake.http_api.app:app", 8192), 8192),
    }
    results: list[Result] = []
    offered: list[Result] = []
    try:
        for _, port in servers.values():
            await _wait_healthy(port)
        for name, (_, port) in servers.items():  # warm-up: connections, JIT-free caches
            await _load(name, port, issued.key, 500, args.clients)
        for _ in range(args.rounds):
            for name, (process, port) in servers.items():
                cpu_before = _cpu_seconds(process.pid)
                result = await _load(name, port, issued.key, args.requests, args.clients)
                result.server_cpu_s = _cpu_seconds(process.pid) - cpu_before
                results.append(result)
        for rate in args.rates:
            for name, (process, port) in servers.items():
                cpu_before = _cpu_seconds(process.pid)
                result = await _offered_load(
                    f"{name} @{rate:g}/s",
                    port,
                    issued.key,
                    rate,
                    seconds=args.rate_seconds,
                    connections=100,
                )
                result.server_cpu_s = _cpu_seconds(process.pid) - cpu_before
                offered.append(result)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=20)
    return results, offered


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000, help="per round and server")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--rates",
        type=float,
        nargs="*",
        default=[200.0, 500.0],
        help="offered loads (req/s) at which to measure latency open-loop, after the rounds",
    )
    parser.add_argument("--rate-seconds", type=float, default=6.0)
    args = parser.parse_args()
    results, offered = asyncio.run(run(args))
    print(
        f"machine: {platform.node()} {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"{args.clients} concurrent clients, {args.requests} requests per round"
    )
    print(
        f"{'endpoint':28} {'round':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'CPU us/req':>10} {'fail':>5}"
    )
    for index, result in enumerate(results):
        print(
            f"{result.name:28} {index // 2 + 1:>5} {result.rps:8.0f} "
            f"{result.quantile(0.5):8.1f} {result.quantile(0.99):8.1f} "
            f"{result.cpu_us_per_request:10.0f} {result.failures:>5}"
        )
    bare = [r for r in results if r.name.startswith("bare")]
    full = [r for r in results if r.name.startswith("intake")]
    bare_rps = statistics.median(r.rps for r in bare)
    full_rps = statistics.median(r.rps for r in full)
    full_p99 = statistics.median(r.quantile(0.99) for r in full)
    bare_cpu = statistics.median(r.cpu_us_per_request for r in bare)
    full_cpu = statistics.median(r.cpu_us_per_request for r in full)
    print(
        f"full path / bare: {full_rps / bare_rps:.0%} of the bare endpoint's req/s "
        f"(target >= 80%); full-path p99 {full_p99:.1f} ms (target <= 50 ms); "
        f"server CPU per request {full_cpu:.0f} us vs {bare_cpu:.0f} us "
        f"({bare_cpu / full_cpu:.0%})"
    )
    if offered:
        print(
            f"\nlatency at a fixed offered load (open loop, {args.rate_seconds:g} s each, "
            "measured from each request's due time)"
        )
        print(f"{'endpoint':36} {'done/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>10}")
        for result in offered:
            print(
                f"{result.name:36} {result.rps:8.0f} {result.quantile(0.5):8.1f} "
                f"{result.quantile(0.99):8.1f} {result.cpu_us_per_request:10.0f}"
            )
    return 0 if all(r.failures == 0 for r in [*results, *offered]) else 1


if __name__ == "__main__":
    sys.exit(main())
