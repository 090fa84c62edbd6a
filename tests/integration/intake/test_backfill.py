"""Historical records through the real API: a backfill key states when each act happened, the
events and the read model carry that time, and everyone else is refused with the reason."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from prt.v1 import intake_pb2
from redis.asyncio import Redis

from services.intake.deadlines import DeadlineWatch
from services.intake.read_model import ProjectReadModel
from services.platform_core.events.topics import LARGE_AMOUNT_RECORDS, PROJECT_EVENTS
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from tests.integration.intake.conftest import (
    CHANGQING,
    Department,
    events_of,
    registration_body,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

EVIDENCE = {"sha256": "b" * 64, "location": "docstore://jyzx/2023/zbwj.pdf"}
PRE_PUBLICATION = {"document": EVIDENCE, "comments_close_at": "2023-03-10T17:00:00+08:00"}


async def _post(
    api: ServiceProcess, dept: Department, path: str, body: dict[str, Any]
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.post(f"{api.base_url}{path}", json=body, headers=dept.headers())


def _body(**changes: Any) -> dict[str, Any]:
    return registration_body(name=f"回填测试 {uuid.uuid4()}", **changes)


async def test_a_backfilled_project_carries_its_own_dates(
    intake_api: ServiceProcess,
    intake_worker: ServiceProcess,
    changqing_archive: Department,
    settings: PlatformSettings,
) -> None:
    registered = await _post(
        intake_api,
        changqing_archive,
        "/v1/projects",
        _body(occurred_at="2023-03-01T09:30:00+08:00"),
    )
    assert registered.status_code == 201, registered.text
    project = registered.json()
    project_id = project["project_id"]
    assert project["registered_at"].startswith("2023-03-01T01:30:00")
    assert "-20230301-" in project["unified_deal_code"]

    # A step may not be dated before the project's last step ...
    early = await _post(
        intake_api,
        changqing_archive,
        f"/v1/projects/{project_id}/pre-publication",
        {**PRE_PUBLICATION, "occurred_at": "2023-02-27T10:00:00+08:00"},
    )
    assert early.status_code == 422, early.text
    assert early.json()["code"] == "occurred_at_before_last_step"
    # ... and is recorded at the stated time when it follows it.
    later = await _post(
        intake_api,
        changqing_archive,
        f"/v1/projects/{project_id}/pre-publication",
        {**PRE_PUBLICATION, "occurred_at": "2023-03-03T10:00:00+08:00"},
    )
    assert later.status_code == 201, later.text

    events = await eventually(
        lambda: events_of(settings, PROJECT_EVENTS, project_id), lambda found: len(found) == 2
    )
    stamped = [e.message.occurred_at.ToDatetime(tzinfo=UTC) for e in events]
    assert stamped == [
        datetime(2023, 3, 1, 1, 30, tzinfo=UTC),
        datetime(2023, 3, 3, 2, 0, tzinfo=UTC),
    ]


async def test_only_backfill_keys_may_state_the_time_and_only_a_usable_one(
    intake_api: ServiceProcess, changqing_dept: Department, changqing_archive: Department
) -> None:
    live = await _post(
        intake_api, changqing_dept, "/v1/projects", _body(occurred_at="2023-03-01T09:30:00+08:00")
    )
    assert live.status_code == 403, live.text
    assert live.json()["code"] == "backfill_not_permitted"
    assert "--backfill" in live.json()["message"]

    for stated, code in [
        ("2023-03-01T09:30:00", "occurred_at_without_offset"),
        ("2099-01-01T00:00:00+08:00", "occurred_at_in_future"),
        ("2001-01-01T00:00:00+08:00", "occurred_at_too_early"),
    ]:
        refused = await _post(
            intake_api, changqing_archive, "/v1/projects", _body(occurred_at=stated)
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == code


async def test_a_backfilled_deadline_met_a_moment_later_is_not_breached(
    intake_api: ServiceProcess,
    intake_worker: ServiceProcess,
    changqing_archive: Department,
    settings: PlatformSettings,
    redis: Redis,
) -> None:
    deficiency = {"missing_documents": ["施工图审查合格书"], "supplement_working_days": 5}
    met, missed = [
        (
            await _post(
                intake_api,
                changqing_archive,
                "/v1/projects",
                _body(occurred_at="2023-03-01T09:30:00+08:00", deficiency=deficiency),
            )
        ).json()["project_id"]
        for _ in range(2)
    ]
    read_model = ProjectReadModel(redis)
    await eventually(lambda: read_model.get(missed), lambda view: view is not None)
    producer = create_producer(settings, client_id="test-backfill-watch")
    await producer.start()
    try:
        watch = DeadlineWatch(read_model, EventPublisher(producer), settle_seconds=1.0)
        now = datetime.now(UTC)
        # The first check finds both deadlines (8 March 2023) long past, and waits.
        first = await watch.check(now)
        assert met not in first and missed not in first
        supplemented = await _post(
            intake_api,
            changqing_archive,
            f"/v1/projects/{met}/supplements",
            {
                "supplemented_documents": ["施工图审查合格书"],
                "occurred_at": "2023-03-06T10:00:00+08:00",
            },
        )
        assert supplemented.status_code == 201, supplemented.text
        await asyncio.sleep(1.1)
        breached = await watch.check(datetime.now(UTC))
    finally:
        await producer.stop()
    assert missed in breached and met not in breached
    view = await read_model.get(missed)
    assert view is not None and view.supplement_deadline == date(2023, 3, 8)
    events = await events_of(settings, PROJECT_EVENTS, missed)
    breaches = [
        e.message for e in events if isinstance(e.message, intake_pb2.DeficiencyDeadlineBreached)
    ]
    assert [b.occurred_at.ToDatetime(tzinfo=UTC) for b in breaches] == [
        datetime(2023, 3, 8, 16, 0, tzinfo=UTC)
    ]


async def test_a_historical_pull_of_large_amount_records_is_dated_when_it_happened(
    intake_api: ServiceProcess,
    changqing_archive: Department,
    changqing_dept: Department,
    settings: PlatformSettings,
) -> None:
    run = uuid.uuid4().hex[:8].upper()
    lines = [
        json.dumps(
            {
                "unified_deal_code": f"BACKFILL-{run}-{n}",
                "name": f"长清区大额交易项目{n}",
                "category": "HOUSING",
                "region_code": CHANGQING,
                "amount_fen": 800_000_000,
                "deal_at": "2023-02-14T10:00:00+08:00",
                "tenderer_name": "济南某建设单位",
                "tenderer_credit_code": "91110000600037341L",
            },
            ensure_ascii=False,
        )
        for n in range(3)
    ]

    async def pull(dept: Department) -> httpx.Response:
        async with httpx.AsyncClient(timeout=60) as client:
            return await client.post(
                f"{intake_api.base_url}/v1/large-amount-records/imports",
                params={"source_level": "county", "occurred_at": "2023-03-31T17:00:00+08:00"},
                content="\n".join(lines).encode(),
                headers={**dept.headers(), "Content-Type": "application/x-ndjson"},
            )

    refused = await pull(changqing_dept)
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "backfill_not_permitted"
    imported = await pull(changqing_archive)
    assert imported.status_code == 200, imported.text
    assert imported.json()["imported"] == 3, imported.text
    for n in range(3):
        events = await events_of(settings, LARGE_AMOUNT_RECORDS, f"BACKFILL-{run}-{n}")
        assert [e.message.occurred_at.ToDatetime(tzinfo=UTC) for e in events] == [
            datetime(2023, 3, 31, 9, 0, tzinfo=UTC)
        ]
