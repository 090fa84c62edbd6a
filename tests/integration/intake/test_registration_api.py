"""Registration through the real intake API process, on the real broker and Redis: every
refusal with its reason, Idempotency-Key replays (also concurrent) emitting one event, unique
unified deal codes, reading projects back."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prt.v1 import intake_pb2

from services.platform_core.auth.api_keys import ApiKeyStore
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.settings import PlatformSettings
from tests.conftest import IssueKey
from tests.integration.intake.conftest import (
    CHANGQING,
    Department,
    events_of,
    registration_body,
)
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration


async def _post(
    api: ServiceProcess, dept: Department, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.post(
            f"{api.base_url}/v1/projects", json=body, headers=dept.headers(key)
        )


def _problems(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {d["field"]: d["problem"] for d in response.json()["details"]}


async def test_registration_is_accepted_with_derived_fields_and_read_back(
    intake_api: ServiceProcess, changqing_dept: Department
) -> None:
    body = registration_body(
        key_project=True,
        green_channel=True,
        deficiency={"missing_documents": ["建设工程规划许可证"], "supplement_working_days": 3},
        commitment_pledged=True,
    )
    response = await _post(intake_api, changqing_dept, body)
    assert response.status_code == 201, response.text
    accepted = response.json()
    assert accepted["registering_department"] == changqing_dept.code  # from the key
    # 房建 → 住建局, from the routing data: its branch in the project's region, 长清区.
    assert accepted["supervise_dept_code"] == "ZJJ-CQ"
    assert accepted["unified_deal_code"].startswith(f"JN-{CHANGQING}-")
    assert accepted["state"] == "REGISTERED"
    assert accepted["outstanding_documents"] == ["建设工程规划许可证"]
    # Counted from today: a date, or (while chinese-calendar lacks the year it falls in) pending
    # with the reason; tests/integration/intake/test_pending_deadline.py holds the pending case.
    assert accepted["supplement_working_days"] == 3
    assert bool(accepted["supplement_deadline"]) != accepted["supplement_deadline_pending"]
    async with httpx.AsyncClient(timeout=10) as client:
        detail = await client.get(
            f"{intake_api.base_url}/v1/projects/{accepted['project_id']}",
            headers={"X-API-Key": changqing_dept.key},
        )
        listed = await client.get(
            f"{intake_api.base_url}/v1/projects",
            params={"region_code": CHANGQING, "state": "REGISTERED", "limit": 500},
            headers={"X-API-Key": changqing_dept.key},
        )
    assert detail.status_code == 200, detail.text
    assert [h["type"] for h in detail.json()["history"]] == ["prt.v1.ProjectRegistered"]
    assert accepted["project_id"] in {p["project_id"] for p in listed.json()["projects"]}


async def test_key_projects_and_those_bound_to_tender_are_listed_apart(
    intake_api: ServiceProcess, changqing_dept: Department
) -> None:
    """Supervisors follow 重点项目 end to end and the tenders the law binds: the list filters
    on both, and a project is found under its own values only."""
    key = await _post(
        intake_api,
        changqing_dept,
        registration_body(key_project=True, tender_required_by_law=True, name="重点项目筛选"),
    )
    plain = await _post(
        intake_api, changqing_dept, registration_body(tender_required_by_law=False, name="一般项目")
    )
    assert key.status_code == plain.status_code == 201, (key.text, plain.text)
    ids = {key.json()["project_id"]: "key", plain.json()["project_id"]: "plain"}

    async def listed(**filters: str) -> set[str]:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(
                f"{intake_api.base_url}/v1/projects",
                params={"region_code": CHANGQING, "limit": 500, **filters},
                headers={"X-API-Key": changqing_dept.key},
            )
        assert response.status_code == 200, response.text
        return {ids[p["project_id"]] for p in response.json()["projects"] if p["project_id"] in ids}

    assert await listed(key_project="true") == {"key"}
    assert await listed(key_project="false") == {"plain"}
    assert await listed(tender_required_by_law="true") == {"key"}
    assert await listed(tender_required_by_law="false", key_project="false") == {"plain"}
    assert await listed(tender_required_by_law="true", key_project="false") == set()
    assert await listed() == {"key", "plain"}


async def test_each_refusal_names_its_reason(
    intake_api: ServiceProcess, changqing_dept: Department
) -> None:
    bad_code = await _post(
        intake_api,
        changqing_dept,
        registration_body(tenderer={"name": "某单位", "credit_code": "91110000600037341X"}),
    )
    assert "not a unified social credit code" in _problems(bad_code)["tenderer.credit_code"]
    assert bad_code.json()["code"] == "registration_refused"

    unknown_region = await _post(
        intake_api, changqing_dept, registration_body(region_code="999999")
    )
    assert "unknown region '999999'" in _problems(unknown_region)["region_code"]

    off_catalogue = await _post(
        intake_api, changqing_dept, registration_body(category="RURAL_COLLECTIVE_PROPERTY")
    )
    assert "济南市公共资源交易目录" in _problems(off_catalogue)["category"]

    negative = await _post(intake_api, changqing_dept, registration_body(budget_fen=-100))
    assert "zero or more" in _problems(negative)["budget_fen"]

    for not_integer in (12.5, "1250"):
        response = await _post(
            intake_api, changqing_dept, registration_body(budget_fen=not_integer)
        )
        assert "integer" in _problems(response)["budget_fen"]
        assert response.json()["code"] == "invalid_request"

    for too_much in (2**63, 10**15 + 1):  # int64's overflow was a 500
        response = await _post(intake_api, changqing_dept, registration_body(budget_fen=too_much))
        assert "10万亿元" in _problems(response)["budget_fen"]
        section = {"bid_section_code": "001", "name": "施工", "budget_fen": too_much}
        response = await _post(
            intake_api, changqing_dept, registration_body(bid_sections=[section])
        )
        assert "10万亿元" in _problems(response)["bid_sections.0.budget_fen"]

    too_many = {"missing_documents": ["证"] * 101, "supplement_working_days": 5}
    response = await _post(intake_api, changqing_dept, registration_body(deficiency=too_many))
    assert "at most 100 items" in _problems(response)["deficiency.missing_documents"]

    green = await _post(intake_api, changqing_dept, registration_body(green_channel=True))
    assert "only for key projects" in _problems(green)["green_channel"]

    in_body = await _post(
        intake_api, changqing_dept, registration_body(registering_department="FGW")
    )
    assert "registering_department" in _problems(in_body)


async def test_missing_and_unknown_keys_are_401_and_another_region_is_403(
    intake_api: ServiceProcess, zhangqiu_dept: Department, issue_key: IssueKey
) -> None:
    url = f"{intake_api.base_url}/v1/projects"
    async with httpx.AsyncClient(timeout=10) as client:
        missing = await client.post(
            url, json=registration_body(), headers={"Idempotency-Key": "k1"}
        )
        unknown = await client.post(
            url,
            json=registration_body(),
            headers={"X-API-Key": "prt_000000000000_nope", "Idempotency-Key": "k1"},
        )
        other_region = await client.post(
            url, json=registration_body(), headers=zhangqiu_dept.headers()
        )
        operator = await issue_key(PrincipalKind.OPERATOR, "duty-1", "联席办值班员")
        as_operator = await client.post(
            url,
            json=registration_body(),
            headers={"X-API-Key": operator.key, "Idempotency-Key": "k2"},
        )
        no_idempotency_key = await client.post(
            url, json=registration_body(), headers={"X-API-Key": zhangqiu_dept.key}
        )
    assert missing.status_code == 401
    assert "An API key is required" in missing.json()["message"]
    assert unknown.status_code == 401
    assert "unknown API key" in unknown.json()["message"]
    assert other_region.status_code == 403
    assert other_region.json()["code"] == "forbidden_region"
    assert "may act only for regions 370114, not 370113" in other_region.json()["message"]
    assert as_operator.status_code == 403
    assert no_idempotency_key.status_code == 400
    assert no_idempotency_key.json()["code"] == "idempotency_key_required"


async def test_a_caller_without_a_valid_key_hears_that_before_anything_about_its_body(
    intake_api: ServiceProcess, zhangqiu_dept: Department
) -> None:
    """FastAPI validates a JSON body before the route's dependencies run: without care a
    keyless request with a malformed body got 422 on the lifecycle routes, 401 on the direct
    registration route."""
    malformed = {"Content-Type": "application/json", "Idempotency-Key": "k3"}
    async with httpx.AsyncClient(timeout=10) as client:
        answers = {
            (path, key): await client.post(
                f"{intake_api.base_url}{path}",
                content=b"{bad",
                headers={**malformed, **({"X-API-Key": key} if key else {})},
            )
            for path in ("/v1/projects", "/v1/projects/p1/termination")
            for key in (None, "prt_000000000000_nope", zhangqiu_dept.key)
        }
    for (path, key), answer in answers.items():
        expected = 422 if key == zhangqiu_dept.key else 401
        assert answer.status_code == expected, (path, key, answer.text)
        if expected == 401:
            assert answer.json()["code"] == "unauthenticated"


async def test_five_replays_of_one_key_emit_one_event_even_concurrently(
    intake_api: ServiceProcess, changqing_dept: Department, settings: PlatformSettings
) -> None:
    body = registration_body(name=f"幂等测试项目 {uuid.uuid4()}")
    sequential_key = str(uuid.uuid4())
    sequential = [await _post(intake_api, changqing_dept, body, sequential_key) for _ in range(5)]
    concurrent_key = str(uuid.uuid4())
    concurrent = await asyncio.gather(
        *(_post(intake_api, changqing_dept, body, concurrent_key) for _ in range(5))
    )
    for responses in (sequential, concurrent):
        assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
        assert len({r.json()["project_id"] for r in responses}) == 1
        assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 4
    different = await _post(intake_api, changqing_dept, {**body, "budget_fen": 1}, sequential_key)
    assert different.status_code == 422
    assert different.json()["code"] == "idempotency_key_reused"

    for responses in (sequential, concurrent):
        project_id = responses[0].json()["project_id"]
        events = await events_of(settings, PROJECT_EVENTS, project_id)
        assert len(events) == 1
        assert isinstance(events[0].message, intake_pb2.ProjectRegistered)
        assert events[0].message.actor_department == changqing_dept.code


async def test_a_retry_through_a_rotated_keys_successor_is_the_same_request(
    intake_api: ServiceProcess, key_store: ApiKeyStore, settings: PlatformSettings
) -> None:
    """During a rotation's overlap both keys are valid: a department's system that retries
    with the successor must get the first answer, not a second registration."""
    old = await key_store.issue(
        PrincipalKind.DEPARTMENT, "ZJJ-CQ", "长清区住房和城乡建设局", frozenset({CHANGQING})
    )
    new = await key_store.rotate(old.principal.key_id, overlap=timedelta(hours=1))
    body = registration_body(name=f"轮换密钥重试项目 {uuid.uuid4()}")
    idempotency_key = str(uuid.uuid4())
    first = await _post(intake_api, Department(old.key, "ZJJ-CQ"), body, idempotency_key)
    retried = await _post(intake_api, Department(new.key, "ZJJ-CQ"), body, idempotency_key)
    assert first.status_code == retried.status_code == 201, retried.text
    assert retried.json()["project_id"] == first.json()["project_id"]
    assert retried.headers.get("Idempotent-Replayed") == "true"
    assert len(await events_of(settings, PROJECT_EVENTS, first.json()["project_id"])) == 1
    # Another department's key with the same Idempotency-Key is another request.
    other = await key_store.issue(
        PrincipalKind.DEPARTMENT, "ZJJ", "市住房城乡建设局", frozenset({CHANGQING})
    )
    theirs = await _post(intake_api, Department(other.key, "ZJJ"), body, idempotency_key)
    assert theirs.status_code == 201, theirs.text
    assert theirs.json()["project_id"] != first.json()["project_id"]


async def test_a_unified_deal_code_belongs_to_one_registration(
    intake_api: ServiceProcess, changqing_dept: Department
) -> None:
    code = f"DEAL-{uuid.uuid4().hex[:16]}"
    first = await _post(intake_api, changqing_dept, registration_body(unified_deal_code=code))
    assert first.status_code == 201, first.text
    second = await _post(
        intake_api, changqing_dept, registration_body(unified_deal_code=code, name="另一个项目")
    )
    assert second.status_code == 409
    assert second.json()["code"] == "deal_code_taken"
    assert first.json()["project_id"] in second.json()["message"]


async def test_a_refused_registration_leaves_its_deal_code_free(
    intake_api: ServiceProcess, changqing_dept: Department
) -> None:
    """A budget of 2^63 fen was a 500 after the given code was claimed: the code stayed with a
    project that never existed, and the trade's real registration got 409 for good."""
    code = f"DEAL-{uuid.uuid4().hex[:16]}"
    refused = await _post(
        intake_api, changqing_dept, registration_body(unified_deal_code=code, budget_fen=2**63)
    )
    assert refused.status_code == 422, refused.text
    accepted = await _post(intake_api, changqing_dept, registration_body(unified_deal_code=code))
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["unified_deal_code"] == code


async def test_the_catalogue_is_readable_with_zhangqius_own(
    intake_api: ServiceProcess, zhangqiu_dept: Department
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(
            f"{intake_api.base_url}/v1/catalogue", headers={"X-API-Key": zhangqiu_dept.key}
        )
    assert response.status_code == 200
    regional = {entry["name"]: entry for entry in response.json()["regional"]}
    assert regional["章丘区公共资源交易目录"]["regions"] == ["370114"]
    assert "RURAL_COLLECTIVE_PROPERTY" not in response.json()["default"]["categories"]


async def test_the_openapi_document_carries_chinese_examples(intake_api: ServiceProcess) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{intake_api.base_url}/openapi.json")
    assert response.status_code == 200
    document = response.json()
    schemas = document["components"]["schemas"]
    assert schemas["ProjectCreate"]["examples"][0]["name"] == "长清区文昌街道老旧小区改造工程"
    assert "有效投标人不足三家" in json.dumps(schemas["TerminationCreate"], ensure_ascii=False)
    paths = document["paths"]
    assert "/v1/projects/{project_id}/bids" in paths
    assert "/v1/large-amount-records/imports" in paths
