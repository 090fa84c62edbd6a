"""Intake's fixtures: its worker as a real process, department keys, a publisher, a topic
reader."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import Envelope, decode_record
from services.platform_core.events.topics import TopicSpec
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from tests.conftest import WORKER_READY, IssueKey
from tests.support.processes import ServiceProcess, worker_process

ZHANGQIU = "370114"
CHANGQING = "370113"
TENDERER = {"name": "济南市长清区住房和城乡建设局", "credit_code": "91110000600037341L"}


@pytest.fixture(scope="session")
def intake_worker(stack_env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    # The deadline timer stays quiet here: deadline tests call the watch with their own "now".
    env = {**stack_env, "PRT_INTAKE_DEADLINE_CHECK_INTERVAL_S": "86400"}
    process = worker_process("intake-worker", "services.intake.stream_worker", env, log_dir)
    process.start()
    try:
        process.wait_for_log(WORKER_READY)
        yield process
    finally:
        process.stop()


@dataclass(frozen=True)
class Department:
    key: str
    code: str

    def headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        return {"X-API-Key": self.key, "Idempotency-Key": idempotency_key or str(uuid.uuid4())}


@pytest.fixture(scope="session")
async def changqing_dept(issue_key: IssueKey) -> Department:
    issued = await issue_key(
        PrincipalKind.DEPARTMENT, "ZJJ-CQ", "长清区住房和城乡建设局", frozenset({CHANGQING})
    )
    return Department(issued.key, "ZJJ-CQ")


@pytest.fixture(scope="session")
async def changqing_archive(issue_key: IssueKey) -> Department:
    """长清区住建局 entering a tender's history with a key issued with --backfill: a tender's
    steps span weeks (bids until the deadline, opening at it, 3 days of publicity before the
    award), and the trading rules judge each step by its date."""
    issued = await issue_key(
        PrincipalKind.DEPARTMENT,
        "ZJJ-CQ",
        "长清区住房和城乡建设局",
        frozenset({CHANGQING}),
        backfill=True,
    )
    return Department(issued.key, "ZJJ-CQ")


class TenderDates:
    """Dates for a tender's history that ends before now, so a backfill key may state them:
    ``dates.at(days)`` is ``days`` after the start (ISO 8601, UTC)."""

    def __init__(self, days_ago: float = 5) -> None:
        self.start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_ago)

    def at(self, days: float) -> str:
        return (self.start + timedelta(days=days)).isoformat()


@pytest.fixture(scope="session")
async def zhangqiu_dept(issue_key: IssueKey) -> Department:
    issued = await issue_key(
        PrincipalKind.DEPARTMENT, "JYZX-ZQ", "章丘区公共资源交易中心", frozenset({ZHANGQIU})
    )
    return Department(issued.key, "JYZX-ZQ")


@pytest.fixture
async def publisher(settings: PlatformSettings) -> AsyncIterator[EventPublisher]:
    """Publishes events as intake's own services do (the deadline watch, a backfill)."""
    producer = create_producer(settings, client_id="intake-tests")
    await producer.start()
    try:
        yield EventPublisher(producer)
    finally:
        await producer.stop()


def registration_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "长清区文昌街道老旧小区改造工程",
        "category": "HOUSING",
        "region_code": CHANGQING,
        "tenderer": TENDERER,
        "budget_fen": 1_250_000_000,
    }
    body.update(changes)
    return body


async def read_topic(
    settings: PlatformSettings, topic: TopicSpec
) -> list[tuple[bytes, Envelope[Any]]]:
    """Every committed record on the topic now, decoded: (key, envelope)."""
    return [
        (key, decode_record(value, headers))
        for key, value, headers in await raw_records(settings, topic)
    ]


async def raw_records(
    settings: PlatformSettings, topic: TopicSpec
) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    """Every committed record on the topic now: (key, value, headers)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        isolation_level="read_committed",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        count = topic.partitions or settings.topic_partitions
        partitions = [TopicPartition(topic.name, p) for p in range(count)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]] = []
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000, max_records=10_000)
            for tp, messages in batch.items():
                for message in messages:
                    records.append((message.key, message.value, list(message.headers)))
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return records
    finally:
        await consumer.stop()


async def events_of(settings: PlatformSettings, topic: TopicSpec, key: str) -> list[Envelope[Any]]:
    return [envelope for k, envelope in await read_topic(settings, topic) if k == key.encode()]
