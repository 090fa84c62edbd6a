"""Protobuf events from other services to reporting's facts. Protobuf stops here."""

from __future__ import annotations

from google.protobuf.message import Message
from prt.v1 import common_pb2, intake_pb2

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import enum_member, from_timestamp
from services.reporting.domain.facts import Fact, ProjectRegisteredFact


def fact_from_envelope(envelope: Envelope[Message]) -> Fact | None:
    """The fact an event states, or None for events reporting does not count (yet)."""
    message = envelope.message
    if isinstance(message, intake_pb2.ProjectRegistered):
        return ProjectRegisteredFact(
            event_id=envelope.id,
            project_id=message.project_id,
            region_code=message.region_code,
            category=enum_member(common_pb2.ProjectCategory.DESCRIPTOR, message.category),
            budget_fen=message.budget_fen,
            registering_department=message.actor_department,
            registered_at=from_timestamp(message.occurred_at),
        )
    return None
