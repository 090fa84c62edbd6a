"""A 容缺 registration whose deadline falls in a year the working-day calendar does not cover
yet, on the real broker and Redis: accepted (201) with the deadline pending, and said so in
every view; the deadline watch sets it (DeficiencyDeadlineSet, exactly once) when the calendar
covers the year, not before; replaying the topic (the worker's and the rebuild's projection)
gives the same pending index and view.

The API runs in this process (as in test_direct_registration_route.py) so that the test can
stand in a calendar that does not know 2027 and then does (tests/unit/intake/calendars.py); the
registration is a backfill dated Monday 30 November 2026, so the count does not depend on the
day the test runs: 30 working days are the 23 of December 2026, then (New Year's Day off in the
stand-in 2027) 4-8 and 11-12 January 2027."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from prt.v1 import intake_pb2
from redis.asyncio import Redis

from services.intake.deadlines import DeadlineWatch
from services.intake.http_api.app import app, lifespan
from services.intake.projection import Projector
from services.intake.read_model import DEADLINES, PENDING_DEADLINES, ProjectReadModel
from services.intake.rebuild import wipe
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings, get_settings
from tests.conftest import IssueKey
from tests.integration.intake.conftest import CHANGQING, Department, events_of, registration_body
from tests.support.processes import ServiceProcess
from tests.unit.intake import calendars

pytestmark = pytest.mark.integration

REGISTERED = "2026-11-30T10:00:00+08:00"
DEADLINE = "2027-01-12"
MISSING = ["建设工程规划许可证", "施工图审查合格书"]
ARCHIVE = "ZJJ-CQ-RQ"  # a department of its own: its projects list short, newest first
REPLAY_DB = 15  # a Redis database of this test's own, for the replay


@pytest.fixture
async def intake(
    stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, intake_worker: ServiceProcess
) -> AsyncIterator[httpx.AsyncClient]:
    """The intake API in this process, on the test stack, with the intake worker running."""
    for name, value in stack_env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        async with (
            lifespan(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://intake"
            ) as client,
        ):
            yield client
    finally:
        get_settings.cache_clear()


@pytest.fixture
async def archive_dept(issue_key: IssueKey) -> Department:
    issued = await issue_key(
        PrincipalKind.DEPARTMENT,
        ARCHIVE,
        "长清区住房和城乡建设局（容缺期限测试）",
        frozenset({CHANGQING}),
        backfill=True,
    )
    return Department(issued.key, ARCHIVE)


def _assert_pending(project: dict[str, Any]) -> None:
    assert project["outstanding_documents"] == MISSING
    assert project["supplement_deadline"] is None
    assert project["supplement_working_days"] == 30
    assert project["supplement_deadline_pending"] is True
    assert project["supplement_deadline_pending_reason"] == (
        "the working-day calendar for 2027 is not published yet; the deadline (30 working days "
        "after 2026-11-30) will be set when it is"
    )
    assert project["deadline_breached"] is False


@pytest.fixture
def calendar(monkeypatch: pytest.MonkeyPatch) -> calendars.Calendar:
    return calendars.install(monkeypatch, published_through=2026)


async def test_a_pending_deadline_is_accepted_then_set_once_when_the_calendar_covers_it(  # noqa: PLR0917 - fixtures
    intake: httpx.AsyncClient,
    calendar: calendars.Calendar,
    archive_dept: Department,
    publisher: EventPublisher,
    redis: Redis,
    settings: PlatformSettings,
) -> None:
    project_id = await _register_pending(intake, archive_dept, redis, settings)
    read_model = ProjectReadModel(redis)
    watch = DeadlineWatch(read_model, publisher)
    # The calendar still lacks 2027: no deadline, and no breach, even long after it would be.
    assert project_id not in await watch.set_pending_deadlines(datetime(2026, 12, 3, tzinfo=UTC))
    assert project_id not in await watch.breach_due_deadlines(datetime(2027, 3, 1, tzinfo=UTC))
    view = await read_model.get(project_id)
    assert view is not None and view.supplement_deadline_pending

    calendar.publish(2027)
    set_at = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
    assert project_id in await watch.set_pending_deadlines(set_at)
    # Again, and by a second watch: nothing more.
    assert project_id not in await watch.set_pending_deadlines(set_at)
    again = DeadlineWatch(ProjectReadModel(redis), publisher)
    assert project_id not in await again.set_pending_deadlines(set_at)

    events = await events_of(settings, PROJECT_EVENTS, project_id)
    set_events = [e for e in events if isinstance(e.message, intake_pb2.DeficiencyDeadlineSet)]
    assert len(set_events) == 1
    message = set_events[0].message
    deadline = message.supplement_deadline
    assert f"{deadline.year:04d}-{deadline.month:02d}-{deadline.day:02d}" == DEADLINE
    assert message.supplement_working_days == 30
    counted = message.counted_from
    assert (counted.year, counted.month, counted.day) == (2026, 11, 30)
    assert message.occurred_at.ToDatetime(tzinfo=UTC) == set_at
    assert set_events[0].time == set_at

    detail = await intake.get(f"/v1/projects/{project_id}", headers={"X-API-Key": archive_dept.key})
    project = detail.json()
    assert project["supplement_deadline"] == DEADLINE
    assert project["supplement_deadline_pending"] is False
    assert project["supplement_deadline_pending_reason"] is None
    assert project["supplement_working_days"] == 30
    assert [(h["type"], h["step"]) for h in project["history"]] == [
        ("prt.v1.ProjectRegistered", "REGISTER"),
        ("prt.v1.DeficiencyDeadlineSet", "SET_DEADLINE"),
    ]
    # Out of the pending index, into the deadlines the breach check reads.
    assert await redis.zscore(PENDING_DEADLINES, project_id) is None
    assert await redis.zscore(DEADLINES, project_id) == 20270112
    await _replay(settings, events, await read_model.get(project_id))


async def _register_pending(
    intake: httpx.AsyncClient, dept: Department, redis: Redis, settings: PlatformSettings
) -> str:
    """Registers the project through the API; checks it is pending in every view, in the
    pending index and in its event; its id."""
    body = registration_body(
        name=f"长清区待定期限容缺测试 {uuid.uuid4()}",
        deficiency={"missing_documents": MISSING, "supplement_working_days": 30},
        commitment_pledged=True,
        occurred_at=REGISTERED,
    )
    accepted = await intake.post("/v1/projects", json=body, headers=dept.headers())
    assert accepted.status_code == 201, accepted.text
    _assert_pending(accepted.json())
    project_id: str = accepted.json()["project_id"]
    reader = {"X-API-Key": dept.key}
    detail = await intake.get(f"/v1/projects/{project_id}", headers=reader)
    assert detail.status_code == 200, detail.text
    _assert_pending(detail.json())
    listed = await intake.get(
        "/v1/projects", params={"department": ARCHIVE, "limit": 500}, headers=reader
    )
    [mine] = [p for p in listed.json()["projects"] if p["project_id"] == project_id]
    _assert_pending(mine)
    # Findable by the watch without a scan: the pending index, scored by the day counted from.
    assert await redis.zscore(PENDING_DEADLINES, project_id) == 20261130
    assert await redis.zscore(DEADLINES, project_id) is None
    [registered] = [
        e.message
        for e in await events_of(settings, PROJECT_EVENTS, project_id)
        if isinstance(e.message, intake_pb2.ProjectRegistered)
    ]
    acceptance = registered.deficiency_acceptance
    assert list(acceptance.missing_documents) == MISSING
    assert acceptance.supplement_working_days == 30
    assert not acceptance.HasField("supplement_deadline")
    return project_id


async def _replay(settings: PlatformSettings, events: list[Envelope[Any]], live: object) -> None:
    """The projection the worker and the rebuild use, replaying the project's events into a
    Redis database of the test's own: pending after the registration (and wiped by the
    rebuild's wipe), set after the set, each event applied once however often it comes; the
    view as the live one."""
    project_id = events[0].subject
    # The database goes in the URL: from_url lets the URL's own (/0) win over a db argument,
    # and the flushes below then emptied the whole test stack's Redis (API keys included).
    replay = Redis.from_url(urlunsplit(urlsplit(settings.redis_url)._replace(path=f"/{REPLAY_DB}")))
    assert replay.connection_pool.connection_kwargs["db"] == REPLAY_DB
    try:
        await replay.flushdb()
        projector = Projector(ProjectReadModel(replay))
        await projector.apply(events[0])
        assert await replay.zscore(PENDING_DEADLINES, project_id) == 20261130
        await wipe(replay)
        assert not await replay.exists(PENDING_DEADLINES)
        for envelope in events:
            await projector.apply(envelope)
            await projector.apply(envelope)
        assert await ProjectReadModel(replay).get(project_id) == live
        assert await replay.zscore(PENDING_DEADLINES, project_id) is None
        assert await replay.zscore(DEADLINES, project_id) == 20270112
    finally:
        await replay.flushdb()
        await replay.aclose()
