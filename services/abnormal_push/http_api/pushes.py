"""Routes for pushes: a department's inbox, sign-for (签收), feedback (反馈), transfer (移送),
and open/overdue counts. A department reads and answers only the pushes addressed to it.

A step is answered 202 before the stream worker applies it, so it cannot be checked against
the projection alone: two clerks signing for at once (or a retry under a new Idempotency-Key)
would both pass, and the worker would dead-letter all but the first after they were told it
was accepted. :class:`AcceptedSteps` makes check-and-publish one act per push: a lease in Redis
serialises a push's steps, and the push as the accepted step leaves it is recorded before the
event goes out, so the next step is checked against what was accepted, not only against what
the worker has applied.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from redis.asyncio import Redis

from services.abnormal_push.domain.errors import PushActionRefused
from services.abnormal_push.domain.pushes import (
    Push,
    PushEvent,
    PushFeedbackGiven,
    PushSignedFor,
    PushStatus,
    PushTransferred,
    apply_push_event,
    check_feedback,
    check_sign_for,
    check_step_time,
    check_transfer,
    estimated_deadlines,
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
    PREFIX,
    Facet,
    PageCursor,
    PushReadModel,
    push_from_json,
    push_to_json,
    report_to_json,
    status_facet,
)
from services.abnormal_push.service_config import deadline_policy
from services.platform_core.auth.principals import Principal
from services.platform_core.events.ids import new_event_id
from services.platform_core.http.business_time import business_time
from services.platform_core.http.errors import ApiError, ErrorBody, FieldProblem
from services.platform_core.http.idempotency import IdempotencyKey, StoredResponse
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.redis_lease import RedisLease

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


# The push as its latest accepted step leaves it, until the worker has applied that step.
ACCEPTED = PREFIX + "accepted-step:"
# Held while one step of a push is checked, recorded and published.
STEP_LEASE = PREFIX + "step-lease:"
# Past this the record goes (the worker applies a step in well under a second; a step the
# worker dead-lettered is redriven by an operator or retried by the department meanwhile).
REMEMBER_ACCEPTED_S = 24 * 3600
# A publish that outlasts the lease is still covered by the record (written before it).
STEP_LEASE_MS = 30_000
# How long a step waits for another step of the same push before answering 503.
WAIT_FOR_PUSH_S = 10.0

# KEYS: the record; ARGV: the record this step wrote, the one before it ("" for none). Puts the
# previous record back only while the record is still this step's.
_UNDO = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
"""


@dataclass(frozen=True)
class _Accepted:
    """What a step is checked against: the push as accepted, and the record it came from."""

    push: Push
    raw: bytes | None  # the record as read, to put back if this step cannot be published


def _allowed_steps(push: Push) -> str:
    if push.status is PushStatus.ROUTED:
        return "sign-for or transfer"
    if push.status is PushStatus.SIGNED_FOR:
        return "feedback (立案 keeps it open for the measure's feedback) or transfer"
    return "no further step (it is closed here)"


class AcceptedSteps:
    """Per push: one step at a time from check to publish, checked against the accepted steps.

    The accepted record is the push after the latest step answered 202, with that step's
    event id. It counts until the projection holds that event (then the projection is at
    least as far), so a step is refused as soon as an earlier one was accepted, not once the
    worker applied it. The record is written before the event is published and put back if
    the publish fails: a publish outlasting the lease is still covered, and a step that was
    not sent does not block the next.
    """

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._undo = redis.register_script(_UNDO)

    @asynccontextmanager
    async def one_at_a_time(self, push_id: str) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            try:
                async with asyncio.timeout(WAIT_FOR_PUSH_S):
                    await stack.enter_async_context(
                        RedisLease(self._redis, STEP_LEASE + push_id, lease_ms=STEP_LEASE_MS).held()
                    )
            except TimeoutError:
                raise ApiError(
                    503,
                    "push_busy",
                    f"Another step of push {push_id} is being recorded; retry shortly with the "
                    "same Idempotency-Key",
                    headers={"Retry-After": "1"},
                ) from None
            yield

    async def current(self, push: Push) -> _Accepted:
        """The push as accepted: the projection, or the accepted record while the projection
        does not hold the record's step yet."""
        stored: bytes | str | None = await self._redis.get(ACCEPTED + push.push_id)
        if stored is None:
            return _Accepted(push, None)
        raw = stored.encode() if isinstance(stored, str) else stored
        record: dict[str, Any] = json.loads(raw)
        if any(step.event_id == record["event_id"] for step in push.steps):
            return _Accepted(push, raw)
        return _Accepted(push_from_json(record["push"]), raw)

    async def record(self, before: _Accepted, event: PushEvent) -> bytes:
        """Record the push after ``event`` as accepted; returns the record (for :meth:`undo`)."""
        after = apply_push_event(before.push, event)
        raw = json.dumps(
            {"event_id": event.event_id, "push": push_to_json(after)}, ensure_ascii=False
        ).encode()
        await self._redis.set(ACCEPTED + event.push_id, raw, ex=REMEMBER_ACCEPTED_S)
        return raw

    async def undo(self, push_id: str, written: bytes, before: _Accepted) -> None:
        """Put back the record ``written`` replaced (the step was not published)."""
        await self._undo(keys=[ACCEPTED + push_id], args=[written, before.raw or b""])


def _accepted_steps(request: Request) -> AcceptedSteps:
    steps: AcceptedSteps = request.app.state.accepted_steps
    return steps


Steps = Annotated[AcceptedSteps, Depends(_accepted_steps)]


async def _public(read_model: PushReadModel, push: Push, with_report: bool) -> PushPublic:
    data = push_to_json(push)
    report = await read_model.report(push.report_id) if with_report else None
    estimated = (
        estimated_deadlines(
            push, deadline_policy().counted_due_times(push.severity, push.routed_at)
        )
        if push.deadlines_estimated
        else []
    )
    return PushPublic(
        **data,
        estimated_deadlines=estimated,
        report=None if report is None else report_to_json(report),
    )


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


def _check_list_bound(name: str, moment: datetime | None) -> None:
    """A list bound must be an instant the index can score: a time without a UTC offset is
    read in the server's zone, and one at the calendar's edge then has none (e.g.
    0001-01-01T00:00:00)."""
    if moment is None:
        return
    try:
        moment.timestamp()
    except (OverflowError, ValueError, OSError):
        raise ApiError(
            422,
            "invalid_time_bound",
            f"{name} {moment.isoformat()} is not an instant the list can be bounded by; give "
            "a time with a UTC offset, e.g. 2024-09-20T00:00:00+08:00",
            [FieldProblem(field=name, problem="outside the representable range")],
        ) from None


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
    for name, bound in (("since", since), ("until", until)):
        _check_list_bound(name, bound)
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
    read_model: PushReadModel,
    publisher: EventPublisher,
    steps: AcceptedSteps,
    check: Callable[[Push], None],
    make_event: Callable[[Push, str, datetime], PushEvent],
    at: datetime,
) -> StoredResponse:
    """Check the step against the push as accepted, record it, then emit its event dated
    ``at`` (the business time: now, or a backfill key's occurred_at) — one step of a push at a
    time (see :class:`AcceptedSteps`)."""
    # Made before the check: a re-run of a request whose first run died (same Idempotency-Key,
    # same id seed) makes the same id, and finds its step accepted already.
    event_id = new_event_id()
    async with steps.one_at_a_time(push_id):
        push = await read_model.push(push_id)
        if push is None:
            raise not_found(push_id)
        accepted = await steps.current(push)
        if any(step.event_id == event_id for step in accepted.push.steps):
            # Accepted by this request's first run: send it again (consumers drop a copy).
            event = make_event(accepted.push, event_id, at)
            await publish_push_event(publisher, event)
        else:
            _check(accepted.push, check, at)
            event = make_event(accepted.push, event_id, at)
            written = await steps.record(accepted, event)
            try:
                await publish_push_event(publisher, event)
            except BaseException:
                await asyncio.shield(steps.undo(push_id, written, accepted))
                raise
    body = PushStepAccepted(push_id=push_id, event_id=event_id, step=type(event).__name__)
    return StoredResponse(202, body.model_dump())


def _check(push: Push, check: Callable[[Push], None], at: datetime) -> None:
    try:
        check(push)
        check_step_time(push, at)
    except PushActionRefused as refused:
        details = []
        message = str(refused)
        if refused.code == "wrong_status":
            allowed = _allowed_steps(push)
            message = f"{message}; a {push.status.value} push allows {allowed}"
            details = [FieldProblem(field="status", problem=f"{push.status.value}: {allowed}")]
        raise ApiError(
            _REFUSAL_STATUS.get(refused.code, 409), refused.code, message, details
        ) from refused


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
    steps: Steps,
    idempotency_key: IdempotencyKey = None,
    body: SignForCreate | None = None,
) -> object:
    at = business_time(department, None if body is None else body.occurred_at)

    async def action() -> StoredResponse:
        return await _step(
            push_id,
            read_model=read_model,
            publisher=publisher,
            steps=steps,
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
    steps: Steps,
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
            read_model=read_model,
            publisher=publisher,
            steps=steps,
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
    steps: Steps,
    routing: Routing,
    idempotency_key: IdempotencyKey = None,
) -> object:
    known = frozenset(routing.departments)
    at = business_time(department, body.occurred_at)

    async def action() -> StoredResponse:
        return await _step(
            push_id,
            read_model=read_model,
            publisher=publisher,
            steps=steps,
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
