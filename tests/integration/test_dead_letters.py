"""An undecodable record goes to the consumer's dead-letter topic; the worker keeps going."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from prt.v1 import common_pb2, intake_pb2

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import Envelope, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.dead_letter_review import DeadLetter, RedriveRefused, review
from services.platform_core.settings import PlatformSettings
from tests.conftest import IssueKey
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess
from tests.support.reporting_figures import registrations_of_department

pytestmark = pytest.mark.integration


async def _dead_letter_with_key(settings: PlatformSettings, key: bytes) -> list[DeadLetter]:
    """reporting.aggregator's dead letters with ``key``, as an operator's review reads them."""
    try:
        found = await review(settings, "reporting.aggregator", all_letters=True)
    except RedriveRefused:  # nothing set aside yet
        return []
    return [letter for letter in found.letters if letter.key == key]


async def test_poison_record_is_dead_lettered_and_next_event_counted(
    settings: PlatformSettings,
    reporting_worker: ServiceProcess,
    reporting_api: ServiceProcess,
    issue_key: IssueKey,
) -> None:
    operator = await issue_key(PrincipalKind.OPERATOR, "op-dlq", "联席办值班员")
    marker = f"T{uuid.uuid4().hex[:10]}"
    poison_key = f"poison-{marker}".encode()
    good = Envelope(
        message=intake_pb2.ProjectRegistered(
            project_id=f"p-{marker}",
            occurred_at=to_timestamp(datetime.now(UTC)),
            actor_department=marker,
            name="死信之后的正常登记",
            category=common_pb2.PROJECT_CATEGORY_WATER,
            region_code="370124",
            budget_fen=1000,
        ),
        source="/tests",
        subject=f"p-{marker}",
    )
    value, headers = encode_envelope(good)
    producer = create_producer(settings, client_id="test-poison")
    await producer.start()
    try:
        # Same partition as the good event (same key), so the worker must get past the poison.
        await producer.send_and_wait(
            PROJECT_EVENTS.name,
            value=value[:-1],
            key=good.subject.encode(),  # cuts the budget varint
            headers=headers,
        )
        await producer.send_and_wait(
            PROJECT_EVENTS.name,
            value=b"\xff\x00 not protobuf",
            key=poison_key,
            headers=[("ce_type", b"prt.v1.ProjectRegistered")],
        )
        await producer.send_and_wait(
            PROJECT_EVENTS.name, value=value, key=good.subject.encode(), headers=headers
        )
    finally:
        await producer.stop()

    assert (
        await eventually(
            lambda: registrations_of_department(reporting_api, operator.key, marker),
            lambda n: n == 1,
        )
        == 1
    )
    letters = await eventually(
        lambda: _dead_letter_with_key(settings, poison_key), lambda found: len(found) == 1
    )
    assert "missing CloudEvents header" in letters[0].reason
    assert letters[0].source_topic == PROJECT_EVENTS.name
    truncated = await _dead_letter_with_key(settings, good.subject.encode())
    assert len(truncated) == 1 and "not a valid" in truncated[0].reason
