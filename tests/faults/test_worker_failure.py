"""Worker failure: SIGKILL the services' stream workers (intake, abnormal_push, remote_eval,
reporting) at random moments of a run of writes driven through the four real APIs; afterwards
every projection and figure equals what the log rebuilds: 0 lost, 0 double-counted.

Every acknowledged write is in the log exactly once (registrations, reports, seat publications,
evaluation requests), and each service's projections equal its rebuild from the log (see
tests/support/projection_checks.py: reporting's recompute, intake's and abnormal_push's rebuild
commands, an independent fold of remote_eval's topics).

Sizes: PRT_FAULTS_WORKER_EVENTS writes (default 2,000; deploy/faults.sh runs 100,000) and
PRT_FAULTS_WORKER_KILLS kills (default 10), at moments drawn from PRT_FAULTS_SEED (printed).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections import Counter

import httpx
import pytest
from redis.asyncio import Redis

from tests.conftest import WORKER_READY
from tests.faults.conftest import Stack
from tests.support import fault_figures
from tests.support.api_load import (
    EVALUATION,
    LoadFigures,
    LogCount,
    WritePlan,
    add_experts,
    count_in_log,
    drive,
)
from tests.support.faults import table
from tests.support.projection_checks import (
    ProjectionCheck,
    abnormal_push_check,
    intake_check,
    remote_eval_check,
    reporting_check,
)
from tests.support.stream_workers import StreamWorkers

pytestmark = pytest.mark.faults

EVENTS = int(os.environ.get("PRT_FAULTS_WORKER_EVENTS", "2000"))
KILLS = int(os.environ.get("PRT_FAULTS_WORKER_KILLS", "10"))
SEED = int(os.environ.get("PRT_FAULTS_SEED", str(random.randrange(1_000_000))))


async def _kill_at_random_moments(
    workers: StreamWorkers, figures: LoadFigures, rng: random.Random
) -> list[tuple[str, int]]:
    """KILLS kills, each worker in turn (shuffled), when the run reaches random points."""
    names = list(workers.specs)
    order = [names[i % len(names)] for i in range(KILLS)]
    rng.shuffle(order)
    points = sorted(rng.uniform(0.05, 0.95) * EVENTS for _ in range(KILLS))
    kills: list[tuple[str, int]] = []
    started = time.monotonic()
    for name, point in zip(order, points, strict=True):
        while figures.total_sent < point:  # noqa: ASYNC110 - the run's progress is the clock
            await asyncio.sleep(0.05)
        await asyncio.sleep(rng.uniform(0, 0.5))
        kills.append((name, figures.total_sent))
        elapsed = time.monotonic() - started
        # The 100,000-write run takes most of an hour on 2 cores: say how far it is.
        print(
            f"   kill {len(kills)}/{KILLS}: {name} at {figures.total_sent:,} of {EVENTS:,} "
            f"writes ({elapsed:.0f} s, {figures.total_sent / max(elapsed, 1e-9):.0f} writes/s)",
            flush=True,
        )
        workers.kill(name)  # SIGKILL: no commit, no flush, no goodbye
        workers.start(name, wait=False)  # its successor catches up while the run goes on
    return kills


async def _run_with_kills(stack: Stack, tag: str) -> tuple[LoadFigures, list[tuple[str, int]]]:
    specialty = uuid.uuid4().hex[:8].upper()
    base_urls = {name: process.base_url for name, process in stack.apis.items()}
    async with httpx.AsyncClient(base_url=base_urls["remote_eval"], timeout=30) as client:
        await add_experts(client, stack.keys, specialty)
    plan = WritePlan(stack.keys, tag, specialty)
    figures = LoadFigures()
    killing = asyncio.create_task(
        _kill_at_random_moments(stack.workers, figures, random.Random(SEED))
    )
    await drive(base_urls, (plan.write(n) for n in range(EVENTS)), figures, concurrency=16)
    kills = await killing
    for process in stack.workers.processes.values():
        await asyncio.to_thread(process.wait_for_log, WORKER_READY, 180)
    try:
        await stack.workers.wait_caught_up(stack.settings)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nkills: {kills}\n{stack.workers.log_tails()}") from None
    return figures, kills


def _report(
    figures: LoadFigures,
    kills: list[tuple[str, int]],
    log_counts: list[LogCount],
    checks: list[ProjectionCheck],
) -> None:
    per_worker = Counter(name for name, _ in kills)
    print("   kills (worker @ writes sent): " + ", ".join(f"{n}@{at}" for n, at in kills))
    print(
        table(
            ["kind", "acknowledged", "found once", "lost", "duplicated"],
            [[c.label, c.acknowledged, c.found_once, c.lost, c.duplicated] for c in log_counts],
        )
    )
    print(
        table(
            ["projection", "kills", "compared (counters/keys/items)", "differences"],
            [[c.service, per_worker[c.service], c.compared, c.differences] for c in checks],
        )
    )
    for check in checks:
        for line in check.problems[:10]:
            print(f"   {check.service}: {line}")
        fault_figures.record(
            f"worker kills: {check.service} projection",
            passed=not check.problems,
            kills=per_worker[check.service],
            differences=check.differences,
            note=f"{check.compared} compared",
        )
    lost = sum(c.lost for c in log_counts)
    duplicated = sum(c.duplicated for c in log_counts)
    fault_figures.record(
        "worker kills: writes in the log",
        passed=lost == 0 and duplicated == 0 and not figures.server_errors,
        sent=figures.total_sent,
        acknowledged=figures.total_acknowledged,
        found_once=sum(c.found_once for c in log_counts),
        lost=lost,
        duplicated=duplicated,
        kills=len(kills),
        server_5xx=len(figures.server_errors),
    )


async def test_killed_workers_leave_every_projection_equal_to_the_log(
    stack: Stack, redis: Redis
) -> None:
    tag = f"wk{uuid.uuid4().hex[:6]}"
    print(f"\n== Worker failure: seed {SEED} (PRT_FAULTS_SEED)")
    started = time.monotonic()
    figures, kills = await _run_with_kills(stack, tag)
    print(
        f"\n== Worker failure: {figures.total_sent} writes through the APIs, {len(kills)} "
        f"SIGKILLs (seed {SEED}), all caught up after {time.monotonic() - started:.0f}s"
    )
    log_counts = await count_in_log(stack.settings, figures, tag)
    checks = [
        await reporting_check(stack.settings, redis, stack.reporting.prefix),
        await intake_check(redis, stack.env, stack.workers),
        await abnormal_push_check(stack.settings, redis, stack.env, stack.workers),
        await remote_eval_check(
            stack.settings,
            redis,
            stack.apis["remote_eval"].base_url,
            stack.keys.host,
            figures.acknowledged.get(EVALUATION.label, set()),
        ),
    ]
    _report(figures, kills, log_counts, checks)

    assert len(kills) == KILLS
    assert figures.server_errors == [], figures.server_errors[:5]
    assert figures.refused == [], figures.refused[:5]
    assert figures.total_acknowledged == EVENTS
    assert [(c.label, c.lost, c.duplicated) for c in log_counts] == [
        (c.label, 0, 0) for c in log_counts
    ]
    assert {c.service: c.problems[:5] for c in checks} == {c.service: [] for c in checks}
