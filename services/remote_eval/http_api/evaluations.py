"""Evaluation requests by the host centre, the schedule view, and the committee after award."""

from __future__ import annotations

import json
from typing import TypeVar

from fastapi import APIRouter
from google.protobuf.message import Message
from prt.v1 import remote_eval_pb2

from services.platform_core.auth.dependencies import CurrentPrincipal, require_kind
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.ids import new_event_id
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import EVALUATIONS
from services.platform_core.http.business_time import business_time
from services.platform_core.http.errors import ApiError, ErrorBody, FieldProblem
from services.platform_core.http.event_size import publishable as publishable_event
from services.platform_core.http.idempotency import StoredResponse
from services.remote_eval import event_codec
from services.remote_eval.domain.model import EvaluationRequest, SpecialtyNeed
from services.remote_eval.domain.partners import may_serve, no_agreement_reason
from services.remote_eval.domain.solver import composition_problems
from services.remote_eval.http_api.dependencies import (
    Context,
    IdempotencyKey,
    evaluation_or_404,
    require_host_or_operator,
)
from services.remote_eval.http_api.schemas import (
    AllocationPublic,
    CommitteeMemberNamed,
    EvaluationAccepted,
    EvaluationCreate,
    EvaluationPublic,
    FailurePublic,
    MemberPublic,
    RedrawAccepted,
    RedrawCreate,
    SlotBody,
)
from services.remote_eval.reference import partners, venue_directory
from services.remote_eval.scheduler import COMMITTEE_LISTS_PREFIX
from services.remote_eval.store import EvaluationState, Member

router = APIRouter(prefix="/v1/evaluations", tags=["evaluations"])
MessageT = TypeVar("MessageT", bound=Message)


def publishable(envelope: Envelope[MessageT]) -> Envelope[MessageT]:
    return publishable_event(envelope, "avoided units, partner codes, specialties")


def _request_problems(body: EvaluationCreate) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if body.main_venue_id not in venue_directory():
        problems.append(FieldProblem(field="main_venue_id", problem="not in the venue directory"))
    for field in ("preferred_partner_codes", "required_partner_codes"):
        for code in getattr(body, field):
            if code not in partners():
                problems.append(FieldProblem(field=field, problem=f"{code} is not a partner"))
    return problems


def agreement_problems(host_code: str, body: EvaluationCreate) -> list[FieldProblem]:
    """Partners the request names (required or preferred) that may not serve the host: a
    partner region only serves the centres it signed with (domain.partners.may_serve). Naming
    one is refused rather than ignored, so the host learns it before anything is scheduled."""
    problems: list[FieldProblem] = []
    known = partners()
    for field in ("required_partner_codes", "preferred_partner_codes"):
        for code in getattr(body, field):
            partner = known.get(code)
            if partner is not None and not may_serve(partner, host_code):
                problems.append(
                    FieldProblem(field=field, problem=no_agreement_reason(code, host_code, known))
                )
    return problems


@router.post(
    "",
    status_code=202,
    response_model=EvaluationAccepted,
    summary="Request a remote cross-region evaluation (远程异地评标); scheduling follows",
    responses={413: {"model": ErrorBody, "description": "event_too_large"}},
)
async def request_evaluation(
    body: EvaluationCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> object:
    """The host centre (主场) asks for a remote evaluation; the scheduler answers with
    EvaluationScheduled or SchedulingFailed (see GET /v1/evaluations/{id})."""
    require_kind(principal, PrincipalKind.DEPARTMENT)
    problems = _request_problems(body)
    if problems:
        raise ApiError(
            422, "invalid_request", "; ".join(f"{p.field}: {p.problem}" for p in problems), problems
        )
    main = venue_directory()[body.main_venue_id].venue
    if not principal.may_act_for_region(main.owner_code):
        raise ApiError(
            403,
            "forbidden_region",
            f"Main venue {main.venue_id} belongs to {main.owner_code}; department "
            f"{principal.code} acts for {', '.join(sorted(principal.regions)) or 'no region'}",
        )
    unserved = agreement_problems(main.owner_code, body)
    if unserved:
        raise ApiError(
            422,
            "no_partner_agreement",
            f"The evaluation is hosted by {main.owner_code} (main venue {main.venue_id}); a "
            "partner region serves only the hosts it signed a remote-evaluation agreement with: "
            + "; ".join(f"{p.field}: {p.problem}" for p in unserved),
            unserved,
        )

    def build(evaluation_id: str) -> EvaluationRequest:
        return EvaluationRequest(
            evaluation_id=evaluation_id,
            host_code=main.owner_code,
            project_id=body.project_id,
            bid_section_code=body.bid_section_code,
            slot=body.slot.to_slot(),
            committee_size=body.committee_size,
            needs=tuple(SpecialtyNeed(n.specialty_code, n.kind, n.count) for n in body.specialties),
            main_venue_id=body.main_venue_id,
            preferred_partner_codes=tuple(body.preferred_partner_codes),
            required_partner_codes=tuple(body.required_partner_codes),
            avoided_unit_codes=frozenset(body.avoided_unit_codes),
            main_venue_experts=body.main_venue_experts,
        )

    rules = composition_problems(build("check"))
    if rules:
        raise ApiError(
            422,
            "committee_composition",
            "The committee breaks the rules (招标投标法 art. 37): " + "; ".join(rules),
            [FieldProblem(field="committee_size", problem=rule) for rule in rules],
        )

    at = business_time(principal, body.occurred_at)

    async def publish() -> StoredResponse:
        # Looked at under the Idempotency-Key: a retry of a request accepted before the trade
        # ended gets its 202. (A request racing the end is failed by the worker: TRADE_ENDED.)
        ended = await context.store.trade_ended(
            body.project_id, body.bid_section_code, before=body.slot.to_slot().day
        )
        if ended is not None:
            raise ApiError(
                409,
                "trade_ended",
                f"Project {body.project_id} section {body.bid_section_code}: the trade is over "
                f"({ended}); no evaluation is planned for it",
            )
        request = build(f"EV-{new_event_id()}")
        now = at
        envelope = publishable(
            Envelope(
                message=event_codec.evaluation_requested(
                    request, now, backfilled=body.occurred_at is not None
                ),
                source=f"prt/remote-eval/{principal.code}",
                subject=request.evaluation_id,
                time=now,
            )
        )
        await context.publisher.publish(EVALUATIONS, envelope, key=request.evaluation_id)
        accepted = EvaluationAccepted(evaluation_id=request.evaluation_id, status="requested")
        return StoredResponse(202, accepted.model_dump(mode="json"))

    return await context.idempotency.run(
        f"{principal.idempotency_owner}:evaluations",
        idempotency_key,
        body.model_dump(mode="json"),
        publish,
    )


def _member(member: Member) -> MemberPublic:
    a = member.assignment
    return MemberPublic(
        expert_pseudonym=member.pseudonym,
        pool_partner_code=a.pool_code,
        venue_id=a.venue_id,
        specialty_code=a.specialty_code,
        kind=a.kind.value,
        status=member.status,
    )


def evaluation_public(state: EvaluationState) -> EvaluationPublic:
    failure = state.failure
    return EvaluationPublic(
        evaluation_id=state.request.evaluation_id,
        project_id=state.request.project_id,
        bid_section_code=state.request.bid_section_code,
        status=state.status,
        slot=SlotBody.of(state.slot) if state.slot else None,
        allocations=[
            AllocationPublic(
                venue_id=a.venue_id,
                partner_code=a.partner_code,
                role=a.role.value,
                seats=a.seats,
                decision=state.venue_decisions.get(a.venue_id),
            )
            for a in state.allocations
        ],
        expert_count=state.request.expert_count,
        committee=[_member(m) for m in state.members],
        unfilled_seats=state.unfilled_seats,
        replaced=[_member(m) for m in state.former],
        draws=len(state.draws),
        failure=FailurePublic(**failure) if failure else None,
        unsealed=state.unsealed,
    )


@router.get(
    "/{evaluation_id}",
    response_model=EvaluationPublic,
    summary="One evaluation: its state, venue allocations and committee by pseudonym",
)
async def view_evaluation(
    evaluation_id: str, principal: CurrentPrincipal, context: Context
) -> EvaluationPublic:
    """The schedule: venues and seats, the committee by pseudonym, failures and alternatives."""
    state = await evaluation_or_404(context, evaluation_id)
    require_host_or_operator(principal, state)
    return evaluation_public(state)


@router.get(
    "/{evaluation_id}/committee",
    response_model=list[CommitteeMemberNamed],
    summary="The committee's names, once the award is recorded (招标投标法 art. 37)",
)
async def unsealed_committee(
    evaluation_id: str, principal: CurrentPrincipal, context: Context
) -> list[CommitteeMemberNamed]:
    """The committee's names: sealed until the award (ContractAwarded) arrives, or the trade
    is terminated without one (ProjectTerminated)."""
    state = await evaluation_or_404(context, evaluation_id)
    require_host_or_operator(principal, state)
    if not state.unsealed:
        raise ApiError(
            409,
            "committee_sealed",
            "The committee's names stay sealed until the award is decided "
            "(招标投标法 art. 37); neither a ContractAwarded nor a ProjectTerminated has "
            f"arrived for project {state.request.project_id} section "
            f"{state.request.bid_section_code}",
        )
    raw = await context.redis.get(COMMITTEE_LISTS_PREFIX + evaluation_id)
    document = json.loads(raw) if raw else {"members": []}
    return [CommitteeMemberNamed(**member) for member in document["members"]]


def redraw_refusal(state: EvaluationState) -> ApiError | None:
    """Why the empty seats of ``state`` cannot be drawn again now (409), else None: only a
    scheduled evaluation whose committee is still sealed, with a seat empty, has any."""
    evaluation_id = state.request.evaluation_id
    if state.status == "cancelled":
        return ApiError(
            409,
            "evaluation_cancelled",
            f"Evaluation {evaluation_id} was cancelled (its trade was terminated): its committee "
            "will not sit, and no seat is drawn for it",
        )
    if state.status != "scheduled":
        return ApiError(
            409,
            "not_scheduled",
            f"Evaluation {evaluation_id} is {state.status}, not scheduled: it has no committee "
            "whose seats could be drawn again; request the evaluation anew "
            "(POST /v1/evaluations)",
        )
    if state.unsealed:
        return ApiError(
            409,
            "committee_unsealed",
            f"The committee of evaluation {evaluation_id} is unsealed (the award was decided "
            "or the trade terminated): its work is over, and its list records who sat",
        )
    if state.unfilled_seats == 0:
        return ApiError(
            409,
            "no_empty_seat",
            f"Every expert's seat of evaluation {evaluation_id} is taken "
            f"({state.request.expert_count} experts seated or drawn): there is nothing to draw",
        )
    return None


@router.post(
    "/{evaluation_id}/redraws",
    status_code=202,
    response_model=RedrawAccepted,
    summary="Draw the committee's empty seats again (补抽), now that experts may be available",
    responses={
        403: {"model": ErrorBody, "description": "forbidden: not the host's department"},
        404: {"model": ErrorBody, "description": "evaluation_not_found"},
        409: {
            "model": ErrorBody,
            "description": "not_scheduled, evaluation_cancelled, committee_unsealed or "
            "no_empty_seat",
        },
    },
)
async def request_redraw(
    evaluation_id: str,
    principal: CurrentPrincipal,
    context: Context,
    body: RedrawCreate | None = None,
    idempotency_key: IdempotencyKey = None,
) -> object:
    """A member declined, was absent, did not confirm or was avoided (回避) and no substitute
    could be drawn: the seat stayed empty (``unfilled_seats``, failure SUBSTITUTES_EXHAUSTED).
    Once experts have joined the pools or become available, the host centre's department (or
    an operator) asks for the empty seats to be drawn again: recorded as
    EmptySeatsRedrawRequested, on which the scheduler draws a substitute for each seat under
    the same rules as any substitute (an auditable draw: GET /v1/evaluations/{id}/draws and its
    proof), announces each with SubstituteDrawn and its confirm_by, clears the failure when
    the committee is whole and otherwise records one naming the seats still empty."""
    state = await evaluation_or_404(context, evaluation_id)
    require_host_or_operator(principal, state)
    given = body or RedrawCreate()
    at = business_time(principal, given.occurred_at)

    async def publish() -> StoredResponse:
        # Checked inside the idempotent action: a retry of a redraw once accepted gets its
        # 202 again, even once the seats are filled.
        current = await evaluation_or_404(context, evaluation_id)
        refusal = redraw_refusal(current)
        if refusal is not None:
            raise refusal
        message = remote_eval_pb2.EmptySeatsRedrawRequested(
            evaluation_id=evaluation_id,
            occurred_at=to_timestamp(at),
            requested_by=principal.code,
            reason=given.reason or "",
        )
        envelope = publishable(
            Envelope(
                message=message,
                source=f"prt/remote-eval/{principal.code}",
                subject=evaluation_id,
                time=at,
            )
        )
        await context.publisher.publish(EVALUATIONS, envelope, key=evaluation_id)
        accepted = RedrawAccepted(
            evaluation_id=evaluation_id,
            empty_seats=current.unfilled_seats,
            empty_seat_pseudonyms=[m.pseudonym for m in current.vacated_members()],
            status="redraw_requested",
        )
        return StoredResponse(202, accepted.model_dump(mode="json"))

    return await context.idempotency.run(
        f"{principal.idempotency_owner}:evaluation-redraws:{evaluation_id}",
        idempotency_key,
        given.model_dump(mode="json"),
        publish,
    )
