"""The project list as a clerk uses it (found missing by the clerk's review): 容缺 projects whose
补正 is still due, by registration date, with the total; a region the key does not act for is
refused as reading one of its projects is (403, not an empty list); a misspelt filter is refused
naming the accepted ones. On the real stack: the API and Redis."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.integration.intake.conftest import Department, registration_body
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

CHINA = ZoneInfo("Asia/Shanghai")


async def _register(api: ServiceProcess, dept: Department, **changes: Any) -> str:
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.post(
            f"{api.base_url}/v1/projects",
            json=registration_body(name=f"列表筛选测试 {uuid.uuid4()}", **changes),
            headers=dept.headers(),
        )
    assert response.status_code == 201, response.text
    project_id: str = response.json()["project_id"]
    return project_id


async def _list(api: ServiceProcess, dept: Department, **params: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.get(
            f"{api.base_url}/v1/projects", params=params, headers={"X-API-Key": dept.key}
        )


async def test_a_clerk_lists_the_projects_whose_supplement_is_due_by_registration_date(
    intake_api: ServiceProcess, changqing_archive: Department
) -> None:
    # A day of its own in 2019 (history entered with the backfill key): only this test's.
    day = date(2019, 1, 7) + timedelta(days=random.randrange(300))
    at = datetime.combine(day, time(10), CHINA).isoformat()
    deficiency = {"missing_documents": ["施工图审查合格书"], "supplement_working_days": 5}
    deficient = await _register(
        intake_api, changqing_archive, occurred_at=at, deficiency=deficiency
    )
    complete = await _register(intake_api, changqing_archive, occurred_at=at)
    that_day = {"registered_from": day.isoformat(), "registered_until": day.isoformat()}

    both = await _list(intake_api, changqing_archive, **that_day, with_total="true")
    assert both.status_code == 200, both.text
    assert {p["project_id"] for p in both.json()["projects"]} == {deficient, complete}
    assert both.json()["total"] == 2
    due = await _list(
        intake_api,
        changqing_archive,
        **that_day,
        documents_outstanding="true",
        deadline_breached="false",
    )
    assert [p["project_id"] for p in due.json()["projects"]] == [deficient]
    none_missing = await _list(
        intake_api, changqing_archive, **that_day, documents_outstanding="false"
    )
    assert [p["project_id"] for p in none_missing.json()["projects"]] == [complete]
    page = await _list(intake_api, changqing_archive, **that_day, limit=1, with_total="true")
    assert len(page.json()["projects"]) == 1
    assert (page.json()["next_offset"], page.json()["total"]) == (1, 2)
    the_day_before = (day - timedelta(days=1)).isoformat()
    before = await _list(
        intake_api, changqing_archive, registered_until=the_day_before, with_total="true"
    )
    listed = {p["project_id"] for p in before.json()["projects"]}
    assert deficient not in listed and complete not in listed

    backwards = await _list(
        intake_api,
        changqing_archive,
        registered_from=day.isoformat(),
        registered_until=the_day_before,
    )
    assert backwards.status_code == 422, backwards.text


async def test_a_region_the_key_does_not_act_for_and_a_misspelt_filter_are_refused(
    intake_api: ServiceProcess, changqing_dept: Department
) -> None:
    elsewhere = await _list(intake_api, changqing_dept, region_code="370102")
    assert elsewhere.status_code == 403, elsewhere.text
    assert elsewhere.json()["code"] == "forbidden_region"
    misspelt = await _list(intake_api, changqing_dept, regoin_code="370113")
    assert misspelt.status_code == 422, misspelt.text
    body = misspelt.json()
    assert body["code"] == "unknown_query_parameter"
    assert "regoin_code" in body["message"] and "documents_outstanding" in body["message"]
