"""Routes for pushes: a department's inbox, sign-for (签收), feedback (反馈), transfer (移送),
and open/overdue counts. A department reads and answers only the pushes addressed to it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from services.abnormal_push.domain.errors import PushActionRefused
from services.abnormal_push.domain.pushes import (
    Push,
    PushEvent,
    PushFeedbackGiven,
    PushSignedFor,
    PushStatus,
    PushTransferred,
    check_feedback,
    check_sign_for,
    check_step_time,
    check_transfer,
    was_escalated_to,
)
from services.abnormal_push.domain.reports import Evidence, evidence_problems
from services.abnormal_push.domain.routing import RoutingTable
from services.abnormal_push.http_api.access import check_may_read_push, is_operator, not_found
from services.abnormal_push.http_api.dependencies import (
    ActingDepartment,
    Idempotency,
    Publisher,
    Reader,
    ReadModel,
    Routing,
)
from services.abnormal_push.http_api.schemas import (
    CountsPublic,
    FeedbackCreate,
    PushPublic,
    PushStepAccepted,
    SignForCreate,
    TransferCreate,
    fingerprint_body,
)
from services.abnormal_push.publishing import publish_push_event
from services.abnormal_push.read_model import (
    Facet,
    PageCursor,
    PushReadModel,
    push_to_json,
    report_to_json,
    status_facet,
)
from services.platform_core.auth.principals import Principal
from services.platform_core.events.ids import new_event_id
from services.platform_core.http.business_time import business_time
from services.platform_core.http.errors import ApiError, ErrorBody, FieldProblem
from services.platform_core.http.idempotency import IdempotencyKey, StoredResponse
from services.platform_core.kafka.publisher import EventPublisher

router = APIRouter(prefix="/v1/pushes", tags=["pushes"])

_REFUSAL_STATUS = {
    "not_addressed_to_you": 403,
    "copy_only": 409,
    "wrong_status": 409,
    "unknown_department": 422,
    "same_department": 422,
    "before_previous_step": 422,
}
_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody} for code in (400, 403, 404, 409, 422, 503)
}


async def _public(read_model: PushReadModel, push: Push, with_report: bool) -> PushPublic:
    data = push_to_json(push)
    report = await read_model.report(push.report_id) if with_report else None
    return PushPublic(**data, report=None if report is None else report_to_json(report))


def _list_index(
    status_filter: PushStatus | None, overdue: bool | None, escalated: bool | None
) -> tuple[str, Callable[[Push], bool]]:
    """The index a list reads and the filter left for what that index does not settle.

    The most selective index named by the query is read; the other conditions filter its
    pushes as they are read, so no list reads more than one index.
    """
    if escalated is True:
        facet: str = Facet.ESCALATED
    elif overdue is True:
        facet = Facet.OVERDUE
    elif status_filter is not None:
        facet = status_facet(status_filter)
    else:
        facet = Facet.ALL

    def accept(push: Push) -> bool:
        return (
            (status_filter is None or push.status is status_filter)
            and (overdue is None or bool(push.overdue) is overdue)
            and (escalated is None or bool(push.escalation_levels) is escalated)
        )

    return facet, accept


def _anything(_: Push) -> bool:
    return True


def _list_scope(
    reader: Principal, department: str | None, escalated: bool | None, routing: RoutingTable
) -> tuple[str | None, Callable[[Push], bool]]:
    """The inbox a list reads (None: every department's) and which of its pushes the reader
    sees: operators any inbox; a department its own, and a city department its district
    branches'. Who chases late pushes (the joint-conference office, a city department with
    branches) lists with escalated=true every push escalated to it as well as its own, from
    every inbox or the one it names."""
    if is_operator(reader):
        return department, _anything
    if escalated is True and routing.receives_escalations(reader.code):
        office = routing.joint_conference_office

        def chased(push: Push) -> bool:
            return push.department == reader.code or was_escalated_to(
                push, reader.code, office=office
            )

        return department, chased
    if department in (None, reader.code) or routing.parent_of(department or "") == reader.code:
        return department or reader.code, _anything
    raise ApiError(
        403,
        "not_addressed_to_you",
        f"{reader.code} reads only its own inbox (a city department also its district "
        f"branches'), not {department}'s",
    )


def _next_link(request: Request, cursor: PageCursor) -> str:
    return str(request.url.include_query_params(cursor=cursor.encode()))


@router.get(
    "",
    response_model=list[PushPublic],
    responses={
        200: {
            "headers": {
                "Link": {
                    "description": 'the next page: <url>; rel="next" (absent on the last page)',
                    "schema": {"type": "string"},
                },
                "X-Next-Cursor": {
                    "description": "the next page's cursor parameter (absent on the last page)",
                    "schema": {"type": "string"},
                },
            }
        },
        400: {"model": ErrorBody},
        403: {"model": ErrorBody},
    },
    summary="The inbox: pushes addressed to the calling department (operators: all), newest "
    "first, a page at a time (next page: the Link header's rel=next, or X-Next-Cursor)",
)
async def list_pushes(
    *,
    request: Request,
    response: Response,
    reader: Reader,
    read_model: ReadModel,
    status_filter: Annotated[PushStatus | None, Query(alias="status")] = None,
    since: Annotated[datetime | None, Query(description="routed at or after")] = None,
    until: Annotated[datetime | None, Query(description="routed at or before")] = None,
    department: Annotated[
        str | None,
        Query(
            description="one department's inbox: operators any, a city department its district "
            "branches' (分级监管)"
        ),
    ] = None,
    overdue: Annotated[bool | None, Query(description="only pushes past a deadline")] = None,
    escalated: Annotated[
        bool | None,
        Query(
            description="only escalated pushes; the joint-conference office, and a city "
            "department with district branches, get those escalated to them too (a branch's "
            "first escalation goes to its city department, the others to the office)"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="pushes per page")] = 100,
    cursor: Annotated[
        str | None,
        Query(max_length=500, description="from the previous page's X-Next-Cursor / Link"),
    ] = None,
    routing: Routing,
) -> list[PushPublic]:
    scope, chased = _list_scope(reader, department, escalated, routing)
    try:
        after = None if cursor is None else PageCursor.decode(cursor)
    except ValueError as exc:
        raise ApiError(
            400,
            "invalid_cursor",
            f"cursor {cursor!r} is {exc}; pass the one a previous page returned",
            [FieldProblem(field="cursor", problem=str(exc))],
        ) from exc
    facet, accept = _list_index(status_filter, overdue, escalated)
    page, following = await read_model.page(
        scope,
        facet,
        limit=limit,
        since=since,
        until=until,
        after=after,
        accept=lambda push: accept(push) and chased(push),
    )
    if following is not None:
        response.headers["X-Next-Cursor"] = following.encode()
        response.headers["Link"] = f'<{_next_link(request, following)}>; rel="next"'
    return [await _public(read_model, p, with_report=True) for p in page]


@router.get(
    "/counts",
    response_model=list[CountsPublic],
    summary="Open and overdue pushes per department (a department: its own; a city department "
    "also its district branches', which it supervises)",
)
async def counts(reader: Reader, read_model: ReadModel, routing: Routing) -> list[CountsPublic]:
    departments = (
        await read_model.departments()
        if is_operator(reader)
        else [reader.code, *routing.branches_of(reader.code)]
    )
    return [CountsPublic(**(await read_model.counts(code)).__dict__) for code in departments]


@router.get(
    "/{push_id}",
    response_model=PushPublic,
    responses=_ERRORS,
    summary="One push with its report and its audit trail",
)
async def get_push(
    push_id: str, reader: Reader, read_model: ReadModel, routing: Routing
) -> PushPublic:
    push = await read_model.push(push_id)
    if push is None:
        raise not_found(push_id)
    check_may_read_push(reader, push, routing)
    return await _public(read_model, push, with_report=True)


async def _step(
    push_id: str,
    *,
    department: Principal,
    read_model: PushReadModel,
    publisher: EventPublisher,
    check: Callable[[Push], None],
    make_event: Callable[[Push, str, datetime], PushEvent],
    at: datetime,
) -> StoredResponse:
    """Check the step against the push as projected, then emit its event dated ``at`` (the
    business time: now, or a backfill key's occurred_at)."""
    push = await read_model.push(push_id)
    if push is None:
        raise not_found(push_id)
    try:
        check(push)
        check_step_time(push, at)
    except PushActionRefused as refused:
        raise ApiError(
            _REFUSAL_STATUS.get(refused.code, 409), refused.code, str(refused)
        ) from refused
    event = make_event(push, new_event_id(), at)
    await publish_push_event(publisher, event)
    accepted = PushStepAccepted(push_id=push_id, event_id=event.event_id, step=type(event).__name__)
    return StoredResponse(202, accepted.model_dump())


async def _run(
    idempotency: Idempotency,
    *,
    department: Principal,
    route_name: str,
    push_id: str,
    key: str | None,
    body: object,
    action: Callable[[], Awaitable[StoredResponse]],
) -> object:
    return await idempotency.run(
        f"abnormal_push:{department.idempotency_owner}:{route_name}:{push_id}", key, body, action
    )


@router.post(
    "/{push_id}/sign-for",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PushStepAccepted,
    responses=_ERRORS,
    summary="Sign for a push (签收)",
)
async def sign_for(
    push_id: str,
    *,
    department: ActingDepartment,
    read_model: ReadModel,
    publisher: Publisher,
    idempotency: Idempotency,
    idempotency_key: IdempotencyKey = None,
    body: SignForCreate | None = None,
) -> object:
    at = business_time(department, None if body is None else body.occurred_at)

    async def action() -> StoredResponse:
        return await _step(
            push_id,
            department=department,
            read_model=read_model,
            publisher=publisher,
            check=lambda push: check_sign_for(push, department.code),
            make_event=lambda push, event_id, now: PushSignedFor(
                event_id, push_id, now, department.code
            ),
            at=at,
        )

    return await _run(
        idempotency,
        department=department,
        route_name="sign_for",
        push_id=push_id,
        key=idempotency_key,
        body=fingerprint_body(body),
        action=action,
    )


@router.post(
    "/{push_id}/feedback",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PushStepAccepted,
    responses=_ERRORS,
    summary="Feed back the handling result (处理结果反馈: 立案/处罚/约谈/移送/不予处理)",
)
async def give_feedback(
    push_id: str,
    *,
    body: FeedbackCreate,
    department: ActingDepartment,
    read_model: ReadModel,
    publisher: Publisher,
    idempotency: Idempotency,
    idempotency_key: IdempotencyKey = None,
) -> object:
    evidence = tuple(Evidence(e.sha256, e.location, e.media_type) for e in body.evidence)
    at = business_time(department, body.occurred_at)

    async def action() -> StoredResponse:
        problems = evidence_problems(evidence)
        if problems:
            raise ApiError(
                422,
                "feedback_refused",
                "The feedback's evidence is not valid",
                [FieldProblem(field=f, problem=p) for f, p in problems.items()],
            )
        return await _step(
            push_id,
            department=department,
            read_model=read_model,
            publisher=publisher,
            check=lambda push: check_feedback(push, department.code),
            make_event=lambda push, event_id, now: PushFeedbackGiven(
                event_id, push_id, now, department.code, body.result, body.result_text, evidence
            ),
            at=at,
        )

    return await _run(
        idempotency,
        department=department,
        route_name="feedback",
        push_id=push_id,
        key=idempotency_key,
        body=fingerprint_body(body),
        action=action,
    )


@router.post(
    "/{push_id}/transfer",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PushStepAccepted,
    responses=_ERRORS,
    summary="Transfer a misrouted push to the department it belongs to (移送)",
)
async def transfer(
    push_id: str,
    *,
    body: TransferCreate,
    department: ActingDepartment,
    read_model: ReadModel,
    publisher: Publisher,
    idempotency: Idempotency,
    routing: Routing,
    idempotency_key: IdempotencyKey = None,
) -> object:
    known = frozenset(routing.departments)
    at = business_time(department, body.occurred_at)

    async def action() -> StoredResponse:
        return await _step(
            push_id,
            department=department,
            read_model=read_model,
            publisher=publisher,
            check=lambda push: check_transfer(push, department.code, body.to_department, known),
            make_event=lambda push, event_id, now: PushTransferred(
                event_id, push_id, now, department.code, body.to_department, body.reason
            ),
            at=at,
        )

    return await _run(
        idempotency,
        department=department,
        route_name="transfer",
        push_id=push_id,
        key=idempotency_key,
        body=fingerprint_body(body),
        action=action,
    )
