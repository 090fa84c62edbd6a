"""Routes for trading projects: registration (进场登记)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, status

from services.intake.domain.registration import (
    Organisation,
    ProjectRegistration,
    RegistrationRefused,
    check_registration,
)
from services.intake.event_codec import registration_to_event
from services.intake.http_api.dependencies import Publisher
from services.intake.http_api.schemas import ProjectCreate, ProjectPublic
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.ids import new_event_id
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.http.errors import ApiError, ErrorBody, FieldProblem

router = APIRouter(prefix="/v1/projects", tags=["projects"])

SOURCE = "/jinan-prt/intake"


def _assign_deal_code(region_code: str, registered_at: datetime, project_id: str) -> str:
    return f"JN-{region_code}-{registered_at:%Y%m%d}-{project_id[-12:].upper()}"


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectPublic,
    responses={422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
    summary="Register a trading project (进场登记)",
)
async def register_project(body: ProjectCreate, publisher: Publisher) -> ProjectPublic:
    project_id = new_event_id()
    registered_at = datetime.now(UTC)
    registration = ProjectRegistration(
        project_id=project_id,
        unified_deal_code=body.unified_deal_code
        or _assign_deal_code(body.region_code, registered_at, project_id),
        name=body.name,
        category=body.category,
        region_code=body.region_code,
        tenderer=Organisation(body.tenderer.name, body.tenderer.credit_code),
        budget_fen=body.budget_fen,
        registering_department=body.registering_department,
        registered_at=registered_at,
    )
    try:
        check_registration(registration)
    except RegistrationRefused as refused:
        raise ApiError(
            422,
            "registration_refused",
            f"The registration was refused: {refused}",
            [FieldProblem(field=f, problem=p) for f, p in refused.problems.items()],
        ) from refused
    envelope = Envelope(
        message=registration_to_event(registration), source=SOURCE, subject=project_id
    )
    await publisher.publish(PROJECT_EVENTS, envelope, key=project_id)
    return ProjectPublic(
        project_id=project_id,
        unified_deal_code=registration.unified_deal_code,
        name=registration.name,
        category=registration.category,
        region_code=registration.region_code,
        budget_fen=registration.budget_fen,
        registered_at=registered_at,
        event_id=envelope.id,
    )
