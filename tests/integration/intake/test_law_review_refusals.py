"""What a procurement-law review reproduced on the live stack, refused through the real API and
publishing nothing: non-tender trades announced for less than their minimum period or concluded
without offers, an award passing over the first-ranked candidate without a reason (实施条例 art.
55), a 成交 at another amount than the award (art. 57), a deposit relief above 2% of the budget
(art. 26), a bid paying a deposit from no account."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from prt.v1 import intake_pb2

from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.settings import PlatformSettings
from tests.integration.intake.conftest import (
    Department,
    TenderDates,
    events_of,
    registration_body,
)
from tests.integration.intake.test_lifecycle_api import (
    ALL_BIDDER_CODES,
    ANNOUNCEMENT,
    BID,
    BIDDER,
    EVIDENCE,
    OTHER_BIDDER,
    RIVAL_BIDS,
    STRANGER,
    THIRD_BIDDER,
)
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration


class Project:
    def __init__(self, api: ServiceProcess, dept: Department, project_id: str) -> None:
        self.api, self.dept, self.project_id = api, dept, project_id

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        async with httpx.AsyncClient(timeout=20) as client:
            return await client.post(
                f"{self.api.base_url}/v1/projects/{self.project_id}/{path}",
                json=body,
                headers=self.dept.headers(),
            )

    async def accepted(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.post(path, body)
        assert response.status_code == 201, (path, response.text)
        answer: dict[str, Any] = response.json()
        return answer

    async def refused(self, path: str, body: dict[str, Any], status: int, code: str) -> str:
        response = await self.post(path, body)
        assert response.status_code == status, (path, response.text)
        assert response.json()["code"] == code, response.text
        message: str = response.json()["message"]
        return message

    async def event_types(self, settings: PlatformSettings) -> list[str]:
        events = await events_of(settings, PROJECT_EVENTS, self.project_id)
        return [type(e.message).__name__ for e in events]


async def _register(
    api: ServiceProcess, dept: Department, dates: TenderDates, **changes: Any
) -> Project:
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.post(
            f"{api.base_url}/v1/projects",
            json=registration_body(
                name=f"法律审查 {uuid.uuid4().hex[:8]}", occurred_at=dates.at(0), **changes
            ),
            headers=dept.headers(),
        )
    assert response.status_code == 201, response.text
    return Project(api, dept, response.json()["project_id"])


def _announcement(dates: TenderDates, at: float, closes: float) -> dict[str, Any]:
    return {
        **ANNOUNCEMENT,
        "submission_deadline": dates.at(closes),
        "opening_at": dates.at(closes),
        "occurred_at": dates.at(at),
    }


@pytest.mark.parametrize(
    "case",
    [
        ("SOE_PROPERTY_RIGHTS", "LISTING", 5, "20 working days"),
        ("LAND_USE_RIGHTS", "LISTING", 3, "10 days"),
        ("GOVERNMENT_PROCUREMENT", "COMPETITIVE_CONSULTATION", 2, "10 days"),
    ],
)
async def test_a_trade_announced_for_less_than_its_minimum_period_gets_422(
    intake_api: ServiceProcess,
    changqing_archive: Department,
    settings: PlatformSettings,
    case: tuple[str, str, int, str],
) -> None:
    category, method, days, law = case
    dates = TenderDates(days_ago=40)
    project = await _register(
        intake_api, changqing_archive, dates, category=category, trading_method=method
    )
    message = await project.refused(
        "announcement", _announcement(dates, 1, 1 + days), 422, "disclosure_period_too_short"
    )
    assert law in message and "at the earliest" in message
    await project.accepted("announcement", _announcement(dates, 1, 31))
    assert await project.event_types(settings) == ["ProjectRegistered", "AnnouncementPublished"]


async def test_a_listing_concludes_only_with_an_offer_from_its_counterparty(
    intake_api: ServiceProcess, changqing_archive: Department, settings: PlatformSettings
) -> None:
    dates = TenderDates(days_ago=40)
    project = await _register(
        intake_api,
        changqing_archive,
        dates,
        category="SOE_PROPERTY_RIGHTS",
        trading_method="LISTING",
    )
    await project.accepted("announcement", _announcement(dates, 1, 31))
    deal = {"counterparty": STRANGER, "amount_fen": 2_100_000_000, "occurred_at": dates.at(32)}
    message = await project.refused("transaction", deal, 409, "too_few_offers")
    assert "0 offer(s) on record" in message
    offer = {**BID, "deposit_fen": 0, "occurred_at": dates.at(10)}
    del offer["deposit_account"]
    await project.accepted("bids", offer)  # BIDDER's offer, not STRANGER's
    await project.refused("transaction", deal, 422, "counterparty_made_no_offer")
    done = await project.accepted("transaction", {**deal, "counterparty": BIDDER})
    assert done["state"] == "COMPLETED"
    assert await project.event_types(settings) == [
        "ProjectRegistered",
        "AnnouncementPublished",
        "BidSubmitted",
        "TransactionCompleted",
    ]


async def test_the_award_goes_to_the_first_ranked_and_the_deal_is_at_the_award_s_amount(
    intake_api: ServiceProcess, changqing_archive: Department, settings: PlatformSettings
) -> None:
    """A tender bound by law (t6.py): the rank-3 candidate wins only with an art. 55 reason,
    which the event carries; the 成交 is at the award's amount. The deposit relief is capped at
    2% of the budget, and a deposit is paid from an account."""
    dates = TenderDates(days_ago=30)
    project = await _register(
        intake_api, changqing_archive, dates, budget_fen=900_000_000, tender_required_by_law=True
    )
    await project.accepted("announcement", _announcement(dates, 0.1, 21.1))
    # 2% of 900万元 is 18万元: a relief of 50,000,000 yuan (t3.py) or one fen more is refused.
    for too_much in (5_000_000_000, 18_000_001):
        relief = {"kind": "WAIVED", "amount_saved_fen": too_much, "occurred_at": dates.at(0.2)}
        message = await project.refused(
            "deposit-relief", relief, 422, "deposit_relief_above_ceiling"
        )
        assert "18000000 fen" in message
    at_ceiling = {"kind": "REDUCED", "amount_saved_fen": 18_000_000, "occurred_at": dates.at(0.2)}
    await project.accepted("deposit-relief", at_ceiling)
    no_account = {**BID, "occurred_at": dates.at(0.3)}
    del no_account["deposit_account"]
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.post(
            f"{intake_api.base_url}/v1/projects/{project.project_id}/bids",
            json=no_account,
            headers=changqing_archive.headers(),
        )
    assert response.status_code == 422, response.text
    assert "deposit_account" in response.text
    for n, bid in enumerate([BID, *RIVAL_BIDS]):
        await project.accepted("bids", {**bid, "occurred_at": dates.at(0.3 + n / 100)})
    await project.accepted(
        "bid-opening",
        {
            "bid_section_code": "001",
            "opened_bidder_codes": ALL_BIDDER_CODES,
            "occurred_at": dates.at(21.1),
        },
    )
    await project.accepted(
        "evaluation",
        {"bid_section_code": "001", "report": EVIDENCE, "occurred_at": dates.at(21.2)},
    )
    ranked = [(BIDDER, 850_000_000), (OTHER_BIDDER, 862_345_600), (THIRD_BIDDER, 871_111_100)]
    await project.accepted(
        "candidates",
        {
            "bid_section_code": "001",
            "candidates": [
                {"rank": rank, "bidder": party, "bid_price_fen": price}
                for rank, (party, price) in enumerate(ranked, 1)
            ],
            "publicity_ends_at": dates.at(25),
            "occurred_at": dates.at(21.3),
        },
    )
    award = {
        "bid_section_code": "001",
        "winner": THIRD_BIDDER,
        "amount_fen": 871_111_100,
        "occurred_at": dates.at(25.1),
    }
    message = await project.refused("award", award, 422, "winner_not_first_ranked")
    assert f"first-ranked candidate is {BIDDER['credit_code']}" in message
    assert "GAVE_UP" in message and "art. 55" in message
    await project.accepted("award", {**award, "passed_over_reason": "GAVE_UP"})
    deal = {
        "bid_section_code": "001",
        "counterparty": THIRD_BIDDER,
        "amount_fen": 1_300_000_000,
        "occurred_at": dates.at(26),
    }
    message = await project.refused("transaction", deal, 422, "amount_not_the_award")
    assert "871111100" in message and "1300000000" in message
    await project.accepted("transaction", {**deal, "amount_fen": 871_111_100})
    events = await events_of(settings, PROJECT_EVENTS, project.project_id)
    awarded = [e.message for e in events if isinstance(e.message, intake_pb2.ContractAwarded)]
    assert [m.passed_over_reason for m in awarded] == [intake_pb2.PASSED_OVER_REASON_GAVE_UP]
    assert [type(e.message).__name__ for e in events][-3:] == [
        "CandidatesPublicised",
        "ContractAwarded",
        "TransactionCompleted",
    ]
    reliefs = [e.message for e in events if isinstance(e.message, intake_pb2.DepositWaived)]
    assert [m.amount_saved_fen for m in reliefs] == [18_000_000]
