"""The scheduler: what the stream worker does with each event, around the pure solver.

One instance per worker; a lease makes decisions one at a time, because seats and experts are
shared by all evaluations across partitions: a lock within the process and a Redis lease across
processes (services.platform_core.redis_lease), whose fence refuses the store of a decision that
outlived its lease (LeaseLost: nothing stored, the event is decided again). So a second worker
process, started by mistake or overlapping in a rebalance, waits its turn instead of booking the
same seats and experts. Each decision is: load state, solve, then store
the new state together with the events it publishes (an outbox), the cause marked applied and
the draw days, in one Redis MULTI; only then publish the outbox (acks=all) and clear it. A crash
before the MULTI leaves nothing (the redelivered event decides afresh); a crash after it leaves
the outbox, which is published at the next event or start. Event ids are derived from the
causing event's id and the step (UUIDv5), so an outbox published twice repeats the same ids and
consumers deduplicate them.

Requests read together (a Faust batch) are planned together (:func:`schedule_batch`): the seat
plan that fills the most seats, then each request's draw inside its planned seats. Each planned
schedule is checked again by the independent checker against the state at the moment it is
stored, and decided alone if it no longer holds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiokafka.errors import KafkaError
from google.protobuf.message import Message
from prt.v1 import intake_pb2, remote_eval_pb2
from redis.asyncio import Redis

from services.platform_core.events.envelope import (
    MAX_EVENT_BYTES,
    Envelope,
    decode_record,
    encode_envelope,
)
from services.platform_core.events.proto_values import from_timestamp, to_timestamp
from services.platform_core.events.topics import (
    EVALUATION_STATES,
    EVALUATIONS,
    TopicSpec,
    partner_answers_topic,
    partner_seat_requests_topic,
)
from services.platform_core.kafka.dead_letters import DeadLetterPublisher, SourceRecord
from services.platform_core.kafka.faust_worker import EventRejected
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.kafka.retrying import RECORD_REFUSED_ERRORS
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.redis_lease import RedisLease
from services.platform_core.settings import PlatformSettings
from services.remote_eval import event_codec
from services.remote_eval.domain.checker import check_schedule
from services.remote_eval.domain.conflicts import PartiesLearned, conflicted_experts
from services.remote_eval.domain.model import (
    SHANGHAI,
    EvaluationRequest,
    Expert,
    ExpertDirectory,
    ExpertHistory,
    HalfDay,
    MarketView,
    SchedulingPolicy,
    SeatOffer,
    Slot,
    VenueRole,
    slot_day_problem,
)
from services.remote_eval.domain.pseudonyms import (
    draw_seed,
    expert_pseudonym,
    supervision_pseudonym,
)
from services.remote_eval.domain.solver import (
    DrawRecord,
    FailedConstraint,
    Infeasible,
    PendingRequest,
    Replan,
    Schedule,
    SchedulingContext,
    draw_substitute,
    replan_after_decline,
    schedule,
    schedule_batch,
)
from services.remote_eval.domain.timers import AnswerWindows, Deadline, DeadlineKind, deadline_for
from services.remote_eval.domain.withdrawal import Booking, bookings_to_withdraw
from services.remote_eval.reference import partners, venue_directory
from services.remote_eval.sealed_registry import AppliedVersion, ExpertRegistry
from services.remote_eval.store import (
    SEATED_STATUSES,
    SET_ASIDE_OUTBOX_KEY,
    EvaluationState,
    Member,
    Outbox,
    RemoteEvalStore,
    draw_to_json,
    pool_bytes,
)

log = logging.getLogger(__name__)

SOURCE = "prt/remote-eval/scheduler"
COMMITTEE_LISTS_PREFIX = "prt:remote_eval:committee-lists:"
# Namespace of the event ids derived from a causing event's id (UUIDv5).
DERIVED_EVENT_IDS = uuid.UUID("6f1d3c1e-5b0a-4d0e-9a57-0c2b8e4f7a11")
CONSUMER = "evaluations"
# The venue offers applied (VenueCapacityPublished), by event id.
VENUES_CONSUMER = "venues"
# The substitution reason of a seat drawn again (a redraw) is why its last holder left.
REASON_OF_LEAVING: dict[str, remote_eval_pb2.SubstitutionReason] = {
    "declined": remote_eval_pb2.SUBSTITUTION_REASON_DECLINED,
    "no_show": remote_eval_pb2.SUBSTITUTION_REASON_NO_SHOW,
    "not_confirmed": remote_eval_pb2.SUBSTITUTION_REASON_NOT_CONFIRMED,
    "avoided": remote_eval_pb2.SUBSTITUTION_REASON_CONFLICT_OF_INTEREST,
}


def derived_event_id(cause_id: str, step: int) -> str:
    """The id of the ``step``-th event a decision on ``cause_id`` publishes: the same on every
    redelivery, so consumers deduplicate a republished outbox."""
    return str(uuid.uuid5(DERIVED_EVENT_IDS, f"{cause_id}#{step}"))


def windows_from(settings: PlatformSettings) -> AnswerWindows:
    return AnswerWindows(
        seat_request=timedelta(seconds=settings.remote_eval_seat_request_answer_s),
        confirmation=timedelta(seconds=settings.remote_eval_expert_confirm_s),
    )


def _all_topics() -> dict[str, TopicSpec]:
    specs = [
        EVALUATIONS,
        EVALUATION_STATES,
        *(partner_seat_requests_topic(c) for c in partners()),
    ]
    return {spec.name: spec for spec in specs}


def scheduling_context(
    market: MarketView, experts: ExpertDirectory, history: ExpertHistory, policy: SchedulingPolicy
) -> SchedulingContext:
    """What every decision solves against, with the reference partners and their agreements:
    a partner region's venues and pool are offered only to the hosts it signed with."""
    return SchedulingContext(market, experts, history, policy, partners())


def policy_from(settings: PlatformSettings) -> SchedulingPolicy:
    return SchedulingPolicy(
        recent_draw_days=settings.remote_eval_recent_draw_days,
        main_venue_percent=settings.remote_eval_main_venue_percent,
    )


# Held for one decision (milliseconds; a batch plan, seconds); a worker killed while holding it
# delays the next decision by at most this long.
# The consumer whose dead-letter topic the scheduler's refusals go to, in the worker and in the
# API (which decides partners' answers too).
SCHEDULER_CONSUMER = "remote_eval.scheduler"
DECISION_LEASE_KEY = "prt:remote_eval:decision-lease"
DECISION_LEASE_MS = 10_000


# How long after checking the scheduler's topics (a publish failed) it does not check again.
TOPIC_RECHECK_S = 60.0


class ExpertDirectoryCache:
    """The last expert directory loaded, with the registry and availability versions it was
    loaded at. Loading it reads every expert (thousands) from Redis: the worker's scheduler keeps
    one for its life, and the API's schedulers — one per partner answer — share the process's,
    so answers arriving in bulk do not each read the whole registry again."""

    def __init__(self) -> None:
        self.entry: tuple[tuple[int, int], ExpertDirectory] | None = None


class Scheduler:
    def __init__(
        self,
        redis: Redis,
        store: RemoteEvalStore,
        registry: ExpertRegistry,
        publisher: EventPublisher,
        settings: PlatformSettings,
        *,
        dead_letters: DeadLetterPublisher | None = None,
        directory_cache: ExpertDirectoryCache | None = None,
    ) -> None:
        """``dead_letters``: where an outbox record Kafka will not take is noted (it is kept
        in Redis either way: :meth:`_flush`). ``directory_cache``: the expert directory shared
        by the schedulers of one process (the API makes one per answer)."""
        self._redis = redis
        self._store = store
        self._registry = registry
        self._publisher = publisher
        self._dead_letters = dead_letters
        self._settings = settings
        self._topics_checked_until = 0.0  # time.monotonic(): see _recreate_topics
        self._secret = settings.secret("remote_eval_draw_secret")
        self._policy = policy_from(settings)
        self._windows = windows_from(settings)
        self._lease = RedisLease(redis, DECISION_LEASE_KEY, lease_ms=DECISION_LEASE_MS)
        self._directory = directory_cache if directory_cache is not None else ExpertDirectoryCache()
        self._topics = _all_topics()
        # The decision under way: its cause, and the events it will publish.
        self._cause = ""
        self._outgoing: list[tuple[TopicSpec, Envelope[Message], str]] = []
        self._steps = 0
        # The candidates of the draws the decision made, by pool hash (store.pool_bytes).
        self._pools: dict[str, bytes] = {}
        # Schedules planned for a batch of requests, by request event id, until each is applied.
        self._planned: dict[str, Schedule | Infeasible] = {}

    # -- helpers -------------------------------------------------------------------------------
    async def _experts(self) -> ExpertDirectory:
        """The registry's experts, with the dates their pool owners marked unavailable."""
        versions = (await self._registry.version(), await self._store.availability_version())
        cached = self._directory.entry
        if cached is not None and cached[0] == versions:
            return cached[1]
        availability = await self._store.availability()
        experts = [
            with_unavailable_dates(e, availability.get(e.expert_id, frozenset()))
            for e in await self._registry.all_experts()
        ]
        directory = ExpertDirectory(experts)
        self._directory.entry = (versions, directory)
        return directory

    async def _context(self, slot: Slot, excluding: str | None = None) -> SchedulingContext:
        return await self._context_for([slot], excluding)

    async def _context_for(
        self, slots: Sequence[Slot], excluding: str | None = None
    ) -> SchedulingContext:
        horizon = self._policy.alternative_horizon_half_days
        wanted = sorted({s.shifted(n) for s in slots for n in range(horizon + 1)})
        return scheduling_context(
            await self._store.market(wanted, excluding_evaluation=excluding),
            await self._experts(),
            await self._store.history(wanted, self._policy.recent_draw_days),
            self._policy,
        )

    def _pseudonym(self, evaluation_id: str, expert_id: str) -> str:
        return expert_pseudonym(self._secret, evaluation_id, expert_id)

    def _begin(self, cause_id: str) -> None:
        self._cause, self._outgoing, self._steps, self._pools = cause_id, [], 0, {}

    def _record_draw(
        self, state: EvaluationState, draw: DrawRecord, purpose: str, event_id: str
    ) -> None:
        """Adds the draw to the state, its candidates by their pool's hash only: the pool is
        stored and recorded once, apart (:meth:`_save`), so the state stays small however many
        substitutes are drawn on however large a pool."""
        state.draws.append(draw_to_json(draw, purpose, event_id))
        if draw.candidate_pool_sha256 not in self._pools:
            self._pools[draw.candidate_pool_sha256] = pool_bytes(draw.inputs.candidates)

    async def _emit(
        self,
        topic: TopicSpec,
        message: Message,
        evaluation_id: str,
        at: datetime,
        *,
        key: str | None = None,
    ) -> None:
        """Queues an event of the decision under way; :meth:`_save` stores and publishes it.
        Its record key is the evaluation's id unless ``key`` is given."""
        envelope = Envelope(
            message=message,
            source=SOURCE,
            subject=evaluation_id,
            time=at,
            id=derived_event_id(self._cause, self._steps),
        )
        self._steps += 1
        self._outgoing.append((topic, envelope, key or evaluation_id))

    async def _save(
        self,
        state: EvaluationState,
        previous: EvaluationState | None,
        *,
        drawn: list[str] | None = None,
        mark_applied: bool = True,
    ) -> None:
        """Stores the decision with its outbox (one MULTI), then publishes the outbox. The
        outbox ends with the state itself on the changelog, from which the read model can be
        rebuilt (services.remote_eval.rebuild)."""
        evaluation_id = state.request.evaluation_id
        # Each new pool goes on the log before the first state naming it (one record per pool,
        # keyed by its hash on the compacted changelog: a rebuild gets it back).
        pools = {
            pool_sha256: raw
            for pool_sha256, raw in self._pools.items()
            if not await self._store.has_candidate_pool(pool_sha256)
        }
        for pool_sha256, raw in pools.items():
            recorded = event_codec.candidate_pool_recorded(
                pool_sha256, raw, evaluation_id, datetime.now(UTC)
            )
            await self._emit(
                EVALUATION_STATES, recorded, evaluation_id, datetime.now(UTC), key=pool_sha256
            )
        self._pools = {}
        changelog = remote_eval_pb2.EvaluationStateRecorded(
            evaluation_id=evaluation_id,
            occurred_at=to_timestamp(datetime.now(UTC)),
            state_json=json.dumps(state.to_json(), ensure_ascii=False),
        )
        await self._emit(EVALUATION_STATES, changelog, evaluation_id, datetime.now(UTC))
        records: list[list[Any]] = []
        for topic, envelope, key in self._outgoing:
            value, headers = encode_envelope(envelope)
            records.append(
                [
                    topic.name,
                    key,
                    base64.b64encode(value).decode(),
                    [[name, base64.b64encode(raw).decode()] for name, raw in headers],
                ]
            )
        outbox = Outbox(
            name=f"{self._cause}|{state.request.evaluation_id}",
            records=records,
            applied=((CONSUMER, self._cause),) if mark_applied else (),
        )
        draw_days = (drawn, state.slot.day) if drawn and state.slot is not None else None
        await self._store.save(
            state, previous, outbox=outbox, draw_days=draw_days, fence=self._lease, pools=pools
        )
        self._outgoing = []
        try:
            await self._flush()
        except KafkaError:
            # The decision is stored, with its events in the outbox (one MULTI): it stands,
            # and its events go out before the next decision or at the worker's next timer
            # tick (publish_waiting_outboxes). Raising would tell the caller it was not taken —
            # a partner's retry would then find the evaluation already changed by it.
            log.warning("decision on %s stored; its events wait in the outbox", evaluation_id)

    async def publish_waiting_outboxes(self) -> None:
        """Publishes the outboxes of decisions stored while the broker was away (logged and
        kept if it still is). The lease is taken only when one waits: the worker asks every
        timer tick, and nearly always none does."""
        if not await self._store.has_pending_outboxes():
            return
        async with self._lease.held():
            await self._flush()

    async def _flush(self) -> None:
        """Publishes every stored outbox (this decision's, or one a crash left), then clears it.

        A record Kafka will not take - over MAX_EVENT_BYTES (consumers refuse it) or refused by
        the producer or broker as too large - is set aside, not retried: it runs before every
        decision, so one such outbox retried would fail every later event of every evaluation.
        The outbox's other records are published; the refused ones are kept in Redis
        (store.SET_ASIDE_OUTBOX_KEY) with the reason, and named on the dead-letter topic."""
        for name, records in (await self._store.pending_outboxes()).items():
            sendable: list[tuple[list[Any], tuple[TopicSpec, Envelope[Message], str]]] = []
            refused: list[tuple[list[Any], str]] = []
            for record in records:
                topic_name, key, value, headers = record
                raw = base64.b64decode(value)
                if len(raw) > MAX_EVENT_BYTES:
                    refused.append(
                        (record, f"{len(raw)} bytes, over the {MAX_EVENT_BYTES} consumers accept")
                    )
                    continue
                envelope = decode_record(raw, [(h, base64.b64decode(r)) for h, r in headers])
                sendable.append((record, (self._topics[topic_name], envelope, key)))
            try:
                await self._publisher.publish_all([event for _, event in sendable])
            except RECORD_REFUSED_ERRORS:
                # Which one? Each alone: those acknowledged already come twice, with their ids.
                for record, event in sendable:
                    try:
                        await self._publisher.publish(*event)
                    except RECORD_REFUSED_ERRORS as exc:
                        refused.append((record, f"Kafka refused it: {exc!r}"))
            except Exception as exc:
                # Kept, and tried again before every later decision, which fails meanwhile (its
                # events must not overtake these on the log). Not set aside: aiokafka reports a
                # topic it has no metadata for yet the same way during a broker outage
                # (UnknownTopicOrPartitionError) as when the topic is missing, so only the
                # operator can tell. Name what waits, so they can.
                topics = sorted({event[0].name for _, event in sendable})
                log.error(
                    "outbox %s not published (%r) to %s; every decision waits for it",
                    name,
                    exc,
                    ", ".join(topics),
                )
                if isinstance(exc, KafkaError):
                    # A topic deleted under a running producer times out rather than being
                    # named unknown: whether one is missing is asked of the broker.
                    await self._recreate_topics([self._topics[topic] for topic in topics])
                raise
            if not refused:
                await self._store.clear_outbox(name)
                continue
            await self._set_aside(name, refused)

    async def _recreate_topics(self, specs: list[TopicSpec]) -> None:
        """Creates those of the scheduler's topics that are missing (deleted by mistake, or a
        partner's added to the reference data since the topics were made), with their
        registered partitions, so the stuck outbox goes out at the next decision instead of
        waiting for a restart. A broker that is away, or an account not allowed to create
        topics (production's ACL plan), leaves it to the operator: logged, not raised."""
        # Not at every failed flush: in a broker outage every decision's flush fails, and each
        # attempt would wait out an admin client's timeout under the decision lease.
        now = time.monotonic()
        if now < self._topics_checked_until:
            return
        self._topics_checked_until = now + TOPIC_RECHECK_S
        try:
            await ensure_topics(self._settings, specs)
        except Exception as exc:
            log.error("could not create the outbox's topics %s: %r", [s.name for s in specs], exc)

    async def _set_aside(self, name: str, refused: list[tuple[list[Any], str]]) -> None:
        reason = "; ".join(
            f"{record[0]} record {index}: {why}" for index, (record, why) in enumerate(refused)
        )
        log.error("outbox %s: records set aside (%s)", name, reason)
        if self._dead_letters is not None:
            for (topic_name, key, _, headers), why in refused:
                # The value cannot go (it is what is too large): the headers name the event.
                await self._dead_letters.send(
                    SourceRecord(
                        topic=topic_name,
                        partition=-1,
                        offset=-1,
                        key=key.encode(),
                        value=None,
                        headers=[(h, base64.b64decode(raw)) for h, raw in headers],
                    ),
                    f"outbox {name} set aside, kept in Redis {SET_ASIDE_OUTBOX_KEY}: {why}",
                )
        await self._store.set_aside_outbox(name, [record for record, _ in refused], reason)

    async def _emit_to_partner(
        self, partner_code: str, message: Message, evaluation_id: str, at: datetime
    ) -> None:
        """On the evaluations log and on the partner's own stream."""
        await self._emit(EVALUATIONS, message, evaluation_id, at)
        await self._emit(partner_seat_requests_topic(partner_code), message, evaluation_id, at)

    # -- dispatch ------------------------------------------------------------------------------
    async def apply_evaluation_event(self, envelope: Envelope[Message]) -> None:
        handlers: dict[type[Message], Callable[[Envelope[Any]], Any]] = {
            remote_eval_pb2.EvaluationRequested: self._on_requested,
            remote_eval_pb2.PartnerVenueDecision: self._on_venue_decision,
            remote_eval_pb2.SeatRequestTimedOut: self._on_seat_request_timed_out,
            remote_eval_pb2.ExpertConfirmed: self._on_confirmed,
            remote_eval_pb2.ExpertDeclined: self._on_declined_or_no_show,
            remote_eval_pb2.ExpertNoShow: self._on_declined_or_no_show,
            remote_eval_pb2.ExpertConfirmationTimedOut: self._on_confirmation_timed_out,
            remote_eval_pb2.ExpertAvailabilitySet: self._on_availability_set,
            remote_eval_pb2.EmptySeatsRedrawRequested: self._on_redraw_requested,
        }
        handler = handlers.get(type(envelope.message))
        if handler is None:
            return  # the scheduler's own outputs: already reflected in the state
        async with self._lease.held():
            await self._flush()
            if await self._seen(CONSUMER, envelope.id):
                return
            self._begin(envelope.id)
            try:
                await handler(envelope)
            finally:
                self._planned.pop(envelope.id, None)
            if self._outgoing:
                raise AssertionError(f"{type(envelope.message).__name__}: events not stored")
            await self._store.first_time(CONSUMER, envelope.id)

    async def plan_requests(self, envelopes: Sequence[Envelope[Message]]) -> None:
        """Plans the evaluation requests among ``envelopes`` together (before each is applied
        by :meth:`apply_evaluation_event`, which uses the plan if it still holds)."""
        pending: list[PendingRequest] = []
        ids: dict[str, str] = {}
        async with self._lease.held():
            for envelope in envelopes:
                if not isinstance(envelope.message, remote_eval_pb2.EvaluationRequested):
                    continue
                try:
                    request = event_codec.request_from(envelope.message)
                except event_codec.UnreadableEvent:
                    continue  # rejected when applied
                if slot_day_problem(request.slot.day) is not None:
                    continue  # rejected when applied; the others are planned all the same
                request = await self._with_known_parties(request)
                if await self._seen(CONSUMER, envelope.id):
                    continue
                if await self._store.evaluation(request.evaluation_id) is not None:
                    continue
                pending.append(PendingRequest(request, draw_seed(self._secret, envelope.id)))
                ids[request.evaluation_id] = envelope.id
            if len(pending) < 2:
                return
            context = await self._context_for([p.request.slot for p in pending])
            for request, outcome in schedule_batch(pending, context):
                self._planned[ids[request.evaluation_id]] = outcome

    async def _seen(self, consumer: str, event_id: str) -> bool:
        return bool(await self._redis.exists(f"prt:remote_eval:applied:{consumer}:{event_id}"))

    # -- requests ------------------------------------------------------------------------------
    async def _with_known_parties(self, request: EvaluationRequest) -> EvaluationRequest:
        """The request avoiding, beside the units it lists, every party to the trade intake has
        shown so far (回避: domain.conflicts). The evaluation's state keeps this request, so
        every later draw for it avoids them too."""
        parties = await self._store.parties(request.project_id, request.bid_section_code)
        if parties <= request.avoided_unit_codes:
            return request
        return replace(request, avoided_unit_codes=request.avoided_unit_codes | parties)

    async def _on_requested(self, envelope: Envelope[remote_eval_pb2.EvaluationRequested]) -> None:
        try:
            request = await self._with_known_parties(event_codec.request_from(envelope.message))
        except event_codec.UnreadableEvent as exc:
            raise EventRejected(str(exc)) from exc
        out_of_range = slot_day_problem(request.slot.day)
        if out_of_range is not None:  # event_codec refuses it too: never planned near date.min
            raise EventRejected(f"evaluation {request.evaluation_id}: {out_of_range}")
        if await self._store.evaluation(request.evaluation_id) is not None:
            return  # decided before (a redelivery after the state was stored)
        seed = draw_seed(self._secret, envelope.id)
        context = await self._context(request.slot)
        planned = self._planned.get(envelope.id)
        ended = await self._store.trade_ended(
            request.project_id, request.bid_section_code, before=request.slot.day
        )
        outcome: Schedule | Infeasible
        if ended is not None:
            # Requested after (or racing) the award or termination: nothing left to evaluate.
            outcome = Infeasible(FailedConstraint.TRADE_ENDED, f"交易已结束: {ended}")
        elif isinstance(planned, Schedule) and still_holds(request, planned, context):
            outcome = planned
        else:
            outcome = schedule(request, context, seed)
        now = envelope.time  # business time of the request: its events are stamped with it
        state = EvaluationState(request=request, backfilled=envelope.message.backfilled)
        if isinstance(outcome, Infeasible):
            await self._emit(
                EVALUATIONS,
                event_codec.scheduling_failed(request.evaluation_id, now, outcome),
                request.evaluation_id,
                now,
            )
            state.status = "failed"
            state.failure = _failure_json(outcome)
            await self._save(state, None)
            return
        state.status = "scheduled"
        state.slot = outcome.slot
        state.allocations = list(outcome.allocations)
        state.members = [
            Member(a, self._pseudonym(request.evaluation_id, a.expert_id))
            for a in outcome.assignments
        ]
        self._record_draw(state, outcome.draw, "initial", envelope.id)
        await self._publish_schedule(state, outcome.draw, now)
        for allocation in outcome.allocations:
            if allocation.role is VenueRole.SECONDARY:
                await self._send_seat_request(state, allocation.venue_id, allocation.seats, now)
        for member in state.members:
            drawn = remote_eval_pb2.ExpertDrawn(
                evaluation_id=request.evaluation_id,
                occurred_at=to_timestamp(now),
                assignment=event_codec.assignment_message(member.assignment, member.pseudonym),
            )
            confirm_by = self._open_deadline(state, DeadlineKind.CONFIRMATION, member, now)
            if confirm_by is not None:
                drawn.confirm_by.CopyFrom(to_timestamp(confirm_by))
            await self._emit_to_partner(
                member.assignment.pool_code, drawn, request.evaluation_id, now
            )
        await self._save(state, None, drawn=[m.assignment.expert_id for m in state.members])

    def _open_deadline(
        self, state: EvaluationState, kind: DeadlineKind, subject: Member | str, at: datetime
    ) -> datetime | None:
        """Adds the answer deadline of a seat request (venue id) or a drawn member to the
        state; None for backfilled evaluations, which have none (domain.timers). The window
        counts from ``at`` (the cause's business time) but never from before this worker's
        clock: a cause stamped days ago (a partner's stale ``ce_time``, a timeout fired late)
        must not open a deadline already passed, nor one stamped days ahead put it off."""
        window = (
            self._windows.seat_request
            if kind is DeadlineKind.SEAT_REQUEST
            else self._windows.confirmation
        )
        due = deadline_for(at, window, backfilled=state.backfilled, not_before=datetime.now(UTC))
        if due is None:
            return None
        if isinstance(subject, Member):
            name, partner = subject.pseudonym, subject.assignment.pool_code
        else:
            name, partner = subject, venue_directory()[subject].venue.owner_code
        state.deadlines.append(Deadline(due, state.request.evaluation_id, kind, name, partner))
        return due

    @staticmethod
    def _close_deadline(state: EvaluationState, kind: DeadlineKind, subject: str) -> None:
        state.deadlines = [
            d for d in state.deadlines if not (d.kind is kind and d.subject == subject)
        ]

    async def _publish_schedule(
        self, state: EvaluationState, draw: DrawRecord, at: datetime
    ) -> None:
        message = event_codec.evaluation_scheduled(
            state.request.evaluation_id,
            at,
            tuple(state.allocations),
            [(m.assignment, m.pseudonym) for m in state.members],
            draw,
        )
        await self._emit(EVALUATIONS, message, state.request.evaluation_id, at)

    async def _send_seat_request(
        self, state: EvaluationState, venue_id: str, seats: int, at: datetime
    ) -> None:
        assert state.slot is not None
        entry = venue_directory()[venue_id]
        offers = await self._store.published_offers([(venue_id, state.slot)])
        offer = offers.get(
            (venue_id, state.slot), SeatOffer(venue_id, state.slot, 0, entry.fee_fen)
        )
        message = remote_eval_pb2.SeatRequestSent(
            evaluation_id=state.request.evaluation_id,
            occurred_at=to_timestamp(at),
            host_centre_code=state.request.host_code,
            partner_code=entry.venue.owner_code,
            venue_id=venue_id,
            slot=event_codec.slot_message(state.slot),
            seats=seats,
            fee_fen=offer.fee_fen,
        )
        respond_by = self._open_deadline(state, DeadlineKind.SEAT_REQUEST, venue_id, at)
        if respond_by is not None:
            message.respond_by.CopyFrom(to_timestamp(respond_by))
        await self._emit_to_partner(
            entry.venue.owner_code, message, state.request.evaluation_id, at
        )

    # -- partner decisions ---------------------------------------------------------------------
    async def _on_venue_decision(
        self, envelope: Envelope[remote_eval_pb2.PartnerVenueDecision]
    ) -> None:
        message = envelope.message
        state = await self._require_scheduled(message.evaluation_id)
        allocation = next((a for a in state.allocations if a.venue_id == message.venue_id), None)
        if (
            allocation is None
            or allocation.partner_code != message.partner_code
            # The main venue is the host's own (主场): it was never asked for seats, and
            # declining it would move the main-venue experts to partners' venues.
            or allocation.role is VenueRole.MAIN
        ):
            raise EventRejected(
                f"venue {message.venue_id} of partner {message.partner_code} has no seat request "
                f"in evaluation {message.evaluation_id}"
                + (
                    " (it is the main venue)"
                    if allocation and allocation.role is VenueRole.MAIN
                    else ""
                )
            )
        previous = EvaluationState.from_json(state.to_json())
        self._close_deadline(state, DeadlineKind.SEAT_REQUEST, message.venue_id)
        if message.decision == remote_eval_pb2.VENUE_DECISION_ACCEPTED:
            state.venue_decisions[message.venue_id] = "ACCEPTED"
            # A failure that only said its experts had to leave this venue (a re-plan after
            # it declined found no other) is over once it accepts.
            _forget_resolved_failure(state)
            await self._save(state, previous)
            return
        if message.decision != remote_eval_pb2.VENUE_DECISION_DECLINED:
            raise EventRejected("venue decision is unspecified")
        state.venue_decisions[message.venue_id] = "DECLINED"
        await self._replan(state, previous, envelope)

    async def _on_seat_request_timed_out(
        self, envelope: Envelope[remote_eval_pb2.SeatRequestTimedOut]
    ) -> None:
        """No answer by respond_by counts as a decline: re-plan with another venue."""
        message = envelope.message
        state = await self._store.evaluation(message.evaluation_id)
        if state is not None and not _open_for_answers(state):
            await self._drop_deadlines(state)
            return  # unsealed, cancelled or failed: nothing is re-planned any more
        if (
            state is None
            or state.status != "scheduled"
            or message.venue_id in state.venue_decisions
            or all(a.venue_id != message.venue_id for a in state.allocations)
        ):
            return  # answered, or re-planned away, before the timeout was handled
        previous = EvaluationState.from_json(state.to_json())
        self._close_deadline(state, DeadlineKind.SEAT_REQUEST, message.venue_id)
        state.venue_decisions[message.venue_id] = "TIMED_OUT"
        await self._replan(state, previous, envelope)

    async def _replan(
        self,
        state: EvaluationState,
        previous: EvaluationState,
        envelope: Envelope[Any],
        *,
        seed_cause: str | None = None,
        cancel_if_stuck: bool = False,
    ) -> None:
        """``seed_cause``: what the draw's seed is derived from, and the draw is recorded
        under, when one event re-plans several evaluations (default: the event's id).
        ``cancel_if_stuck``: seats withdrawn (not declined) that no other venue can take — the
        evaluation is cancelled (:meth:`_cancel_stuck`) instead of left booked there."""
        cause = seed_cause or envelope.id
        context = await self._context(state.request.slot, excluding=state.request.evaluation_id)
        outcome = replan_after_decline(
            state.request,
            state.schedule(),
            context,
            draw_seed(self._secret, cause),
            declined_venue_ids=state.declined_venue_ids,
            involved_expert_ids=state.involved_expert_ids,
        )
        now = envelope.time
        if isinstance(outcome, Infeasible) and cancel_if_stuck:
            await self._cancel_stuck(state, outcome, now)
            return
        if isinstance(outcome, Infeasible):
            await self._fail(state, previous, outcome, now)
            return
        await self._apply_replan(state, previous, outcome, cause, now)

    async def _cancel_stuck(
        self, state: EvaluationState, failure: Infeasible, now: datetime
    ) -> None:
        """A venue withdrew seats that cannot be placed elsewhere (its main venue, or a partner
        venue no other can replace). Unlike a decline — which the partner may still take back
        while the seats wait there — the seats are gone: left booked, they would keep the venue
        overbooked and the evaluation drawing experts for a sitting that cannot happen. So it
        is cancelled: the failure says why, seats and experts are released, partners are told
        (EvaluationCancelled), and the host requests the evaluation anew."""
        evaluation_id = state.request.evaluation_id
        await self._emit(
            EVALUATIONS,
            event_codec.scheduling_failed(evaluation_id, now, failure),
            evaluation_id,
            now,
        )
        state.failure = _failure_json(failure)
        await self._cancel(state, f"评标场地席位撤回: {failure.detail}", now)

    async def _apply_replan(
        self,
        state: EvaluationState,
        previous: EvaluationState,
        replan: Replan,
        event_id: str,
        now: datetime,
    ) -> None:
        evaluation_id = state.request.evaluation_id
        old_venues = {a.venue_id for a in state.allocations}
        moved = {s.replaced_expert_id for s in replan.substitutions}
        for member in state.members:
            if member.assignment.expert_id in moved:
                member.status = "replaced"
                state.former.append(member)
                self._close_deadline(state, DeadlineKind.CONFIRMATION, member.pseudonym)
        state.members = [m for m in state.members if m.assignment.expert_id not in moved]
        new_members = [
            Member(s.substitute, self._pseudonym(evaluation_id, s.substitute.expert_id))
            for s in replan.substitutions
        ]
        state.members += new_members
        state.allocations = list(replan.schedule.allocations)
        self._record_draw(state, replan.schedule.draw, "venue_declined", event_id)
        await self._publish_schedule(state, replan.schedule.draw, now)
        for allocation in state.allocations:
            if allocation.role is VenueRole.SECONDARY and allocation.venue_id not in old_venues:
                await self._send_seat_request(state, allocation.venue_id, allocation.seats, now)
        by_expert = {m.assignment.expert_id: m for m in state.former}
        for substitution, member in zip(replan.substitutions, new_members, strict=True):
            await self._emit_substitute(
                state,
                by_expert[substitution.replaced_expert_id].pseudonym,
                member,
                remote_eval_pb2.SUBSTITUTION_REASON_VENUE_DECLINED,
                replan.schedule.draw,
                now,
            )
        _forget_resolved_failure(state)
        await self._save(state, previous, drawn=[m.assignment.expert_id for m in new_members])

    async def _move_seats(self, state: EvaluationState, moved: Schedule, now: datetime) -> None:
        """The substitute sits at another partner's venue (the first had nobody left): the
        schedule is published again, a venue new to it gets a seat request, and one left
        without seats has no answer left to wait for."""
        old_venues = {a.venue_id for a in state.allocations}
        state.allocations = list(moved.allocations)
        new_venues = {a.venue_id for a in state.allocations}
        for venue_id in old_venues - new_venues:
            self._close_deadline(state, DeadlineKind.SEAT_REQUEST, venue_id)
        await self._publish_schedule(state, moved.draw, now)
        for allocation in state.allocations:
            if allocation.venue_id not in old_venues:
                await self._send_seat_request(state, allocation.venue_id, allocation.seats, now)

    async def _emit_substitute(  # noqa: PLR0917
        self,
        state: EvaluationState,
        replaced_pseudonym: str,
        member: Member,
        reason: int,
        draw: DrawRecord,
        now: datetime,
    ) -> None:
        message = remote_eval_pb2.SubstituteDrawn(
            evaluation_id=state.request.evaluation_id,
            occurred_at=to_timestamp(now),
            replaced_expert_pseudonym=replaced_pseudonym,
            reason=reason,  # type: ignore[arg-type]
            assignment=event_codec.assignment_message(member.assignment, member.pseudonym),
            draw=event_codec.draw_audit(draw),
        )
        # The substitute, like every drawn expert, is told by when to confirm (ExpertDrawn).
        confirm_by = self._open_deadline(state, DeadlineKind.CONFIRMATION, member, now)
        if confirm_by is not None:
            message.confirm_by.CopyFrom(to_timestamp(confirm_by))
        await self._emit_to_partner(
            member.assignment.pool_code, message, state.request.evaluation_id, now
        )

    async def _fail(
        self,
        state: EvaluationState,
        previous: EvaluationState,
        failure: Infeasible,
        now: datetime,
        *,
        drawn: list[str] | None = None,
    ) -> None:
        await self._emit(
            EVALUATIONS,
            event_codec.scheduling_failed(state.request.evaluation_id, now, failure),
            state.request.evaluation_id,
            now,
        )
        state.failure = _failure_json(failure)
        await self._save(state, previous, drawn=drawn)

    async def _drop_deadlines(self, state: EvaluationState) -> None:
        """An evaluation no longer open for answers (stored before its deadlines were cleared
        on unsealing) keeps none: else each would fire a timeout at every timer tick."""
        if not state.deadlines:
            return
        previous = EvaluationState.from_json(state.to_json())
        state.deadlines = []
        await self._save(state, previous)

    async def _require_scheduled(self, evaluation_id: str) -> EvaluationState:
        state = await self._store.evaluation(evaluation_id)
        if state is None or state.status != "scheduled":
            raise EventRejected(f"evaluation {evaluation_id} is not scheduled")
        if state.unsealed:
            # After the award (or the trade's end) the committee's work is over; its unsealed
            # list is the record of who sat and who did not come.
            raise EventRejected(f"the committee of evaluation {evaluation_id} is unsealed")
        return state

    # -- experts ---------------------------------------------------------------------------------
    async def _on_confirmed(self, envelope: Envelope[remote_eval_pb2.ExpertConfirmed]) -> None:
        message = envelope.message
        state = await self._require_scheduled(message.evaluation_id)
        member = state.member_by_pseudonym(message.expert_pseudonym)
        if member is None or member.assignment.pool_code != message.partner_code:
            raise EventRejected(
                f"{message.expert_pseudonym} is not drawn from partner {message.partner_code}'s "
                f"pool for evaluation {message.evaluation_id}"
            )
        if member.status == "confirmed":
            return  # confirmed before: nothing changes
        if member.status != "drawn":
            # A member who declined, was absent or must be avoided (a state stored before such
            # members left the committee) does not come back by confirming.
            raise EventRejected(
                f"{message.expert_pseudonym} is {member.status} in evaluation "
                f"{message.evaluation_id}: only a drawn expert confirms"
            )
        previous = EvaluationState.from_json(state.to_json())
        member.status = "confirmed"
        self._close_deadline(state, DeadlineKind.CONFIRMATION, member.pseudonym)
        await self._save(state, previous)

    async def _on_declined_or_no_show(self, envelope: Envelope[Message]) -> None:
        message: Any = envelope.message
        state = await self._require_scheduled(message.evaluation_id)
        member = state.member_by_pseudonym(message.expert_pseudonym)
        no_show = isinstance(message, remote_eval_pb2.ExpertNoShow)
        responsible = member.assignment.venue_id if member and no_show else None
        if member is None:
            raise EventRejected(
                f"{message.expert_pseudonym} is not on the committee of {message.evaluation_id}"
            )
        owner = (
            venue_directory()[member.assignment.venue_id].venue.owner_code
            if no_show
            else member.assignment.pool_code
        )
        if owner != message.partner_code:
            raise EventRejected(
                f"partner {message.partner_code} may not report on {message.expert_pseudonym}"
                + (f" (venue {responsible})" if responsible else "")
            )
        if member.status not in SEATED_STATUSES:
            raise EventRejected(
                f"{message.expert_pseudonym} is {member.status} in evaluation "
                f"{message.evaluation_id}, not on the committee"
            )
        if no_show and member.status != "confirmed":
            # An absence is what supervision counts against the expert (PRT-EXP-001: confirmed
            # and did not come); one who never confirmed is unanswered, which times out.
            raise EventRejected(
                f"{message.expert_pseudonym} never confirmed for evaluation "
                f"{message.evaluation_id}: only a confirmed expert can be absent"
            )
        if no_show:
            # For supervision (PRT-EXP-001), under the pseudonym that is the same in every
            # evaluation; it goes out with the substitute draw, or the failure to draw one.
            absence = remote_eval_pb2.ExpertAbsenceRecorded(
                evaluation_id=message.evaluation_id,
                occurred_at=(
                    message.occurred_at
                    if message.HasField("occurred_at")
                    else to_timestamp(envelope.time)
                ),
                partner_code=message.partner_code,
                expert_pseudonym=member.pseudonym,
                venue_id=member.assignment.venue_id,
                supervision_pseudonym=supervision_pseudonym(
                    self._secret, member.assignment.expert_id
                ),
            )
            await self._emit(EVALUATIONS, absence, message.evaluation_id, envelope.time)
            await self._substitute(
                state, member, "no_show", remote_eval_pb2.SUBSTITUTION_REASON_NO_SHOW, envelope
            )
        else:
            await self._substitute(
                state, member, "declined", remote_eval_pb2.SUBSTITUTION_REASON_DECLINED, envelope
            )

    async def _on_confirmation_timed_out(
        self, envelope: Envelope[remote_eval_pb2.ExpertConfirmationTimedOut]
    ) -> None:
        """No confirmation by confirm_by: a substitute under the same rules (补抽)."""
        message = envelope.message
        state = await self._store.evaluation(message.evaluation_id)
        if state is not None and not _open_for_answers(state):
            await self._drop_deadlines(state)
            return  # unsealed, cancelled or failed: nobody is drawn any more
        member = state.member_by_pseudonym(message.expert_pseudonym) if state else None
        if state is None or state.status != "scheduled" or member is None:
            return  # replaced, or the evaluation failed, before the timeout was handled
        if member.status != "drawn":
            return  # confirmed in time
        await self._substitute(
            state,
            member,
            "not_confirmed",
            remote_eval_pb2.SUBSTITUTION_REASON_NOT_CONFIRMED,
            envelope,
        )

    async def _substitute(
        self,
        state: EvaluationState,
        member: Member,
        status: str,
        reason: int,
        envelope: Envelope[Any],
        *,
        seed_cause: str | None = None,
    ) -> None:
        """``seed_cause``: what the draw's seed is derived from, when one event replaces
        several members (default: the event's id)."""
        previous = EvaluationState.from_json(state.to_json())
        context = await self._context(state.request.slot, excluding=state.request.evaluation_id)
        outcome = draw_substitute(
            state.request,
            state.schedule(),
            context,
            draw_seed(self._secret, seed_cause or envelope.id),
            replaced_expert_id=member.assignment.expert_id,
            involved_expert_ids=state.involved_expert_ids,
            replaced_pseudonym=member.pseudonym,
            declined_venue_ids=state.declined_venue_ids,
        )
        now = envelope.time
        member.status = status
        self._close_deadline(state, DeadlineKind.CONFIRMATION, member.pseudonym)
        # The member leaves the committee whether or not someone takes the seat: one who
        # refused, did not come or must be avoided never sits on it. Without a substitute the
        # seat is empty (EvaluationState.unfilled_seats) and the failure says why.
        state.members = [m for m in state.members if m is not member]
        state.former.append(member)
        if isinstance(outcome, Infeasible):
            state.vacated.append(member.pseudonym)  # for a redraw (EmptySeatsRedrawRequested)
            await self._fail(state, previous, outcome, now)
            return
        new_schedule, substitution = outcome
        substitute = Member(
            substitution.substitute,
            self._pseudonym(state.request.evaluation_id, substitution.substitute.expert_id),
        )
        state.members.append(substitute)
        self._record_draw(state, new_schedule.draw, status, envelope.id)
        if new_schedule.allocations != tuple(state.allocations):
            await self._move_seats(state, new_schedule, now)
        await self._emit_substitute(
            state, member.pseudonym, substitute, reason, new_schedule.draw, now
        )
        _forget_resolved_failure(state)
        await self._save(state, previous, drawn=[substitution.substitute.expert_id])

    async def _on_redraw_requested(
        self, envelope: Envelope[remote_eval_pb2.EmptySeatsRedrawRequested]
    ) -> None:
        """补抽 again for the seats left empty (EvaluationState.vacated), asked by the host or
        an operator once experts may have joined the pools or become available: each seat is
        drawn as its substitute was then (same venue, specialty and kind, the seat moving to
        another partner's venue when its own has nobody), with a seed derived from this
        event's id and the seat (so the draw proof re-runs it), announced by SubstituteDrawn
        with its confirm_by. The failure is over once the committee is whole; else a new one
        names the seats still empty. A request finding no empty seat (filled since) changes
        nothing."""
        message = envelope.message
        state = await self._require_scheduled(message.evaluation_id)
        vacated = state.vacated_members()
        if not vacated or state.unfilled_seats == 0:
            log.info("redraw %s: %s has no empty seat", envelope.id, message.evaluation_id)
            return
        evaluation_id = state.request.evaluation_id
        previous = EvaluationState.from_json(state.to_json())
        context = await self._context(state.request.slot, excluding=evaluation_id)
        now = envelope.time
        drawn: list[str] = []
        still_empty: list[str] = []
        for left in vacated:
            # The empty seat as its last holder left it: the draw replaces them, as then.
            current = state.schedule()
            outcome = draw_substitute(
                state.request,
                replace(current, assignments=(*current.assignments, left.assignment)),
                context,
                draw_seed(self._secret, f"{envelope.id}|{left.pseudonym}"),
                replaced_expert_id=left.assignment.expert_id,
                involved_expert_ids=state.involved_expert_ids,
                replaced_pseudonym=left.pseudonym,
                declined_venue_ids=state.declined_venue_ids,
            )
            if isinstance(outcome, Infeasible):
                still_empty.append(outcome.detail)
                continue
            new_schedule, substitution = outcome
            substitute = Member(
                substitution.substitute,
                self._pseudonym(evaluation_id, substitution.substitute.expert_id),
            )
            state.members.append(substitute)
            state.vacated.remove(left.pseudonym)
            self._record_draw(state, new_schedule.draw, "redraw", envelope.id)
            if new_schedule.allocations != tuple(state.allocations):
                await self._move_seats(state, new_schedule, now)
            await self._emit_substitute(
                state,
                left.pseudonym,
                substitute,
                REASON_OF_LEAVING.get(left.status, remote_eval_pb2.SUBSTITUTION_REASON_DECLINED),
                new_schedule.draw,
                now,
            )
            drawn.append(substitution.substitute.expert_id)
        if still_empty:
            failure = Infeasible(
                FailedConstraint.SUBSTITUTES_EXHAUSTED,
                f"redraw asked by {message.requested_by or 'the host'}: {len(still_empty)} of "
                f"{len(vacated)} empty seat(s) still empty: " + "; ".join(still_empty),
            )
            await self._fail(state, previous, failure, now, drawn=drawn)
            return
        _forget_resolved_failure(state)
        await self._save(state, previous, drawn=drawn)

    async def _on_availability_set(
        self, envelope: Envelope[remote_eval_pb2.ExpertAvailabilitySet]
    ) -> None:
        message = envelope.message
        dates = await availability_from(message, self._registry)
        await self._store.set_availability(message.expert_id, message.pool_code, dates)

    # -- timers ----------------------------------------------------------------------------------
    async def fire_due_timers(self, now: datetime) -> int:
        """Publishes a timeout for every answer deadline passed at ``now`` (the scheduler acts
        on it like on a decline or a refusal). The event id is derived from the deadline, so a
        deadline fired twice (before its timeout was handled) is one event to consumers."""
        fired = 0
        for deadline in await self._store.due_deadlines(now):
            message: Message
            if deadline.kind is DeadlineKind.SEAT_REQUEST:
                message = remote_eval_pb2.SeatRequestTimedOut(
                    evaluation_id=deadline.evaluation_id,
                    occurred_at=to_timestamp(deadline.due),
                    partner_code=deadline.partner_code,
                    venue_id=deadline.subject,
                    respond_by=to_timestamp(deadline.due),
                )
            else:
                message = remote_eval_pb2.ExpertConfirmationTimedOut(
                    evaluation_id=deadline.evaluation_id,
                    occurred_at=to_timestamp(deadline.due),
                    partner_code=deadline.partner_code,
                    expert_pseudonym=deadline.subject,
                    confirm_by=to_timestamp(deadline.due),
                )
            envelope = Envelope(
                message=message,
                source=SOURCE,
                subject=deadline.evaluation_id,
                time=deadline.due,
                id=derived_event_id(deadline.key(), 0),
            )
            await self._publisher.publish(EVALUATIONS, envelope, key=deadline.evaluation_id)
            fired += 1
        return fired

    # -- partner answers arriving on partner topics --------------------------------------------
    async def apply_partner_answer(self, envelope: Envelope[Message], topic: str) -> None:
        """An answer a partner wrote on its own topic: applied and recorded on the log by
        :meth:`record_partner_answer`, or refused (EventRejected: dead-lettered)."""
        partner = topic.split(".")[1] if topic.count(".") >= 2 else ""
        if partner not in partners() or topic != partner_answers_topic(partner).name:
            raise EventRejected(f"{topic} is not a partner answers topic")
        claimed = getattr(envelope.message, "partner_code", None)
        if claimed != partner:
            raise EventRejected(f"answer on {topic} names partner {claimed!r}, not {partner}")
        await self.record_partner_answer(envelope, partner)

    async def record_partner_answer(self, envelope: Envelope[Message], partner: str) -> None:
        """Applies a partner's answer (from its answers topic, or over HTTP) and records it on
        the evaluations log in the same decision, under the decision lease: the answer goes on
        the log only if the scheduler accepts it, in the outbox of the state it changed.

        Recording first and deciding later (as before) let the log carry answers the scheduler
        then refused — an accept for a venue never asked, or one that came after the request
        timed out or the partner's own decline — and reporting counted them as served. The
        recorded answer's id is derived from the partner's (a redelivered answer is the same
        event) and marked applied, so the scheduler passes over it when it reads it back from
        the log. An answer that changes nothing (given before) is not recorded again.
        Raises EventRejected, saying why, for an answer the scheduler refuses."""
        message: Any = envelope.message
        handler = self._answer_handler(message)
        if message.partner_code != partner:
            raise EventRejected(
                f"an answer of partner {partner} names partner {message.partner_code!r}"
            )
        recorded = Envelope(
            message=message,
            source=SOURCE,
            subject=message.evaluation_id,
            time=envelope.time,
            id=derived_event_id(envelope.id, 0),
        )
        async with self._lease.held():
            await self._flush()
            if await self._seen(CONSUMER, recorded.id):
                return  # applied and recorded before: a redelivery
            state = await self._store.evaluation(message.evaluation_id)
            if isinstance(message, remote_eval_pb2.PartnerVenueDecision) and repeated_venue_answer(
                state, message
            ):
                return  # the venue gave this answer before: nothing changes, nothing to count
            self._begin(recorded.id)
            # First in the outbox: the answer precedes on the log what it caused.
            self._outgoing.append((EVALUATIONS, recorded, message.evaluation_id))
            try:
                await handler(recorded)
            finally:
                # Refused (nothing stored), or stored without changing anything (e.g. an expert
                # confirmed before): the answer is not recorded.
                self._outgoing = []
                self._planned.pop(recorded.id, None)
            await self._store.first_time(CONSUMER, recorded.id)

    def _answer_handler(self, message: Message) -> Callable[[Envelope[Any]], Any]:
        handlers: dict[type[Message], Callable[[Envelope[Any]], Any]] = {
            remote_eval_pb2.PartnerVenueDecision: self._on_venue_decision,
            remote_eval_pb2.ExpertConfirmed: self._on_confirmed,
            remote_eval_pb2.ExpertDeclined: self._on_declined_or_no_show,
            remote_eval_pb2.ExpertNoShow: self._on_declined_or_no_show,
        }
        handler = handlers.get(type(message))
        if handler is None:
            raise EventRejected(f"{type(message).__name__} is not a partner's answer")
        return handler

    # -- venues ----------------------------------------------------------------------------------
    async def apply_venue_event(self, envelope: Envelope[Message]) -> None:
        """VenueCapacityPublished: the venue's latest offer for the slot. Under the decision
        lease, so no decision reads the offer half-way and two workers (a rebalance) cannot
        interleave their check and write (see :func:`apply_offer_in_order`)."""
        if not isinstance(envelope.message, remote_eval_pb2.VenueCapacityPublished):
            return
        async with self._lease.held():
            await self._flush()
            if await self._seen(VENUES_CONSUMER, envelope.id):
                return
            if await apply_offer_in_order(self._redis, self._store, envelope):
                await self._withdraw_overbooked(envelope, offer_from(envelope.message))
            await self._store.first_time(VENUES_CONSUMER, envelope.id)

    async def _withdraw_overbooked(self, envelope: Envelope[Any], offer: SeatOffer) -> None:
        """An offer below the seats booked at the venue in its slot (the API refuses one, but
        a booking can come between its check and the publication, and a re-driven or rebuilt
        record is not checked): the evaluations booked beyond it lose their seats there
        (domain.withdrawal.bookings_to_withdraw), each as if the venue had declined it.
        Each evaluation's withdrawal is its own decision, its cause ``<event id>|<evaluation
        id>`` marked applied with it: a redelivery after a crash withdraws the rest, no
        evaluation twice, and the choice is the same (those withdrawn no longer book)."""
        booked = (await self._store.bookings(offer.slot)).get(offer.venue_id, {})
        if sum(booked.values()) <= offer.seats:
            return
        states: dict[str, EvaluationState] = {}
        bookings: list[Booking] = []
        for evaluation_id, seats in sorted(booked.items()):
            state = await self._store.evaluation(evaluation_id)
            allocation = (
                next((a for a in state.allocations if a.venue_id == offer.venue_id), None)
                if state is not None
                else None
            )
            if state is None or allocation is None:
                continue  # a stale booking: nothing to move
            states[evaluation_id] = state
            withdrawable = (
                _open_for_answers(state)
                and state.venue_decisions.get(offer.venue_id) != "WITHDRAWN"
                and not await self._seen(CONSUMER, f"{envelope.id}|{evaluation_id}")
            )
            bookings.append(Booking(evaluation_id, seats, allocation.role, withdrawable))
        chosen = bookings_to_withdraw(offer.seats, bookings)
        if sum(booked.values()) - sum(b.seats for b in chosen) > offer.seats:
            log.warning(
                "venue %s offers %d seats in %s: still overbooked after withdrawing %s (the "
                "others' committees are unsealed, or their seats were withdrawn before)",
                offer.venue_id,
                offer.seats,
                offer.slot.key(),
                [b.evaluation_id for b in chosen],
            )
        for booking in chosen:
            await self._withdraw_seats(states[booking.evaluation_id], offer, booking, envelope)

    async def _withdraw_seats(
        self,
        state: EvaluationState,
        offer: SeatOffer,
        booking: Booking,
        envelope: Envelope[remote_eval_pb2.VenueCapacityPublished],
    ) -> None:
        evaluation_id = state.request.evaluation_id
        cause = f"{envelope.id}|{evaluation_id}"
        self._begin(cause)
        previous = EvaluationState.from_json(state.to_json())
        now = envelope.time
        owner = venue_directory()[offer.venue_id].venue.owner_code
        withdrawn = remote_eval_pb2.VenueSeatsWithdrawn(
            evaluation_id=evaluation_id,
            occurred_at=to_timestamp(now),
            partner_code=owner,
            venue_id=offer.venue_id,
            slot=event_codec.slot_message(offer.slot),
            role=event_codec.role_message(booking.role),
            seats=booking.seats,
            seats_offered=offer.seats,
            capacity_event_id=envelope.id,
        )
        if booking.role is VenueRole.SECONDARY and owner in partners():
            # The partner asked for these seats learns the request is off, as when it declines.
            await self._emit_to_partner(owner, withdrawn, evaluation_id, now)
        else:
            await self._emit(EVALUATIONS, withdrawn, evaluation_id, now)
        self._close_deadline(state, DeadlineKind.SEAT_REQUEST, offer.venue_id)
        # Counted as declined from now on: nobody is seated there again for this evaluation.
        state.venue_decisions[offer.venue_id] = "WITHDRAWN"
        if booking.role is VenueRole.MAIN:
            # The host's own venue, where the representatives sit: it cannot move.
            failure = Infeasible(
                FailedConstraint.SEATS,
                f"the seats of main venue {offer.venue_id} in {offer.slot.describe()} were "
                f"withdrawn: its owner {owner} now offers {offer.seats}, fewer than booked, and "
                f"this evaluation's {booking.seats} were booked last; the main venue cannot be "
                "moved, so the evaluation is cancelled — request it anew",
            )
            await self._cancel_stuck(state, failure, now)
            return
        await self._replan(state, previous, envelope, seed_cause=cause, cancel_if_stuck=True)

    # -- expert pools ----------------------------------------------------------------------------
    async def apply_expert_event(self, envelope: Envelope[Message]) -> None:
        """ExpertRegistered: the registry as the log has it (the API stored it already; a
        rebuild or a lost Redis gets it back from here). An older registration read after a
        newer one (a re-driven dead letter) changes nothing: the registry keeps, per expert,
        the latest by ce_time (:class:`AppliedVersion`)."""
        message = envelope.message
        if not isinstance(message, remote_eval_pb2.ExpertRegistered):
            return
        try:
            expert, sealed = event_codec.expert_from(message)
        except event_codec.UnreadableEvent as exc:
            raise EventRejected(f"expert registration {envelope.id}: {exc}") from exc
        await self._registry.add_sealed(expert, sealed, version=AppliedVersion.of(envelope))

    # -- award or termination: unseal the committee, or cancel an evaluation still ahead ---------
    async def apply_project_event(self, envelope: Envelope[Message]) -> None:
        message = envelope.message
        learned = event_codec.parties_learned_from(message)
        if learned is not None:
            await self._learn_parties(learned, envelope)
            return
        cancelled_for: str | None = None
        if isinstance(message, intake_pb2.ContractAwarded):
            cause = remote_eval_pb2.UNSEALING_CAUSE_CONTRACT_AWARDED
        elif isinstance(message, intake_pb2.ProjectTerminated):
            # No award will come for a terminated trade (流标/终止): an evaluation still ahead
            # is cancelled; one held already is unsealed, since what art. 37's secrecy
            # protected is over and a no-show at it must still reach supervision.
            cause = remote_eval_pb2.UNSEALING_CAUSE_TRADE_TERMINATED
            cancelled_for = termination_reason(message)
        else:
            return  # every other project event (容缺 deadlines, openings ...) is not ours
        # When the award or termination happened (its business time: a backfilled termination
        # of yesterday is recorded today), not when intake recorded it.
        ended = trade_end(envelope)
        assert ended is not None  # an award or a termination, as above
        at = ended[3]
        day = at.astimezone(SHANGHAI).date()
        async with self._lease.held():
            await self._flush()
            # Remembered first: a request for this trade decided from now on fails (TRADE_ENDED)
            # instead of booking seats and experts for a sitting that cannot happen.
            await self._store.end_trade(*ended)
            for evaluation_id in await self._store.evaluations_for(
                message.project_id, message.bid_section_code
            ):
                state = await self._store.evaluation(evaluation_id)
                if state is None or state.unsealed or state.status != "scheduled":
                    continue
                # One cause per evaluation: a redelivered award that finds some committees
                # already unsealed gives the others the same event ids as the first time.
                self._begin(f"{envelope.id}|{evaluation_id}")
                if cancelled_for is not None and state.slot is not None and state.slot.day > day:
                    await self._cancel(state, cancelled_for, at)
                else:
                    await self._unseal(state, at, cause)

    async def _learn_parties(self, learned: PartiesLearned, envelope: Envelope[Message]) -> None:
        """Remembers the parties, then makes each scheduled committee of the trade avoid them:
        its request takes them in, and a member they employ is replaced (补抽). Idempotent:
        on a redelivery the parties are known and the member is gone already."""
        async with self._lease.held():
            await self._flush()
            await self._store.add_parties(learned)
            for evaluation_id in await self._store.evaluations_for(
                learned.project_id, learned.bid_section_code
            ):
                state = await self._store.evaluation(evaluation_id)
                if state is None or state.status != "scheduled" or state.unsealed:
                    continue
                if learned.unit_codes <= state.request.avoided_unit_codes:
                    continue
                await self._avoid(state, learned.unit_codes, envelope, evaluation_id)

    async def _avoid(
        self,
        state: EvaluationState,
        parties: frozenset[str],
        envelope: Envelope[Message],
        evaluation_id: str,
    ) -> None:
        self._begin(f"{envelope.id}|{evaluation_id}")
        previous = EvaluationState.from_json(state.to_json())
        state.request = replace(
            state.request, avoided_unit_codes=state.request.avoided_unit_codes | parties
        )
        experts = (await self._experts()).by_id
        conflicted = conflicted_experts(
            [m.assignment.expert_id for m in state.members], experts, parties
        )
        if not conflicted:
            await self._save(state, previous)
            return
        for expert_id in conflicted:
            member = next(m for m in state.members if m.assignment.expert_id == expert_id)
            await self._substitute(
                state,
                member,
                "avoided",
                remote_eval_pb2.SUBSTITUTION_REASON_CONFLICT_OF_INTEREST,
                envelope,
                seed_cause=f"{envelope.id}|{evaluation_id}|{expert_id}",
            )
            # Without a substitute the member left all the same (their seat is empty, the
            # failure says why): every other conflicted member must leave too.

    async def _cancel(self, state: EvaluationState, reason: str, now: datetime) -> None:
        """The trade ended before the evaluation's day: its seats and experts are released,
        the answers it awaited are no longer due, and each partner whose venue or experts it
        used is told its part. The committee stays sealed: it never sat."""
        assert state.slot is not None
        request, slot = state.request, event_codec.slot_message(state.slot)
        directory = venue_directory()

        def cancellation(venue_ids: list[str], members: list[Member]) -> Message:
            return remote_eval_pb2.EvaluationCancelled(
                evaluation_id=request.evaluation_id,
                occurred_at=to_timestamp(now),
                project_id=request.project_id,
                bid_section_code=request.bid_section_code,
                slot=slot,
                reason=reason,
                released_venue_ids=sorted(venue_ids),
                released_expert_pseudonyms=sorted(m.pseudonym for m in members),
            )

        everything = [a.venue_id for a in state.allocations]
        await self._emit(
            EVALUATIONS, cancellation(everything, state.members), request.evaluation_id, now
        )
        asked = {  # the partners asked for seats, by the venues they were asked for
            a.venue_id: directory[a.venue_id].venue.owner_code
            for a in state.allocations
            if a.role is VenueRole.SECONDARY
        }
        for partner in sorted({*asked.values(), *(m.assignment.pool_code for m in state.members)}):
            part = cancellation(
                [venue for venue, owner in asked.items() if owner == partner],
                [m for m in state.members if m.assignment.pool_code == partner],
            )
            await self._emit(partner_seat_requests_topic(partner), part, request.evaluation_id, now)
        previous = EvaluationState.from_json(state.to_json())
        state.status = "cancelled"
        state.deadlines = []
        await self._save(state, previous, mark_applied=False)

    async def _unseal(
        self, state: EvaluationState, now: datetime, cause: remote_eval_pb2.UnsealingCause
    ) -> None:
        document = await committee_document(self._registry, state)
        digest = hashlib.sha256(document).hexdigest()
        evaluation_id = state.request.evaluation_id
        await self._redis.set(COMMITTEE_LISTS_PREFIX + evaluation_id, document)
        message = remote_eval_pb2.CommitteeUnsealed(
            evaluation_id=evaluation_id,
            occurred_at=to_timestamp(now),
            project_id=state.request.project_id,
            bid_section_code=state.request.bid_section_code,
            member_count=state.request.committee_size,
            cause=cause,
        )
        message.committee_list.sha256 = digest
        message.committee_list.location = f"prt-docs://remote-eval/committee-lists/{evaluation_id}"
        message.committee_list.media_type = "application/json"
        await self._emit(EVALUATIONS, message, evaluation_id, now)
        previous = EvaluationState.from_json(state.to_json())
        state.unsealed = True
        # The committee's work is over: no seat request or confirmation is awaited, and no
        # timeout may re-plan or re-draw the committee the published list (and hash) records.
        state.deadlines = []
        await self._save(state, previous, mark_applied=False)


def repeated_venue_answer(
    state: EvaluationState | None, message: remote_eval_pb2.PartnerVenueDecision
) -> bool:
    """Whether the venue's seat request already has this answer and awaits none (nothing to
    apply or record). Raises EventRejected for an answer to a request settled otherwise
    without it: declined by the partner, or timed out, once the scheduler has re-planned the
    seats away (an accept then would count a venue the evaluation no longer uses). While the
    seats are still there — the re-plan found no other venue, and the evaluation's failure says
    so — the partner may still accept: that is the way forward, and the failure is over. An
    accept withdrawn by a decline is the scheduler's to re-plan."""
    if state is None:
        return False  # the scheduler refuses it, saying why
    settled = state.venue_decisions.get(message.venue_id)
    if settled == "WITHDRAWN":
        raise EventRejected(
            f"the seats of venue {message.venue_id} in evaluation {message.evaluation_id} were "
            "withdrawn by its owner (it offered fewer than were booked): there is no seat "
            "request left to answer"
        )
    awaited = any(
        d.kind is DeadlineKind.SEAT_REQUEST and d.subject == message.venue_id
        for d in state.deadlines
    )
    if settled is None or awaited:
        return False
    answer = {
        remote_eval_pb2.VENUE_DECISION_ACCEPTED: "ACCEPTED",
        remote_eval_pb2.VENUE_DECISION_DECLINED: "DECLINED",
    }.get(message.decision)
    if settled == answer:
        return True
    if settled in {"DECLINED", "TIMED_OUT"}:
        still_seated = any(a.venue_id == message.venue_id for a in state.allocations)
        if answer == "ACCEPTED" and still_seated:
            return False  # the re-plan failed: a late accept lets the committee sit
        how = "declined" if settled == "DECLINED" else "not answered in time (timed out)"
        raise EventRejected(
            f"the seat request of venue {message.venue_id} in evaluation "
            f"{message.evaluation_id} was {how} already: a later answer changes nothing"
        )
    return False


# Per venue and slot, the version (ce_time, event id) of the offer applied: an older
# VenueCapacityPublished read later (a re-driven dead letter) must not bring back stale seats.
# A projection key: the rebuild wipes it with the offers.
OFFER_VERSIONS_KEY = "prt:remote_eval:offer-versions"


async def apply_offer_in_order(
    redis: Redis, store: RemoteEvalStore, envelope: Envelope[Message]
) -> bool:
    """Applies a VenueCapacityPublished unless the venue's offer for that slot was published
    later (by ce_time, then event id) — the same on the live worker and in the rebuild, so
    both end with the latest offer whatever order the log holds them in. The same event again
    writes the same offer. False if it was older; EventRejected if not the owner's.
    Check and write are two steps: the worker holds the decision lease around them."""
    message = envelope.message
    assert isinstance(message, remote_eval_pb2.VenueCapacityPublished)
    offer = offer_from(message)
    field = f"{offer.venue_id}|{offer.slot.key()}"
    version = AppliedVersion.of(envelope)
    stored = await redis.hget(OFFER_VERSIONS_KEY, field)
    if stored is not None and AppliedVersion.parse(stored) > version:
        log.info("venue offer %s of %s: a later one is applied, kept", envelope.id, field)
        return False
    await store.publish_offer(offer)
    await redis.hset(OFFER_VERSIONS_KEY, field, version.text())
    return True


def trade_end(envelope: Envelope[Message]) -> tuple[str, str, str, datetime] | None:
    """(project, section, how, when) of an intake event that ends a trade — an award, or a
    termination (流标/终止; no section: the whole project) — else None. When is its business
    time: a backfilled termination of yesterday ended the trade yesterday."""
    message = envelope.message
    if isinstance(message, intake_pb2.ContractAwarded):
        how = f"项目 {message.project_id} 标段 {message.bid_section_code} 已定标"
    elif isinstance(message, intake_pb2.ProjectTerminated):
        how = termination_reason(message)
    else:
        return None
    at = from_timestamp(message.occurred_at) if message.HasField("occurred_at") else envelope.time
    return message.project_id, message.bid_section_code, how, at


def termination_reason(message: intake_pb2.ProjectTerminated) -> str:
    """The termination in words, as a cancellation states it."""
    kind = "流标" if message.reason == intake_pb2.TERMINATION_REASON_FAILED_TENDER else "终止"
    section = f"标段 {message.bid_section_code}" if message.bid_section_code else "全部标段"
    explanation = f": {message.explanation}" if message.explanation else ""
    return f"项目 {message.project_id} {section}{kind}{explanation}"


def offer_from(message: remote_eval_pb2.VenueCapacityPublished) -> SeatOffer:
    """The seat offer a venue's owner published; EventRejected if it is not the owner's."""
    entry = venue_directory().get(message.venue_id)
    if entry is None or entry.venue.owner_code != message.partner_code:
        raise EventRejected(f"venue {message.venue_id} is not {message.partner_code}'s")
    try:
        slot = event_codec.slot_from(message.slot)
    except event_codec.UnreadableEvent as exc:
        raise EventRejected(str(exc)) from exc
    return SeatOffer(message.venue_id, slot, message.seats, message.fee_fen)


async def availability_from(
    message: remote_eval_pb2.ExpertAvailabilitySet, registry: ExpertRegistry
) -> list[date]:
    """The dates a pool owner marked; EventRejected if the expert is not in that pool."""
    expert = await registry.get(message.expert_id)
    if expert is None or expert.pool_code != message.pool_code:
        raise EventRejected(f"expert {message.expert_id} is not in pool {message.pool_code}")
    try:
        return [event_codec.date_from(d) for d in message.unavailable_dates]
    except event_codec.UnreadableEvent as exc:
        raise EventRejected(str(exc)) from exc


async def committee_document(registry: ExpertRegistry, state: EvaluationState) -> bytes:
    """The unsealed committee list (names revealed) as stored for the host after the award:
    the members as the committee sat, then the confirmed experts who did not come (NO_SHOW),
    so a supervisor holding a no-show report (its evaluation and pseudonym) can learn who.
    Attendance follows each member's status (a state stored before absent members left the
    committee still lists them as NO_SHOW); a member who declined or was avoided never sat
    and is not listed."""
    listed = [
        (m, "NO_SHOW" if m.status == "no_show" else "SAT")
        for m in state.members
        if m.status in {*SEATED_STATUSES, "no_show"}
    ] + [(m, "NO_SHOW") for m in state.former if m.status == "no_show"]
    identities = await registry.reveal([m.assignment.expert_id for m, _ in listed])
    names = {
        "evaluation_id": state.request.evaluation_id,
        "project_id": state.request.project_id,
        "bid_section_code": state.request.bid_section_code,
        "members": [
            {
                "pseudonym": m.pseudonym,
                "name": identities[m.assignment.expert_id].name,
                "specialty_code": m.assignment.specialty_code,
                "kind": m.assignment.kind.value,
                "venue_id": m.assignment.venue_id,
                "attendance": attendance,
            }
            for m, attendance in listed
            if m.assignment.expert_id in identities
        ],
    }
    return json.dumps(names, ensure_ascii=False, sort_keys=True).encode()


def with_unavailable_dates(expert: Expert, dates: frozenset[date]) -> Expert:
    if not dates:
        return expert
    slots = {Slot(day, half) for day in dates for half in HalfDay}
    return replace(expert, unavailable=expert.unavailable | frozenset(slots))


def still_holds(request: EvaluationRequest, planned: Schedule, context: SchedulingContext) -> bool:
    """A schedule planned with its batch, checked by the independent checker against the
    seats and experts as they are now (something decided since may have taken them)."""
    problems = check_schedule(
        request,
        planned.slot,
        allocations=planned.allocations,
        assignments=planned.assignments,
        experts=context.experts.by_id,
        history_before=context.history,
        market_before=context.market,
        policy=context.policy,
        partners=context.partners,
    )
    return not problems


def _open_for_answers(state: EvaluationState) -> bool:
    """Whether answers and their timeouts still act on the evaluation: scheduled, and its
    committee still sealed (after the award or the trade's end its work is over)."""
    return state.status == "scheduled" and not state.unsealed


def _forget_resolved_failure(state: EvaluationState) -> None:
    """A failure is over once no expert's seat is empty (no substitute was drawn for it) and
    nobody sits at a venue that declined (a re-plan that failed left them there)."""
    declined = state.declined_venue_ids
    if (
        state.failure is not None
        and state.unfilled_seats == 0
        and all(m.assignment.venue_id not in declined for m in state.members)
    ):
        state.failure = None


def _failure_json(failure: Infeasible) -> dict[str, Any]:
    alternative = failure.alternative
    return {
        "constraint": failure.constraint.value,
        "detail": failure.detail,
        "alternative": None
        if alternative is None
        else {
            "slot": alternative.slot.key(),
            "description": alternative.description,
            "allocations": [
                [a.venue_id, a.partner_code, a.role.value, a.seats] for a in alternative.allocations
            ],
        },
    }


__all__ = ["Schedule", "Scheduler", "policy_from"]
