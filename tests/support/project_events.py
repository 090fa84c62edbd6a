"""intake's events on its projects topic, published by tests that stand in for intake: the
award and the termination that end a trade, as remote_eval and abnormal_push consume them."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.message import Message
from prt.v1 import intake_pb2

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings


def contract_awarded(
    project_id: str, bid_section_code: str = "001", at: datetime | None = None
) -> intake_pb2.ContractAwarded:
    return intake_pb2.ContractAwarded(
        project_id=project_id,
        occurred_at=to_timestamp(at or datetime.now(UTC)),
        actor_department="JYZX",
        bid_section_code=bid_section_code,
        amount_fen=1_000_000,
    )


def tender_failed(project_id: str, bid_section_code: str) -> intake_pb2.ProjectTerminated:
    """流标 of a section ("" for the whole project)."""
    return intake_pb2.ProjectTerminated(
        project_id=project_id,
        occurred_at=to_timestamp(datetime.now(UTC)),
        actor_department="JYZX",
        bid_section_code=bid_section_code,
        reason=intake_pb2.TERMINATION_REASON_FAILED_TENDER,
        explanation="投标人不足三家",
    )


async def publish_project_event(publisher: EventPublisher, message: Message) -> None:
    """On intake's topic, keyed by the project as intake keys it."""
    project_id = getattr(message, "project_id")  # noqa: B009 - every project event has one
    await publisher.publish(
        PROJECT_EVENTS,
        Envelope(message=message, source="test", subject=project_id),
        key=project_id,
    )


async def publish_project_events(settings: PlatformSettings, *messages: Message) -> None:
    """``messages`` in turn, with a producer of their own."""
    producer = create_producer(settings, client_id="test-project-events")
    await producer.start()
    try:
        publisher = EventPublisher(producer)
        for message in messages:
            await publish_project_event(publisher, message)
    finally:
        await producer.stop()
