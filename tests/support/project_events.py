"""intake's events on its projects topic, published by tests that stand in for intake: a
registration, and the award and the termination that end a trade, as the other services
consume them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from google.protobuf.message import Message
from prt.v1 import common_pb2, intake_pb2

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings


def registration(
    department: str, region_code: str = "370124", name: str = "死信重投测试项目"
) -> Envelope[intake_pb2.ProjectRegistered]:
    """A water project's registration by ``department``, with an id of its own."""
    project_id = f"p-{department}-{uuid.uuid4().hex[:6]}"
    return Envelope(
        message=intake_pb2.ProjectRegistered(
            project_id=project_id,
            occurred_at=to_timestamp(datetime.now(UTC)),
            actor_department=department,
            name=name,
            category=common_pb2.PROJECT_CATEGORY_WATER,
            region_code=region_code,
            budget_fen=1000,
        ),
        source="/tests",
        subject=project_id,
    )


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
