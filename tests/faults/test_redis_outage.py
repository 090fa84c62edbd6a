"""Redis outage: Redis is stopped (cleanly, its append-only file kept) in the middle of a run of
writes through the four APIs, and started again OUTAGE_S seconds later. The behaviour proved
is the one docs/redis-outage.md describes:

- every API fails closed while Redis is down: 503 with Retry-After in the shared error format
  (API keys, idempotency records and read models live in Redis), never a 500;
- the stream workers wait and retry; nothing is committed past an event not applied;
- no event is duplicated (careful clients retry with their Idempotency-Key) and none
  acknowledged is lost; afterwards every projection equals its rebuild from the log.

Sizes: PRT_FAULTS_OUTAGE_EVENTS writes (default 1,200) and PRT_FAULTS_OUTAGE_S seconds of
outage (default 10; deploy/faults.sh runs 4,000 writes and 20 s, within the 30 s an
in-flight marker lives: see docs/redis-outage.md).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest
from redis.asyncio import Redis

from tests.conftest import REDIS_PORT, TEST_RUNTIME
from tests.faults.conftest import Stack
from tests.support import fault_figures
from tests.support.api_load import (
    EVALUATION,
    LoadFigures,
    WritePlan,
    add_experts,
    count_in_log,
    drive,
)
from tests.support.faults import error_format_problem, table
from tests.support.processes import REPO, ServiceProcess
from tests.support.projection_checks import (
    abnormal_push_check,
    intake_check,
    remote_eval_check,
    reporting_check,
)

pytestmark = pytest.mark.faults

EVENTS = int(os.environ.get("PRT_FAULTS_OUTAGE_EVENTS", "1200"))
OUTAGE_S = float(os.environ.get("PRT_FAULTS_OUTAGE_S", "10"))

# One read per API, tried over and over while the writes run (and Redis is away).
READS = {
    "intake": "/v1/projects",
    "abnormal_push": "/v1/pushes",
    "remote_eval": "/v1/venues",
    "reporting": "/v1/metrics/catalogue",
}


def _redis_script(command: str) -> None:
    env = {
        **os.environ,
        "PRT_RUNTIME_DIR": str(TEST_RUNTIME),
        "PRT_REDIS_PORT": REDIS_PORT,
    }
    subprocess.run(
        ["bash", str(REPO / "deploy" / "local" / "redis.sh"), command],
        env=env,
        check=True,
        capture_output=True,
    )


@dataclass
class ReadFigures:
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)  # a 5xx other than 503, or a bad 503


async def _outage(figures: LoadFigures, outage: dict[str, float]) -> None:
    """Stops Redis once a fifth of the writes are sent; starts it again OUTAGE_S later."""
    while figures.total_sent < EVENTS // 5:  # noqa: ASYNC110 - the run's progress is the clock
        await asyncio.sleep(0.05)
    outage["start"] = time.monotonic()
    await asyncio.to_thread(_redis_script, "stop")
    await asyncio.sleep(OUTAGE_S)
    await asyncio.to_thread(_redis_script, "start")
    outage["end"] = time.monotonic()


async def _read_while(
    apis: dict[str, ServiceProcess], key: str, running: asyncio.Event, reads: ReadFigures
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        while not running.is_set():
            for service, path in READS.items():
                try:
                    response = await client.get(
                        apis[service].base_url + path, headers={"X-API-Key": key}
                    )
                except httpx.TransportError as exc:
                    reads.problems.append(f"{service} {path}: {exc!r}")
                    continue
                reads.statuses[response.status_code] += 1
                if response.status_code >= 500:
                    problem = error_format_problem(
                        response.status_code,
                        response.headers.get("content-type", ""),
                        response.content,
                    )
                    if response.status_code != 503 or "Retry-After" not in response.headers:
                        problem = problem or "not 503 with Retry-After"
                    if problem:
                        reads.problems.append(f"{service} {path}: {problem}")
            await asyncio.sleep(0.2)


async def test_redis_outage_fails_closed_and_loses_nothing(stack: Stack, redis: Redis) -> None:
    settings, stack_env, service_apis, workers = (
        stack.settings,
        stack.env,
        stack.apis,
        stack.workers,
    )
    load_keys, reporting_namespace = stack.keys, stack.reporting
    tag = f"ro{uuid.uuid4().hex[:6]}"
    specialty = uuid.uuid4().hex[:8].upper()
    base_urls = {name: process.base_url for name, process in service_apis.items()}
    async with httpx.AsyncClient(base_url=base_urls["remote_eval"], timeout=30) as client:
        await add_experts(client, load_keys, specialty)
    plan = WritePlan(load_keys, tag, specialty)
    figures = LoadFigures()
    reads = ReadFigures()
    outage: dict[str, float] = {}
    done = asyncio.Event()
    stopping = asyncio.create_task(_outage(figures, outage))
    reading = asyncio.create_task(_read_while(service_apis, load_keys.operator, done, reads))
    try:
        writes = (plan.write(n) for n in range(EVENTS))
        await drive(base_urls, writes, figures, concurrency=12, give_up_s=OUTAGE_S + 180)
        await stopping
    finally:
        done.set()
        await reading
        if not stopping.done():
            await stopping
        _redis_script("start")
    await workers.wait_caught_up(settings)

    log_counts = await count_in_log(settings, figures, tag)
    checks = [
        await reporting_check(settings, redis, reporting_namespace.prefix),
        await intake_check(redis, stack_env, workers),
        await abnormal_push_check(settings, redis, stack_env, workers),
        await remote_eval_check(
            settings,
            redis,
            base_urls["remote_eval"],
            load_keys.host,
            figures.acknowledged.get(EVALUATION.label, set()),
        ),
    ]
    lost = sum(c.lost for c in log_counts)
    duplicated = sum(c.duplicated for c in log_counts)
    server_errors = len(figures.server_errors) + len(reads.problems)
    print(
        f"\n== Redis outage: Redis stopped for {outage['end'] - outage['start']:.0f}s during "
        f"{figures.total_sent} writes; write answers {dict(sorted(figures.statuses.items()))}, "
        f"read answers {dict(sorted(reads.statuses.items()))}"
    )
    print(
        table(
            ["kind", "acknowledged", "found once", "lost", "duplicated", "in log, not acked"],
            [
                [
                    c.label,
                    c.acknowledged,
                    c.found_once,
                    c.lost,
                    c.duplicated,
                    c.unacknowledged_in_log,
                ]
                for c in log_counts
            ],
        )
    )
    print(
        table(
            ["projection", "compared", "differences"],
            [[c.service, c.compared, c.differences] for c in checks],
        )
    )
    for line in (figures.server_errors + reads.problems)[:10]:
        print(f"   5xx: {line}")
    for check in checks:
        for line in check.problems[:10]:
            print(f"   {check.service}: {line}")
    fault_figures.record(
        "Redis outage: writes and reads",
        passed=lost == 0 and duplicated == 0 and server_errors == 0 and figures.given_up == 0,
        sent=figures.total_sent,
        acknowledged=figures.total_acknowledged,
        found_once=sum(c.found_once for c in log_counts),
        lost=lost,
        duplicated=duplicated,
        server_5xx=server_errors,
        note=f"{figures.unavailable_503 + reads.statuses[503]} answers 503 + Retry-After",
    )
    fault_figures.record(
        "Redis outage: projections after",
        passed=all(not c.problems for c in checks),
        differences=sum(c.differences for c in checks),
        note=", ".join(f"{c.service} {c.compared}" for c in checks) + " compared",
    )

    assert figures.server_errors == [], figures.server_errors[:5]
    assert reads.problems == [], reads.problems[:5]
    assert figures.without_retry_after == 0
    assert figures.refused == [], figures.refused[:5]
    assert figures.given_up == 0
    assert figures.total_acknowledged == EVENTS
    assert (lost, duplicated) == (0, 0)
    assert {c.service: c.problems[:5] for c in checks} == {c.service: [] for c in checks}
