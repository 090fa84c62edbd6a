"""Partners' answers over HTTP: venue decisions, expert confirmations and refusals, no-shows.

Each is checked against the evaluation (a partner answers only its own seat requests and its
own pool's experts), then applied by the scheduler under its decision lease, which records it on
the evaluations log with what it caused (:meth:`Scheduler.record_partner_answer`) — the same path
as the answers partners with a Kafka client write on their answers topic. So the log carries only
answers the scheduler accepted: an answer the read model showed as valid but that a decision
taken meanwhile made void (the seat request timed out, the partner's own decline re-planned the
venue away) is refused with 409 ``answer_refused``, saying why, and is neither recorded nor
counted by reporting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from fastapi import APIRouter
from google.protobuf.message import Message
from prt.v1 import remote_eval_pb2

from services.platform_core.auth.dependencies import CurrentPrincipal
from services.platform_core.auth.principals import Principal
from services.platform_core.errors import EventRejected
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.http.business_time import business_time
from services.platform_core.http.errors import ApiError
from services.platform_core.http.idempotency import StoredResponse
from services.platform_core.redis_lease import LeaseLost
from services.remote_eval.http_api.dependencies import (
    Context,
    IdempotencyKey,
    RemoteEvalContext,
    evaluation_or_404,
    require_owner,
    require_venue_staff,
)
from services.remote_eval.http_api.schemas import (
    AnswerRecorded,
    ExpertAnswerCreate,
    NoShowCreate,
    VenueDecisionCreate,
)
from services.remote_eval.reference import venue_directory
from services.remote_eval.scheduler import Scheduler
from services.remote_eval.store import EvaluationState, Member

router = APIRouter(prefix="/v1/evaluations", tags=["partner answers"])


class AnswerDecider(Protocol):
    async def record_partner_answer(self, envelope: Envelope[Message], partner: str) -> None: ...


async def decide(scheduler: AnswerDecider, envelope: Envelope[Message], partner_code: str) -> None:
    """The scheduler applies the answer or refuses it, before the request is answered: 409
    with the scheduler's reason, or 503 when its lease was lost meanwhile (nothing stored; the
    same Idempotency-Key makes the retry the same answer)."""
    try:
        await scheduler.record_partner_answer(envelope, partner_code)
    except LeaseLost:
        raise ApiError(
            503,
            "scheduler_busy",
            "The scheduler was busy and the answer was not recorded; retry shortly with the "
            "same Idempotency-Key",
            headers={"Retry-After": "1"},
        ) from None
    except EventRejected as refused:
        raise ApiError(
            409,
            "answer_refused",
            f"The scheduler refused the answer: {refused}. It is not recorded.",
        ) from refused


async def _scheduled(context: RemoteEvalContext, evaluation_id: str) -> EvaluationState:
    state = await evaluation_or_404(context, evaluation_id)
    if state.status != "scheduled":
        raise ApiError(409, "not_scheduled", f"Evaluation {evaluation_id} is {state.status}")
    if state.unsealed:
        raise ApiError(
            409,
            "committee_unsealed",
            f"The committee of evaluation {evaluation_id} is unsealed (the award is decided, or "
            "the trade ended): its answers and no-shows are closed",
        )
    return state


def _member(state: EvaluationState, pseudonym: str) -> Member:
    member = state.member_by_pseudonym(pseudonym)
    if member is None:
        raise ApiError(
            404,
            "expert_not_on_committee",
            f"{pseudonym} is not on the committee of {state.request.evaluation_id} "
            "(replaced, or never drawn)",
        )
    return member


# An answer as the evaluation stands: its message and the partner it is recorded for, or an
# ApiError saying why the evaluation does not take it.
AnswerAsItStands = Callable[[], Awaitable[tuple[Message, str]]]


async def _record(
    context: RemoteEvalContext,
    *,
    principal: Principal,
    scope: str,
    idempotency_key: str | None,
    body: dict[str, object],
    answer: AnswerAsItStands,
    evaluation_id: str,
    at: datetime,
) -> object:
    """Records ``answer`` once per Idempotency-Key. The evaluation is looked at inside the
    idempotent action, not before it: an answer the scheduler applied changes the evaluation
    (a declined venue leaves it, a refusing expert leaves the committee), so a retry of it —
    its 202 lost to a timeout, or a 503 while the broker was away — would otherwise be told
    409 no_seat_request or 404 expert_not_on_committee instead of its recorded 202."""

    async def publish() -> StoredResponse:
        message, partner_code = await answer()
        # Its id derives from the idempotency key's seed: a retry is the same answer, which
        # the scheduler applies once.
        envelope = Envelope(
            message=message,
            source=f"prt/partners/{principal.code}",
            subject=evaluation_id,
            time=at,
        )
        # A scheduler per request: it holds the decision under way, and its lease (on Redis)
        # serialises it with the worker's decisions and the other requests'.
        scheduler = Scheduler(
            context.redis,
            context.store,
            context.registry,
            context.publisher,
            context.settings,
            dead_letters=context.dead_letters,
            directory_cache=context.expert_directory,
        )
        await decide(scheduler, envelope, partner_code)
        recorded = AnswerRecorded(
            evaluation_id=evaluation_id, event_type=message.DESCRIPTOR.full_name
        )
        return StoredResponse(202, recorded.model_dump())

    return await context.idempotency.run(
        f"{principal.idempotency_owner}:{scope}:{evaluation_id}", idempotency_key, body, publish
    )


@router.post(
    "/{evaluation_id}/venue-decisions",
    status_code=202,
    response_model=AnswerRecorded,
    summary="A partner venue accepts or declines its seat request (副场确认); a decline re-plans",
)
async def decide_venue(
    body: VenueDecisionCreate,
    *,
    evaluation_id: str,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> object:
    """The venue's owner accepts or declines the seat request; a decline re-plans."""
    entry = venue_directory().get(body.venue_id)
    if entry is None:
        raise ApiError(404, "venue_not_found", f"No venue {body.venue_id} in the directory")
    owner = entry.venue.owner_code
    # The venue's staff answer for its seats, as they publish them.
    require_venue_staff(principal, entry.venue)
    if body.decision == "DECLINED" and not body.reason.strip():
        raise ApiError(422, "reason_required", "Say why the venue declines (reason)")
    at = business_time(principal, body.occurred_at)

    async def as_it_stands() -> tuple[Message, str]:
        state = await _scheduled(context, evaluation_id)
        secondary = {a.venue_id for a in state.allocations if a.role.value == "SECONDARY"}
        if body.venue_id not in secondary:
            raise ApiError(
                409,
                "no_seat_request",
                f"Venue {body.venue_id} has no seat request in evaluation {evaluation_id}",
            )
        message = remote_eval_pb2.PartnerVenueDecision(
            evaluation_id=evaluation_id,
            occurred_at=to_timestamp(at),
            partner_code=owner,
            venue_id=body.venue_id,
            decision=remote_eval_pb2.VenueDecision.Value(f"VENUE_DECISION_{body.decision}"),  # type: ignore[arg-type]
            reason=body.reason,
        )
        return message, owner

    return await _record(
        context,
        principal=principal,
        scope="venue-decision",
        idempotency_key=idempotency_key,
        body=body.model_dump(mode="json"),
        answer=as_it_stands,
        evaluation_id=evaluation_id,
        at=at,
    )


@router.post(
    "/{evaluation_id}/experts/{pseudonym}/answer",
    status_code=202,
    response_model=AnswerRecorded,
    summary="A drawn expert confirms or refuses (专家确认); a refusal draws a substitute (补抽)",
)
async def answer_for_expert(
    body: ExpertAnswerCreate,
    *,
    evaluation_id: str,
    pseudonym: str,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> object:
    """The pool's partner reports the drawn expert's confirmation or refusal (refusal: 补抽)."""
    at = business_time(principal, body.occurred_at)
    now = to_timestamp(at)

    async def as_it_stands() -> tuple[Message, str]:
        state = await _scheduled(context, evaluation_id)
        member = _member(state, pseudonym)
        pool = member.assignment.pool_code
        require_owner(principal, pool, f"Expert {pseudonym} (pool {pool})")
        message: Message
        if body.confirmed:
            message = remote_eval_pb2.ExpertConfirmed(
                evaluation_id=evaluation_id,
                occurred_at=now,
                partner_code=pool,
                expert_pseudonym=pseudonym,
            )
        else:
            reason = body.reason or "OTHER"
            message = remote_eval_pb2.ExpertDeclined(
                evaluation_id=evaluation_id,
                occurred_at=now,
                partner_code=pool,
                expert_pseudonym=pseudonym,
                reason=remote_eval_pb2.ExpertDeclineReason.Value(f"EXPERT_DECLINE_REASON_{reason}"),  # type: ignore[arg-type]
            )
        return message, pool

    return await _record(
        context,
        principal=principal,
        scope=f"answer:{pseudonym}",
        idempotency_key=idempotency_key,
        body=body.model_dump(mode="json"),
        answer=as_it_stands,
        evaluation_id=evaluation_id,
        at=at,
    )


@router.post(
    "/{evaluation_id}/experts/{pseudonym}/no-show",
    status_code=202,
    response_model=AnswerRecorded,
    summary="A confirmed expert did not arrive (缺席), as the venue reports; a substitute is drawn",
)
async def report_no_show(
    body: NoShowCreate,
    *,
    evaluation_id: str,
    pseudonym: str,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> object:
    """The venue's owner reports a confirmed expert who did not arrive; a substitute is drawn."""
    # Who asks is settled before anything about the committee is looked at: a caller who does
    # not own a venue of this evaluation learns nothing of who sits where, or of whom.
    entry = venue_directory().get(body.venue_id)
    if entry is None:
        raise ApiError(404, "venue_not_found", f"No venue {body.venue_id} in the directory")
    owner = entry.venue.owner_code
    # The staff who check the experts in are the ones who see who did not come.
    require_venue_staff(principal, entry.venue)
    at = business_time(principal, body.occurred_at)

    async def as_it_stands() -> tuple[Message, str]:
        state = await _scheduled(context, evaluation_id)
        if body.venue_id not in {a.venue_id for a in state.allocations}:
            raise ApiError(
                403,
                "venue_not_in_evaluation",
                f"Venue {body.venue_id} has no seats in evaluation {evaluation_id}: only the "
                "venues where its committee sits report no-shows",
            )
        member = _member(state, pseudonym)
        if member.assignment.venue_id != body.venue_id:
            raise ApiError(
                409,
                "wrong_venue",
                f"{pseudonym} does not evaluate at {body.venue_id}: the venue where an expert "
                "evaluates reports their no-show",
            )
        if member.status != "confirmed":
            raise ApiError(
                409,
                "not_confirmed",
                f"{pseudonym} has not confirmed (status {member.status}): only a confirmed "
                "expert can be absent (缺席). An expert who has not answered is replaced when "
                "the answer deadline passes, or at once if their pool's partner records a "
                f"refusal (POST /v1/evaluations/{evaluation_id}/experts/{pseudonym}/answer)",
            )
        message = remote_eval_pb2.ExpertNoShow(
            evaluation_id=evaluation_id,
            occurred_at=to_timestamp(at),
            partner_code=owner,
            expert_pseudonym=pseudonym,
            venue_id=body.venue_id,
        )
        return message, owner

    return await _record(
        context,
        principal=principal,
        scope=f"no-show:{pseudonym}",
        idempotency_key=idempotency_key,
        body=body.model_dump(mode="json"),
        answer=as_it_stands,
        evaluation_id=evaluation_id,
        at=at,
    )
