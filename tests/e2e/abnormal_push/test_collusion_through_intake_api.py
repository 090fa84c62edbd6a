"""The same collusion signal end to end through intake's HTTP API: a department registers a
housing project, announces it, and two different bidders' bids carrying one MAC address are
submitted; the push is in 住建局's and the trading centre's inboxes within seconds of the
second bid."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.platform_core.auth.principals import PrincipalKind
from tests.conftest import IssueKey
from tests.integration.abnormal_push.fixtures import Keys, credit_code, inbox
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

# Bids close a month from now: every bid the test submits (dated now) is in time.
BIDS_CLOSE = (datetime.now(UTC) + timedelta(days=30)).isoformat()

pytestmark = pytest.mark.integration

LICHENG = "370112"
WITHIN_SECONDS = 10.0
EVIDENCE = {"sha256": "c" * 64, "location": "docstore://jyzx/announcement.pdf"}


def _bid(bidder: str, name: str, mac: str, price: int) -> dict[str, Any]:
    return {
        "bidder": {"name": name, "credit_code": bidder},
        "bid_section_code": "001",
        "bid_price_fen": price,
        "fingerprint": {
            "cpu_id": uuid.uuid4().hex[:16].upper(),
            "disk_serial": f"WD-{uuid.uuid4().hex[:10].upper()}",
            "mac_address": mac,
            "ip_address": f"10.20.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}",
            "document_md5": uuid.uuid4().hex,
        },
        "deposit_account": str(uuid.uuid4().int % 10**20),
        "deposit_fen": 200_000_00,
    }


async def _licheng_centre(issue_key: IssueKey) -> Callable[[], dict[str, str]]:
    """历城区's trading centre: the headers of its next write (a new Idempotency-Key each)."""
    centre = await issue_key(
        PrincipalKind.DEPARTMENT, "JYZX-LC", "历城区公共资源交易中心", frozenset({LICHENG})
    )

    def headers() -> dict[str, str]:
        return {"X-API-Key": centre.key, "Idempotency-Key": str(uuid.uuid4())}

    return headers


async def _announced_housing_project(
    client: httpx.AsyncClient, intake_api: ServiceProcess, headers: Callable[[], dict[str, str]]
) -> str:
    """A housing project in 历城区, registered and announced: its URL."""
    registered = await client.post(
        f"{intake_api.base_url}/v1/projects",
        json={
            "name": f"历城区安置房工程 {uuid.uuid4().hex[:6]}",
            "category": "HOUSING",
            "region_code": LICHENG,
            "tenderer": {"name": "历城区某街道办事处", "credit_code": credit_code()},
            "budget_fen": 9_900_000_000,
        },
        headers=headers(),
    )
    assert registered.status_code == 201, registered.text
    project_id = registered.json()["project_id"]
    base = f"{intake_api.base_url}/v1/projects/{project_id}"
    announced = await client.post(
        f"{base}/announcement",
        json={
            "title": "历城区安置房工程招标公告",
            "announcement": EVIDENCE,
            "submission_deadline": BIDS_CLOSE,
            "opening_at": BIDS_CLOSE,
        },
        headers=headers(),
    )
    assert announced.status_code == 201, announced.text
    return base


async def test_one_mac_in_two_bids_submitted_through_intake_reaches_the_inboxes(
    intake_api: ServiceProcess,
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    issue_key: IssueKey,
) -> None:
    headers = await _licheng_centre(issue_key)

    mac = "3C:7C:3F:" + ":".join(f"{byte:02X}" for byte in uuid.uuid4().bytes[:3])
    async with httpx.AsyncClient(timeout=20) as client:
        base = await _announced_housing_project(client, intake_api, headers)
        project_id = base.rsplit("/", 1)[1]
        first = await client.post(
            f"{base}/bids",
            json=_bid(credit_code(), "甲建设", mac, 9_500_000_000),
            headers=headers(),
        )
        assert first.status_code == 201, first.text
        second = await client.post(
            f"{base}/bids",
            json=_bid(credit_code(), "乙建设", mac.lower().replace(":", "-"), 9_610_000_000),
            headers=headers(),
        )
        assert second.status_code == 201, second.text
        second_bid_at = time.monotonic()

        async def detected(key: str) -> list[dict[str, Any]]:
            return [
                p
                for p in await inbox(client, push_api, key)
                if p["report"] and p["report"]["project_id"] == project_id
            ]

        (zjj,) = await eventually(
            lambda: detected(keys["ZJJ"]), bool, timeout_s=WITHIN_SECONDS, interval_s=0.05
        )
        (trading_centre,) = await eventually(
            lambda: detected(keys["JYZX"]), bool, timeout_s=WITHIN_SECONDS, interval_s=0.05
        )
        seen_after = time.monotonic() - second_bid_at
        print(f"\nsecond bid (intake API) → both inboxes {seen_after:.2f}s")

    assert zjj["report"]["detection"]["rule_id"] == "PRT-FP-001"
    assert zjj["report"]["detection"]["evidence_values"] == {"mac_address": mac}
    assert second.json()["event_id"] in zjj["report"]["detection"]["source_event_ids"]
    assert trading_centre["report_id"] == zjj["report_id"]
    assert seen_after < WITHIN_SECONDS


async def test_one_contact_phone_in_two_bids_is_detected_and_a_bad_phone_refused(
    intake_api: ServiceProcess,
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    issue_key: IssueKey,
) -> None:
    """R044 through intake's API: two bidders' bids state one contact phone, written two ways;
    a phone that is not one is refused with what is accepted."""
    headers = await _licheng_centre(issue_key)

    def mac() -> str:
        return "3C:7C:3F:" + ":".join(f"{byte:02X}" for byte in uuid.uuid4().bytes[:3])

    digits = f"139{uuid.uuid4().int % 10**8:08d}"
    async with httpx.AsyncClient(timeout=20) as client:
        base = await _announced_housing_project(client, intake_api, headers)
        project_id = base.rsplit("/", 1)[1]
        refused = await client.post(
            f"{base}/bids",
            json={
                **_bid(credit_code(), "丙建设", mac(), 9_700_000_000),
                "bidder_contact_phone": "电话待补",
            },
            headers=headers(),
        )
        assert refused.status_code == 422, refused.text
        problem = refused.json()["details"][0]
        assert problem["field"].endswith("bidder_contact_phone")
        assert "7 to 12 digits" in problem["problem"]
        bids = []
        for name, phone, price in (
            ("甲建设", f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}", 9_500_000_000),
            ("乙建设", digits, 9_610_000_000),
        ):
            body = {**_bid(credit_code(), name, mac(), price), "bidder_contact_phone": phone}
            submitted = await client.post(f"{base}/bids", json=body, headers=headers())
            assert submitted.status_code == 201, submitted.text
            bids.append(submitted.json()["event_id"])

        async def detected() -> list[dict[str, Any]]:
            return [
                p
                for p in await inbox(client, push_api, keys["ZJJ"])
                if p["report"] and p["report"]["project_id"] == project_id
            ]

        (push,) = await eventually(detected, bool, timeout_s=WITHIN_SECONDS, interval_s=0.1)
    detection = push["report"]["detection"]
    assert detection["rule_id"] == "R044"
    assert detection["evidence_values"] == {"bidder_contact_phone": digits}
    assert set(detection["source_event_ids"]) == set(bids)
