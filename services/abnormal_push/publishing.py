"""Publishing abnormal push's events: reports keyed by report id, push events by push id,
webhook registrations by department."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.message import Message

from services.abnormal_push.domain.pushes import PushEvent
from services.abnormal_push.domain.reports import AbnormalReport
from services.abnormal_push.domain.webhook_registrations import WebhookEvent
from services.abnormal_push.event_codec import (
    push_event_to_message,
    report_to_event,
    webhook_event_to_message,
)
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import (
    ABNORMAL_PUSHES,
    ABNORMAL_REPORTS,
    ABNORMAL_WEBHOOKS,
)
from services.platform_core.kafka.publisher import EventPublisher

SOURCE = "/jinan-prt/abnormal-push"


async def publish_report(
    publisher: EventPublisher, report: AbnormalReport, event_id: str
) -> Envelope[Message]:
    envelope: Envelope[Message] = Envelope(
        message=report_to_event(report),
        source=SOURCE,
        subject=report.report_id,
        id=event_id,
        time=report.filed_at,
    )
    await publisher.publish(ABNORMAL_REPORTS, envelope, key=report.report_id)
    return envelope


async def publish_push_event(
    publisher: EventPublisher, event: PushEvent, time: datetime | None = None
) -> Envelope[Message]:
    envelope: Envelope[Message] = Envelope(
        message=push_event_to_message(event),
        source=SOURCE,
        subject=event.push_id,
        id=event.event_id,
        time=time or event.at,
    )
    await publisher.publish(ABNORMAL_PUSHES, envelope, key=event.push_id)
    return envelope


async def publish_webhook_event(
    publisher: EventPublisher, event: WebhookEvent
) -> Envelope[Message]:
    envelope: Envelope[Message] = Envelope(
        message=webhook_event_to_message(event),
        source=SOURCE,
        subject=event.department,
        id=event.event_id,
        time=event.at,
    )
    await publisher.publish(ABNORMAL_WEBHOOKS, envelope, key=event.department)
    return envelope
