"""Rebuild remote_eval's read model from the log: ``python -m services.remote_eval.rebuild --wipe``.

What is rebuilt, and from where:
- evaluations (with their draws, deadlines and the by-project index), seat bookings, busy marks
  and draw days: from the changelog remote-eval.evaluation-states.v1, the latest state of each
  evaluation (the scheduler publishes it with every decision, from the same outbox);
- the candidate pools of the draws (which the states name by hash, for the draw proof): from the
  same changelog's DrawCandidatePoolRecorded records;
- seat offers: from remote-eval.venues.v1, as the worker applies them: the latest (by
  ce_time) of each venue and slot, whatever order the log holds them in;
- experts' availability: from the ExpertAvailabilitySet events of remote-eval.evaluations.v1;
- the parties to each trade (回避): from intake's intake.projects.v1, as the worker learns them;
- unsealed committee lists: re-made from the sealed registry for the evaluations unsealed.

Decisions are not taken again: replaying requests through the scheduler would draw against
today's pools and batches, not those of the day, so the rebuild reads the decisions' outcomes.
- the expert registry: from remote-eval.experts.v1 (ExpertRegistered, identities sealed); it is
  replayed over what Redis holds, not wiped, since each record stands alone.
Kept: the applied markers and outboxes (so the worker neither decides twice nor loses events),
idempotency keys.

``--wipe`` deletes the projections first. Stop the remote_eval API and worker while rebuilding
with ``--wipe``: a decision taken against a half-rebuilt view could double-book a seat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from dataclasses import dataclass

from prt.v1 import remote_eval_pb2
from redis.asyncio import Redis

from services.platform_core.errors import SettingsError
from services.platform_core.events.topics import (
    EVALUATION_STATES,
    EVALUATIONS,
    EXPERT_REGISTRY,
    PROJECT_EVENTS,
    VENUE_CAPACITY,
)
from services.platform_core.kafka.faust_worker import EventRejected
from services.platform_core.kafka.log_replay import ReplayCounts, replay_topic
from services.platform_core.settings import PlatformSettings, get_settings
from services.remote_eval.event_codec import (
    UnreadableEvent,
    candidate_pool_from,
    expert_from,
    parties_learned_from,
)
from services.remote_eval.scheduler import (
    COMMITTEE_LISTS_PREFIX,
    OFFER_VERSIONS_KEY,
    apply_offer_in_order,
    availability_from,
    committee_document,
    trade_end,
)
from services.remote_eval.sealed_registry import AppliedVersion, ExpertRegistry, IdentitySeal
from services.remote_eval.store import (
    AVAILABILITY_KEY,
    DEADLINES_KEY,
    DRAW_POOL_PREFIX,
    DRAWN_ON_PREFIX,
    OFFERS_KEY,
    PREFIX,
    TRADES_ENDED_KEY,
    EvaluationState,
    RemoteEvalStore,
)

log = logging.getLogger(__name__)

CLIENT_ID = "remote-eval-rebuild"

# Projection keys by pattern (the registry, applied markers, outboxes and idempotency keys are
# not among them).
PROJECTION_PATTERNS = (
    f"{PREFIX}evaluation:*",
    f"{PREFIX}by-project:*",
    f"{PREFIX}parties:*",
    f"{PREFIX}bookings:*",
    f"{PREFIX}busy:*",
    f"{DRAWN_ON_PREFIX}*",
    f"{DRAW_POOL_PREFIX}*",
    f"{COMMITTEE_LISTS_PREFIX}*",
)
PROJECTION_KEYS = (
    OFFERS_KEY,
    OFFER_VERSIONS_KEY,
    DEADLINES_KEY,
    AVAILABILITY_KEY,
    TRADES_ENDED_KEY,
)


@dataclass
class RebuildReport(ReplayCounts):
    rejected: int = 0  # decodable but not valid (the worker dead-letters these too)
    evaluations: int = 0
    offers: int = 0
    availability: int = 0
    parties: int = 0  # intake events that named a party
    wiped_keys: int = 0
    experts: int = 0
    candidate_pools: int = 0


async def projection_keys(redis: Redis) -> list[bytes]:
    keys: list[bytes] = []
    for pattern in PROJECTION_PATTERNS:
        keys += [k async for k in redis.scan_iter(match=pattern, count=1000)]
    keys += [k.encode() for k in PROJECTION_KEYS if await redis.exists(k)]
    return sorted(keys)


async def wipe(redis: Redis) -> int:
    keys = await projection_keys(redis)
    return int(await redis.unlink(*keys)) if keys else 0


async def _experts(
    settings: PlatformSettings, registry: ExpertRegistry, report: RebuildReport
) -> None:
    """The pools as registered (ExpertRegistered), identities still sealed."""
    async for envelope in replay_topic(settings, EXPERT_REGISTRY, report, client_id=CLIENT_ID):
        registered: object = envelope.message
        if isinstance(registered, remote_eval_pb2.ExpertRegistered):
            try:
                expert, sealed = expert_from(registered)
            except UnreadableEvent as exc:
                report.rejected += 1
                log.warning("expert registration %s: %s", envelope.id, exc)
                continue
            # The latest registration of each expert, whatever order the log holds them in.
            await registry.add_sealed(expert, sealed, version=AppliedVersion.of(envelope))
            report.experts += 1


async def _offers_and_availability(
    settings: PlatformSettings,
    redis: Redis,
    store: RemoteEvalStore,
    registry: ExpertRegistry,
    report: RebuildReport,
) -> None:
    """Applied as the worker applies them, with the same checks (what it rejects, so does
    the rebuild)."""
    async for envelope in replay_topic(settings, VENUE_CAPACITY, report, client_id=CLIENT_ID):
        offer: object = envelope.message
        if isinstance(offer, remote_eval_pb2.VenueCapacityPublished):
            try:
                # The latest offer of each venue and slot, as the worker keeps it.
                await apply_offer_in_order(redis, store, envelope)
                report.offers += 1
            except EventRejected as exc:
                report.rejected += 1
                log.warning("venue capacity %s: %s", envelope.id, exc)
    async for envelope in replay_topic(settings, EVALUATIONS, report, client_id=CLIENT_ID):
        mark: object = envelope.message
        if isinstance(mark, remote_eval_pb2.ExpertAvailabilitySet):
            try:
                dates = await availability_from(mark, registry)
            except EventRejected as exc:
                report.rejected += 1
                log.warning("availability %s: %s", envelope.id, exc)
                continue
            await store.set_availability(mark.expert_id, mark.pool_code, dates)
            report.availability += 1


async def _parties(
    settings: PlatformSettings, store: RemoteEvalStore, report: RebuildReport
) -> None:
    async for envelope in replay_topic(settings, PROJECT_EVENTS, report, client_id=CLIENT_ID):
        learned = parties_learned_from(envelope.message)
        if learned is not None:
            await store.add_parties(learned)
            report.parties += 1
        ended = trade_end(envelope)
        if ended is not None:
            await store.end_trade(*ended)


async def _latest_states(
    settings: PlatformSettings, store: RemoteEvalStore, report: RebuildReport
) -> dict[str, EvaluationState]:
    """The latest state of each evaluation; the draws' candidate pools are stored as read."""
    latest: dict[str, EvaluationState] = {}
    async for envelope in replay_topic(settings, EVALUATION_STATES, report, client_id=CLIENT_ID):
        recorded: object = envelope.message
        if isinstance(recorded, remote_eval_pb2.DrawCandidatePoolRecorded):
            try:
                await store.save_candidate_pool(*candidate_pool_from(recorded))
                report.candidate_pools += 1
            except UnreadableEvent as exc:
                report.rejected += 1
                log.warning("candidate pool %s: %s", recorded.candidate_pool_sha256, exc)
        if isinstance(recorded, remote_eval_pb2.EvaluationStateRecorded):
            try:
                latest[recorded.evaluation_id] = EvaluationState.from_json(
                    json.loads(recorded.state_json)
                )
            except (ValueError, KeyError, TypeError) as exc:
                # Not a state this scheduler wrote: counted and named, the rest rebuilt.
                report.rejected += 1
                log.warning("state of %s unreadable: %r", recorded.evaluation_id, exc)
    return latest


async def rebuild(settings: PlatformSettings, *, wipe_first: bool) -> RebuildReport:
    # Everything the rebuild needs is asked for before anything is deleted: a process started
    # without the identity key (its secret not mounted) refuses here, with the projections
    # whole, instead of after wiping them.
    seal = IdentitySeal(settings.secret("remote_eval_identity_key"))
    report = RebuildReport()
    redis = Redis.from_url(settings.redis_url)
    try:
        if wipe_first:
            report.wiped_keys = await wipe(redis)
        store = RemoteEvalStore(redis)
        await store.availability_changed()
        registry = ExpertRegistry(redis, seal)
        await _experts(settings, registry, report)
        await _offers_and_availability(settings, redis, store, registry, report)
        await _parties(settings, store, report)
        latest = await _latest_states(settings, store, report)
        for state in latest.values():
            # Every expert drawn for it counts as drawn that day, the replaced ones too.
            drawn = [m.assignment.expert_id for m in [*state.members, *state.former]]
            day = state.slot.day if state.slot is not None else None
            await store.save(state, None, draw_days=(drawn, day) if day and drawn else None)
            if state.unsealed:
                document = await committee_document(registry, state)
                await redis.set(COMMITTEE_LISTS_PREFIX + state.request.evaluation_id, document)
        report.evaluations = len(latest)
        return report
    finally:
        await redis.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wipe", action="store_true", help="delete the projections first")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    try:
        report = asyncio.run(rebuild(get_settings(), wipe_first=args.wipe))
    except SettingsError as refused:
        print(f"nothing deleted: {refused}", file=sys.stderr)
        return 2
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
