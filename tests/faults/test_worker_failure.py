"""Worker failure: SIGKILL the services' stream workers (intake, abnormal_push, remote_eval,
reporting) at random moments of a run of writes driven through the four real APIs; afterwards
every projection and figure equals what the log rebuilds: 0 lost, 0 double-counted.

Every acknowledged write is in the log exactly once (registrations, reports, seat publications,
evaluation requests), and each service's projections equal its rebuild from the log (see
tests/support/projection_checks.py: reporting's recompute, intake's and abnormal_push's rebuild
commands, an independent fold of remote_eval's topics). Beside the writes, the host reports
expert no-shows at the run's evaluations and some trades are awarded: each no-show is recorded
once, and abnormal_push's expert watch files exactly the PRT-EXP-001 reports the log makes due
and holds the rest (tests/support/expert_absence_load.py).

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
from tests.support.expert_absence_load import (
    AbsenceFigures,
    ExpertWatchCheck,
    drive_absences,
    expert_watch_check,
)
from tests.support.faults import table
from tests.support.projection_checks import (
    ProjectionCheck,
    abnormal_push_check,
    intake_check,
    remote_eval_check,
    reporting_check,
)
from tests.support.remote_eval_outbox import remote_eval_outbox_empty
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


async def _run_with_kills(
    stack: Stack, tag: str
) -> tuple[LoadFigures, AbsenceFigures, list[tuple[str, int]]]:
    specialty = uuid.uuid4().hex[:8].upper()
    base_urls = {name: process.base_url for name, process in stack.apis.items()}
    async with httpx.AsyncClient(base_url=base_urls["remote_eval"], timeout=30) as client:
        await add_experts(client, stack.keys, specialty)
    plan = WritePlan(stack.keys, tag, specialty)
    figures = LoadFigures()
    killing = asyncio.create_task(
        _kill_at_random_moments(stack.workers, figures, random.Random(SEED))
    )
    writing = asyncio.create_task(
        drive(base_urls, (plan.write(n) for n in range(EVENTS)), figures, concurrency=16)
    )
    # No-shows and awards follow the evaluations as they are scheduled, kills and all.
    absences = await drive_absences(
        base_urls["remote_eval"], stack.keys, stack.settings, figures, writing.done
    )
    await writing
    kills = await killing
    for process in stack.workers.processes.values():
        await asyncio.to_thread(process.wait_for_log, WORKER_READY, 180)
    try:
        await stack.workers.wait_caught_up(stack.settings)
        # remote_eval's last absences and unsealings may leave its outbox after abnormal_push's
        # group was seen caught up: once that outbox is empty, every group is waited for again.
        await remote_eval_outbox_empty(stack.settings, timeout_s=300)
        await stack.workers.wait_caught_up(stack.settings)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nkills: {kills}\n{stack.workers.log_tails()}") from None
    return figures, absences, kills


def _report(
    figures: LoadFigures,
    kills: list[tuple[str, int]],
    log_counts: list[LogCount],
    checks: list[ProjectionCheck | ExpertWatchCheck],
) -> None:
    per_worker = Counter(name for name, _ in kills)

    def killed(check_name: str) -> int:  # "abnormal_push expert watch" is abnormal_push's
        return per_worker[check_name.split(" ", maxsplit=1)[0]]

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
            [[c.service, killed(c.service), c.compared, c.differences] for c in checks],
        )
    )
    for check in checks:
        for line in check.problems[:10]:
            print(f"   {check.service}: {line}")
        fault_figures.record(
            f"worker kills: {check.service} projection",
            passed=not check.problems,
            kills=killed(check.service),
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
    figures, absences, kills = await _run_with_kills(stack, tag)
    print(
        f"\n== Worker failure: {figures.total_sent} writes through the APIs, "
        f"{len(absences.no_shows)} no-shows and {len(absences.awarded)} awards beside them, "
        f"{len(kills)} SIGKILLs (seed {SEED}), all caught up after "
        f"{time.monotonic() - started:.0f}s"
    )
    log_counts = await count_in_log(stack.settings, figures, tag)
    # Judged on the live state, before abnormal_push's rebuild replays the log.
    expert_watch = await expert_watch_check(
        stack.settings,
        stack.apis["abnormal_push"].base_url,
        stack.keys.operator,
        absences,
        figures.evaluation_ids.values(),
    )
    checks: list[ProjectionCheck | ExpertWatchCheck] = [
        await reporting_check(stack.settings, redis, stack.reporting.prefix),
        await intake_check(redis, stack.env, stack.workers),
        # Its worker replays the whole log: at the full 100,000 writes, more than 10 minutes.
        await abnormal_push_check(
            stack.settings, redis, stack.env, stack.workers, replay_timeout_s=max(600, EVENTS / 80)
        ),
        await remote_eval_check(
            stack.settings,
            redis,
            stack.apis["remote_eval"].base_url,
            stack.keys.host,
            figures.acknowledged.get(EVALUATION.label, set()),
        ),
    ]
    checks.append(expert_watch)
    _report(figures, kills, log_counts, checks)
    print(
        f"   expert watch: {expert_watch.reports} PRT-EXP-001 reports, {expert_watch.held} held "
        f"until the award; {absences.not_scheduled} evaluations not scheduled, "
        f"{absences.without_known_venue} seated elsewhere"
    )

    assert len(kills) == KILLS
    assert figures.server_errors == [], figures.server_errors[:5]
    assert figures.refused == [], figures.refused[:5]
    assert figures.total_acknowledged == EVENTS
    assert absences.refused == [] and absences.unfinished == 0, absences
    assert absences.no_shows and absences.awarded, absences  # the mix has both
    assert [(c.label, c.lost, c.duplicated) for c in log_counts] == [
        (c.label, 0, 0) for c in log_counts
    ]
    assert {c.service: c.problems[:5] for c in checks} == {c.service: [] for c in checks}
