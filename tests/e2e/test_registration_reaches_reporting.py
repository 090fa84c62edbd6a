"""A department registers projects over HTTP; the operator reads the counts from reporting."""

from __future__ import annotations

import uuid
from collections import Counter

import httpx
import pytest

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.topics import EVENT_TOPICS
from services.platform_core.settings import PlatformSettings
from services.reporting.settings import DEFAULT_CONSUMER_GROUP
from tests.conftest import IssueKey
from tests.support.consumer_lag import wait_until_caught_up
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

REGISTRATIONS = [
    ("370113", "HOUSING", 1_250_000_000),
    ("370113", "WATER", 88_000_000),
    ("370115", "HOUSING", 45_600_00),
    ("370117", "RURAL_COLLECTIVE_PROPERTY", 1_200_000),
]


async def _by_region(
    client: httpx.AsyncClient, reporting: ServiceProcess, operator_key: str
) -> dict[str, int]:
    response = await client.get(
        f"{reporting.base_url}/v1/metrics",
        params={"metric": "registrations", "by": "region"},
        headers={"Authorization": f"Bearer {operator_key}"},
    )
    response.raise_for_status()
    return {c["dimensions"]["region"]: c["value"] for c in response.json()["counters"]}


async def _trading_centre_key(issue_key: IssueKey) -> str:
    regions = frozenset(region for region, _, _ in REGISTRATIONS)
    issued = await issue_key(PrincipalKind.DEPARTMENT, "JYZX", "济南公共资源交易中心", regions)
    return issued.key


async def test_registrations_are_counted_by_region(
    intake_api: ServiceProcess,
    reporting_api: ServiceProcess,
    reporting_worker: ServiceProcess,
    issue_key: IssueKey,
    settings: PlatformSettings,
) -> None:
    operator = await issue_key(PrincipalKind.OPERATOR, "op-e2e", "联席办值班员")
    key = await _trading_centre_key(issue_key)
    # Earlier tests left events on the log; count from a settled read model, not a moving one.
    await wait_until_caught_up(settings, DEFAULT_CONSUMER_GROUP, EVENT_TOPICS)
    async with httpx.AsyncClient(timeout=10) as client:
        before = await _by_region(client, reporting_api, operator.key)
        for region, category, budget in REGISTRATIONS:
            response = await client.post(
                f"{intake_api.base_url}/v1/projects",
                json={
                    "name": f"{region} 测试项目",
                    "category": category,
                    "region_code": region,
                    "tenderer": {"name": "济南某建设单位", "credit_code": "91110000600037341L"},
                    "budget_fen": budget,
                },
                headers={"X-API-Key": key, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert response.status_code == 201, response.text
            assert response.json()["project_id"]

        added = Counter(region for region, _, _ in REGISTRATIONS)
        expected = {region: before.get(region, 0) + n for region, n in added.items()}
        after = await eventually(
            lambda: _by_region(client, reporting_api, operator.key),
            lambda seen: all(seen.get(r, 0) == n for r, n in expected.items()),
        )
        assert {r: after[r] for r in expected} == expected


async def test_a_bad_registration_is_refused_with_reasons(
    intake_api: ServiceProcess, issue_key: IssueKey
) -> None:
    key = await _trading_centre_key(issue_key)
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{intake_api.base_url}/v1/projects",
            json={
                "name": "坏数据",
                "category": "HOUSING",
                "region_code": "999999",
                "tenderer": {"name": "某单位", "credit_code": "91110000600037341X"},
                "budget_fen": 10,
            },
            headers={"X-API-Key": key, "Idempotency-Key": str(uuid.uuid4())},
        )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "registration_refused"
    fields = {d["field"] for d in body["details"]}
    assert fields == {"region_code", "tenderer.credit_code"}
