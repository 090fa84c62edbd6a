"""Poison records on every consumed topic: each stream worker (intake, abnormal_push,
remote_eval, reporting) runs as a real process; six kinds of poison — a well-formed event whose
timestamps lie outside years 1-9999, a truncated protobuf value, a ce_type not allowed on the
topic, an unknown schema version (prt.v99 type), an unsupported CloudEvents spec version, and a
value over the 1 MB event limit — are written to every topic the workers consume, on one
partition (one key per topic), in that order.

Proves: every poison reaches the dead-letter topic of every consumer of its topic, byte for
byte with its headers and a dlq-reason, and the consumer went on past each (the later poisons
on the same partition arrive too); the workers are still running.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from services.platform_core.events.envelope import Envelope, encode_envelope
from services.platform_core.events.message_types import message_class
from services.platform_core.events.topics import (
    ABNORMAL_PUSHES,
    ABNORMAL_REPORTS,
    EVALUATIONS,
    EVENT_TOPICS,
    EXPERT_REGISTRY,
    PROJECT_EVENTS,
    VENUE_CAPACITY,
    TopicSpec,
    dead_letter_topic,
    partner_answers_topic,
)
from services.platform_core.kafka.clients import PRODUCER_SETTINGS
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings
from services.remote_eval.reference import partners
from tests.conftest import WORKER_READY
from tests.support import fault_figures
from tests.support.faults import table
from tests.support.processes import ServiceProcess, worker_process

WORKERS = {
    "intake-worker": "services.intake.stream_worker",
    "abnormal-push-worker": "services.abnormal_push.stream_worker",
    "remote-eval-worker": "services.remote_eval.stream_worker",
    "reporting-worker": "services.reporting.stream_worker",
}
ANSWER_TOPICS = tuple(partner_answers_topic(code) for code in sorted(partners()))
# consumer (dead-letter topic owner) -> the topics it consumes
CONSUMERS: dict[str, tuple[TopicSpec, ...]] = {
    "intake.projector": (PROJECT_EVENTS,),
    "abnormal-push.router": (ABNORMAL_REPORTS,),
    "abnormal-push.projector": (ABNORMAL_PUSHES,),
    "abnormal-push.detector": (PROJECT_EVENTS,),
    "remote_eval.scheduler": (
        EVALUATIONS,
        EXPERT_REGISTRY,
        VENUE_CAPACITY,
        PROJECT_EVENTS,
        *ANSWER_TOPICS,
    ),
    "reporting.aggregator": EVENT_TOPICS,
}
KINDS = (
    "impossible-values",
    "truncated",
    "wrong-type",
    "unknown-version",
    "unknown-specversion",
    "oversized",
)
MAX_WAIT_S = 120.0


@pytest.fixture(scope="module")
def stream_workers(stack_env: dict[str, str], log_dir: Path) -> Iterator[list[ServiceProcess]]:
    # A data directory of their own: workers of the same app started by other tests in this
    # session may still be running (they share the consumer group; both dead-letter alike).
    env = {
        **stack_env,
        "PRT_INTAKE_DEADLINE_CHECK_INTERVAL_S": "86400",
        "PRT_FAUST_DATA_DIR": str(log_dir.parent / "faust-faults"),
    }
    processes = [
        worker_process(f"faults-{name}", module, env, log_dir) for name, module in WORKERS.items()
    ]
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_for_log(WORKER_READY, timeout_s=120)
        yield processes
    finally:
        for process in processes:
            process.stop()


def _sample(ce_type: str) -> Message:
    """A message of the type with its string fields set, so its encoding ends in a string."""
    cls = message_class(ce_type)
    assert cls is not None, ce_type
    message = cls()
    for field in cls.DESCRIPTOR.fields:
        if field.type == FieldDescriptor.TYPE_STRING and isinstance(
            getattr(message, field.name), str
        ):
            setattr(message, field.name, f"poison-{field.name}-0123456789")
    return message


# Consumers that do not read these types at all: they pass the impossible-values poison by
# without looking at it, so there is nothing to reject (that they went on is shown by the
# poisons after it on the partition, which they must dead-letter).
PASSED_BY = {
    ("abnormal-push.detector", "prt.v1.AnnouncementPublished"),
    ("remote_eval.scheduler", "prt.v1.AnnouncementPublished"),
    ("remote_eval.scheduler", "prt.v1.CommitteeUnsealed"),
    ("reporting.aggregator", "prt.v1.PushEscalated"),
    ("reporting.aggregator", "prt.v1.CommitteeUnsealed"),
}


def _first_type(topic: TopicSpec) -> str:
    """The type the well-formed poisons of a topic are made of."""
    return sorted(topic.message_types)[0]


def _impossible(message: Message) -> Message:
    """The message well-formed, with every timestamp far outside years 1-9999: it decodes, but
    no fact has such a time. Sent first on its partition, so a worker that crashes on it
    instead of rejecting it (and rereads it on restart) never reaches the poisons after it."""
    impossible = type(message)()
    impossible.CopyFrom(message)
    for field in impossible.DESCRIPTOR.fields:
        if field.message_type is not None and field.message_type.full_name == (
            "google.protobuf.Timestamp"
        ):
            if field.is_repeated:
                getattr(impossible, field.name).add(seconds=-(10**13))
            else:
                getattr(impossible, field.name).seconds = -(10**13)
    return impossible


def _truncated(message: Message) -> bytes:
    """The message's encoding cut short where the decoder refuses it."""
    value = message.SerializeToString()
    for cut in range(1, len(value)):
        try:
            type(message).FromString(value[:-cut])
        except DecodeError:
            return value[:-cut]
    raise AssertionError(f"no truncation of {type(message).__name__} fails to decode")


def _poisons(topic: TopicSpec, marker: str) -> list[tuple[str, bytes, list[tuple[str, bytes]]]]:
    allowed = _first_type(topic)
    foreign = next(
        t
        for t in sorted(ABNORMAL_PUSHES.message_types | PROJECT_EVENTS.message_types)
        if t not in topic.message_types
    )
    envelope = Envelope(message=_sample(allowed), source="/tests/faults", subject=marker)
    value, headers = encode_envelope(envelope)

    def with_header(name: str, new: bytes) -> list[tuple[str, bytes]]:
        return [(n, new if n == name else v) for n, v in headers]

    foreign_value, foreign_headers = encode_envelope(
        Envelope(message=_sample(foreign), source="/tests/faults", subject=marker)
    )
    unknown = allowed.replace("prt.v1.", "prt.v99.")
    impossible_value, impossible_headers = encode_envelope(
        Envelope(message=_impossible(envelope.message), source="/tests/faults", subject=marker)
    )
    poisons = [
        ("impossible-values", impossible_value, impossible_headers),
        ("truncated", _truncated(envelope.message), headers),
        ("wrong-type", foreign_value, foreign_headers),
        ("unknown-version", value, with_header("ce_type", unknown.encode())),
        ("unknown-specversion", value, with_header("ce_specversion", b"9.9")),
        ("oversized", b"\x0a" + b"\xff" * 1_000_100, headers),
    ]
    return [(kind, v, [*h, ("poison-kind", kind.encode())]) for kind, v, h in poisons]


async def _dead_letters(
    settings: PlatformSettings, consumer_name: str, marker: str
) -> list[tuple[str, str, bytes]]:
    """(poison kind, source topic, dlq-reason) of this run's records in the consumer's DLQ."""
    spec = dead_letter_topic(consumer_name)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_bytes=8_000_000,
        max_partition_fetch_bytes=4_000_000,
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(spec.name, p)
            for p in range(spec.partitions or settings.topic_partitions)
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[tuple[str, str, bytes]] = []
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    if record.key is None or not record.key.decode(errors="replace").startswith(
                        marker
                    ):
                        continue
                    headers = dict(record.headers)
                    found.append(
                        (
                            headers.get("poison-kind", b"?").decode(),
                            headers.get("dlq-topic", b"?").decode(),
                            headers.get("dlq-reason", b""),
                        )
                    )
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return found
    finally:
        await consumer.stop()


@pytest.mark.integration
async def test_poison_on_every_consumed_topic_is_dead_lettered_and_processing_goes_on(
    settings: PlatformSettings, stream_workers: list[ServiceProcess]
) -> None:
    marker = f"poison-{uuid.uuid4().hex[:8]}"
    topics = {spec.name: spec for specs in CONSUMERS.values() for spec in specs}
    await ensure_topics(settings, topics.values())
    # max_request_size: the oversized poison (over the platform's 1 MB event limit, under the
    # broker's message limit) must reach the broker.
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id="faults-poison",
        max_request_size=2_000_000,
        **PRODUCER_SETTINGS,
    )
    await producer.start()
    try:
        for spec in topics.values():
            for _, value, headers in _poisons(spec, f"{marker}:{spec.name}"):
                await producer.send_and_wait(
                    spec.name, value=value, key=f"{marker}:{spec.name}".encode(), headers=headers
                )
    finally:
        await producer.stop()

    expected = {
        consumer: {
            (kind, spec.name)
            for spec in specs
            for kind in KINDS
            if not (kind == "impossible-values" and (consumer, _first_type(spec)) in PASSED_BY)
        }
        for consumer, specs in CONSUMERS.items()
    }
    deadline = time.monotonic() + MAX_WAIT_S
    found: dict[str, list[tuple[str, str, bytes]]] = {}
    while True:
        found = {c: await _dead_letters(settings, c, marker) for c in CONSUMERS}
        done = all({(k, t) for k, t, _ in found[c]} >= expected[c] for c in CONSUMERS)
        if done or time.monotonic() > deadline:
            break
        await asyncio.sleep(2.0)

    rows = []
    for consumer, wanted in expected.items():
        got = {(k, t) for k, t, _ in found[consumer]}
        rows.append(
            [
                consumer,
                len(CONSUMERS[consumer]),
                len(wanted),
                len(got & wanted),
                len(found[consumer]) - len(got),
                len(wanted - got),
            ]
        )
    print(f"\n== Poison records ({len(KINDS)} kinds on {len(topics)} topics)")
    print(table(["consumer", "topics", "poisons sent", "dead-lettered", "twice", "missing"], rows))
    for consumer, wanted in expected.items():
        for kind, topic in sorted(wanted - {(k, t) for k, t, _ in found[consumer]}):
            print(f"  MISSING {consumer}: {kind} on {topic}")

    sent = sum(len(wanted) for wanted in expected.values())
    missing = sum(
        len(wanted - {(k, t) for k, t, _ in found[consumer]})
        for consumer, wanted in expected.items()
    )
    fault_figures.record(
        "poison records",
        passed=missing == 0,
        sent=sent,
        found_once=sent - missing,
        lost=missing,
        note=f"{len(KINDS)} kinds on {len(topics)} topics; found once = dead-lettered",
    )
    for process in stream_workers:
        process.check_alive()
    for consumer, wanted in expected.items():
        letters = {(k, t) for k, t, _ in found[consumer]}
        assert letters >= wanted, f"{consumer} did not dead-letter {sorted(wanted - letters)[:5]}"
        assert all(reason for _, _, reason in found[consumer]), "a dead letter without a reason"
