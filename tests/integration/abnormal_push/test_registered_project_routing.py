"""A report on a project intake registered is routed on the registration, not on what the clerk
typed: a contradiction is refused (422 project_mismatch), fields left out are filled from it; a
project abnormal push has not seen is routed on the report's own fields and flagged. And the
lists refuse a query parameter they do not take instead of ignoring it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from prt.v1 import common_pb2, intake_pb2
from redis.asyncio import Redis

from services.abnormal_push.detection import DetectionState
from services.abnormal_push.domain.detection.model import ProjectFacts
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.kafka.publisher import EventPublisher
from tests.conftest import IssueKey
from tests.integration.abnormal_push.fixtures import (
    Keys,
    auth,
    publish,
    report_body,
    wait_for_pushes,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

ZHANGQIU = "370114"


async def _registered_housing_in_zhangqiu(
    publisher: EventPublisher, redis: Redis, push_worker: ServiceProcess
) -> str:
    """A 章丘区 housing project, registered as intake publishes it, once abnormal push has read
    the registration (the worker keeps it for detection)."""
    project_id = str(uuid.uuid4())
    await publish(
        publisher,
        PROJECT_EVENTS,
        intake_pb2.ProjectRegistered(
            project_id=project_id,
            occurred_at=to_timestamp(datetime.now(UTC)),
            actor_department="ZJJ-ZQ",
            name="章丘区某安置房工程",
            category=common_pb2.PROJECT_CATEGORY_HOUSING,
            region_code=ZHANGQIU,
            trading_method=intake_pb2.TRADING_METHOD_OPEN_TENDER,
            bid_sections=[intake_pb2.BidSection(bid_section_code="001", name="施工")],
        ),
        project_id,
    )
    state = DetectionState(redis)

    async def seen() -> ProjectFacts:
        return await state.project(project_id)

    await eventually(seen, lambda facts: facts.category == "HOUSING", timeout_s=60)
    return project_id


async def _file(
    client: httpx.AsyncClient, api: ServiceProcess, key: str, body: dict[str, object]
) -> httpx.Response:
    return await client.post(
        f"{api.base_url}/v1/reports", json=body, headers=auth(key, str(uuid.uuid4()))
    )


def _without(body: dict[str, object], *fields: str) -> dict[str, object]:
    return {name: value for name, value in body.items() if name not in fields}


def _handlers(filed: dict[str, object]) -> list[object]:
    routed = filed["routed_to"]
    assert isinstance(routed, list)
    return [t["department"] for t in routed if t["role"] == "HANDLER"]


async def test_a_report_on_a_registered_project_is_routed_on_the_registration(
    *,
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    publisher: EventPublisher,
    redis: Redis,
    keys: Keys,
    issue_key: IssueKey,
) -> None:
    project_id = await _registered_housing_in_zhangqiu(publisher, redis, push_worker)
    branch = (
        await issue_key(
            PrincipalKind.DEPARTMENT, "ZJJ-ZQ", "章丘区住房和城乡建设局", frozenset({ZHANGQIU})
        )
    ).key
    async with httpx.AsyncClient(timeout=10) as client:
        wrong_category = await _file(
            client,
            push_api,
            keys["JYZX"],
            report_body("WATER", project_id=project_id, region_code=ZHANGQIU),
        )
        wrong_region = await _file(
            client,
            push_api,
            branch,
            report_body("HOUSING", project_id=project_id, region_code="370102"),
        )
        # The trading centre names the project and leaves category and region out.
        left_out = await _file(
            client,
            push_api,
            keys["JYZX"],
            _without(report_body(project_id=project_id), "project_category", "region_code"),
        )
        assert left_out.status_code == 202, left_out.text
        filed = left_out.json()
        (pushed,) = await wait_for_pushes(client, push_api, branch, filed["report_id"])

    assert wrong_category.status_code == 422, wrong_category.text
    refused = wrong_category.json()
    assert refused["code"] == "project_mismatch"
    assert "HOUSING" in refused["message"] and "370114 章丘区" in refused["message"]
    assert [d["field"] for d in refused["details"]] == ["project_category"]

    assert wrong_region.status_code == 422, wrong_region.text
    assert wrong_region.json()["code"] == "project_mismatch"
    assert [d["field"] for d in wrong_region.json()["details"]] == ["region_code"]
    assert "370114 章丘区" in wrong_region.json()["details"][0]["problem"]

    assert filed["project_registered"] is True
    assert (filed["project_category"], filed["region_code"]) == ("HOUSING", ZHANGQIU)
    assert _handlers(filed) == ["ZJJ-ZQ"]
    assert pushed["role"] == "HANDLER"
    assert pushed["report"]["project_category"] == "HOUSING"
    assert pushed["report"]["region_code"] == ZHANGQIU


async def test_a_report_on_a_project_not_seen_is_routed_on_its_fields_and_flagged(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys
) -> None:
    """应进未进: a project that never entered the platform is still reportable."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await _file(
            client, push_api, keys["JYZX"], report_body("WATER", region_code=ZHANGQIU)
        )
        no_category = await _file(
            client, push_api, keys["JYZX"], _without(report_body(), "project_category")
        )
    assert response.status_code == 202, response.text
    filed = response.json()
    assert filed["project_registered"] is False
    assert (filed["project_category"], filed["region_code"]) == ("WATER", ZHANGQIU)
    assert _handlers(filed) == ["SWJ-ZQ"]
    # Nothing to fill a left-out category from: refused, saying why.
    assert no_category.status_code == 422, no_category.text
    assert no_category.json()["code"] == "report_refused"
    assert [d["field"] for d in no_category.json()["details"]] == ["project_category"]


async def test_a_list_refuses_a_query_parameter_it_does_not_take(
    push_api: ServiceProcess, keys: Keys
) -> None:
    base = push_api.base_url
    async with httpx.AsyncClient(timeout=10) as client:
        typo = await client.get(
            f"{base}/v1/pushes", params={"statuss": "ROUTED"}, headers=auth(keys["ZJJ"])
        )
        spelt = await client.get(
            f"{base}/v1/pushes", params={"status": "ROUTED"}, headers=auth(keys["ZJJ"])
        )
        deliveries = await client.get(
            f"{base}/v1/webhooks/deliveries", params={"limt": "5"}, headers=auth(keys["ZJJ"])
        )
        counts = await client.get(
            f"{base}/v1/pushes/counts", params={"department": "ZJJ"}, headers=auth(keys["ZJJ"])
        )
        no_key = await client.get(f"{base}/v1/pushes", params={"statuss": "ROUTED"})
    assert typo.status_code == 422, typo.text
    assert typo.json()["code"] == "unknown_query_parameter"
    assert [d["field"] for d in typo.json()["details"]] == ["query.statuss"]
    for accepted in ("status", "since", "until", "department", "limit", "cursor"):
        assert accepted in typo.json()["message"]
    assert spelt.status_code == 200, spelt.text
    assert deliveries.status_code == 422 and "limit" in deliveries.json()["message"]
    assert counts.status_code == 422 and "takes none" in counts.json()["message"]
    assert no_key.status_code == 401, no_key.text
