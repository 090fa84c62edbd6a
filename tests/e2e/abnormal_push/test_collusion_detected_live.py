"""Two bids on one section from different bidders with one MAC address put a push in the
district 住建局's and the trading centre's inboxes within seconds of the second bid (the project
is 历城区's: 历城区住房和城乡建设局 handles it, 市住建局 gets a copy).

The intake events are published straight to intake.projects.v1 with the platform's
EventPublisher (the real broker and the real contract); once intake's bid API exists, the same
test can submit the bids through it instead.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from prt.v1 import common_pb2, intake_pb2

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.kafka.publisher import EventPublisher
from tests.conftest import IssueKey
from tests.integration.abnormal_push.fixtures import (
    Keys,
    auth,
    credit_code,
    inbox,
    publish,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

WITHIN_SECONDS = 10.0


def registered(project_id: str, tenderer: str) -> intake_pb2.ProjectRegistered:
    return intake_pb2.ProjectRegistered(
        project_id=project_id,
        occurred_at=to_timestamp(datetime.now(UTC)),
        actor_department="JYZX",
        name="历城区某安置房建设工程",
        category=common_pb2.PROJECT_CATEGORY_HOUSING,
        region_code="370112",
        tenderer=common_pb2.OrganisationRef(name="某区住建局", unified_social_credit_code=tenderer),
        trading_method=intake_pb2.TRADING_METHOD_OPEN_TENDER,
        bid_sections=[intake_pb2.BidSection(bid_section_code="BD01", name="一标段")],
        budget_fen=8_800_000_000,
    )


def bid(project_id: str, bidder: str, name: str, mac: str, serial: int) -> intake_pb2.BidSubmitted:
    return intake_pb2.BidSubmitted(
        project_id=project_id,
        occurred_at=to_timestamp(datetime.now(UTC)),
        actor_department="JYZX",
        bidder=common_pb2.OrganisationRef(name=name, unified_social_credit_code=bidder),
        bid_section_code="BD01",
        bid_price_fen=8_000_000_000 + serial * serial * 1_234_567,  # irregular prices
        fingerprint=common_pb2.BidFileFingerprint(
            cpu_id=f"CPU-{uuid.uuid4().hex[:8]}",
            disk_serial=f"DISK-{uuid.uuid4().hex[:8]}",
            mac_address=mac,
            ip_address=f"10.1.{serial}.{serial}",
            document_md5=uuid.uuid4().hex,
        ),
        deposit_account=f"6222 0210 {uuid.uuid4().int % 10**8:08d}",
        deposit_fen=80_000_000,
    )


async def _detected(
    client: httpx.AsyncClient, api: ServiceProcess, key: str, project_id: str
) -> list[dict[str, object]]:
    return [
        p
        for p in await inbox(client, api, key)
        if p["report"] is not None and p["report"]["project_id"] == project_id
    ]


async def test_one_mac_across_two_bidders_reaches_the_housing_bureau_and_trading_centre(
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    publisher: EventPublisher,
    issue_key: IssueKey,
) -> None:
    district_bureau = (
        await issue_key(
            PrincipalKind.DEPARTMENT, "ZJJ-LC", "历城区住房和城乡建设局", frozenset({"370112"})
        )
    ).key
    project_id = f"p-{uuid.uuid4()}"
    mac = "3C:7C:3F:" + ":".join(f"{byte:02X}" for byte in uuid.uuid4().bytes[:3])
    first_bidder, second_bidder, honest = credit_code(), credit_code(), credit_code()
    await publish(publisher, PROJECT_EVENTS, registered(project_id, credit_code()), project_id)
    await publish(publisher, PROJECT_EVENTS, bid(project_id, honest, "诚信建设", "", 3), project_id)
    await publish(
        publisher, PROJECT_EVENTS, bid(project_id, first_bidder, "甲建设", mac, 1), project_id
    )
    second = bid(project_id, second_bidder, "乙建设", mac, 2)
    second_bid_at = time.monotonic()
    envelope = await publish(publisher, PROJECT_EVENTS, second, project_id)

    async with httpx.AsyncClient(timeout=10) as client:
        (zjj,) = await eventually(
            lambda: _detected(client, push_api, district_bureau, project_id),
            lambda found: len(found) >= 1,
            timeout_s=WITHIN_SECONDS,
            interval_s=0.05,
        )
        zjj_seen_after = time.monotonic() - second_bid_at
        (centre,) = await eventually(
            lambda: _detected(client, push_api, keys["JYZX"], project_id),
            lambda found: len(found) >= 1,
            timeout_s=WITHIN_SECONDS,
            interval_s=0.05,
        )
        centre_seen_after = time.monotonic() - second_bid_at
        print(
            f"\nsecond bid → 区住建局 inbox {zjj_seen_after:.2f}s, "
            f"交易中心 {centre_seen_after:.2f}s"
        )
        (city,) = await eventually(
            lambda: _detected(client, push_api, keys["ZJJ"], project_id),
            lambda found: len(found) >= 1,
            timeout_s=WITHIN_SECONDS,
        )

        # The same bid delivered again changes nothing: still one report, one push each.
        await publish(publisher, PROJECT_EVENTS, second, project_id, event_id=envelope.id)
        rules = await client.get(
            f"{push_api.base_url}/v1/detection/rules", headers=auth(keys["operator"])
        )
        again = await _detected(client, push_api, district_bureau, project_id)

    report = zjj["report"]
    assert isinstance(report, dict)
    assert zjj["role"] == "HANDLER" and zjj["reason"] == "CATEGORY_SUPERVISOR"
    assert centre["role"] == "COPY" and centre["report_id"] == zjj["report_id"]
    assert (city["role"], city["reason"]) == ("COPY", "BRANCH_OVERSIGHT")
    assert report["source"] == "DETECTED"
    assert report["behaviour_type"] == "COLLUSION_SAME_PREPARER"
    assert report["detection"]["rule_id"] == "PRT-FP-001"
    assert "第四十条" in report["detection"]["legal_basis"]
    assert report["detection"]["evidence_values"] == {"mac_address": mac}
    assert envelope.id in report["detection"]["source_event_ids"]
    assert {s["credit_code"] for s in report["subjects"]} == {first_bidder, second_bidder}
    assert zjj_seen_after < WITHIN_SECONDS
    assert rules.status_code == 200
    by_id = {rule["rule_id"]: rule for rule in rules.json()["rules"]}
    assert by_id["PRT-FP-001"]["reports_filed"] >= 1
    assert "第四十条" in by_id["R028"]["legal_basis"]
    assert len(again) == 1
