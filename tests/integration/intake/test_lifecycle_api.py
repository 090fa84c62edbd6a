"""A project's lifecycle through the real API: steps in order, out-of-order steps refused with
the current state and the allowed next steps, concurrent steps serialised, bid fingerprints on
the topic for collusion detection."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prt.v1 import intake_pb2

from services.platform_core.credit_code import check_character
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.settings import PlatformSettings
from tests.integration.intake.conftest import (
    Department,
    TenderDates,
    events_of,
    registration_body,
)
from tests.support.processes import ServiceProcess

# Bids close a month from now: every bid the test submits (dated now) is in time.
BIDS_CLOSE = (datetime.now(UTC) + timedelta(days=30)).isoformat()

pytestmark = pytest.mark.integration

EVIDENCE = {"sha256": "a" * 64, "location": "docstore://jyzx/2023/zbwj.pdf"}
BIDDER = {"name": "山东黄河建工集团有限公司", "credit_code": "91110000600037341L"}


def _party(name: str, first_17: str) -> dict[str, str]:
    return {"name": name, "credit_code": first_17 + check_character(first_17)}


OTHER_BIDDER = _party("济南泉城路桥工程有限公司", "91370113MA3C1XQ21")
THIRD_BIDDER = _party("山东齐鲁建设集团有限公司", "91370112MA3EU8W08")
STRANGER = _party("济南某未投标企业", "91370102MA3D9K2P5")  # bids nowhere


async def _register(api: ServiceProcess, dept: Department, **changes: Any) -> str:
    # These histories fit into a few days: registered as not bound by law to tender, a project
    # may close its bids within them (the 20-day bidding period has a test of its own).
    changes.setdefault("tender_required_by_law", False)
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.post(
            f"{api.base_url}/v1/projects",
            json=registration_body(name=f"生命周期测试 {uuid.uuid4()}", **changes),
            headers=dept.headers(),
        )
    assert response.status_code == 201, response.text
    project_id: str = response.json()["project_id"]
    return project_id


async def _step(
    api: ServiceProcess, dept: Department, project_id: str, path: str, body: dict[str, Any]
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.post(
            f"{api.base_url}/v1/projects/{project_id}/{path}", json=body, headers=dept.headers()
        )


ANNOUNCEMENT = {
    "title": "长清区文昌街道老旧小区改造工程招标公告",
    "announcement": EVIDENCE,
    "submission_deadline": BIDS_CLOSE,
    "opening_at": BIDS_CLOSE,
}


def _dated_announcement(
    dates: TenderDates, at: float, closes: float, **more: Any
) -> dict[str, Any]:
    """An announcement made on day ``at`` whose bids close (and are opened) on day ``closes``."""
    deadline = dates.at(closes)
    return {
        **ANNOUNCEMENT,
        "submission_deadline": deadline,
        "opening_at": deadline,
        "occurred_at": dates.at(at),
        **more,
    }


FINGERPRINT = {
    "cpu_id": "BFEBFBFF000906EA",
    "disk_serial": "WD-WCC6Y3LX0123",
    "mac_address": "3c-7c-3f-1a-2b-4d",
    "ip_address": "10.12.0.7",
    "document_md5": "0cc175b9c0f1b6a831c399e269772661",
}
BID: dict[str, Any] = {
    "bidder": BIDDER,
    "bid_section_code": "001",
    "bid_price_fen": 1_180_000_000,
    "fingerprint": FINGERPRINT,
    "deposit_account": "37001618801050123456",
    "deposit_fen": 200_000_00,
}


def _rival_bid(bidder: dict[str, str], n: int) -> dict[str, Any]:
    """Another bidder's bid in section 001, from its own machine and account."""
    return {
        **BID,
        "bidder": bidder,
        "bid_price_fen": 1_180_000_000 + n * 7_310_000,
        "fingerprint": {
            "cpu_id": f"BFEBFBFF00090{n}EA",
            "disk_serial": f"WD-WCC6Y3LX012{n}",
            "mac_address": f"3c-7c-3f-1a-2c-5{n}",
            "ip_address": f"10.12.1.{n}",
            "document_md5": f"{n:032x}",
        },
        "deposit_account": f"3700161880105099999{n}",
    }


# A tender is opened only with 3 bidders or more (实施条例 art. 44): BID and these two.
RIVAL_BIDS = [_rival_bid(OTHER_BIDDER, 1), _rival_bid(THIRD_BIDDER, 2)]
ALL_BIDDER_CODES = [party["credit_code"] for party in (BIDDER, OTHER_BIDDER, THIRD_BIDDER)]


async def test_a_tender_runs_its_course_and_out_of_order_steps_get_409(
    intake_api: ServiceProcess,
    intake_worker: ServiceProcess,
    changqing_archive: Department,
    settings: PlatformSettings,
) -> None:
    dates, dept = TenderDates(), changqing_archive
    project_id = await _register(intake_api, dept, occurred_at=dates.at(0))
    early = await _step(
        intake_api,
        dept,
        project_id,
        "bid-opening",
        {"bid_section_code": "001", "occurred_at": dates.at(0.01)},
    )
    assert early.status_code == 409
    refusal = early.json()
    assert refusal["code"] == "transition_not_allowed"
    assert "is REGISTERED" in refusal["message"]
    assert "OPEN_BIDS is not allowed" in refusal["message"]
    assert "ANNOUNCE" in refusal["message"] and "PRE_PUBLISH" in refusal["message"]

    # Bids close on day 0.5 and are opened then; the candidates are publicised on day 0.7 for
    # 3 days; the award follows on day 3.8.
    steps: list[tuple[str, dict[str, Any], str]] = [
        (
            "pre-publication",
            {
                "document": EVIDENCE,
                "comments_close_at": dates.at(0.09),
                "occurred_at": dates.at(0.05),
            },
            "PRE_PUBLISHED",
        ),
        ("announcement", _dated_announcement(dates, 0.1, closes=0.5), "ANNOUNCED"),
        ("bids", {**BID, "occurred_at": dates.at(0.2)}, "BIDS_SUBMITTED"),
        ("bids", {**RIVAL_BIDS[0], "occurred_at": dates.at(0.21)}, "BIDS_SUBMITTED"),
        ("bids", {**RIVAL_BIDS[1], "occurred_at": dates.at(0.22)}, "BIDS_SUBMITTED"),
        (
            "deposit-relief",
            {
                "kind": "REDUCED",
                "amount_saved_fen": 100_000_00,
                "bidder": BIDDER,
                "occurred_at": dates.at(0.3),
            },
            "BIDS_SUBMITTED",
        ),
        (
            "bid-opening",
            {
                "bid_section_code": "001",
                "opened_bidder_codes": ALL_BIDDER_CODES,
                "occurred_at": dates.at(0.5),
            },
            "BIDS_OPENED",
        ),
        (
            "evaluation",
            {"bid_section_code": "001", "report": EVIDENCE, "occurred_at": dates.at(0.6)},
            "EVALUATED",
        ),
        (
            "candidates",
            {
                "bid_section_code": "001",
                "candidates": [{"rank": 1, "bidder": BIDDER, "bid_price_fen": 1_180_000_000}],
                "publicity_ends_at": dates.at(3.7),
                "occurred_at": dates.at(0.7),
            },
            "CANDIDATES_PUBLICISED",
        ),
        (
            "award",
            {
                "bid_section_code": "001",
                "winner": BIDDER,
                "amount_fen": 1_180_000_000,
                "occurred_at": dates.at(3.8),
            },
            "AWARDED",
        ),
    ]
    for path, body, state in steps:
        response = await _step(intake_api, dept, project_id, path, body)
        assert response.status_code == 201, (path, response.text)
        assert response.json()["state"] == state

    after_award = await _step(
        intake_api,
        dept,
        project_id,
        "termination",
        {"reason": "TERMINATED", "explanation": "招标人终止", "occurred_at": dates.at(3.9)},
    )
    assert after_award.status_code == 409
    assert "is AWARDED" in after_award.json()["message"]

    async with httpx.AsyncClient(timeout=10) as client:
        detail = (
            await client.get(
                f"{intake_api.base_url}/v1/projects/{project_id}",
                headers={"X-API-Key": dept.key},
            )
        ).json()
    assert detail["state"] == "AWARDED"
    assert detail["trading_method"] == "OPEN_TENDER"
    (section,) = detail["sections"]
    assert section["submission_deadline"] == dates.at(0.5).replace("+00:00", "Z")
    assert section["publicity_ends_at"] == dates.at(3.7).replace("+00:00", "Z")
    assert len(detail["history"]) == 1 + len(steps)

    events = await events_of(settings, PROJECT_EVENTS, project_id)
    assert len(events) == 1 + len(steps)
    bids = [e.message for e in events if isinstance(e.message, intake_pb2.BidSubmitted)]
    assert len(bids) == 3
    fingerprint = bids[0].fingerprint
    assert fingerprint.mac_address == "3C:7C:3F:1A:2B:4D"
    assert fingerprint.ip_address == "10.12.0.7"
    assert fingerprint.document_md5 == "0cc175b9c0f1b6a831c399e269772661"
    assert fingerprint.cpu_id and fingerprint.disk_serial
    assert bids[0].deposit_account == "37001618801050123456"
    assert bids[0].bidder.unified_social_credit_code == BIDDER["credit_code"]


async def test_two_steps_racing_for_one_project_are_serialised(
    intake_api: ServiceProcess, changqing_dept: Department, settings: PlatformSettings
) -> None:
    project_id = await _register(intake_api, changqing_dept)
    # Announcing and terminating are both allowed now; only one order makes sense afterwards:
    # whichever comes second must see the first one's state.
    termination = {"reason": "TERMINATED", "explanation": "项目取消"}
    responses = await asyncio.gather(
        *(
            _step(intake_api, changqing_dept, project_id, "termination", termination)
            for _ in range(4)
        ),
        *(
            _step(intake_api, changqing_dept, project_id, "announcement", ANNOUNCEMENT)
            for _ in range(4)
        ),
    )
    accepted = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code == 409]
    assert len(accepted) + len(refused) == 8, [r.text for r in responses]
    terminations = [r for r in accepted if r.json()["step"] == "TERMINATE"]
    assert len(terminations) == 1
    events = await events_of(settings, PROJECT_EVENTS, project_id)
    terminated = [e for e in events if isinstance(e.message, intake_pb2.ProjectTerminated)]
    assert len(terminated) == 1
    # Every event after the termination would be a broken invariant.
    assert isinstance(events[-1].message, intake_pb2.ProjectTerminated)
    assert len(events) == 1 + len(accepted)


async def test_supplements_clear_outstanding_documents_and_bad_fingerprints_are_422(
    intake_api: ServiceProcess, changqing_dept: Department, zhangqiu_dept: Department
) -> None:
    project_id = await _register(
        intake_api,
        changqing_dept,
        deficiency={"missing_documents": ["规划许可证", "资金证明"], "supplement_working_days": 2},
    )
    wrong = await _step(
        intake_api,
        changqing_dept,
        project_id,
        "supplements",
        {"supplemented_documents": ["营业执照"]},
    )
    assert wrong.status_code == 409
    assert "not outstanding: 营业执照" in wrong.json()["message"]
    other_region = await _step(
        intake_api,
        zhangqiu_dept,
        project_id,
        "supplements",
        {"supplemented_documents": ["资金证明"]},
    )
    assert other_region.status_code == 403
    done = await _step(
        intake_api,
        changqing_dept,
        project_id,
        "supplements",
        {"supplemented_documents": ["规划许可证", "资金证明"]},
    )
    assert done.status_code == 201, done.text
    await _step(intake_api, changqing_dept, project_id, "announcement", ANNOUNCEMENT)
    bad_bid = {**BID, "fingerprint": {**FINGERPRINT, "ip_address": "10.12.0", "mac_address": "x"}}
    response = await _step(intake_api, changqing_dept, project_id, "bids", bad_bid)
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["details"]}
    assert fields == {"fingerprint.ip_address", "fingerprint.mac_address"}
    async with httpx.AsyncClient(timeout=10) as client:
        view = (
            await client.get(
                f"{intake_api.base_url}/v1/projects/{project_id}",
                headers={"X-API-Key": changqing_dept.key},
            )
        ).json()
    assert view["outstanding_documents"] == []
    assert view["supplement_deadline"] is None


async def test_five_concurrent_replays_of_a_lifecycle_post_emit_one_event(
    intake_api: ServiceProcess, changqing_dept: Department, settings: PlatformSettings
) -> None:
    project_id = await _register(intake_api, changqing_dept)
    key = str(uuid.uuid4())

    async def announce_once() -> httpx.Response:
        async with httpx.AsyncClient(timeout=20) as client:
            return await client.post(
                f"{intake_api.base_url}/v1/projects/{project_id}/announcement",
                json=ANNOUNCEMENT,
                headers=changqing_dept.headers(key),
            )

    responses = await asyncio.gather(*(announce_once() for _ in range(5)))
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.json()["event_id"] for r in responses}) == 1
    events = await events_of(settings, PROJECT_EVENTS, project_id)
    assert [type(e.message).__name__ for e in events] == [
        "ProjectRegistered",
        "AnnouncementPublished",
    ]


async def test_each_bid_section_runs_its_own_course(
    intake_api: ServiceProcess, changqing_archive: Department, settings: PlatformSettings
) -> None:
    """Section 001 is awarded while 002, announced with a later deadline, still takes bids;
    then 002 fails (流标): the project ends awarded. Steps naming a section the project lacks
    get 422 with its sections; a step a section's state does not allow gets 409 naming it."""
    dates, dept = TenderDates(), changqing_archive
    sections = [
        {"bid_section_code": "001", "name": "施工", "budget_fen": 1_000_000_000},
        {"bid_section_code": "002", "name": "监理", "budget_fen": 250_000_000},
    ]
    project_id = await _register(intake_api, dept, bid_sections=sections, occurred_at=dates.at(0))
    for code, closes in (("001", 0.5), ("002", 4.5)):
        announced = await _step(
            intake_api,
            dept,
            project_id,
            "announcement",
            _dated_announcement(dates, 0.1, closes, bid_section_codes=[code]),
        )
        assert announced.status_code == 201, announced.text
    assert [s["state"] for s in announced.json()["sections"]] == ["ANNOUNCED", "ANNOUNCED"]

    unknown = await _step(
        intake_api,
        dept,
        project_id,
        "bids",
        {**BID, "bid_section_code": "003", "occurred_at": dates.at(0.2)},
    )
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["code"] == "unknown_bid_section"
    assert "Its sections: 001, 002" in unknown.json()["message"]

    def in_section(code: str, day: float, body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "bid_section_code": code, "occurred_at": dates.at(day)}

    steps_001: list[tuple[str, float, dict[str, Any]]] = [
        ("bids", 0.2, BID),
        ("bids", 0.21, RIVAL_BIDS[0]),
        ("bids", 0.22, RIVAL_BIDS[1]),
        ("bid-opening", 0.5, {}),
        ("evaluation", 0.6, {"report": EVIDENCE}),
        (
            "candidates",
            0.7,
            {
                "candidates": [{"rank": 1, "bidder": BIDDER, "bid_price_fen": 1_180_000_000}],
                "publicity_ends_at": dates.at(3.7),
            },
        ),
        ("award", 3.8, {"winner": BIDDER, "amount_fen": 980_000_000}),
    ]
    for path, day, body in steps_001:
        response = await _step(intake_api, dept, project_id, path, in_section("001", day, body))
        assert response.status_code == 201, (path, response.text)
    bid_002 = await _step(intake_api, dept, project_id, "bids", in_section("002", 3.9, BID))
    assert bid_002.status_code == 201, bid_002.text
    assert bid_002.json()["state"] == "BIDS_SUBMITTED"  # 002 still trading
    assert {s["bid_section_code"]: s["state"] for s in bid_002.json()["sections"]} == {
        "001": "AWARDED",
        "002": "BIDS_SUBMITTED",
    }

    late_bid = await _step(intake_api, dept, project_id, "bids", in_section("001", 3.95, BID))
    assert late_bid.status_code == 409, late_bid.text
    assert "section 001 is AWARDED" in late_bid.json()["message"]
    assert {"field": "bid_section_code", "problem": "001"} in late_bid.json()["details"]

    failed = await _step(
        intake_api,
        dept,
        project_id,
        "termination",
        {
            "bid_section_code": "002",
            "reason": "FAILED_TENDER",
            "explanation": "投标人不足三家",
            "occurred_at": dates.at(4.6),
        },
    )
    assert failed.status_code == 201, failed.text
    assert failed.json()["state"] == "AWARDED"
    # 001 may still record its 成交 (after its award); 002 is over.
    assert failed.json()["allowed_next_steps"] == [
        "COMPLETE_TRANSACTION",
        "REFUND_HISTORICAL_DEPOSIT",
    ]

    async with httpx.AsyncClient(timeout=10) as client:
        detail = (
            await client.get(
                f"{intake_api.base_url}/v1/projects/{project_id}",
                headers={"X-API-Key": dept.key},
            )
        ).json()
    assert detail["state"] == "AWARDED"
    assert [(s["bid_section_code"], s["state"]) for s in detail["sections"]] == [
        ("001", "AWARDED"),
        ("002", "TERMINATED"),
    ]
    assert [entry["bid_section_codes"] for entry in detail["history"]] == [
        [],  # registration
        ["001"],  # each section announced with its own deadline
        ["002"],
        *[["001"]] * len(steps_001),
        ["002"],
        ["002"],
    ]
    events = await events_of(settings, PROJECT_EVENTS, project_id)
    assert len(events) == len(detail["history"])  # the refused steps emitted nothing


async def test_a_bid_after_the_announced_submission_deadline_gets_409(
    intake_api: ServiceProcess,
    changqing_dept: Department,
    changqing_archive: Department,
    settings: PlatformSettings,
) -> None:
    # Announced two hours ago (entered by a backfill key), bids closed a minute ago; the bid
    # arrives now, live.
    now = datetime.now(UTC)
    project_id = await _register(
        intake_api, changqing_archive, occurred_at=(now - timedelta(hours=3)).isoformat()
    )
    closed = (now - timedelta(minutes=1)).isoformat()
    announced = await _step(
        intake_api,
        changqing_archive,
        project_id,
        "announcement",
        {
            **ANNOUNCEMENT,
            "submission_deadline": closed,
            "opening_at": closed,
            "occurred_at": (now - timedelta(hours=2)).isoformat(),
        },
    )
    assert announced.status_code == 201, announced.text
    late = await _step(intake_api, changqing_dept, project_id, "bids", BID)
    assert late.status_code == 409, late.text
    refusal = late.json()
    assert refusal["code"] == "bid_after_submission_deadline"
    assert "section 001: the submission deadline" in refusal["message"]
    assert refusal["details"][0] == {"field": "bid_section_code", "problem": "001"}
    events = await events_of(settings, PROJECT_EVENTS, project_id)
    assert [type(e.message) for e in events] == [
        intake_pb2.ProjectRegistered,
        intake_pb2.AnnouncementPublished,
    ]


async def test_steps_breaking_the_rules_of_the_trade_are_refused_and_emit_nothing(
    intake_api: ServiceProcess, changqing_archive: Department, settings: PlatformSettings
) -> None:
    """409 for a step too early for a deadline on record, 422 for one naming parties the record
    contradicts; each names the rule, and none reaches the topic. A tender's 成交 waits for its
    award (409 naming the state, the allowed steps and why) and is made with the winner (422)."""
    dates, dept = TenderDates(), changqing_archive
    project_id = await _register(intake_api, dept, occurred_at=dates.at(0))

    async def refused(path: str, body: dict[str, Any], status: int, code: str) -> str:
        response = await _step(intake_api, dept, project_id, path, body)
        assert response.status_code == status, (path, response.text)
        assert response.json()["code"] == code, response.text
        message: str = response.json()["message"]
        return message

    async def accepted(path: str, body: dict[str, Any]) -> None:
        response = await _step(intake_api, dept, project_id, path, body)
        assert response.status_code == 201, (path, response.text)

    opening_early = _dated_announcement(dates, 0.1, 0.5, opening_at=dates.at(0.4))
    await refused("announcement", opening_early, 422, "opening_before_submission_deadline")
    await accepted("announcement", _dated_announcement(dates, 0.1, closes=0.5))
    deal = {"counterparty": BIDDER, "amount_fen": 1_180_000_000, "occurred_at": dates.at(0.15)}
    response = await _step(intake_api, dept, project_id, "transaction", deal)
    assert response.status_code == 409, response.text
    refusal = response.json()
    assert refusal["code"] == "transition_not_allowed"
    assert "section 001 is ANNOUNCED: COMPLETE_TRANSACTION is not allowed now" in refusal["message"]
    assert "only after its award" in refusal["message"]
    allowed = {d["field"]: d["problem"] for d in refusal["details"]}["allowed_next_steps"]
    assert "SUBMIT_BID" in allowed and "COMPLETE_TRANSACTION" not in allowed
    await accepted("bids", {**BID, "occurred_at": dates.at(0.2)})
    alone = {"bid_section_code": "001", "occurred_at": dates.at(0.5)}
    message = await refused("bid-opening", alone, 409, "fewer_than_three_bidders")
    assert "has 1 bidder(s) on record" in message and "FAILED_TENDER" in message
    for n, rival in enumerate(RIVAL_BIDS):
        await accepted("bids", {**rival, "occurred_at": dates.at(0.3 + n / 100)})
    opening = {"bid_section_code": "001", "opened_bidder_codes": ALL_BIDDER_CODES}
    message = await refused(
        "bid-opening",
        {**opening, "occurred_at": dates.at(0.4)},
        409,
        "opening_before_submission_deadline",
    )
    assert "art. 34" in message
    stranger = {**opening, "opened_bidder_codes": [*ALL_BIDDER_CODES, STRANGER["credit_code"]]}
    await refused(
        "bid-opening", {**stranger, "occurred_at": dates.at(0.5)}, 422, "opened_bid_not_submitted"
    )
    await accepted("bid-opening", {**opening, "occurred_at": dates.at(0.5)})
    await accepted(
        "evaluation", {"bid_section_code": "001", "report": EVIDENCE, "occurred_at": dates.at(0.6)}
    )
    candidates = {
        "bid_section_code": "001",
        "candidates": [{"rank": 1, "bidder": BIDDER, "bid_price_fen": 1_180_000_000}],
        "occurred_at": dates.at(0.7),
    }
    message = await refused(
        "candidates",
        {**candidates, "publicity_ends_at": dates.at(1.7)},
        422,
        "publicity_too_short",
    )
    assert "at least 3 days" in message
    await accepted("candidates", {**candidates, "publicity_ends_at": dates.at(3.7)})
    award = {"bid_section_code": "001", "winner": BIDDER, "amount_fen": 1_180_000_000}
    message = await refused(
        "award", {**award, "occurred_at": dates.at(3.6)}, 409, "award_before_publicity_ends"
    )
    assert "art. 54" in message
    await refused(
        "award",
        {**award, "winner": OTHER_BIDDER, "occurred_at": dates.at(3.8)},
        422,
        "winner_not_a_candidate",
    )
    await accepted("award", {**award, "occurred_at": dates.at(3.8)})
    message = await refused(
        "transaction",
        {**deal, "counterparty": OTHER_BIDDER, "occurred_at": dates.at(3.9)},
        422,
        "counterparty_not_the_winner",
    )
    assert BIDDER["credit_code"] in message and OTHER_BIDDER["credit_code"] in message
    await accepted("transaction", {**deal, "occurred_at": dates.at(3.9)})

    events = await events_of(settings, PROJECT_EVENTS, project_id)
    assert [type(e.message).__name__ for e in events] == [
        "ProjectRegistered",
        "AnnouncementPublished",
        "BidSubmitted",
        "BidSubmitted",
        "BidSubmitted",
        "BidsOpened",
        "EvaluationCompleted",
        "CandidatesPublicised",
        "ContractAwarded",
        "TransactionCompleted",
    ]


async def test_a_trade_concludes_after_its_announcement_and_out_of_range_values_are_422(
    intake_api: ServiceProcess, changqing_archive: Department, settings: PlatformSettings
) -> None:
    """A listing (挂牌) concludes once its announced period is over — not before (409), while
    others may still bid. An amount above 10^15 fen, a rank beyond 50 and an instant outside
    2015-2100 are 422 naming the bound (each was a 500 before: int64, int32 and Timestamp
    overflows), and publish nothing."""
    changqing_dept, dates = changqing_archive, TenderDates()
    project_id = await _register(
        intake_api, changqing_dept, trading_method="LISTING", occurred_at=dates.at(0)
    )

    async def invalid(path: str, body: dict[str, Any], field: str, bound: str) -> None:
        response = await _step(intake_api, changqing_dept, project_id, path, body)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["code"] == "invalid_request"
        problems = {d["field"]: d["problem"] for d in response.json()["details"]}
        assert bound in problems[field], problems

    for impossible in ("0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00"):
        far = {**ANNOUNCEMENT, "submission_deadline": impossible}
        await invalid("announcement", far, "submission_deadline", "between 2015-01-01 and 2100")
        refund = {"payee": STRANGER, "amount_fen": 100, "paid_at": impossible}
        await invalid("historical-deposit-refunds", refund, "paid_at", "between 2015-01-01")
    candidate = {"rank": 2**31, "bidder": BIDDER, "bid_price_fen": 100}
    ranked = {
        "bid_section_code": "001",
        "candidates": [candidate],
        "publicity_ends_at": BIDS_CLOSE,
    }
    await invalid("candidates", ranked, "candidates.0.rank", "less than or equal to 50")
    for too_much in (2**63, 10**15 + 1):
        award = {"bid_section_code": "001", "winner": BIDDER, "amount_fen": too_much}
        await invalid("award", award, "amount_fen", "10万亿元")
        bid = {**BID, "deposit_fen": too_much}
        await invalid("bids", bid, "deposit_fen", "10万亿元")
    listed = {
        **ANNOUNCEMENT,
        "submission_deadline": dates.at(3),
        "opening_at": dates.at(3),
        "occurred_at": dates.at(1),
    }
    announced = await _step(intake_api, changqing_dept, project_id, "announcement", listed)
    assert announced.status_code == 201, announced.text
    assert "COMPLETE_TRANSACTION" in announced.json()["allowed_next_steps"]
    early = {"counterparty": STRANGER, "amount_fen": 100, "occurred_at": dates.at(2)}
    refused = await _step(intake_api, changqing_dept, project_id, "transaction", early)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "completion_before_submission_deadline"
    # A listing concludes with one who made an offer (trading_minimums): no deposit, no account.
    offer = {**BID, "bidder": STRANGER, "deposit_fen": 0, "occurred_at": dates.at(2.5)}
    del offer["deposit_account"]
    offered = await _step(intake_api, changqing_dept, project_id, "bids", offer)
    assert offered.status_code == 201, offered.text
    deal: dict[str, Any] = {"counterparty": STRANGER, "amount_fen": 2**63}
    await invalid("transaction", deal, "amount_fen", "10万亿元")
    deal["amount_fen"] = 10**15
    done = await _step(intake_api, changqing_dept, project_id, "transaction", deal)
    assert done.status_code == 201, done.text
    assert done.json()["state"] == "COMPLETED"
    events = await events_of(settings, PROJECT_EVENTS, project_id)
    assert [type(e.message).__name__ for e in events] == [
        "ProjectRegistered",
        "AnnouncementPublished",
        "BidSubmitted",
        "TransactionCompleted",
    ]


async def test_a_supplement_too_large_for_its_event_is_refused_before_it_is_published(
    intake_api: ServiceProcess, changqing_dept: Department, settings: PlatformSettings
) -> None:
    """1,770 documents made a 1 MB event: accepted (201) and shown as supplied here, dead-
    lettered by the worker. Lists and names are bounded: 422, nothing published, nothing
    supplied."""
    project_id = await _register(
        intake_api,
        changqing_dept,
        deficiency={"missing_documents": ["规划许可证"], "supplement_working_days": 2},
    )
    evidence = {**EVIDENCE, "location": "docstore://" + "x" * 480, "media_type": "a" * 200}
    bodies: list[dict[str, Any]] = [
        {"supplemented_documents": ["规划许可证"], "documents": [evidence] * 1770},
        {"supplemented_documents": ["规划许可证"] * 101},
        {"supplemented_documents": ["规划许可证" + "证" * 200]},
    ]
    for body in bodies:
        response = await _step(intake_api, changqing_dept, project_id, "supplements", body)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_request"
    async with httpx.AsyncClient(timeout=10) as client:
        view = (
            await client.get(
                f"{intake_api.base_url}/v1/projects/{project_id}",
                headers={"X-API-Key": changqing_dept.key},
            )
        ).json()
    assert view["outstanding_documents"] == ["规划许可证"]
    events = await events_of(settings, PROJECT_EVENTS, project_id)
    assert [type(e.message).__name__ for e in events] == ["ProjectRegistered"]


async def test_a_tender_required_by_law_keeps_a_twenty_day_bidding_period(
    intake_api: ServiceProcess, changqing_archive: Department, settings: PlatformSettings
) -> None:
    """A housing tender with a section of 400万元 or more, registered without saying, is derived
    依法必须招标: an announcement closing bids sooner than 20 days after it gets 422 naming the
    rule, and emits nothing. The department declares, before the first announcement, that the
    project is not bound (its tender plan says so); the same announcement is then accepted, and
    the obligation can no longer change."""
    dept = changqing_archive
    async with httpx.AsyncClient(timeout=20) as client:
        response = await client.post(
            f"{intake_api.base_url}/v1/projects",
            json=registration_body(name=f"依法必须招标测试 {uuid.uuid4()}"),
            headers=dept.headers(),
        )
    assert response.status_code == 201, response.text
    registered = response.json()
    assert (registered["tender_required_by_law"], registered["tender_obligation_derived"]) == (
        True,
        True,
    )
    project_id = registered["project_id"]
    deadline = (datetime.now(UTC) + timedelta(days=15)).isoformat()
    announcement = {**ANNOUNCEMENT, "submission_deadline": deadline, "opening_at": deadline}
    response = await _step(intake_api, dept, project_id, "announcement", announcement)
    assert response.status_code == 422, response.text
    refusal = response.json()
    assert refusal["code"] == "bidding_period_too_short"
    assert "招标投标法 art. 24" in refusal["message"]
    assert "derived" in refusal["message"]
    assert refusal["details"][0]["field"] == "submission_deadline"

    not_bound = {"tender_required_by_law": False, "basis": "企业自有资金建设, 不属于必须招标范围"}
    groundless = await _step(
        intake_api, dept, project_id, "tender-obligation", {**not_bound, "basis": ""}
    )
    assert groundless.status_code == 422, groundless.text
    assert groundless.json()["details"][0]["field"].endswith("basis"), groundless.text
    response = await _step(intake_api, dept, project_id, "tender-obligation", not_bound)
    assert response.status_code == 201, response.text
    async with httpx.AsyncClient(timeout=20) as client:
        project = await client.get(
            f"{intake_api.base_url}/v1/projects/{project_id}", headers=dept.headers()
        )
    assert (
        project.json()["tender_required_by_law"],
        project.json()["tender_obligation_derived"],
    ) == (False, False)
    response = await _step(intake_api, dept, project_id, "announcement", announcement)
    assert response.status_code == 201, response.text
    response = await _step(intake_api, dept, project_id, "tender-obligation", not_bound)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "transition_not_allowed"

    events = await events_of(settings, PROJECT_EVENTS, project_id)
    assert [type(e.message) for e in events] == [
        intake_pb2.ProjectRegistered,
        intake_pb2.TenderObligationDeclared,
        intake_pb2.AnnouncementPublished,
    ]
    registration = events[0].message
    assert registration.HasField("tender_required_by_law")
    assert registration.tender_required_by_law and registration.tender_obligation_derived
    declared = events[1].message
    assert not declared.tender_required_by_law and declared.basis == not_bound["basis"]


async def test_sections_of_one_kind_count_together_against_their_kind_s_threshold(
    intake_api: ServiceProcess, changqing_archive: Department, settings: PlatformSettings
) -> None:
    """发改委令第16号 art. 5 through the API: two 施工 sections of 250万元 (one says so, one does
    not, taken as 施工) reach 400万元 together, so the tender is derived 依法必须招标; 300万元 of
    施工, 150万元 of 货物 and 80万元 of 服务 reach none of their own lines. The sections' contract
    types travel in the event; one the rule does not know gets 422 naming the field."""
    wan = 1_000_000

    def body(*sections: tuple[str, int, str | None]) -> dict[str, Any]:
        return registration_body(
            name=f"合同类型测试 {uuid.uuid4()}",
            budget_fen=sum(budget for _, budget, _ in sections),
            trading_method="OPEN_TENDER",
            bid_sections=[
                {
                    "bid_section_code": code,
                    "name": f"{code}标段",
                    "budget_fen": budget,
                    **({"contract_type": kind} if kind else {}),
                }
                for code, budget, kind in sections
            ],
        )

    split = body(("001", 250 * wan, "CONSTRUCTION"), ("002", 250 * wan, None))
    mixed = body(
        ("001", 300 * wan, "CONSTRUCTION"),
        ("002", 150 * wan, "GOODS"),
        ("003", 80 * wan, "SERVICES"),
    )
    unknown = body(("001", 10 * wan, "LABOUR"))
    async with httpx.AsyncClient(timeout=20) as client:
        answers = [
            await client.post(
                f"{intake_api.base_url}/v1/projects", json=each, headers=changqing_archive.headers()
            )
            for each in (split, mixed, unknown)
        ]
    assert answers[0].status_code == answers[1].status_code == 201, answers
    assert answers[0].json()["tender_required_by_law"] is True
    assert answers[1].json()["tender_required_by_law"] is False
    assert answers[0].json()["tender_obligation_derived"] is True
    assert answers[2].status_code == 422, answers[2].text
    assert answers[2].json()["details"][0]["field"] == "bid_sections.0.contract_type"

    [registered] = await events_of(settings, PROJECT_EVENTS, answers[1].json()["project_id"])
    assert [
        intake_pb2.ContractType.Name(section.contract_type)
        for section in registered.message.bid_sections
    ] == ["CONTRACT_TYPE_CONSTRUCTION", "CONTRACT_TYPE_GOODS", "CONTRACT_TYPE_SERVICES"]
