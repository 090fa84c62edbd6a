"""A department takes a 容缺 project from registration to award through the API while the worker
keeps the read model; then the read model is wiped and rebuilt from the topic and reads the same."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from services.intake.rebuild import rebuild
from services.platform_core.credit_code import check_character
from services.platform_core.settings import PlatformSettings
from tests.integration.intake.conftest import Department, TenderDates, registration_body
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

EVIDENCE = {"sha256": "b" * 64, "location": "docstore://jyzx/2023/report.pdf"}


def _party(name: str, first_17: str) -> dict[str, str]:
    return {"name": name, "credit_code": first_17 + check_character(first_17)}


# A tender is opened with 3 bidders or more (实施条例 art. 44).
BIDDERS = [
    {"name": "山东黄河建工集团有限公司", "credit_code": "91110000600037341L"},
    _party("济南泉城路桥工程有限公司", "91370113MA3C1XQ21"),
    _party("山东齐鲁建设集团有限公司", "91370112MA3EU8W08"),
]


def _bid(bidder: dict[str, str], n: int) -> dict[str, Any]:
    return {
        "bidder": bidder,
        "bid_section_code": "001",
        "bid_price_fen": 1_100_000_000 + n * n,  # irregular prices
        "fingerprint": {
            "cpu_id": f"CPU-{n}",
            "disk_serial": f"DISK-{n}",
            "mac_address": f"3C:7C:3F:1A:2B:4{n}",
            "ip_address": f"10.12.0.{n}",
            "document_md5": f"{n:032x}",
        },
        "deposit_account": f"3700161880105012345{n}",
    }


async def test_registration_to_award_and_a_rebuild_that_reads_the_same(
    intake_api: ServiceProcess,
    intake_worker: ServiceProcess,
    changqing_archive: Department,
    settings: PlatformSettings,
) -> None:
    # The tender's weeks, entered as its history (a backfill key): bids close on day 0.5 and
    # are opened then, the candidates are publicised for 3 days from day 0.7, the award is on
    # day 3.8. The 容缺 deadline (5 working days from day 0) lies ahead: nothing is breached.
    # 25 days: a municipal tender of 1250万元 must by law be tendered, so its bids close 20 days
    # or more after the announcement (招标投标法 art. 24).
    dates = TenderDates(days_ago=25)
    async with httpx.AsyncClient(base_url=intake_api.base_url, timeout=20) as client:

        async def post(path: str, body: dict[str, Any], day: float) -> dict[str, Any]:
            dated = {**body, "occurred_at": dates.at(day)}
            response = await client.post(path, json=dated, headers=changqing_archive.headers())
            assert response.status_code == 201, (path, response.text)
            answer: dict[str, Any] = response.json()
            return answer

        registered = await post(
            "/v1/projects",
            registration_body(
                name=f"长清区大学城片区雨污分流工程 {uuid.uuid4().hex[:6]}",
                category="MUNICIPAL",
                key_project=True,
                green_channel=True,
                deficiency={
                    "missing_documents": ["施工图审查合格书"],
                    "supplement_working_days": 5,
                },
                commitment_pledged=True,
            ),
            0,
        )
        project = f"/v1/projects/{registered['project_id']}"
        await post(f"{project}/supplements", {"supplemented_documents": ["施工图审查合格书"]}, 0.05)
        await post(
            f"{project}/announcement",
            {
                "title": "长清区大学城片区雨污分流工程招标公告",
                "announcement": EVIDENCE,
                "submission_deadline": dates.at(21),
                "opening_at": dates.at(21),
            },
            0.1,
        )
        for n, bidder in enumerate(BIDDERS, 1):
            bid = await post(f"{project}/bids", _bid(bidder, n), 0.1 + n / 100)
        # Until the opening not even the number of bidders is told (招标投标法 art. 22).
        assert bid["sections"][0]["bids_received"] is None
        await post(
            f"{project}/deposit-relief", {"kind": "WAIVED", "amount_saved_fen": 400_000_00}, 0.2
        )
        opened = await post(f"{project}/bid-opening", {"bid_section_code": "001"}, 21)
        assert opened["sections"][0]["bids_received"] == len(BIDDERS)
        await post(
            f"{project}/evaluation",
            {"bid_section_code": "001", "evaluation_id": "ev-cq-2023-0007", "report": EVIDENCE},
            21.1,
        )
        await post(
            f"{project}/candidates",
            {
                "bid_section_code": "001",
                "candidates": [{"rank": 1, "bidder": BIDDERS[0], "bid_price_fen": 1_100_000_001}],
                "publicity_ends_at": dates.at(24.7),
            },
            21.2,
        )
        awarded = await post(
            f"{project}/award",
            {"bid_section_code": "001", "winner": BIDDERS[0], "amount_fen": 1_100_000_001},
            24.8,
        )
        assert awarded["state"] == "AWARDED"
        (section,) = awarded["sections"]
        assert section["deal"] == {
            "party": BIDDERS[0],
            "amount_fen": 1_100_000_001,
            "at": dates.at(24.8).replace("+00:00", "Z"),
        }
        assert section["evaluation_id"] == "ev-cq-2023-0007"
        assert awarded["allowed_next_steps"] == [
            "COMPLETE_TRANSACTION",
            "REFUND_HISTORICAL_DEPOSIT",
        ]

        auth = {"X-API-Key": changqing_archive.key}
        before = (await client.get(project, headers=auth)).json()
        assert before["state"] == "AWARDED"
        assert before["outstanding_documents"] == []
        assert len(before["history"]) == 11

        report = await rebuild(settings, wipe_first=True)
        assert report.wiped_keys > 0
        assert report.records >= 11
        after = (await client.get(project, headers=auth)).json()
        assert after == before
