"""Routes for trading projects: registration (进场登记), one project, a filtered list."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse
from google.protobuf.message import Message
from pydantic import BaseModel, ConfigDict, Field

from services.intake.domain.catalogue import Category
from services.intake.domain.deficiency import accept_deficiency, pending_reason
from services.intake.domain.disclosure import (
    bids_disclosed,
    disclosed_history,
    disclosed_version,
    may_withhold,
)
from services.intake.domain.lifecycle import (
    SECTION_STEPS,
    Deal,
    ProjectState,
    ProjectView,
    allowed_steps,
    view_allowed_steps,
)
from services.intake.domain.registration import (
    BidSection,
    Organisation,
    ProjectRegistration,
    RegistrationRefused,
    check_registration,
    default_supervisor,
    registered_view,
)
from services.intake.domain.tender_obligation import tender_obligation
from services.intake.domain.working_days import china_date
from services.intake.event_codec import registration_to_event
from services.intake.http_api.dependencies import (
    Context,
    IdempotencyKey,
    IntakeContext,
    ReadModel,
)
from services.intake.http_api.schemas import (
    ProjectCreate,
    ProjectDetail,
    ProjectList,
    ProjectPublic,
    RegistrationAccepted,
    json_body,
)
from services.intake.read_model import ProjectFilter, view_values
from services.platform_core.auth.dependencies import (
    CurrentPrincipal,
    authenticate_headers,
    require_kind,
    require_region,
)
from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.ids import new_event_id
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.http.business_time import business_time
from services.platform_core.http.direct_routes import (
    DirectAnswer,
    DirectRequest,
    parse_json_body,
)
from services.platform_core.http.errors import ApiError, ErrorBody, FieldProblem
from services.platform_core.http.event_size import publishable as publishable_event
from services.platform_core.http.idempotency import IdempotentAnswer, StoredResponse

router = APIRouter(prefix="/v1/projects", tags=["projects"])
MessageT = TypeVar("MessageT", bound=Message)

SOURCE = "/jinan-prt/intake"
REFUSALS: dict[int | str, dict[str, Any]] = {
    status_code: {"model": ErrorBody} for status_code in (400, 401, 403, 409, 413, 422, 503)
}


def assign_deal_code(region_code: str, registered_at: datetime, project_id: str) -> str:
    day = china_date(registered_at)
    stamp = day.year * 10000 + day.month * 100 + day.day  # yyyymmdd: strftime costs 3x more
    return f"JN-{region_code}-{stamp:08d}-{project_id[-12:].upper()}"


def public_view(view: ProjectView) -> dict[str, Any]:
    """The view as :class:`ProjectPublic`'s JSON (built directly: validating the model only to
    dump it again cost a tenth of a registration)."""
    values = view_values(view)
    del values["updated_at"]
    values["registered_at"] = _json_instant(view.registered_at)
    values["allowed_next_steps"] = [step.value for step in view_allowed_steps(view)]
    values["sections"] = public_sections(view)
    values["supplement_deadline_pending_reason"] = pending_reason(view)
    values["trading_method"] = view.trading_method or None
    return values


def public_sections(view: ProjectView) -> list[dict[str, Any]]:
    """Each bid section's state and the trading steps it allows (as :class:`SectionPublic`)."""
    return [
        {
            "bid_section_code": section.code,
            "state": section.state.value,
            "allowed_next_steps": [
                step.value
                for step in allowed_steps(section.state, view.trading_method)
                if step in SECTION_STEPS
            ],
            "submission_deadline": _json_instant_or_none(section.submission_deadline),
            "publicity_ends_at": _json_instant_or_none(section.publicity_ends_at),
            "bids_received": (
                len(section.bidders)
                if section.bidders is not None and bids_disclosed(section)
                else None
            ),
            "evaluation_id": section.evaluation_id or None,
            "deal": _public_deal(section.deal),
        }
        for section in view.sections
    ]


def _public_deal(deal: Deal | None) -> dict[str, Any] | None:
    """The section's deal as :class:`DealPublic`."""
    if deal is None:
        return None
    return {
        "party": {"name": deal.party_name, "credit_code": deal.party_code},
        "amount_fen": deal.amount_fen,
        "at": _json_instant(deal.at),
    }


def _json_instant_or_none(moment: datetime | None) -> str | None:
    return _json_instant(moment) if moment is not None else None


def _json_instant(moment: datetime) -> str:
    # pydantic's JSON form of an aware datetime: ISO 8601, "Z" for UTC.
    return moment.isoformat().replace("+00:00", "Z")


def built(build: Callable[..., MessageT], *args: Any) -> MessageT:
    """The event ``build`` makes of the request; a value the event cannot carry (protobuf's
    int64 and int32, a Timestamp's years 1-9999) is the request's fault: 422, not 500. The
    schemas bound every such value; this is the backstop for one they miss."""
    try:
        return build(*args)
    except (ValueError, OverflowError) as exc:
        raise ApiError(
            422,
            "value_out_of_range",
            f"The request holds a value its event cannot carry: {exc}",
            [FieldProblem(field="body", problem=str(exc))],
        ) from exc


# What an intake request repeats, when its event is too large (platform_core's publishable).
REPEATED_ITEMS = "documents, sections, parties"


def publishable(envelope: Envelope[MessageT]) -> Envelope[MessageT]:
    return publishable_event(envelope, REPEATED_ITEMS)


def _refused(problems: dict[str, str]) -> ApiError:
    return ApiError(
        422,
        "registration_refused",
        "The registration was refused: " + "; ".join(f"{f}: {p}" for f, p in problems.items()),
        [FieldProblem(field=f, problem=p) for f, p in problems.items()],
    )


def _registration(
    body: ProjectCreate, principal: Principal, project_id: str, registered_at: datetime
) -> ProjectRegistration:
    # 容缺: the deadline is counted now, or pending while the working-day calendar does not
    # cover it yet (the deadline watch sets it later; see domain.deficiency).
    deficiency = None
    if body.deficiency is not None:
        deficiency = accept_deficiency(
            tuple(body.deficiency.missing_documents),
            registered_at,
            body.deficiency.supplement_working_days,
        )
    sections = body.bid_sections or []
    bid_sections = tuple(
        BidSection(s.bid_section_code, s.name, s.budget_fen, s.contract_type) for s in sections
    ) or (BidSection("001", body.name, body.budget_fen),)
    return ProjectRegistration(
        project_id=project_id,
        unified_deal_code=body.unified_deal_code
        or assign_deal_code(body.region_code, registered_at, project_id),
        name=body.name,
        category=body.category,
        region_code=body.region_code,
        tenderer=Organisation(body.tenderer.name, body.tenderer.credit_code),
        budget_fen=body.budget_fen,
        registering_department=principal.code,
        registered_at=registered_at,
        tender_project_code=body.tender_project_code or "",
        agency=Organisation(body.agency.name, body.agency.credit_code) if body.agency else None,
        supervise_dept_code=body.supervise_dept_code
        or default_supervisor(body.category, body.region_code),
        trading_method=body.trading_method,
        bid_sections=bid_sections,
        key_project=body.key_project,
        green_channel=body.green_channel,
        deficiency=deficiency,
        commitment_pledged=body.commitment_pledged,
        tender_obligation=tender_obligation(
            body.tender_required_by_law,
            body.category,
            body.trading_method.value,
            ((section.contract_type, section.budget_fen) for section in bid_sections),
        ),
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RegistrationAccepted,
    responses=REFUSALS,
    summary="Register a trading project (进场登记)",
    description="The registering department is the API key's department; it may register only "
    "in its regions. The unified deal code is assigned when absent and must be unique.",
)
async def register_project(
    body: ProjectCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    answer = await register(context, principal, body, idempotency_key)
    return answer.response()


async def register_project_directly(request: DirectRequest) -> DirectAnswer:
    """``POST /v1/projects`` as a direct route (see platform_core.http.direct_routes): the
    same operation as :func:`register_project`, without FastAPI's per-request layers."""
    state = request.state
    headers = request.headers
    principal = await authenticate_headers(
        state.api_key_store, headers.get("x-api-key"), headers.get("authorization")
    )
    body = parse_json_body(ProjectCreate, request)
    answer = await register(state.intake_context, principal, body, headers.get("idempotency-key"))
    return DirectAnswer(answer.status, orjson.dumps(answer.body), answer.headers())


async def register(
    context: IntakeContext, principal: Principal, body: ProjectCreate, idempotency_key: str | None
) -> IdempotentAnswer:
    """Registers a project once per Idempotency-Key: claims a given deal code, publishes
    ProjectRegistered (acks=all) and records the department's read-your-writes view."""
    require_kind(principal, PrincipalKind.DEPARTMENT)
    read_model = context.read_model

    async def register() -> StoredResponse:
        project_id = new_event_id()
        registered_at = business_time(principal, body.occurred_at)
        registration = _registration(body, principal, project_id, registered_at)
        try:
            check_registration(registration)
        except RegistrationRefused as refused:
            raise _refused(refused.problems) from refused
        require_region(principal, registration.region_code)
        # Everything that can refuse the registration comes before the deal code is claimed:
        # the event is built and measured first.
        envelope = publishable(
            Envelope(
                message=built(registration_to_event, registration),
                source=SOURCE,
                subject=project_id,
            )
        )
        # An assigned code is unique by construction (it ends in the project id's random bits);
        # the read model records it as taken. A given code is claimed before publishing, and
        # released if anything at all stops the publishing (a given code claimed by a project
        # that was never registered would be lost to its trade for good).
        holder = (
            await read_model.claim_deal_code(registration.unified_deal_code, project_id)
            if body.unified_deal_code
            else None
        )
        if holder is not None:
            raise ApiError(
                409,
                "deal_code_taken",
                f"Unified deal code {registration.unified_deal_code} already belongs to project "
                f"{holder}; leave it out to have one assigned, or give the trade's own code",
                [FieldProblem(field="unified_deal_code", problem=f"held by project {holder}")],
            )
        try:
            await context.publisher.publish(PROJECT_EVENTS, envelope, key=project_id)
        except BaseException:
            if body.unified_deal_code:
                await read_model.release_deal_code(registration.unified_deal_code, project_id)
            raise
        view = registered_view(registration)
        await read_model.record_after_publish(envelope.id, envelope.type, view)
        return StoredResponse(201, {**public_view(view), "event_id": envelope.id})

    return await context.idempotency.answer(
        f"{principal.idempotency_owner}:POST /v1/projects",
        idempotency_key,
        json_body(body),
        register,
    )


def may_read(principal: Principal, view: ProjectView) -> None:
    """Operators read everything; a department reads its regions' projects."""
    if principal.kind is PrincipalKind.OPERATOR:
        return
    require_region(principal, view.region_code)


async def found(read_model: ReadModel, project_id: str) -> ProjectView:
    view = await read_model.get(project_id)
    if view is None:
        raise ApiError(404, "project_not_found", f"No project {project_id} is registered")
    return view


@router.get(
    "/{project_id}",
    response_model=ProjectDetail,
    responses=REFUSALS,
    summary="One project: its state, allowed next steps and event history",
)
async def read_project(
    project_id: str, principal: CurrentPrincipal, read_model: ReadModel
) -> dict[str, Any]:
    view = await found(read_model, project_id)
    may_read(principal, view)
    history = await read_model.history(project_id)
    # Until a section's bids are opened its bids stay out of the history, as their count stays
    # out of bids_received (domain.disclosure; 招标投标法 art. 22), and the version with them.
    return {
        **public_view(view),
        "version": disclosed_version(view, history),
        "history": [
            {
                "event_id": entry.event_id,
                "type": entry.type,
                "step": entry.step,
                "occurred_at": entry.occurred_at,
                "actor_department": entry.actor_department,
                "state_after": entry.state_after,
                "bid_section_codes": list(entry.bid_section_codes),
            }
            for entry in disclosed_history(view, history)
        ],
    }


class ProjectQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region_code: str | None = None
    category: Category | None = None
    state: ProjectState | None = None
    department: str | None = Field(default=None, description="registering department code")
    key_project: bool | None = Field(
        default=None, description="重点项目 only (true), or none of them (false)"
    )
    tender_required_by_law: bool | None = Field(
        default=None,
        description="依法必须招标 as recorded (declared or derived): true, false; projects "
        "registered before it was recorded match neither",
    )
    documents_outstanding: bool | None = Field(
        default=None,
        description="容缺: documents still to be supplied (true), or none (false) — with "
        "deadline_breached=false, the projects whose 补正 is still due",
    )
    deadline_breached: bool | None = Field(
        default=None, description="容缺 deadline passed without 补正 (true), or not (false)"
    )
    registered_from: date | None = Field(
        default=None, description="registered on or after this day (Beijing date)"
    )
    registered_until: date | None = Field(
        default=None, description="registered on or before this day (Beijing date)"
    )
    with_total: bool = Field(
        default=False,
        description="also count every matching project (total): reads the whole list, so ask "
        "for it when you need it",
    )
    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=50, ge=1, le=500)


@router.get(
    "",
    response_model=ProjectList,
    responses=REFUSALS,
    summary="Projects, newest first, filtered (a department sees its regions')",
)
async def list_projects(
    principal: CurrentPrincipal,
    read_model: ReadModel,
    query: Annotated[ProjectQuery, Query()],
) -> ProjectList:
    regions = None if principal.kind is PrincipalKind.OPERATOR else principal.regions
    if principal.kind is PrincipalKind.PARTNER:
        require_kind(principal, PrincipalKind.DEPARTMENT, PrincipalKind.OPERATOR)
    if query.region_code is not None and regions is not None:
        # As reading one of its projects is refused (403), not an empty list that reads as
        # "none there".
        require_region(principal, query.region_code)
    if (
        query.registered_from is not None
        and query.registered_until is not None
        and query.registered_from > query.registered_until
    ):
        raise ApiError(
            422,
            "invalid_request",
            "registered_from is after registered_until",
            [FieldProblem(field="registered_from", problem="after registered_until")],
        )
    where = ProjectFilter(
        regions=regions,
        region_code=query.region_code,
        category=query.category.value if query.category else None,
        state=query.state,
        department=query.department,
        key_project=query.key_project,
        tender_required_by_law=query.tender_required_by_law,
        documents_outstanding=query.documents_outstanding,
        deadline_breached=query.deadline_breached,
        registered_from=query.registered_from,
        registered_until=query.registered_until,
    )
    views, next_offset, total = await read_model.list_views(
        where, offset=query.offset, limit=query.limit, count_all=query.with_total
    )
    return ProjectList(
        projects=[ProjectPublic(**values) for values in await _listed(read_model, views)],
        next_offset=next_offset,
        total=total,
    )


async def _listed(read_model: ReadModel, views: list[ProjectView]) -> list[dict[str, Any]]:
    """The listed projects as readers see them: a project whose history hides bids not yet
    opened shows the version that history has (domain.disclosure), else a version rising with
    each bid would count them. Only those projects' histories are read, together."""
    withholding = [view for view in views if may_withhold(view)]
    histories = await asyncio.gather(*(read_model.history(v.project_id) for v in withholding))
    versions = {
        view.project_id: disclosed_version(view, history)
        for view, history in zip(withholding, histories, strict=True)
    }
    listed = []
    for view in views:
        values = public_view(view)
        if view.project_id in versions:
            values["version"] = versions[view.project_id]
        listed.append(values)
    return listed
