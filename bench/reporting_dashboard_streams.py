"""Open dashboards while events are applied: the reporting API's CPU per second with 1 and with
``--streams`` event streams open, the read model's version moving every ``--bump-s``.

Each open dashboard holds one server-sent event stream, which sends a new snapshot whenever the
read model has applied events. A snapshot reads every counter of eight metrics (about 0.1 s of
the API's CPU with a half-year of data), so streams that each made their own would cost the
process that much per stream per change. ``dashboard.SnapshotCache`` makes one per period per
change (at most one a second) for all of them: with it, N streams should cost about what one
costs, plus each stream's share of sending. The baseline is the same run with one stream.

Runs its own reporting API process (one uvicorn worker) against the read model at
PRT_REDIS_URL: load it first (``make up`` loads the demo half-year). The version is moved by
INCR of the read model's version counter, as an applied event moves it; nothing else is
written.

    .venv/bin/python -m bench.reporting_dashboard_streams --streams 20 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import httpx
from redis.asyncio import Redis

from bench.intake_registration import _cpu_seconds, _wait_healthy
from bench.reporting_aggregation import load_average
from services.platform_core.auth.api_keys import ApiKeyStore
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.settings import get_settings
from services.reporting.read_model import MetricsReadModel
from services.reporting.settings import get_reporting_settings

REPO = Path(__file__).resolve().parents[1]
PORT = 8195


async def _watch(client: httpx.AsyncClient, key: str, period: str, seen: list[int]) -> None:
    """One open dashboard: counts the snapshots its stream sends."""
    async with client.stream(
        "GET", "/v1/dashboard/stream", params={"period": period}, headers={"X-API-Key": key}
    ) as stream:
        async for line in stream.aiter_lines():
            if line.startswith("event: snapshot"):
                seen.append(1)


def _server() -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "uvicorn", "services.reporting.http_api.app:app"]
    argv += ["--port", str(PORT), "--log-level", "error"]
    return subprocess.Popen(argv, cwd=REPO, env={**os.environ})


async def _round(
    args: argparse.Namespace, key: str, streams: int, pid: int
) -> tuple[float, float, int]:
    """(API and Redis CPU seconds per second, snapshots delivered) with ``streams`` open."""
    settings = get_settings()
    redis = Redis.from_url(settings.redis_url)
    redis_pid = int((await redis.info("server"))["process_id"])
    seconds, bump_s, period = args.seconds, args.bump_s, args.period
    version_key = MetricsReadModel(redis, get_reporting_settings().key_prefix)._key("version")
    seen: list[int] = []
    limits = httpx.Limits(max_connections=streams + 4)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{PORT}", timeout=None, limits=limits
    ) as client:
        watchers = [
            asyncio.ensure_future(_watch(client, key, period, seen)) for _ in range(streams)
        ]
        await asyncio.sleep(2)  # every stream open and its first snapshot sent
        seen.clear()
        cpu_before, started = _cpu_seconds(pid), time.perf_counter()
        redis_before = _cpu_seconds(redis_pid)
        while time.perf_counter() - started < seconds:
            await redis.incr(version_key)
            await asyncio.sleep(bump_s)
        cpu = _cpu_seconds(pid) - cpu_before
        redis_cpu = _cpu_seconds(redis_pid) - redis_before
        elapsed = time.perf_counter() - started
        for watcher in watchers:
            watcher.cancel()
        for watcher in watchers:
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await watcher
    await redis.aclose()
    return cpu / elapsed, redis_cpu / elapsed, len(seen)


async def main(args: argparse.Namespace) -> None:
    settings = get_settings()
    redis = Redis.from_url(settings.redis_url)
    issued = await ApiKeyStore(redis, settings.api_key_pepper).issue(
        PrincipalKind.OPERATOR, "bench-dashboard", "压测值班员"
    )
    await redis.aclose()
    server = _server()
    try:
        await _wait_healthy(PORT)
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}; period {args.period}; version moved every "
            f"{args.bump_s} s for {args.seconds} s; load {load_average()}"
        )
        baseline = None
        for streams in (1, args.streams):
            cpu_per_s, redis_per_s, snapshots = await _round(args, issued.key, streams, server.pid)
            baseline = baseline or cpu_per_s
            print(
                f"{streams:4d} stream(s): API CPU {cpu_per_s:5.3f} s/s "
                f"({cpu_per_s / baseline:4.1f} × one stream), Redis CPU {redis_per_s:5.3f} s/s, "
                f"{snapshots / args.seconds:6.1f} snapshots/s delivered "
                f"({snapshots / args.seconds / streams:4.2f} per stream)"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--bump-s", dest="bump_s", type=float, default=0.2)
    parser.add_argument("--period", default="2023-H1")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
