"""Routes for abnormal reports (异常行为信息): a department files one; readers look one up."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, status

from services.abnormal_push.detection import DetectionState
from services.abnormal_push.domain.errors import ReportRefused
from services.abnormal_push.domain.registered_project import (
    ProjectMismatch,
    ProjectRouting,
    project_routing,
    region_label,
    registration_of,
)
from services.abnormal_push.domain.reports import (
    AbnormalReport,
    Evidence,
    ReportSource,
    Subject,
    check_report,
)
from services.abnormal_push.domain.routing import route
from services.abnormal_push.http_api.access import is_operator
from services.abnormal_push.http_api.dependencies import (
    ActingDepartment,
    Detection,
    Idempotency,
    Publisher,
    Reader,
    ReadModel,
    Routing,
)
from services.abnormal_push.http_api.schemas import (
    ReportCreate,
    ReportFiledPublic,
    ReportPublic,
    RouteTarget,
    fingerprint_body,
)
from services.abnormal_push.publishing import publish_report
from services.abnormal_push.read_model import report_to_json
from services.platform_core.auth.principals import Principal
from services.platform_core.events.ids import new_event_id
from services.platform_core.http.business_time import business_time
from services.platform_core.http.errors import ApiError, ErrorBody, FieldProblem
from services.platform_core.http.idempotency import IdempotencyKey, StoredResponse

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReportFiledPublic,
    responses={
        code: {"model": ErrorBody} for code in (400, 403, 422, 503)
    },  # 403: occurred_at from a key without backfill; 422 project_mismatch: see below
    summary="File an abnormal-behaviour report (异常行为信息采集); routing follows in seconds",
    description="A report on a project registered in intake is routed on the registered "
    "category and region: a project_category or region_code left out is taken from the "
    "registration, one that contradicts it is refused (422 project_mismatch, naming the "
    "registered values). A project abnormal push has not seen registered (应进未进, or "
    "registered seconds ago) is routed on the report's own fields, and the answer says so "
    "(project_registered false).",
)
async def file_report(
    body: ReportCreate,
    *,
    department: ActingDepartment,
    publisher: Publisher,
    idempotency: Idempotency,
    routing: Routing,
    detection: Detection,
    idempotency_key: IdempotencyKey = None,
) -> object:
    # Deadlines count from this business time: now, or a backfill key's stated occurred_at.
    filed_at = business_time(department, body.occurred_at)
    act_at = _utc_act_at(body.act_at)

    async def action() -> StoredResponse:
        # Read inside the action: a retry of a refused request sees a registration consumed
        # since, and a replayed answer keeps the routing it first reported.
        project, problems = await _project_routing(body, department, detection)
        report = AbnormalReport(
            report_id=new_event_id(),
            filed_at=filed_at,
            reporting_department=department.code,
            source=ReportSource.MANUAL,
            subjects=tuple(
                Subject(s.kind, s.credit_code or "", s.name, s.expert_pseudonym or "")
                for s in body.subjects
            ),
            project_id=body.project_id,
            bid_section_code=body.bid_section_code,
            project_category=project.category,
            region_code=project.region_code,
            behaviour_type=body.behaviour_type,
            severity=body.severity,
            description=body.description,
            evidence=tuple(Evidence(e.sha256, e.location, e.media_type) for e in body.evidence),
            act_at=act_at,
            suspected_crime=body.suspected_crime,
            suspected_official_misconduct=body.suspected_official_misconduct,
            suspected_misuse_of_funds=body.suspected_misuse_of_funds,
        )
        try:
            check_report(report, frozenset(routing.departments))
        except ReportRefused as refused:
            problems = {**problems, **refused.problems}
        if problems:
            raise ApiError(
                422,
                "report_refused",
                f"The report was refused: {ReportRefused(problems)}",
                [FieldProblem(field=f, problem=p) for f, p in problems.items()],
            )
        envelope = await publish_report(publisher, report, new_event_id())
        filed = ReportFiledPublic(
            report_id=report.report_id,
            event_id=envelope.id,
            filed_at=filed_at,
            routed_to=[
                RouteTarget(department=a.department, reason=a.reason, role=a.role)
                for a in route(report, routing)
            ],
            project_registered=project.registered,
            project_category=project.category,
            region_code=project.region_code,
        )
        return StoredResponse(202, filed.model_dump(mode="json"))

    return await idempotency.run(
        f"abnormal_push:{department.idempotency_owner}:file_report",
        idempotency_key,
        fingerprint_body(body),
        action,
    )


def _utc_act_at(stated: datetime) -> datetime:
    """``act_at`` in UTC; 422 for an instant outside years 1-9999 once in UTC (e.g.
    0001-01-01T00:00+08:00), which no calendar of this platform holds."""
    try:
        return stated.astimezone(UTC)
    except OverflowError:
        raise ApiError(
            422,
            "act_at_out_of_range",
            f"act_at {stated.isoformat()} is not a representable instant; state when the act "
            "happened, with a UTC offset, no later than the report",
            [FieldProblem(field="act_at", problem="outside the representable range")],
        ) from None


async def _project_routing(
    body: ReportCreate, department: Principal, detection: DetectionState
) -> tuple[ProjectRouting, dict[str, str]]:
    """The category and region to route on: intake's registration, as detection keeps it from
    intake's stream, where abnormal push has seen one; else the report's own. With the
    problems that refuse the report (reported with the body's others, every bad field at once);
    a contradiction of the registration is refused here, on its own."""
    own_region = _own_region(department)
    try:
        project = project_routing(
            stated_category=body.project_category.value if body.project_category else None,
            stated_region=body.region_code,
            reporter_region=own_region,
            registration=registration_of(await detection.project(body.project_id)),
        )
    except ReportRefused as refused:
        stated_region = body.region_code if body.region_code is not None else own_region
        return ProjectRouting("", stated_region, registered=False), refused.problems
    except ProjectMismatch as mismatch:
        registered = mismatch.registration
        where = f" in {region_label(registered.region_code)}" if registered.region_code else ""
        raise ApiError(
            422,
            "project_mismatch",
            f"Project {registered.project_id} is registered in intake as "
            f"{registered.category}{where}, and a report on it is routed to the department "
            f"supervising that: {mismatch}. Leave project_category and region_code out (they "
            "are taken from the registration) or state the registered ones; if the "
            "registration itself is wrong, take it up with the department that registered it.",
            [FieldProblem(field=f, problem=p) for f, p in mismatch.problems.items()],
        ) from mismatch
    return project, {}


def _own_region(department: Principal) -> str:
    """The reporter's own region when it acts for one region only (a district branch), else
    "": where a report on an unregistered project naming no region is taken to be."""
    if len(department.regions) == 1:
        (region,) = department.regions
        return region
    return ""


@router.get(
    "/{report_id}",
    response_model=ReportPublic,
    responses={403: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    summary="A report, for the operators, its reporter and the departments it was pushed to",
)
async def get_report(report_id: str, reader: Reader, read_model: ReadModel) -> ReportPublic:
    report = await read_model.report(report_id)
    if report is None:
        raise ApiError(404, "report_not_found", f"There is no report {report_id} (yet)")
    push_ids = await read_model.report_push_ids(report_id)
    if not is_operator(reader) and reader.code != report.reporting_department:
        addressed = [p for p in await read_model.pushes(sorted(push_ids))]
        if not any(p.department == reader.code for p in addressed):
            raise ApiError(
                403,
                "not_addressed_to_you",
                f"Report {report_id} was not pushed to {reader.code}",
            )
    return ReportPublic(report=report_to_json(report), push_ids=sorted(push_ids))
