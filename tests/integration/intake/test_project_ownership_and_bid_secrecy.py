"""Two findings of the security review, over HTTP on the real broker and Redis.

1. A department acts only for itself: 市交通运输局 (JTJ), whose key covers 历下区, may not
   terminate a 历下区 project 市住建局 (ZJJ) registered — 403 ``not_your_project``, nothing on
   the topic — while ZJJ may (201).
2. Until a section's bids are opened, the project's history (and its version) tells no bid to any
   reader, as bids_received tells none (招标投标法 art. 22); from the opening on it tells them.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from prt.v1 import intake_pb2

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.credit_code import check_character
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.settings import PlatformSettings
from tests.conftest import IssueKey
from tests.integration.intake.conftest import (
    Department,
    TenderDates,
    events_of,
    registration_body,
)
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

LIXIA, SHIZHONG = "370102", "370103"
EVIDENCE = {"sha256": "b" * 64, "location": "docstore://jyzx/2023/lx-zbgg.pdf"}


def _party(name: str, first_17: str) -> dict[str, str]:
    return {"name": name, "credit_code": first_17 + check_character(first_17)}


BIDDERS = [
    _party("济南历下建工有限公司", "91370102MA3C1XQ31"),
    _party("山东泉城市政工程有限公司", "91370102MA3EU8W48"),
    _party("济南华山建设集团有限公司", "91370102MA3D9K2Q7"),
]


def _bid(n: int, day: str) -> dict[str, Any]:
    return {
        "bidder": BIDDERS[n],
        "bid_section_code": "001",
        "bid_price_fen": 900_000_000 + n * 3_170_000,
        "fingerprint": {
            "cpu_id": f"BFEBFBFF00091{n}EA",
            "disk_serial": f"WD-WCC6Y3LX077{n}",
            "mac_address": f"3c-7c-3f-1a-3c-6{n}",
            "ip_address": f"10.13.1.{n + 1}",
            "document_md5": f"{n + 7:032x}",
        },
        "deposit_account": f"3700161880105077777{n}",
        "deposit_fen": 100_000_00,
        "occurred_at": day,
    }


async def _department(issue_key: IssueKey, code: str, name: str, *regions: str) -> Department:
    # Backfill keys: a tender's days (bids, then the opening at their deadline) are entered as
    # history, dated by the caller.
    issued = await issue_key(
        PrincipalKind.DEPARTMENT, code, name, frozenset(regions), backfill=True
    )
    return Department(issued.key, code)


async def _post(
    client: httpx.AsyncClient, dept: Department, path: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(path, json=body, headers=dept.headers())


async def _register_in_lixia(
    client: httpx.AsyncClient, dept: Department, dates: TenderDates
) -> str:
    response = await _post(
        client,
        dept,
        "/v1/projects",
        registration_body(
            name=f"历下区泉城路街道老旧小区改造 {uuid.uuid4().hex[:6]}",
            region_code=LIXIA,
            tender_required_by_law=False,  # bids may close within the test's days
            occurred_at=dates.at(0),
        ),
    )
    assert response.status_code == 201, response.text
    project_id: str = response.json()["project_id"]
    return project_id


async def test_another_department_of_the_region_may_not_terminate_a_project_it_does_not_own(
    intake_api: ServiceProcess, issue_key: IssueKey, settings: PlatformSettings
) -> None:
    zjj = await _department(issue_key, "ZJJ", "市住房城乡建设局", LIXIA)
    jtj = await _department(issue_key, "JTJ", "市交通运输局", LIXIA, SHIZHONG)
    dates = TenderDates(days_ago=2)
    termination = {
        "reason": "TERMINATED",
        "explanation": "项目取消",
        "occurred_at": dates.at(1),
    }
    async with httpx.AsyncClient(base_url=intake_api.base_url, timeout=20) as client:
        project_id = await _register_in_lixia(client, zjj, dates)
        path = f"/v1/projects/{project_id}/termination"

        refused = await _post(client, jtj, path, termination)
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert body["code"] == "not_your_project"
        # Who may act: the registering department, the supervising one (its 历下区 branch),
        # the trading centre.
        assert "only by ZJJ, ZJJ-LX, JYZX" in body["message"]
        assert body["message"].endswith("not by JTJ")
        events = await events_of(settings, PROJECT_EVENTS, project_id)
        assert [type(e.message) for e in events] == [intake_pb2.ProjectRegistered]
        still = await client.get(f"/v1/projects/{project_id}", headers={"X-API-Key": jtj.key})
        assert still.status_code == 200  # JTJ still reads its region's projects
        assert still.json()["state"] == "REGISTERED"

        done = await _post(client, zjj, path, termination)
        assert done.status_code == 201, done.text
        assert done.json()["state"] == "TERMINATED"
        events = await events_of(settings, PROJECT_EVENTS, project_id)
        assert [type(e.message) for e in events] == [
            intake_pb2.ProjectRegistered,
            intake_pb2.ProjectTerminated,
        ]


async def test_the_history_tells_no_bid_before_the_opening(
    intake_api: ServiceProcess, issue_key: IssueKey
) -> None:
    zjj = await _department(issue_key, "ZJJ", "市住房城乡建设局", LIXIA)
    jtj = await _department(issue_key, "JTJ", "市交通运输局", LIXIA)
    operator = (await issue_key(PrincipalKind.OPERATOR, "ops-disclosure", "联席办值班员")).key
    dates = TenderDates(days_ago=3)
    async with httpx.AsyncClient(base_url=intake_api.base_url, timeout=20) as client:
        project_id = await _register_in_lixia(client, zjj, dates)
        project = f"/v1/projects/{project_id}"
        deadline = dates.at(1)
        announced = await _post(
            client,
            zjj,
            f"{project}/announcement",
            {
                "title": "历下区泉城路街道老旧小区改造招标公告",
                "announcement": EVIDENCE,
                "submission_deadline": deadline,
                "opening_at": deadline,
                "occurred_at": dates.at(0.1),
            },
        )
        assert announced.status_code == 201, announced.text
        for n in range(len(BIDDERS)):
            bid = await _post(client, zjj, f"{project}/bids", _bid(n, dates.at(0.2 + n / 100)))
            assert bid.status_code == 201, bid.text

        async def read(key: str) -> dict[str, Any]:
            response = await client.get(project, headers={"X-API-Key": key})
            assert response.status_code == 200, response.text
            detail: dict[str, Any] = response.json()
            return detail

        async def listed(key: str) -> dict[str, Any]:
            response = await client.get(
                "/v1/projects",
                params={"region_code": LIXIA, "department": "ZJJ", "limit": 500},
                headers={"X-API-Key": key},
            )
            assert response.status_code == 200, response.text
            (entry,) = [p for p in response.json()["projects"] if p["project_id"] == project_id]
            return entry  # type: ignore[no-any-return]

        for key in (jtj.key, zjj.key, operator):
            before = await read(key)
            assert before["sections"][0]["bids_received"] is None
            assert [entry["type"] for entry in before["history"]] == [
                "prt.v1.ProjectRegistered",
                "prt.v1.AnnouncementPublished",
            ]
            # The version would tell the count too (events applied, less those shown).
            assert before["version"] == len(before["history"])
            assert (await listed(key))["version"] == before["version"]

        opened = await _post(
            client,
            zjj,
            f"{project}/bid-opening",
            {"bid_section_code": "001", "occurred_at": deadline},
        )
        assert opened.status_code == 201, opened.text
        for key in (jtj.key, zjj.key, operator):
            after = await read(key)
            assert after["sections"][0]["bids_received"] == len(BIDDERS)
            types = [entry["type"] for entry in after["history"]]
            assert types.count("prt.v1.BidSubmitted") == len(BIDDERS)
            assert after["version"] == len(after["history"]) == 3 + len(BIDDERS)
            assert (await listed(key))["version"] == after["version"]
