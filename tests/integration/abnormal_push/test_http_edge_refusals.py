"""Abnormal push's HTTP edge refuses what it cannot take with a 4xx saying why, never a 500:
datetimes at the calendar's edges, a cursor carrying a non-number; it answers no one without
a key; and a department does not read the no-shows held until the award (招标投标法 art. 37).
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prt.v1 import remote_eval_pb2

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import EVALUATIONS
from services.platform_core.kafka.publisher import EventPublisher
from tests.conftest import IssueKey
from tests.integration.abnormal_push.fixtures import Keys, auth, publish, report_body
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

# In UTC, the first lies in year 0 and the second in year 10000: neither can be converted.
EDGES = ("0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00")


@pytest.fixture(scope="module")
async def backfill_key(issue_key: IssueKey) -> str:
    return (await issue_key(PrincipalKind.DEPARTMENT, "JYZX", "迁移 JYZX", backfill=True)).key


@pytest.mark.parametrize("edge", EDGES)
async def test_a_datetime_at_the_calendars_edge_is_refused_with_422(
    push_api: ServiceProcess, keys: Keys, backfill_key: str, edge: str
) -> None:
    async with httpx.AsyncClient(base_url=push_api.base_url, timeout=10) as client:
        act = await client.post(
            "/v1/reports",
            json=report_body(act_at=edge),
            headers=auth(keys["JYZX"], str(uuid.uuid4())),
        )
        occurred = await client.post(
            "/v1/reports",
            json=report_body(occurred_at=edge),
            headers=auth(backfill_key, str(uuid.uuid4())),
        )
        # Bounds of the list without an offset are read in the server's zone.
        bound = await client.get(
            "/v1/pushes", params={"since": edge[:19]}, headers=auth(keys["ZJJ"])
        )
    assert act.status_code == 422, act.text
    assert act.json()["code"] == "act_at_out_of_range"
    assert act.json()["details"] == [
        {"field": "act_at", "problem": "outside the representable range"}
    ]
    assert occurred.status_code == 422, occurred.text
    assert occurred.json()["code"] == "occurred_at_out_of_range"
    assert occurred.json()["details"][0]["field"] == "occurred_at"
    assert bound.status_code < 500, bound.text  # 9999-12-31 without an offset is a time still
    if bound.status_code != 200:
        assert bound.json()["details"][0]["field"] == "since"


@pytest.mark.parametrize("score", ["NaN", "Infinity", "-Infinity", "1e999", "true", "9" * 320])
async def test_a_cursor_that_is_not_a_routing_time_is_refused_with_400(
    push_api: ServiceProcess, keys: Keys, score: str
) -> None:
    raw = f'[{score},"x"]'.encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    async with httpx.AsyncClient(base_url=push_api.base_url, timeout=10) as client:
        response = await client.get(
            "/v1/pushes", params={"cursor": cursor}, headers=auth(keys["operator"])
        )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_cursor"


async def test_departments_are_listed_to_any_key_but_not_without_one(
    push_api: ServiceProcess, keys: Keys
) -> None:
    async with httpx.AsyncClient(base_url=push_api.base_url, timeout=10) as client:
        anonymous = await client.get("/v1/departments")
        answers = [
            await client.get("/v1/departments", headers=auth(keys[who]))
            for who in ("ZJJ", "operator", "partner")
        ]
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.json()["code"] == "unauthenticated"
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert any(d["code"] == "ZJJ" for d in answer.json())


async def test_a_department_does_not_read_the_no_shows_held_until_award(
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    publisher: EventPublisher,
) -> None:
    """An expert absent twice within the window at evaluations whose committees are sealed:
    the no-show is held, and only an operator reads it (expert, evaluation, project)."""
    expert = f"SUP-{uuid.uuid4().hex[:8].upper()}"
    evaluations = [f"ev-{uuid.uuid4()}", f"ev-{uuid.uuid4()}"]
    now = datetime.now(UTC)
    for evaluation, at in zip(evaluations, (now - timedelta(days=30), now), strict=True):
        await publish(
            publisher,
            EVALUATIONS,
            remote_eval_pb2.EvaluationRequested(
                evaluation_id=evaluation,
                occurred_at=to_timestamp(at),
                host_centre_code="370113",
                project_id=f"p-{uuid.uuid4()}",
                bid_section_code="S1",
            ),
            evaluation,
        )
        await publish(
            publisher,
            EVALUATIONS,
            remote_eval_pb2.ExpertAbsenceRecorded(
                evaluation_id=evaluation,
                occurred_at=to_timestamp(at),
                partner_code="370300",
                expert_pseudonym=f"EXP-{evaluation[-8:]}",
                venue_id=f"V-{evaluation[-4:]}",
                supervision_pseudonym=expert,
            ),
            evaluation,
        )

    async with httpx.AsyncClient(base_url=push_api.base_url, timeout=10) as client:

        async def status(key: str) -> dict[str, Any]:
            response = await client.get("/v1/detection/rules", headers=auth(key))
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        def names_the_expert(body: dict[str, Any]) -> bool:
            return expert in json.dumps(body, ensure_ascii=False)

        operator = await eventually(lambda: status(keys["operator"]), names_the_expert)
        department = await status(keys["SWJ"])
    assert any(entry["expert_pseudonym"] == expert for entry in operator["held_until_award"])
    assert department["held_until_award"] == []
    assert not names_the_expert(department)  # nor in the not-applied notes
    assert [r["rule_id"] for r in department["rules"]] == [r["rule_id"] for r in operator["rules"]]
