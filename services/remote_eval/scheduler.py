"""The scheduler: what the stream worker does with each event, around the pure solver.

One instance per worker; a lock makes its decisions one at a time, because seats and experts
are shared by all evaluations across partitions. Each decision is: load state, solve, publish
the resulting events (acks=all), then store the new state. A crash between publishing and
storing makes the redelivered event decide again with the same seed (derived from its id) on the
same state, so the same experts are drawn; the events may then appear twice with different ids.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.message import Message
from prt.v1 import intake_pb2, remote_eval_pb2
from redis.asyncio import Redis

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import (
    EVALUATIONS,
    TopicSpec,
    partner_answers_topic,
    partner_seat_requests_topic,
)
from services.platform_core.kafka.faust_worker import EventRejected
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from services.remote_eval import event_codec
from services.remote_eval.domain.model import (
    ExpertDirectory,
    SchedulingPolicy,
    SeatOffer,
    Slot,
    VenueRole,
)
from services.remote_eval.domain.pseudonyms import draw_seed, expert_pseudonym
from services.remote_eval.domain.solver import (
    DrawRecord,
    Infeasible,
    Replan,
    Schedule,
    SchedulingContext,
    draw_substitute,
    replan_after_decline,
    schedule,
)
from services.remote_eval.reference import partners, venue_directory
from services.remote_eval.sealed_registry import ExpertRegistry
from services.remote_eval.store import EvaluationState, Member, RemoteEvalStore, draw_to_json

log = logging.getLogger(__name__)

SOURCE = "prt/remote-eval/scheduler"
COMMITTEE_LISTS_PREFIX = "prt:remote_eval:committee-lists:"
SEAT_REQUEST_ANSWER_WINDOW = timedelta(hours=24)


def policy_from(settings: PlatformSettings) -> SchedulingPolicy:
    return SchedulingPolicy(
        recent_draw_days=settings.remote_eval_recent_draw_days,
        main_venue_percent=settings.remote_eval_main_venue_percent,
    )


class Scheduler:
    def __init__(
        self,
        redis: Redis,
        store: RemoteEvalStore,
        registry: ExpertRegistry,
        publisher: EventPublisher,
        settings: PlatformSettings,
    ) -> None:
        self._redis = redis
        self._store = store
        self._registry = registry
        self._publisher = publisher
        self._secret = settings.remote_eval_draw_secret
        self._policy = policy_from(settings)
        self._lock = asyncio.Lock()
        self._directory: tuple[int, ExpertDirectory] | None = None

    # -- helpers -------------------------------------------------------------------------------
    async def _experts(self) -> ExpertDirectory:
        version = await self._registry.version()
        if self._directory is None or self._directory[0] != version:
            self._directory = (version, ExpertDirectory(await self._registry.all_experts()))
        return self._directory[1]

    async def _context(self, slot: Slot, excluding: str | None = None) -> SchedulingContext:
        slots = [slot.shifted(n) for n in range(self._policy.alternative_horizon_half_days + 1)]
        return SchedulingContext(
            await self._store.market(slots, excluding_evaluation=excluding),
            await self._experts(),
            await self._store.history(slots),
            self._policy,
        )

    def _pseudonym(self, evaluation_id: str, expert_id: str) -> str:
        return expert_pseudonym(self._secret, evaluation_id, expert_id)

    async def _emit(
        self, topic: TopicSpec, message: Message, evaluation_id: str, at: datetime
    ) -> None:
        envelope = Envelope(message=message, source=SOURCE, subject=evaluation_id, time=at)
        await self._publisher.publish(topic, envelope, key=evaluation_id)

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
            remote_eval_pb2.ExpertConfirmed: self._on_confirmed,
            remote_eval_pb2.ExpertDeclined: self._on_declined_or_no_show,
            remote_eval_pb2.ExpertNoShow: self._on_declined_or_no_show,
        }
        handler = handlers.get(type(envelope.message))
        if handler is None:
            return  # the scheduler's own outputs: already reflected in the state
        async with self._lock:
            if await self._seen("evaluations", envelope.id):
                return
            await handler(envelope)
            await self._store.first_time("evaluations", envelope.id)

    async def _seen(self, consumer: str, event_id: str) -> bool:
        return bool(await self._redis.exists(f"prt:remote_eval:applied:{consumer}:{event_id}"))

    # -- requests ------------------------------------------------------------------------------
    async def _on_requested(self, envelope: Envelope[remote_eval_pb2.EvaluationRequested]) -> None:
        try:
            request = event_codec.request_from(envelope.message)
        except event_codec.UnreadableEvent as exc:
            raise EventRejected(str(exc)) from exc
        if await self._store.evaluation(request.evaluation_id) is not None:
            return  # decided before (a redelivery after the state was stored)
        seed = draw_seed(self._secret, envelope.id)
        context = await self._context(request.slot)
        outcome = schedule(request, context, seed)
        now = datetime.now(UTC)
        state = EvaluationState(request=request)
        if isinstance(outcome, Infeasible):
            await self._emit(
                EVALUATIONS,
                event_codec.scheduling_failed(request.evaluation_id, now, outcome),
                request.evaluation_id,
                now,
            )
            state.status = "failed"
            state.failure = _failure_json(outcome)
            await self._store.save(state, None)
            return
        state.status = "scheduled"
        state.slot = outcome.slot
        state.allocations = list(outcome.allocations)
        state.members = [
            Member(a, self._pseudonym(request.evaluation_id, a.expert_id))
            for a in outcome.assignments
        ]
        state.draws = [draw_to_json(outcome.draw, "initial", envelope.id)]
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
            await self._emit_to_partner(
                member.assignment.pool_code, drawn, request.evaluation_id, now
            )
        await self._store.save(state, None)
        await self._store.record_draw_days(
            [m.assignment.expert_id for m in state.members], outcome.slot.day
        )

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
        offers = await self._store.published_offers()
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
            respond_by=to_timestamp(at + SEAT_REQUEST_ANSWER_WINDOW),
        )
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
        if allocation is None or allocation.partner_code != message.partner_code:
            raise EventRejected(
                f"venue {message.venue_id} of partner {message.partner_code} has no seat request "
                f"in evaluation {message.evaluation_id}"
            )
        previous = EvaluationState.from_json(state.to_json())
        if message.decision == remote_eval_pb2.VENUE_DECISION_ACCEPTED:
            state.venue_decisions[message.venue_id] = "ACCEPTED"
            await self._store.save(state, previous)
            return
        if message.decision != remote_eval_pb2.VENUE_DECISION_DECLINED:
            raise EventRejected("venue decision is unspecified")
        state.venue_decisions[message.venue_id] = "DECLINED"
        context = await self._context(state.request.slot, excluding=state.request.evaluation_id)
        outcome = replan_after_decline(
            state.request,
            state.schedule(),
            context,
            draw_seed(self._secret, envelope.id),
            declined_venue_ids=state.declined_venue_ids,
            involved_expert_ids=state.involved_expert_ids,
        )
        now = datetime.now(UTC)
        if isinstance(outcome, Infeasible):
            await self._fail(state, previous, outcome, now)
            return
        await self._apply_replan(state, previous, outcome, envelope.id, now)

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
        state.members = [m for m in state.members if m.assignment.expert_id not in moved]
        new_members = [
            Member(s.substitute, self._pseudonym(evaluation_id, s.substitute.expert_id))
            for s in replan.substitutions
        ]
        state.members += new_members
        state.allocations = list(replan.schedule.allocations)
        state.draws.append(draw_to_json(replan.schedule.draw, "venue_declined", event_id))
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
        await self._store.save(state, previous)
        assert state.slot is not None
        await self._store.record_draw_days(
            [m.assignment.expert_id for m in new_members], state.slot.day
        )

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
        await self._emit_to_partner(
            member.assignment.pool_code, message, state.request.evaluation_id, now
        )

    async def _fail(
        self, state: EvaluationState, previous: EvaluationState, failure: Infeasible, now: datetime
    ) -> None:
        await self._emit(
            EVALUATIONS,
            event_codec.scheduling_failed(state.request.evaluation_id, now, failure),
            state.request.evaluation_id,
            now,
        )
        state.failure = _failure_json(failure)
        await self._store.save(state, previous)

    async def _require_scheduled(self, evaluation_id: str) -> EvaluationState:
        state = await self._store.evaluation(evaluation_id)
        if state is None or state.status != "scheduled":
            raise EventRejected(f"evaluation {evaluation_id} is not scheduled")
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
        previous = EvaluationState.from_json(state.to_json())
        member.status = "confirmed"
        await self._store.save(state, previous)

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
        previous = EvaluationState.from_json(state.to_json())
        context = await self._context(state.request.slot, excluding=state.request.evaluation_id)
        outcome = draw_substitute(
            state.request,
            state.schedule(),
            context,
            draw_seed(self._secret, envelope.id),
            replaced_expert_id=member.assignment.expert_id,
            involved_expert_ids=state.involved_expert_ids,
        )
        now = datetime.now(UTC)
        member.status = "no_show" if no_show else "declined"
        if isinstance(outcome, Infeasible):
            await self._fail(state, previous, outcome, now)
            return
        new_schedule, substitution = outcome
        state.members = [m for m in state.members if m is not member]
        state.former.append(member)
        substitute = Member(
            substitution.substitute,
            self._pseudonym(state.request.evaluation_id, substitution.substitute.expert_id),
        )
        state.members.append(substitute)
        state.draws.append(
            draw_to_json(new_schedule.draw, "no_show" if no_show else "declined", envelope.id)
        )
        reason = (
            remote_eval_pb2.SUBSTITUTION_REASON_NO_SHOW
            if no_show
            else remote_eval_pb2.SUBSTITUTION_REASON_DECLINED
        )
        await self._emit_substitute(
            state, member.pseudonym, substitute, reason, new_schedule.draw, now
        )
        await self._store.save(state, previous)
        assert state.slot is not None
        await self._store.record_draw_days([substitution.substitute.expert_id], state.slot.day)

    # -- partner answers arriving on partner topics --------------------------------------------
    async def apply_partner_answer(self, envelope: Envelope[Message], topic: str) -> None:
        """Validates an answer a partner wrote on its own topic and records it on the log."""
        message: Any = envelope.message
        partner = topic.split(".")[1] if topic.count(".") >= 2 else ""
        if partner not in partners() or topic != partner_answers_topic(partner).name:
            raise EventRejected(f"{topic} is not a partner answers topic")
        if message.partner_code != partner:
            raise EventRejected(
                f"answer on {topic} names partner {message.partner_code!r}, not {partner}"
            )
        if not await self._store.first_time("partner-answers", envelope.id):
            return
        try:
            await self._emit(EVALUATIONS, message, message.evaluation_id, envelope.time)
        except BaseException:
            await self._store.forget("partner-answers", envelope.id)
            raise

    # -- venues ----------------------------------------------------------------------------------
    async def apply_venue_event(self, envelope: Envelope[Message]) -> None:
        message = envelope.message
        if not isinstance(message, remote_eval_pb2.VenueCapacityPublished):
            return
        entry = venue_directory().get(message.venue_id)
        if entry is None or entry.venue.owner_code != message.partner_code:
            raise EventRejected(f"venue {message.venue_id} is not {message.partner_code}'s")
        try:
            slot = event_codec.slot_from(message.slot)
        except event_codec.UnreadableEvent as exc:
            raise EventRejected(str(exc)) from exc
        await self._store.publish_offer(
            SeatOffer(message.venue_id, slot, message.seats, message.fee_fen)
        )

    # -- award: unseal the committee -------------------------------------------------------------
    async def apply_project_event(self, envelope: Envelope[Message]) -> None:
        message = envelope.message
        if not isinstance(message, intake_pb2.ContractAwarded):
            return
        async with self._lock:
            for evaluation_id in await self._store.evaluations_for(
                message.project_id, message.bid_section_code
            ):
                state = await self._store.evaluation(evaluation_id)
                if state is None or state.unsealed or state.status != "scheduled":
                    continue
                await self._unseal(state)

    async def _unseal(self, state: EvaluationState) -> None:
        identities = await self._registry.reveal([m.assignment.expert_id for m in state.members])
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
                }
                for m in state.members
                if m.assignment.expert_id in identities
            ],
        }
        document = json.dumps(names, ensure_ascii=False, sort_keys=True).encode()
        digest = hashlib.sha256(document).hexdigest()
        evaluation_id = state.request.evaluation_id
        await self._redis.set(COMMITTEE_LISTS_PREFIX + evaluation_id, document)
        now = datetime.now(UTC)
        message = remote_eval_pb2.CommitteeUnsealed(
            evaluation_id=evaluation_id,
            occurred_at=to_timestamp(now),
            project_id=state.request.project_id,
            bid_section_code=state.request.bid_section_code,
            member_count=state.request.committee_size,
        )
        message.committee_list.sha256 = digest
        message.committee_list.location = f"prt-docs://remote-eval/committee-lists/{evaluation_id}"
        message.committee_list.media_type = "application/json"
        await self._emit(EVALUATIONS, message, evaluation_id, now)
        previous = EvaluationState.from_json(state.to_json())
        state.unsealed = True
        await self._store.save(state, previous)


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
