"""Dead letters reviewed and re-driven (services/platform_core/kafka/dead_letter_review.py)
against the real broker and the real reporting worker: a registration set aside goes back to
its topic and is counted once, however often it is re-driven; a letter that cannot go back
stops the re-drive until it is passed over; a letter behind a newer record of its key is warned
of, and refused onto a compacted topic unless the operator overwrites on purpose."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from google.protobuf.message import Message
from prt.v1 import intake_pb2, remote_eval_pb2

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import Envelope, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import (
    EXPERT_REGISTRY,
    PROJECT_EVENTS,
    VENUE_CAPACITY,
    dead_letter_topic,
)
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.dead_letter_cli import parse
from services.platform_core.kafka.dead_letter_review import RedriveRefused, redrive, review
from services.platform_core.kafka.dead_letters import DeadLetterPublisher, SourceRecord
from services.platform_core.kafka.partitioning import murmur2
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings
from tests.conftest import IssueKey
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess
from tests.support.project_events import registration
from tests.support.reporting_figures import registrations_of_department

pytestmark = pytest.mark.integration


def _on_the_partition_of(
    first: Envelope[intake_pb2.ProjectRegistered], settings: PlatformSettings, department: str
) -> Envelope[intake_pb2.ProjectRegistered]:
    """Another registration whose key Kafka places on ``first``'s partition."""
    partitions = PROJECT_EVENTS.partitions or settings.topic_partitions

    def partition(envelope: Envelope[intake_pb2.ProjectRegistered]) -> int:
        return (murmur2(envelope.subject.encode()) & 0x7FFFFFFF) % partitions

    while partition(later := registration(department)) != partition(first):
        pass
    return later


async def _set_aside(
    settings: PlatformSettings,
    consumer: str,
    topic: str,
    *envelopes: Envelope[intake_pb2.ProjectRegistered],
) -> None:
    """Each envelope dead-lettered by ``consumer`` as if it had read it from ``topic``."""
    producer = create_producer(settings, client_id="test-redrive")
    await producer.start()
    try:
        publisher = DeadLetterPublisher(producer, consumer)
        for n, envelope in enumerate(envelopes):
            value, headers = encode_envelope(envelope)
            record = SourceRecord(topic, 0, 1000 + n, envelope.subject.encode(), value, headers)
            await publisher.send(record, "region 370124 missing from the reference data")
    finally:
        await producer.stop()


async def test_a_letter_goes_back_to_its_topic_and_counts_once(
    settings: PlatformSettings,
    reporting_worker: ServiceProcess,
    reporting_api: ServiceProcess,
    issue_key: IssueKey,
) -> None:
    operator = await issue_key(PrincipalKind.OPERATOR, "op-redrive", "联席办值班员")
    marker = f"R{uuid.uuid4().hex[:10]}"
    consumer = f"tests.redrive-{marker}"

    def counted() -> Awaitable[int]:
        return registrations_of_department(reporting_api, operator.key, marker)

    await ensure_topics(settings, [dead_letter_topic(consumer)])
    first = registration(marker)
    later = _on_the_partition_of(first, settings, marker)
    await _set_aside(settings, consumer, PROJECT_EVENTS.name, first)
    await _set_aside(settings, consumer, "tests.no-such-topic.v1", registration(marker))

    # The review: both letters, where they came from and why, never the value.
    found = await review(settings, consumer, all_letters=False)
    assert [letter.offset for letter in found.pending] == [0, 1]
    shown = found.pending[0].summary(redriven=False)
    assert shown["source"] == f"{PROJECT_EVENTS.name}[0]@1000"
    assert (shown["event_type"], shown["event_id"]) == ("prt.v1.ProjectRegistered", first.id)
    assert shown["reason"] == "region 370124 missing from the reference data"
    assert "value" not in shown and shown["value_bytes"] == len(encode_envelope(first)[0])

    # The second letter's topic is not on the broker: nothing goes back, nothing is recorded.
    with pytest.raises(RedriveRefused, match=r"@1: its topic tests.no-such-topic.v1 is not"):
        await redrive(settings, consumer)
    assert len((await review(settings, consumer, all_letters=False)).pending) == 2

    # A dry run says what would go, and sends nothing.
    dry = await redrive(settings, consumer, skip=[1], dry_run=True)
    assert [letter.offset for letter in dry.redriven] == [0] and dry.redriven_through == 0
    assert len((await review(settings, consumer, all_letters=False)).pending) == 2

    outcome = await redrive(settings, consumer, skip=[1])
    assert [letter.offset for letter in outcome.redriven] == [0]
    assert [letter.offset for letter in outcome.skipped] == [1]
    assert outcome.redriven_through == 2
    assert await eventually(counted, lambda n: n == 1) == 1
    assert (await review(settings, consumer, all_letters=False)).pending == ()
    everything = await review(settings, consumer, all_letters=True)
    assert [letter.offset for letter in everything.letters] == [0, 1]
    assert everything.redriven_through == 2

    # Nothing left: a second re-drive sends nothing.
    assert (await redrive(settings, consumer)).redriven == ()
    # The same event set aside again (a re-drive interrupted before its commit sends it
    # again): it reaches the topic a second time and is still counted once. The later
    # registration, sent after it to the same partition, is the barrier: once it is counted,
    # the copy was read.
    await _set_aside(settings, consumer, PROJECT_EVENTS.name, first, later)
    again = await redrive(settings, consumer)
    assert [letter.event_id for letter in again.redriven] == [first.id, later.id]
    assert await eventually(counted, lambda n: n >= 2) == 2


async def test_operators_review_the_letters_through_the_api(
    settings: PlatformSettings, reporting_api: ServiceProcess, issue_key: IssueKey
) -> None:
    operator = await issue_key(PrincipalKind.OPERATOR, "op-letters", "联席办值班员")
    department = await issue_key(PrincipalKind.DEPARTMENT, "ZJJ", "市住房城乡建设局")
    marker = f"A{uuid.uuid4().hex[:10]}"
    consumer = f"tests.letters-{marker.lower()}"
    await ensure_topics(settings, [dead_letter_topic(consumer)])
    first, second = registration(marker), registration(marker)
    await _set_aside(settings, consumer, PROJECT_EVENTS.name, first, second)
    url = f"{reporting_api.base_url}/v1/operations/dead-letters"
    async with httpx.AsyncClient(timeout=20) as client:

        async def get(path: str, key: str, **params: str | int) -> httpx.Response:
            return await client.get(f"{url}/{path}", params=params, headers={"X-API-Key": key})

        answer = await get(consumer, operator.key, limit=1)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert (body["topic"], body["pending"], body["redriven_through"]) == (
            f"{consumer}.dead-letters.v1",
            2,
            0,
        )
        [newest] = body["letters"]  # newest first, one asked for
        assert (newest["offset"], newest["event_id"], newest["redriven"]) == (1, second.id, False)
        assert newest["reason"] == "region 370124 missing from the reference data"
        assert "value" not in newest
        await redrive(settings, consumer, through=0)
        body = (await get(consumer, operator.key, pending_only="true")).json()
        assert [letter["offset"] for letter in body["letters"]] == [1] and body["pending"] == 1
        assert (await get(consumer, department.key)).status_code == 403
        missing = await get("tests.nobody-here", operator.key)
        assert (missing.status_code, missing.json()["code"]) == (404, "no_dead_letter_topic")
        assert (await get("NOT A CONSUMER!", operator.key)).status_code == 422


async def test_a_consumer_without_dead_letters_is_named(settings: PlatformSettings) -> None:
    await ensure_topics(settings, [dead_letter_topic("remote_eval.scheduler")])
    with pytest.raises(RedriveRefused, match="has no dead-letter topic") as refused:
        await review(settings, "remote-eval.scheduler", all_letters=True)
    # The names that have one are listed (remote_eval's consumer is remote_eval.scheduler,
    # though its topics are remote-eval.*: an operator tried the topics' spelling).
    assert "consumers with one: " in str(refused.value)
    assert "remote_eval.scheduler" in str(refused.value).split("consumers with one: ")[1]


def test_the_command_line_reads_as_documented() -> None:
    args = parse(["redrive", "reporting.aggregator", "--through", "41", "--skip", "7", "--dry-run"])
    assert (args.command, args.consumer, args.through, args.skip, args.dry_run) == (
        "redrive",
        "reporting.aggregator",
        41,
        [7],
        True,
    )
    assert parse(["list", "intake.projector", "--all"]).all


async def _logged(
    settings: PlatformSettings, topic: str, envelope: Envelope[Message]
) -> SourceRecord:
    """``envelope`` written on ``topic`` (keyed by its subject), as a consumer read it."""
    value, headers = encode_envelope(envelope)
    key = envelope.subject.encode()
    producer = create_producer(settings, client_id="test-redrive-order")
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()
    return SourceRecord(topic, sent.partition, sent.offset, key, value, headers)


def _registration(expert_id: str, pool: str, at: datetime) -> Envelope[Message]:
    message = remote_eval_pb2.ExpertRegistered(
        expert_id=expert_id,
        occurred_at=to_timestamp(at),
        pool_code=pool,
        kind=remote_eval_pb2.EXPERT_KIND_TECHNICAL,
        specialties=["RD01"],
        sealed_identity="c2VhbGVk",
    )
    return Envelope(message=message, source="test", subject=expert_id, time=at)


async def test_a_letter_behind_a_newer_record_on_a_compacted_topic_waits_for_the_operator(
    settings: PlatformSettings,
) -> None:
    """remote-eval.experts.v1 is compacted: re-driven, the older registration would become
    its key's newest record and compaction would delete the newer one for good. Refused,
    saying so, until the operator overwrites on purpose."""
    consumer = f"tests.redrive-compacted-{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings, [EXPERT_REGISTRY, dead_letter_topic(consumer)])
    expert_id = f"X-RD{uuid.uuid4().hex[:12].upper()}"
    at = datetime.now(UTC) - timedelta(hours=1)
    old = await _logged(settings, EXPERT_REGISTRY.name, _registration(expert_id, "370300", at))
    newer = _registration(expert_id, "370500", at + timedelta(minutes=5))
    newer_record = await _logged(settings, EXPERT_REGISTRY.name, newer)
    await _dead_lettered(settings, consumer, old)

    with pytest.raises(RedriveRefused, match=r"compacted") as refused:
        await redrive(settings, consumer)
    assert f"first at offset {newer_record.offset}" in str(refused.value)
    assert "--overwrite-newer" in str(refused.value)
    assert len((await review(settings, consumer, all_letters=False)).pending) == 1

    outcome = await redrive(settings, consumer, overwrite_newer=True)
    assert [letter.event_id for letter in outcome.redriven] == [_id_of(old)]
    [warning] = outcome.warnings
    assert "1 later record(s) of its key" in warning


async def test_a_letter_behind_a_newer_record_of_its_key_goes_back_with_a_warning(
    settings: PlatformSettings,
) -> None:
    """remote-eval.venues.v1 keeps every record: the older offer goes back, after the newer
    (remote_eval keeps the latest by ce_time; a consumer that does not would apply it over
    the newer), and the re-drive says so. A letter alone on its key goes without a word."""
    consumer = f"tests.redrive-kept-{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings, [VENUE_CAPACITY, dead_letter_topic(consumer)])
    venue = f"RD-{uuid.uuid4().hex[:10]}"  # a key of its own

    def capacity(seats: int, at: datetime) -> Envelope[Message]:
        message = remote_eval_pb2.VenueCapacityPublished(
            venue_id=venue, occurred_at=to_timestamp(at), partner_code="370300", seats=seats
        )
        return Envelope(message=message, source="test", subject=venue, time=at)

    at = datetime.now(UTC) - timedelta(hours=1)
    old = await _logged(settings, VENUE_CAPACITY.name, capacity(10, at))
    await _logged(settings, VENUE_CAPACITY.name, capacity(4, at + timedelta(minutes=5)))
    await _dead_lettered(settings, consumer, old)
    dry = await redrive(settings, consumer, dry_run=True)
    [warning] = dry.warnings
    assert warning.startswith("@0 ") and "1 later record(s) of its key" in warning
    outcome = await redrive(settings, consumer)
    assert outcome.warnings == dry.warnings and len(outcome.redriven) == 1

    venue = f"RD-{uuid.uuid4().hex[:10]}"  # capacity() publishes for this one now
    alone = await _logged(settings, VENUE_CAPACITY.name, capacity(3, at))
    await _dead_lettered(settings, consumer, alone)
    assert (await redrive(settings, consumer)).warnings == ()


async def _dead_lettered(settings: PlatformSettings, consumer: str, record: SourceRecord) -> None:
    producer = create_producer(settings, client_id="test-redrive-order")
    await producer.start()
    try:
        await DeadLetterPublisher(producer, consumer).send(record, "refused for the test")
    finally:
        await producer.stop()


def _id_of(record: SourceRecord) -> str:
    return dict(record.headers)["ce_id"].decode()


def test_the_command_line_overwrites_newer_records_only_when_told() -> None:
    assert parse(["redrive", "remote_eval.scheduler", "--overwrite-newer"]).overwrite_newer
    assert not parse(["redrive", "remote_eval.scheduler"]).overwrite_newer
