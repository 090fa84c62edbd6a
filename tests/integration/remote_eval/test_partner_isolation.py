"""Partner isolation enforced by the broker: a real Kafka started by ``kafka.sh start --secure``
(SASL/SCRAM-SHA-512, KRaft StandardAuthorizer, prefixed ACLs per partner), on a runtime
directory and port of its own so the shared test broker is untouched.

Partner 370300 reads its own stream and writes its own answers; it gets an authorisation error
reading partner 370500's stream, writing 370500's answers, writing its own request stream, or
reading the platform's evaluations log.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
)
from prt.v1 import remote_eval_pb2

from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import (
    EVALUATIONS,
    partner_answers_topic,
    partner_seat_requests_topic,
)
from tests.integration.conftest import BOOTSTRAP_SECURE as BOOTSTRAP
from tests.integration.conftest import PARTNER_A, PARTNER_B
from tests.support.secure_broker import SecureBroker

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def seeded(secure_broker: SecureBroker) -> AsyncIterator[dict[str, str]]:
    """The platform (super user) creates the partner topics and puts a seat request on each."""
    admin = AIOKafkaAdminClient(**secure_broker.sasl("platform"))
    await admin.start()
    specs = [
        *(partner_seat_requests_topic(c) for c in (PARTNER_A, PARTNER_B)),
        *(partner_answers_topic(c) for c in (PARTNER_A, PARTNER_B)),
        EVALUATIONS,
    ]
    try:
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(s.name, s.partitions or 6, 1, topic_configs=s.config())
                        for s in missing
                    ]
                )
    finally:
        await admin.close()
    producer = AIOKafkaProducer(
        **secure_broker.sasl("platform"), acks="all", enable_idempotence=True
    )
    await producer.start()
    markers: dict[str, str] = {}
    try:
        for code in (PARTNER_A, PARTNER_B):
            evaluation_id = f"EV-{code}-{uuid.uuid4().hex[:8]}"
            message = remote_eval_pb2.SeatRequestSent(
                evaluation_id=evaluation_id,
                occurred_at=to_timestamp(datetime.now(UTC)),
                host_centre_code="370100",
                partner_code=code,
                venue_id=f"V-{code}",
                seats=3,
                fee_fen=20_000,
            )
            value, headers = encode_envelope(
                Envelope(message=message, source="prt/test", subject=evaluation_id)
            )
            await producer.send_and_wait(
                partner_seat_requests_topic(code).name,
                value=value,
                key=evaluation_id.encode(),
                headers=headers,
            )
            markers[code] = evaluation_id
        yield markers
    finally:
        await producer.stop()


async def _read_all(broker: SecureBroker, user: str, topic: str, group: str | None) -> list[str]:
    """Subjects of the records on ``topic`` as ``user`` reads them (subscribing, as a partner's
    client does): the broker's authorisation error surfaces from start or the fetch."""
    consumer = AIOKafkaConsumer(
        topic,
        **broker.sasl(user),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=10_000,
    )
    try:
        await consumer.start()
        subjects: list[str] = []
        for _ in range(10):
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                subjects += [decode_record(r.value, r.headers).subject for r in records]
            if subjects:
                break
        return subjects
    finally:
        await consumer.stop()


async def test_a_partner_reads_its_own_stream(
    secure_broker: SecureBroker, seeded: dict[str, str]
) -> None:
    subjects = await _read_all(
        secure_broker,
        f"partner-{PARTNER_A}",
        partner_seat_requests_topic(PARTNER_A).name,
        group=f"partner.{PARTNER_A}.scheduler-client",
    )
    assert seeded[PARTNER_A] in subjects


async def test_a_partner_cannot_read_another_partners_stream(
    secure_broker: SecureBroker, seeded: dict[str, str]
) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await _read_all(
            secure_broker,
            f"partner-{PARTNER_A}",
            partner_seat_requests_topic(PARTNER_B).name,
            group=None,
        )
    with pytest.raises(TopicAuthorizationFailedError):
        await _read_all(secure_broker, f"partner-{PARTNER_A}", EVALUATIONS.name, group=None)
    # ...while partner B, with its own credentials, reads its stream.
    subjects = await _read_all(
        secure_broker,
        f"partner-{PARTNER_B}",
        partner_seat_requests_topic(PARTNER_B).name,
        group=None,
    )
    assert seeded[PARTNER_B] in subjects


async def test_a_partner_cannot_use_another_prefix_for_its_consumer_group(
    secure_broker: SecureBroker, seeded: dict[str, str]
) -> None:
    with pytest.raises((GroupAuthorizationFailedError, TopicAuthorizationFailedError)):
        await _read_all(
            secure_broker,
            f"partner-{PARTNER_A}",
            partner_seat_requests_topic(PARTNER_A).name,
            group=f"partner.{PARTNER_B}.stolen",
        )


async def test_a_partner_writes_only_its_own_answers(
    secure_broker: SecureBroker, seeded: dict[str, str]
) -> None:
    producer = AIOKafkaProducer(
        **secure_broker.sasl(f"partner-{PARTNER_A}"),
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=10_000,
    )
    await producer.start()
    try:
        answer = remote_eval_pb2.PartnerVenueDecision(
            evaluation_id=seeded[PARTNER_A],
            partner_code=PARTNER_A,
            venue_id=f"V-{PARTNER_A}",
            decision=remote_eval_pb2.VENUE_DECISION_ACCEPTED,
        )
        value, headers = encode_envelope(
            Envelope(message=answer, source=f"partner/{PARTNER_A}", subject=seeded[PARTNER_A])
        )
        own = await producer.send_and_wait(
            partner_answers_topic(PARTNER_A).name, value=value, key=b"k", headers=headers
        )
        assert own.offset >= 0
        for forbidden in (
            partner_answers_topic(PARTNER_B).name,
            partner_seat_requests_topic(PARTNER_A).name,
            EVALUATIONS.name,
        ):
            with pytest.raises(TopicAuthorizationFailedError):
                await producer.send_and_wait(forbidden, value=value, key=b"k", headers=headers)
    finally:
        await producer.stop()


async def test_a_wrong_password_or_no_sasl_is_refused(secure_broker: SecureBroker) -> None:
    # aiokafka reports the broker's SaslAuthenticationFailed as a failed bootstrap.
    wrong = {**secure_broker.sasl(f"partner-{PARTNER_A}"), "sasl_plain_password": "wrong"}
    for settings in (wrong, {"bootstrap_servers": BOOTSTRAP}):
        consumer = AIOKafkaConsumer(
            partner_seat_requests_topic(PARTNER_A).name, **settings, request_timeout_ms=5000
        )
        with pytest.raises(KafkaConnectionError):
            await consumer.start()
        await consumer.stop()
