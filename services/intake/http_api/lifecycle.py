"""Routes for a project's lifecycle: one POST per step, each emitting one event.

A step is checked against the project's state in the read model and published while the API
holds the project's lock (with, first, the breach of a 容缺 deadline the step reveals passed:
see deadlines.overdue_breach) (``ProjectReadModel.project_lock``), then folded into the read model
before the lock is released. Two requests for one project therefore run one after the other:
the second sees the first one's state and is refused if the step no longer fits, instead of both
passing a check against the same old state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse
from google.protobuf.message import Message

from services.intake import event_codec
from services.intake.deadlines import overdue_breach
from services.intake.domain.acting import NotYourProject, acting_authority, check_may_act
from services.intake.domain.lifecycle import (
    FINAL_STATES,
    NothingToSupplement,
    ProjectView,
    Step,
    TransitionRefused,
    UnknownBidSection,
    check_method_allows,
    check_supplement,
    evolve,
    last_step_at,
    view_allowed_steps,
)
from services.intake.domain.trading_rules import TradingRuleBroken, check_trading_rules
from services.intake.http_api import schemas
from services.intake.http_api.dependencies import Context, IdempotencyKey, IntakeContext
from services.intake.http_api.projects import (
    REFUSALS,
    SOURCE,
    built,
    found,
    public_sections,
    publishable,
)
from services.intake.read_model import ProjectBusy
from services.platform_core.auth.dependencies import CurrentPrincipal, require_region
from services.platform_core.auth.principals import Principal
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.http.business_time import business_time
from services.platform_core.http.errors import ApiError, FieldProblem
from services.platform_core.http.idempotency import StoredResponse

router = APIRouter(prefix="/v1/projects/{project_id}", tags=["lifecycle"])

BodyT = TypeVar("BodyT", bound=schemas.StepCreate)
Build = Callable[[str, str, datetime, BodyT], Message]


def _transition_refused(refused: TransitionRefused) -> ApiError:
    allowed = ", ".join(step.value for step in refused.allowed) or "nothing (final state)"
    where = f"Project {refused.project_id}"
    problems = [
        FieldProblem(field="state", problem=f"current state {refused.current.value}"),
        FieldProblem(field="allowed_next_steps", problem=allowed),
    ]
    if refused.section:
        where += f" section {refused.section}"
        problems.insert(0, FieldProblem(field="bid_section_code", problem=refused.section))
    because = f" ({refused.reason})" if refused.reason else ""
    if refused.reason:
        problems.append(FieldProblem(field="trading_method", problem=refused.reason))
    return ApiError(
        409,
        "transition_not_allowed",
        f"{where} is {refused.current.value}: {refused.step.value} is not allowed now"
        f"{because}. Allowed next: {allowed}",
        problems,
    )


def _unknown_section(unknown: UnknownBidSection) -> ApiError:
    known = ", ".join(unknown.known)
    return ApiError(
        422,
        "unknown_bid_section",
        f"Project {unknown.project_id} has no bid section {', '.join(unknown.unknown)}. "
        f"Its sections: {known}",
        [
            FieldProblem(field="bid_section_code", problem=f"not a section of the project: {code}")
            for code in unknown.unknown
        ]
        + [FieldProblem(field="bid_sections", problem=f"the project's sections: {known}")],
    )


def _not_your_project(refused: NotYourProject) -> ApiError:
    return ApiError(
        403,
        "not_your_project",
        str(refused),
        [FieldProblem(field="project_id", problem=f"may act: {', '.join(refused.actors)}")],
    )


def may_act(principal: Principal, view: ProjectView) -> None:
    """A step is a department's act (operators and partners get 403 ``forbidden``), in its
    regions (403 ``forbidden_region``), on a project that is its own to act on: registered or
    supervised by it or by its branch, or the trading centre's (403 ``not_your_project``;
    domain.acting)."""
    require_region(principal, view.region_code)
    try:
        check_may_act(principal.code, view, acting_authority())
    except NotYourProject as refused:
        raise _not_your_project(refused) from refused


def _rule_broken(broken: TradingRuleBroken) -> ApiError:
    """409 for a step too early or too late for a deadline on record (it may fit later, or
    never), 422 for a step whose content contradicts itself or the record."""
    return ApiError(
        409 if broken.conflict else 422,
        broken.code,
        broken.message,
        [FieldProblem(field=field, problem=problem) for field, problem in broken.problems],
    )


async def _emit(
    *,
    path: str,
    step: Step,
    project_id: str,
    body: BodyT,
    build: Build[BodyT],
    principal: Principal,
    context: IntakeContext,
    idempotency_key: str | None,
    supplemented: tuple[str, ...] = (),
) -> JSONResponse:
    read_model = context.read_model

    async def act() -> StoredResponse:
        try:
            async with read_model.project_lock(project_id):
                view = await found(read_model, project_id)
                may_act(principal, view)
                occurred_at = business_time(principal, body.occurred_at)
                message = built(build, project_id, principal.code, occurred_at, body)
                envelope = publishable(Envelope(message=message, source=SOURCE, subject=project_id))
                fact = event_codec.fact_from_envelope(envelope)
                if fact is None or fact.step is not step:  # a route wired to the wrong builder
                    raise RuntimeError(f"{path} built {envelope.type}, not a {step.value} event")
                try:
                    after = evolve(view, fact)
                    check_method_allows(view, fact)
                    check_trading_rules(view, fact)
                    if step is Step.SUPPLEMENT_DOCUMENTS:
                        check_supplement(view, supplemented)
                except TransitionRefused as refused:
                    raise _transition_refused(refused) from refused
                except UnknownBidSection as unknown:
                    raise _unknown_section(unknown) from unknown
                except TradingRuleBroken as broken:
                    raise _rule_broken(broken) from broken
                except NothingToSupplement as nothing:
                    raise ApiError(
                        409,
                        "nothing_to_supplement",
                        str(nothing),
                        [FieldProblem(field="supplemented_documents", problem=str(nothing))],
                    ) from nothing
                last_at = last_step_at(view, fact)
                if occurred_at < last_at:
                    named = ", ".join(fact.bid_section_codes)
                    whose = f"project {project_id}" + (f" section {named}" if named else "")
                    raise ApiError(
                        422,
                        "occurred_at_before_last_step",
                        f"occurred_at {occurred_at.isoformat()} precedes {whose}'s last recorded "
                        f"step at {last_at.isoformat()}",
                        [FieldProblem(field="occurred_at", problem="before the last step")],
                    )
                # A 补正, or a step that ends the project, dated after a 容缺 deadline that
                # passed unbreached: the breach happened first (whether or not the watch ran),
                # so it is published first, as the watch would publish it (same event id).
                overdue = (
                    overdue_breach(view, occurred_at)
                    if step is Step.SUPPLEMENT_DOCUMENTS or after.state in FINAL_STATES
                    else None
                )
                if overdue is not None:
                    breach = overdue.envelope
                    await context.publisher.publish(PROJECT_EVENTS, breach, key=project_id)
                    await read_model.record_after_publish(breach.id, breach.type, overdue.fact)
                    after = evolve(evolve(view, overdue.fact), fact)
                await context.publisher.publish(PROJECT_EVENTS, envelope, key=project_id)
                await read_model.record_after_publish(envelope.id, envelope.type, fact)
        except ProjectBusy as busy:
            raise ApiError(409, "project_busy", f"{busy}; retry shortly") from busy
        body_out: dict[str, Any] = schemas.StepAccepted(
            project_id=project_id,
            event_id=envelope.id,
            step=step,
            state=after.state,
            allowed_next_steps=list(view_allowed_steps(after)),
            sections=public_sections(after),
        ).model_dump(mode="json")
        return StoredResponse(201, body_out)

    scope = f"{principal.idempotency_owner}:POST /v1/projects/{project_id}/{path}"
    return await context.idempotency.run(scope, idempotency_key, schemas.json_body(body), act)


def _doc(step: Step, what: str) -> dict[str, Any]:
    return {
        "status_code": status.HTTP_201_CREATED,
        "response_model": schemas.StepAccepted,
        "responses": REFUSALS,
        "summary": what,
        "description": f"Emits the {step.value} step's event; 409 when the project's state "
        "does not allow it (the body names the state and the allowed next steps). Recorded "
        "only by the project's registering or supervising department, the city department of "
        "either when it is a district branch, or the trading centre, in the project's region "
        "(403 not_your_project names them).",
    }


@router.post(
    "/tender-obligation",
    **_doc(
        Step.DECLARE_TENDER_OBLIGATION,
        "依法必须招标 declared or corrected before the first announcement",
    ),
)
async def declare_tender_obligation(
    project_id: str,
    body: schemas.TenderObligationCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _emit(
        path="tender-obligation",
        step=Step.DECLARE_TENDER_OBLIGATION,
        project_id=project_id,
        body=body,
        build=event_codec.tender_obligation_declared,
        principal=principal,
        context=context,
        idempotency_key=idempotency_key,
    )


@router.post(
    "/pre-publication", **_doc(Step.PRE_PUBLISH, "Tender documents pre-published (招标文件预公示)")
)
async def pre_publish(
    project_id: str,
    body: schemas.PrePublicationCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _emit(
        path="pre-publication",
        step=Step.PRE_PUBLISH,
        project_id=project_id,
        body=body,
        build=event_codec.pre_published,
        principal=principal,
        context=context,
        idempotency_key=idempotency_key,
    )


@router.post("/announcement", **_doc(Step.ANNOUNCE, "Announcement published (招标公告)"))
async def announce(
    project_id: str,
    body: schemas.AnnouncementCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _emit(
        path="announcement",
        step=Step.ANNOUNCE,
        project_id=project_id,
        body=body,
        build=event_codec.announced,
        principal=principal,
        context=context,
        idempotency_key=idempotency_key,
    )


@router.post("/bids", **_doc(Step.SUBMIT_BID, "Bid submitted, with its file fingerprint (投标)"))
async def submit_bid(
    project_id: str,
    body: schemas.BidCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _emit(
        path="bids",
        step=Step.SUBMIT_BID,
        project_id=project_id,
        body=body,
        build=event_codec.bid_submitted,
        principal=principal,
        context=context,
        idempotency_key=idempotency_key,
    )


@router.post("/bid-opening", **_doc(Step.OPEN_BIDS, "Bids opened (开标)"))
async def open_bids(
    project_id: str,
    body: schemas.BidOpeningCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _emit(
        path="bid-opening",
        step=Step.OPEN_BIDS,
        project_id=project_id,
        body=body,
        build=event_codec.bids_opened,
        principal=principal,
        context=context,
        idempotency_key=idempotency_key,
    )


@router.post("/evaluation", **_doc(Step.COMPLETE_EVALUATION, "Evaluation completed (评标完成)"))
async def complete_evaluation(
    project_id: str,
    body: schemas.EvaluationCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _emit(
        path="evaluation",
        step=Step.COMPLETE_EVALUATION,
        project_id=project_id,
        body=body,
        build=event_codec.evaluation_completed,
        principal=principal,
        context=context,
        idempotency_key=idempotency_key,
    )


@router.post(
    "/candidates", **_doc(Step.PUBLICISE_CANDIDATES, "Candidates publicised (中标候选人公示)")
)
async def publicise_candidates(
    project_id: str,
    body: schemas.CandidatesCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _emit(
        path="candidates",
        step=Step.PUBLICISE_CANDIDATES,
        project_id=project_id,
        body=body,
        build=event_codec.candidates_publicised,
        principal=principal,
        context=context,
        idempotency_key=idempotency_key,
    )


@router.post("/award", **_doc(Step.AWARD, "Contract awarded (中标)"))
async def award(
    project_id: str,
    body: schemas.AwardCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _emit(
        path="award",
        step=Step.AWARD,
        project_id=project_id,
        body=body,
        build=event_codec.contract_awarded,
        principal=principal,
        context=context,
        idempotency_key=idempotency_key,
    )


@router.post("/transaction", **_doc(Step.COMPLETE_TRANSACTION, "Transaction completed (成交)"))
async def complete_transaction(
    project_id: str,
    body: schemas.TransactionCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _emit(
        path="transaction",
        step=Step.COMPLETE_TRANSACTION,
        project_id=project_id,
        body=body,
        build=event_codec.transaction_completed,
        principal=principal,
        context=context,
        idempotency_key=idempotency_key,
    )


@router.post(
    "/deposit-relief", **_doc(Step.RELIEVE_DEPOSIT, "Bid deposit waived or reduced (保证金减免)")
)
async def relieve_deposit(
    project_id: str,
    body: schemas.DepositReliefCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _emit(
        path="deposit-relief",
        step=Step.RELIEVE_DEPOSIT,
        project_id=project_id,
        body=body,
        build=event_codec.deposit_waived,
        principal=principal,
        context=context,
        idempotency_key=idempotency_key,
    )


@router.post(
    "/historical-deposit-refunds",
    **_doc(Step.REFUND_HISTORICAL_DEPOSIT, "Historical deposit refunded (历史沉淀保证金清退)"),
)
async def refund_historical_deposit(
    project_id: str,
    body: schemas.HistoricalRefundCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _emit(
        path="historical-deposit-refunds",
        step=Step.REFUND_HISTORICAL_DEPOSIT,
        project_id=project_id,
        body=body,
        build=event_codec.historical_deposit_refunded,
        principal=principal,
        context=context,
        idempotency_key=idempotency_key,
    )


@router.post(
    "/supplements", **_doc(Step.SUPPLEMENT_DOCUMENTS, "Missing documents supplied (容缺补正)")
)
async def supplement_documents(
    project_id: str,
    body: schemas.SupplementCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _emit(
        path="supplements",
        step=Step.SUPPLEMENT_DOCUMENTS,
        project_id=project_id,
        body=body,
        build=event_codec.documents_supplemented,
        principal=principal,
        context=context,
        idempotency_key=idempotency_key,
        supplemented=tuple(body.supplemented_documents),
    )


@router.post("/termination", **_doc(Step.TERMINATE, "Project terminated (流标/终止)"))
async def terminate(
    project_id: str,
    body: schemas.TerminationCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _emit(
        path="termination",
        step=Step.TERMINATE,
        project_id=project_id,
        body=body,
        build=event_codec.project_terminated,
        principal=principal,
        context=context,
        idempotency_key=idempotency_key,
    )
