"""Intake's domain objects to protobuf events and back. Protobuf stops here."""

from __future__ import annotations

from prt.v1 import common_pb2, intake_pb2

from services.intake.domain.registration import ProjectRegistration
from services.platform_core.events.proto_values import to_timestamp


def registration_to_event(registration: ProjectRegistration) -> intake_pb2.ProjectRegistered:
    return intake_pb2.ProjectRegistered(
        project_id=registration.project_id,
        occurred_at=to_timestamp(registration.registered_at),
        actor_department=registration.registering_department,
        unified_deal_code=registration.unified_deal_code,
        name=registration.name,
        category=f"PROJECT_CATEGORY_{registration.category.value}",
        region_code=registration.region_code,
        tenderer=common_pb2.OrganisationRef(
            name=registration.tenderer.name,
            unified_social_credit_code=registration.tenderer.credit_code,
        ),
        budget_fen=registration.budget_fen,
    )
