"""A 容缺 deadline against the steps that come after it, through the real API, broker and Redis:
a 补正 dated after the deadline, when the watch has not yet recorded the breach (a backfilled
story, or the seconds after midnight before its tick), publishes the breach first, so the breach
is never lost; a project that ends (terminated, awarded, completed) is no longer watched, and
one that ends after its deadline passed has the breach recorded first."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from prt.v1 import intake_pb2
from redis.asyncio import Redis

from services.intake.deadlines import DeadlineWatch, breach_event_id
from services.intake.read_model import DEADLINES, ProjectReadModel
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from tests.integration.intake.conftest import Department, events_of, registration_body
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

# Wednesday before 中秋/国庆 2023: 5 working days run to 10 Oct (see test_worker_and_deadlines).
REGISTERED_AT = "2023-09-27T10:00:00+08:00"
DEADLINE = date(2023, 10, 10)
AFTER_THE_WATCH_MISSED_IT = datetime(2023, 10, 11, 4, 0, tzinfo=UTC)  # 12:00, 11 Oct, Jinan
MISSING = "水土保持方案批复"


async def _post(
    api: ServiceProcess, dept: Department, path: str, body: dict[str, Any]
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.post(f"{api.base_url}{path}", json=body, headers=dept.headers())


async def _register(api: ServiceProcess, dept: Department) -> str:
    response = await _post(
        api,
        dept,
        "/v1/projects",
        registration_body(
            name=f"容缺期限测试 {uuid.uuid4()}",
            tender_required_by_law=False,
            deficiency={"missing_documents": [MISSING], "supplement_working_days": 5},
            occurred_at=REGISTERED_AT,
        ),
    )
    assert response.status_code == 201, response.text
    assert response.json()["supplement_deadline"] == DEADLINE.isoformat()
    project_id: str = response.json()["project_id"]
    return project_id


async def _types(settings: PlatformSettings, project_id: str) -> list[str]:
    return [type(e.message).__name__ for e in await events_of(settings, PROJECT_EVENTS, project_id)]


async def test_a_supplement_after_the_deadline_records_the_breach_first(
    intake_api: ServiceProcess,
    changqing_archive: Department,
    publisher: EventPublisher,
    redis: Redis,
    settings: PlatformSettings,
) -> None:
    project_id = await _register(intake_api, changqing_archive)
    late = await _post(
        intake_api,
        changqing_archive,
        f"/v1/projects/{project_id}/supplements",
        {"supplemented_documents": [MISSING], "occurred_at": "2023-10-11T00:00:05+08:00"},
    )
    assert late.status_code == 201, late.text

    events = await events_of(settings, PROJECT_EVENTS, project_id)
    assert [type(e.message).__name__ for e in events] == [
        "ProjectRegistered",
        "DeficiencyDeadlineBreached",
        "DocumentsSupplemented",
    ]
    breach = events[1]
    assert breach.id == breach_event_id(project_id, DEADLINE)  # as the watch would publish it
    assert list(breach.message.outstanding_documents) == [MISSING]
    assert breach.message.occurred_at.ToDatetime(tzinfo=UTC) == datetime(
        2023, 10, 10, 16, 0, tzinfo=UTC
    )
    read_model = ProjectReadModel(redis)
    view = await read_model.get(project_id)
    assert view is not None and view.deadline_breached and view.outstanding_documents == ()
    # The watch, running late, finds nothing more to breach.
    watch = DeadlineWatch(read_model, publisher)
    assert project_id not in await watch.check(AFTER_THE_WATCH_MISSED_IT)
    assert len(await _types(settings, project_id)) == 3

    # In time (on the deadline day, Beijing time): no breach.
    in_time = await _register(intake_api, changqing_archive)
    supplied = await _post(
        intake_api,
        changqing_archive,
        f"/v1/projects/{in_time}/supplements",
        {"supplemented_documents": [MISSING], "occurred_at": "2023-10-10T23:59:00+08:00"},
    )
    assert supplied.status_code == 201, supplied.text
    assert await _types(settings, in_time) == ["ProjectRegistered", "DocumentsSupplemented"]


async def test_a_project_that_ends_is_no_longer_watched(
    intake_api: ServiceProcess,
    changqing_archive: Department,
    publisher: EventPublisher,
    redis: Redis,
    settings: PlatformSettings,
) -> None:
    terminated = await _register(intake_api, changqing_archive)
    assert await redis.zscore(DEADLINES, terminated) is not None
    ended = await _post(
        intake_api,
        changqing_archive,
        f"/v1/projects/{terminated}/termination",
        {
            "reason": "TERMINATED",
            "explanation": "招标人终止",
            "occurred_at": "2023-09-29T10:00:00+08:00",
        },
    )
    assert ended.status_code == 201, ended.text
    assert await redis.zscore(DEADLINES, terminated) is None
    watch = DeadlineWatch(ProjectReadModel(redis), publisher)
    assert terminated not in await watch.check(AFTER_THE_WATCH_MISSED_IT)
    assert await _types(settings, terminated) == ["ProjectRegistered", "ProjectTerminated"]

    # Ended after the deadline passed with the document missing: the breach came first.
    ended_late = await _register(intake_api, changqing_archive)
    late = await _post(
        intake_api,
        changqing_archive,
        f"/v1/projects/{ended_late}/termination",
        {
            "reason": "TERMINATED",
            "explanation": "招标人终止",
            "occurred_at": "2023-10-12T10:00:00+08:00",
        },
    )
    assert late.status_code == 201, late.text
    assert await _types(settings, ended_late) == [
        "ProjectRegistered",
        "DeficiencyDeadlineBreached",
        "ProjectTerminated",
    ]
    assert await redis.zscore(DEADLINES, ended_late) is None
    assert ended_late not in await watch.check(AFTER_THE_WATCH_MISSED_IT)
    breaches = [
        e
        for e in await events_of(settings, PROJECT_EVENTS, ended_late)
        if isinstance(e.message, intake_pb2.DeficiencyDeadlineBreached)
    ]
    assert len(breaches) == 1
