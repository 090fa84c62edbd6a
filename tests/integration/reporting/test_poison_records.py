"""Records the aggregation worker cannot count go to its dead-letter topic, byte for byte, and
the events after them on the same partition are still counted — with either consumer. An event
it counts nothing from (DeficiencyDeadlineSet) is not dead-lettered."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from google.protobuf.message import DecodeError
from prt.v1 import common_pb2, intake_pb2
from redis.asyncio import Redis

from services.platform_core.events.envelope import Envelope, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import PROJECT_EVENTS, dead_letter_topic
from services.platform_core.kafka.clients import create_consumer, create_producer
from services.platform_core.settings import PlatformSettings
from services.reporting.domain.metrics import REGISTRATIONS, CounterKey
from services.reporting.read_model import MetricsReadModel
from tests.integration.reporting.conftest import fresh_namespace, start_worker
from tests.support.polling import eventually

pytestmark = pytest.mark.integration


def _registration(project: str, department: str) -> tuple[bytes, list[tuple[str, bytes]]]:
    return encode_envelope(
        Envelope(
            message=intake_pb2.ProjectRegistered(
                project_id=project,
                occurred_at=to_timestamp(datetime(2023, 3, 1, 1, tzinfo=UTC)),
                actor_department=department,
                category=common_pb2.PROJECT_CATEGORY_HOUSING,
                region_code="370102",
                budget_fen=100,
            ),
            source="/tests/reporting",
            subject=project,
        )
    )


def _deadline_set(project: str) -> tuple[bytes, list[tuple[str, bytes]]]:
    return encode_envelope(
        Envelope(
            message=intake_pb2.DeficiencyDeadlineSet(
                project_id=project,
                occurred_at=to_timestamp(datetime(2023, 3, 2, 1, tzinfo=UTC)),
                supplement_deadline=common_pb2.LocalDate(year=2023, month=3, day=9),
                supplement_working_days=5,
                counted_from=common_pb2.LocalDate(year=2023, month=3, day=2),
            ),
            source="/tests/reporting",
            subject=project,
        )
    )


def _truncated(value: bytes) -> bytes:
    """The encoding cut short where the decoder refuses it (some cuts still decode)."""
    for cut in range(1, len(value)):
        try:
            intake_pb2.ProjectRegistered.FromString(value[:-cut])
        except DecodeError:
            return value[:-cut]
    raise AssertionError("no truncation fails to decode")


def _poisons(project: str, department: str) -> dict[str, tuple[bytes, list[tuple[str, bytes]]]]:
    value, headers = _registration(project, department)

    def with_header(name: str, new: bytes) -> list[tuple[str, bytes]]:
        return [(n, new if n == name else v) for n, v in headers]

    unknown_category = intake_pb2.ProjectRegistered.FromString(value)
    unknown_category.category = 999  # type: ignore[assignment]
    return {
        "truncated": (_truncated(value), headers),
        "unknown-specversion": (value, with_header("ce_specversion", b"9.9")),
        "foreign-type": (value, with_header("ce_type", b"prt.v1.PushRouted")),
        "uncountable": (unknown_category.SerializeToString(), headers),
    }


@pytest.mark.parametrize("consumer", ["faust", "batch"])
async def test_poison_is_dead_lettered_and_what_follows_is_counted(
    consumer: str, settings: PlatformSettings, stack_env: dict[str, str], log_dir: Path
) -> None:
    namespace = fresh_namespace(consumer)
    department = f"POISON-{uuid.uuid4().hex[:6]}"
    project = f"poison-{department}"  # one key: poisons and good events share a partition
    poisons = _poisons(project, department)
    worker = await asyncio.to_thread(start_worker, namespace, stack_env, log_dir)
    redis = Redis.from_url(settings.redis_url)
    producer = create_producer(settings, client_id="reporting-poison-test")
    await producer.start()
    try:
        # Not poison: an event reporting counts nothing from (a pending 容缺 deadline set), first
        # on the partition, so that were it dead-lettered it would be among the letters read.
        value, headers = _deadline_set(project)
        await producer.send_and_wait(
            PROJECT_EVENTS.name, value=value, key=project.encode(), headers=headers
        )
        for n, (value, headers) in enumerate(poisons.values()):
            await producer.send_and_wait(
                PROJECT_EVENTS.name, value=value, key=project.encode(), headers=headers
            )
            good, good_headers = _registration(f"{project}-{n}", department)
            await producer.send_and_wait(
                PROJECT_EVENTS.name, value=good, key=project.encode(), headers=good_headers
            )
        model = MetricsReadModel(redis, namespace.prefix)
        figure = CounterKey(REGISTRATIONS, (("department", department),))

        async def counted() -> int:
            return (await model.counters(REGISTRATIONS)).get(figure, 0)

        assert await eventually(counted, lambda found: found == len(poisons), timeout_s=120)

        letters = create_consumer(
            settings,
            dead_letter_topic(f"reporting.aggregator.{namespace.consumer_group}").name,
            group_id=None,
            client_id="reporting-poison-test",
        )
        await letters.start()
        try:
            found: dict[bytes, bytes | None] = {}
            while len(found) < len(poisons):
                batch = await asyncio.wait_for(letters.getmany(timeout_ms=1000), timeout=60)
                for records in batch.values():
                    for record in records:
                        # The worker replays the whole log: others' poison is there too.
                        if record.key == project.encode():
                            found[dict(record.headers)["dlq-offset"]] = record.value
        finally:
            await letters.stop()
        assert sorted(v for v in found.values() if v) == sorted(v for v, _ in poisons.values())
    finally:
        await producer.stop()
        worker.stop()
        await redis.aclose()
