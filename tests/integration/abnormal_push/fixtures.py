"""Abnormal push's processes, clients and event helpers, shared by its integration and e2e
tests (imported by their conftest.py files). Everything runs on the real broker and Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf.message import Message
from prt.v1 import abnormal_push_pb2, common_pb2
from redis.asyncio import Redis

from services.abnormal_push.domain.deadlines import published_working_day
from services.abnormal_push.read_model import PushReadModel
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.credit_code import check_character
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.ids import new_event_id
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import (
    ABNORMAL_PUSHES,
    ABNORMAL_REPORTS,
    ABNORMAL_WEBHOOKS,
    EVALUATIONS,
    PROJECT_EVENTS,
)
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.dead_letter_review import RedriveRefused, review
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings
from tests.conftest import WORKER_READY, IssueKey
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess, api_process, worker_process

# The worker's own deadline timer is slowed to a day: tests drive the deadline watch with an
# injected clock instead, and the wall clock must not mark their back-dated pushes overdue.
PUSH_ENV = {
    "PRT_ABNORMAL_PUSH_DEADLINE_CHECK_INTERVAL_S": "86400",
    "PRT_ABNORMAL_PUSH_WEBHOOK_BACKOFF_BASE_S": "0.3",
    "PRT_ABNORMAL_PUSH_WEBHOOK_POLL_INTERVAL_S": "0.1",
    # The tests' webhook receivers listen on 127.0.0.1, which production refuses (SSRF guard).
    "PRT_ABNORMAL_PUSH_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
}


def credit_code(seed: str | None = None) -> str:
    digits = f"{uuid.uuid4().int % 10**8:08d}" if seed is None else seed
    first_17 = f"913701{digits[:8]:0>8}XY0"[:17]
    return first_17 + check_character(first_17)


def _run(process: ServiceProcess) -> Iterator[ServiceProcess]:
    process.start()
    try:
        if process.port is not None:
            process.wait_healthy()
        else:
            process.wait_for_log(WORKER_READY, timeout_s=90)
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def push_api(stack_env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    env = {**stack_env, **PUSH_ENV}
    yield from _run(
        api_process("abnormal-push-api", "services.abnormal_push.http_api.app:app", env, log_dir)
    )


@pytest.fixture(scope="session")
def push_worker(stack_env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    env = {**stack_env, **PUSH_ENV}
    yield from _run(
        worker_process("abnormal-push-worker", "services.abnormal_push.stream_worker", env, log_dir)
    )


@pytest.fixture(scope="session")
async def publisher(settings: PlatformSettings) -> AsyncIterator[EventPublisher]:
    await ensure_topics(
        settings,
        [PROJECT_EVENTS, ABNORMAL_REPORTS, ABNORMAL_PUSHES, ABNORMAL_WEBHOOKS, EVALUATIONS],
    )
    producer = create_producer(settings, client_id="abnormal-push-tests")
    await producer.start()
    yield EventPublisher(producer)
    await producer.stop()


@pytest.fixture(scope="session")
async def redis(settings: PlatformSettings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def read_model(redis: Redis) -> PushReadModel:
    return PushReadModel(redis)


Keys = dict[str, str]


@pytest.fixture(scope="session")
async def keys(issue_key: IssueKey) -> Keys:
    """API keys: one per department code used in the tests, plus an operator and a partner."""
    issued: Keys = {}
    for code in ("ZJJ", "JTJ", "SWJ", "YLJ", "CZJ", "GZW", "JYZX", "FGW", "GAJ", "CGJ"):
        issued[code] = (await issue_key(PrincipalKind.DEPARTMENT, code, f"dept {code}")).key
    issued["operator"] = (await issue_key(PrincipalKind.OPERATOR, "duty-1", "值班员")).key
    issued["partner"] = (await issue_key(PrincipalKind.PARTNER, "370300", "淄博")).key
    return issued


def auth(key: str, idempotency_key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return headers


async def publish(
    publisher: EventPublisher, topic: Any, message: Message, key: str, event_id: str | None = None
) -> Envelope[Message]:
    envelope: Envelope[Message] = Envelope(
        message=message, source="/tests/abnormal-push", subject=key, id=event_id or new_event_id()
    )
    await publisher.publish(topic, envelope, key=key)
    return envelope


def report_body(category: str = "HOUSING", **overrides: Any) -> dict[str, Any]:
    return {
        "subjects": [{"kind": "BIDDER", "credit_code": credit_code(), "name": "某建设有限公司"}],
        "project_id": f"p-{uuid.uuid4()}",
        "bid_section_code": "BD01",
        "project_category": category,
        "behaviour_type": "FALSE_MATERIALS",
        "severity": "MEDIUM",
        "description": "投标文件中的业绩证明经核查为伪造",
        "evidence": [{"sha256": "a" * 64, "location": "docstore://evidence/1.pdf"}],
        "act_at": datetime.now(UTC).isoformat(),
        **overrides,
    }


class StandInCalendar:
    """The package's holiday calendar, except that the years from ``unpublished_from`` on are
    not published until the test publishes them (a worker's calendar before a release). Once
    published, a year the package itself lacks has Monday to Friday as working days but New
    Year's Day, a stand-in for the release to come."""

    def __init__(self, unpublished_from: int) -> None:
        self.unpublished_from = unpublished_from
        self.published = False

    def __call__(self, day: date) -> bool | None:
        if day.year >= self.unpublished_from and not self.published:
            return None
        working = published_working_day(day)
        if working is None:
            return day.weekday() < 5 and (day.month, day.day) != (1, 1)
        return working


def report_event(
    report_id: str,
    filed_at: datetime,
    category: int = common_pb2.PROJECT_CATEGORY_HOUSING,
) -> abnormal_push_pb2.AbnormalReportFiled:
    """A MEDIUM report filed by the trading centre, as the report topic carries it."""
    return abnormal_push_pb2.AbnormalReportFiled(
        report_id=report_id,
        occurred_at=to_timestamp(filed_at),
        actor_department="JYZX",
        source=abnormal_push_pb2.REPORT_SOURCE_MANUAL,
        subjects=[
            abnormal_push_pb2.Subject(
                kind=abnormal_push_pb2.SUBJECT_KIND_BIDDER,
                organisation=common_pb2.OrganisationRef(
                    name="逾期测试公司", unified_social_credit_code=credit_code()
                ),
            )
        ],
        project_id="p-holiday",
        behaviour_type=abnormal_push_pb2.BEHAVIOUR_TYPE_FALSE_MATERIALS,
        severity=abnormal_push_pb2.SEVERITY_MEDIUM,
        description="节前报送",
        act_at=to_timestamp(filed_at),
        project_category=category,  # type: ignore[arg-type]
    )


async def inbox(
    client: httpx.AsyncClient, api: ServiceProcess, key: str, **params: str
) -> list[dict[str, Any]]:
    response = await client.get(f"{api.base_url}/v1/pushes", headers=auth(key), params=params)
    assert response.status_code == 200, response.text
    pushes: list[dict[str, Any]] = response.json()
    return pushes


async def wait_for_pushes(
    client: httpx.AsyncClient,
    api: ServiceProcess,
    key: str,
    report_id: str,
    *,
    count: int = 1,
    accept: Callable[[list[dict[str, Any]]], bool] | None = None,
    timeout_s: float = 30.0,
) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]]:
        return [p for p in await inbox(client, api, key) if p["report_id"] == report_id]

    return await eventually(
        probe, accept or (lambda found: len(found) >= count), timeout_s=timeout_s
    )


WaitFor = Callable[..., Awaitable[list[dict[str, Any]]]]


async def dead_letter_reasons(settings: PlatformSettings, consumer: str, key: bytes) -> list[str]:
    """The dlq-reason of every record with ``key`` on ``consumer``'s dead-letter topic."""
    try:
        found = await review(settings, consumer, all_letters=True)
    except RedriveRefused:  # the consumer has not set anything aside yet
        return []
    return [letter.reason for letter in found.letters if letter.key == key]
