"""Folding intake.projects.v1 into the project read model: one event at a time, idempotently by
event id. Used by the stream worker (live) and by ``rebuild`` (replay from the beginning)."""

from __future__ import annotations

from google.protobuf.message import Message
from prt.v1 import intake_pb2

from services.intake.domain.lifecycle import Step, TransitionRefused, UnknownBidSection
from services.intake.event_codec import fact_from_envelope, view_from_registered
from services.intake.read_model import ProjectReadModel, UnknownProject
from services.platform_core.events.envelope import Envelope
from services.platform_core.kafka.faust_worker import EventRejected


class Projector:
    """Applies one event of intake.projects.v1 to the read model, idempotently by event id."""

    def __init__(self, read_model: ProjectReadModel) -> None:
        self._read_model = read_model

    async def apply(self, envelope: Envelope[Message]) -> None:
        message = envelope.message
        if isinstance(message, intake_pb2.ProjectRegistered):
            await self._read_model.record_registration(
                envelope.id, envelope.type, view_from_registered(message)
            )
            return
        fact = fact_from_envelope(envelope)
        if fact is None:
            raise EventRejected(f"{envelope.type} is not a project lifecycle event")
        try:
            await self._read_model.record_step(envelope.id, envelope.type, fact)
        except UnknownProject as unknown:
            if fact.step is Step.REFUND_HISTORICAL_DEPOSIT:
                return  # a project from before the platform: nothing to fold into
            raise EventRejected(str(unknown)) from unknown
        except (TransitionRefused, UnknownBidSection) as refused:
            raise EventRejected(str(refused)) from refused
