"""What the worker cannot decode or apply goes to its dead-letter topics; it keeps going."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from prt.v1 import abnormal_push_pb2

from services.platform_core.events.envelope import Envelope, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import (
    ABNORMAL_PUSHES,
    ABNORMAL_REPORTS,
)
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from tests.integration.abnormal_push.fixtures import (
    Keys,
    auth,
    dead_letter_reasons,
    publish,
    report_body,
    wait_for_pushes,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration


async def test_a_sign_for_of_an_unknown_push_and_a_broken_report_are_dead_lettered(
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    publisher: EventPublisher,
    settings: PlatformSettings,
) -> None:
    ghost = f"ghost-{uuid.uuid4()}"
    await publish(
        publisher,
        ABNORMAL_PUSHES,
        abnormal_push_pb2.PushSignedFor(
            push_id=ghost, occurred_at=to_timestamp(datetime.now(UTC)), actor_department="ZJJ"
        ),
        ghost,
    )
    broken_id = f"broken-{uuid.uuid4()}"
    envelope = Envelope(
        message=abnormal_push_pb2.AbnormalReportFiled(report_id=broken_id, description="截断"),
        source="/tests",
        subject=broken_id,
    )
    value, headers = encode_envelope(envelope)
    raw_producer = create_producer(settings, client_id="abnormal-push-tests-corrupt")
    await raw_producer.start()
    try:  # a corrupt record, as a faulty producer would send it
        await raw_producer.send_and_wait(
            ABNORMAL_REPORTS.name, value=value + b"\xff", key=broken_id.encode(), headers=headers
        )
    finally:
        await raw_producer.stop()
    async with httpx.AsyncClient(timeout=10) as client:
        # The worker keeps routing after both.
        filed = await client.post(
            f"{push_api.base_url}/v1/reports",
            json=report_body("HOUSING"),
            headers=auth(keys["JYZX"], str(uuid.uuid4())),
        )
        await wait_for_pushes(client, push_api, keys["ZJJ"], filed.json()["report_id"])

    projector = await eventually(
        lambda: dead_letter_reasons(settings, "abnormal-push.projector", ghost.encode()),
        lambda found: len(found) == 1,
    )
    router = await eventually(
        lambda: dead_letter_reasons(settings, "abnormal-push.router", broken_id.encode()),
        lambda found: len(found) == 1,
    )
    assert "unknown_push" in projector[0]
    assert "not a valid prt.v1.AbnormalReportFiled" in router[0]
