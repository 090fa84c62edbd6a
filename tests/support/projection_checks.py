"""Each service's projections against what its log rebuilds, as a list of differences (empty
when equal). Used after worker kills, a whole-stack restart and a Redis outage.

- reporting: the live figures against ``recompute_from_log``, and the read model's version (one
  per event applied) against the number of events folded;
- intake: the read model against what ``python -m services.intake.rebuild --wipe`` rebuilds;
- abnormal_push: its projections against what a restarted worker replays after
  ``python -m services.abnormal_push.rebuild`` (projections deleted, consumer group rewound);
- remote_eval (no rebuild command of its own): an independent fold of its topics — each
  evaluation request has exactly one outcome on the log (scheduled or failed), the API shows
  that outcome, and the seat offers equal the last publication per venue and slot.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from redis.asyncio import Redis

from services.abnormal_push import detection, read_model
from services.intake.read_model import PREFIX as INTAKE_PREFIX
from services.platform_core.events.topics import EVALUATIONS, VENUE_CAPACITY
from services.platform_core.settings import PlatformSettings
from services.remote_eval.event_codec import slot_from
from services.remote_eval.store import OFFERS_KEY
from services.reporting.domain.figures import diff
from services.reporting.read_model import MetricsReadModel
from services.reporting.recompute import recompute_from_log
from tests.support.api_load import read_topic
from tests.support.redis_snapshot import compare, snapshot
from tests.support.stream_workers import StreamWorkers, run_module

INTAKE_PATTERNS = (f"{INTAKE_PREFIX}project:*", f"{INTAKE_PREFIX}projects", f"{INTAKE_PREFIX}d*")
# Kept by the rebuild on purpose: deal-code claims and breach markers; locks are transient.
INTAKE_KEPT = (f"{INTAKE_PREFIX}deal-code:*", f"{INTAKE_PREFIX}lock:*")
ABNORMAL_PUSH_PATTERNS = (*read_model.PROJECTION_PATTERNS, detection.DETECTION + "*")
# The wall-clock instant each push was last projected (the deadline watch's grace after a
# backfill): bookkeeping of when the replay ran, not a fact of the log.
ABNORMAL_PUSH_WALL_CLOCK = ("prt:abnormal_push:changed",)
# Detection's list of recent cases a rule did not apply to is a diagnostic journal of the
# judgements in the order the worker made them (and when, by the wall clock): a replay
# interleaves partitions differently, so a case judged "no price history yet" or "held until
# the award" live may be judged otherwise, or not at all, in the rebuild. What the log decides
# (reports filed, their count per rule, the no-shows held, the facts kept) is compared.
ABNORMAL_PUSH_JUDGEMENT_ORDER = (detection.NOT_APPLIED,)
# Where the worker's group stood when a rebuild began (detection files nothing before it on
# the replay): the rebuild's own bookkeeping, written by the rebuild, not by the log.
ABNORMAL_PUSH_REBUILD_BOOKKEEPING = (detection.REPLAY_BOUNDARY,)


@dataclass
class ProjectionCheck:
    service: str
    compared: int = 0  # counters, keys or items compared
    problems: list[str] = field(default_factory=list)

    @property
    def differences(self) -> int:
        return len(self.problems)


async def reporting_check(
    settings: PlatformSettings, redis: Redis, prefix: str, settle_s: float = 60
) -> ProjectionCheck:
    metrics = MetricsReadModel(redis, prefix)
    recomputed = await recompute_from_log(settings)
    figures = recomputed.ledger.figures()
    found = diff(await metrics.counters(), figures)
    for _ in range(int(settle_s * 2)):  # caught up means committed; a moment more to be sure
        if not found:
            break
        await asyncio.sleep(0.5)
        found = diff(await metrics.counters(), figures)
    check = ProjectionCheck("reporting", len(figures))
    check.problems = [f"{key}: live {live} != recomputed {again}" for key, live, again in found]
    applied = await metrics.version()
    if applied != len(recomputed.ledger.applied):
        check.problems.append(f"version {applied} != {len(recomputed.ledger.applied)} events")
    return check


async def intake_check(
    redis: Redis, env: dict[str, str], workers: StreamWorkers
) -> ProjectionCheck:
    """Stops the intake worker (the rebuild wants it stopped) and leaves it stopped."""
    workers.stop("intake")
    live = await snapshot(redis, INTAKE_PATTERNS, exclude=INTAKE_KEPT)
    await run_module("services.intake.rebuild", env, "--wipe")
    rebuilt = await snapshot(redis, INTAKE_PATTERNS, exclude=INTAKE_KEPT)
    found = compare(live, rebuilt)
    check = ProjectionCheck("intake", len(live))
    if found.count:
        check.problems = found.describe(live, rebuilt, show=10).splitlines()[1:]
    return check


async def abnormal_push_check(
    settings: PlatformSettings,
    redis: Redis,
    env: dict[str, str],
    workers: StreamWorkers,
    replay_timeout_s: float = 600,
) -> ProjectionCheck:
    """Stops the worker, rebuilds, starts it again and waits until it has replayed the log
    (the whole log of the stack: ``replay_timeout_s`` grows with the run's size)."""
    workers.stop("abnormal_push")
    live = await snapshot(redis, ABNORMAL_PUSH_PATTERNS)
    await run_module("services.abnormal_push.rebuild", env, "--yes")
    await asyncio.to_thread(workers.start, "abnormal_push")
    await workers.wait_caught_up(settings, timeout_s=replay_timeout_s)
    rebuilt = await snapshot(redis, ABNORMAL_PUSH_PATTERNS)
    found = compare(
        live,
        rebuilt,
        ignore=ABNORMAL_PUSH_WALL_CLOCK
        + ABNORMAL_PUSH_JUDGEMENT_ORDER
        + ABNORMAL_PUSH_REBUILD_BOOKKEEPING,
    )
    check = ProjectionCheck("abnormal_push", len(live))
    if found.count:
        check.problems = found.describe(live, rebuilt, show=10).splitlines()[1:]
    return check


async def _offers_on_log(settings: PlatformSettings) -> dict[str, Any]:
    """The seat offers on the venue topic, by venue and slot, the latest of each."""
    offers: dict[str, Any] = {}
    for envelope in await read_topic(settings, VENUE_CAPACITY):
        message = envelope.message
        if message.DESCRIPTOR.name != "VenueCapacityPublished":
            continue  # a poison record of the fault suite: the worker dead-lettered it
        try:
            slot = slot_from(message.slot)
        except ValueError:
            continue  # the fault suite's impossible-values poison: dead-lettered too
        offers[f"{message.venue_id}|{slot.key()}"] = {
            "seats": message.seats,
            "fee_fen": message.fee_fen,
        }
    return offers


async def remote_eval_check(
    settings: PlatformSettings,
    redis: Redis,
    api_url: str,
    host_key: str,
    project_ids: Iterable[str],
) -> ProjectionCheck:
    """The evaluations requested for ``project_ids`` and every seat offer, against the log."""
    check = ProjectionCheck("remote_eval")
    requested: dict[str, set[str]] = {}
    # Distinct event ids: a decision republished after a crash repeats its id (consumers
    # dedupe); a second decision would have an id of its own.
    outcomes: dict[str, set[str]] = {}
    scheduled: set[str] = set()
    for envelope in await read_topic(settings, EVALUATIONS):
        name = envelope.message.DESCRIPTOR.name
        if name == "EvaluationRequested":
            requested.setdefault(envelope.message.project_id, set()).add(
                envelope.message.evaluation_id
            )
        elif name in {"EvaluationScheduled", "SchedulingFailed"}:
            outcomes.setdefault(envelope.message.evaluation_id, set()).add(envelope.id)
            if name == "EvaluationScheduled":
                scheduled.add(envelope.message.evaluation_id)
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        for project_id in sorted(project_ids):
            for evaluation_id in sorted(requested.get(project_id, set())):
                check.compared += 1
                decided = len(outcomes.get(evaluation_id, set()))
                if decided != 1:
                    check.problems.append(f"{evaluation_id}: {decided} outcomes on the log")
                view = await client.get(
                    f"/v1/evaluations/{evaluation_id}", headers={"X-API-Key": host_key}
                )
                shown = view.json().get("status") if view.status_code == 200 else view.status_code
                expected = "scheduled" if evaluation_id in scheduled else "failed"
                if shown != expected:
                    check.problems.append(f"{evaluation_id}: API {shown}, the log {expected}")
    offers = await _offers_on_log(settings)
    raw: dict[Any, Any] = await redis.hgetall(OFFERS_KEY)
    live = {name.decode(): json.loads(value) for name, value in raw.items()}
    check.compared += len(offers)
    for slot_key in sorted(offers.keys() | live.keys()):
        if offers.get(slot_key) != live.get(slot_key):
            check.problems.append(
                f"offer {slot_key}: live {live.get(slot_key)} != log {offers.get(slot_key)}"
            )
    return check
