"""A collusion sign is one report however many bidders come to share it, and a rule's count of
reports filed counts each report once, on the real topic and Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from google.protobuf.message import Message
from prt.v1 import common_pb2, intake_pb2
from redis.asyncio import Redis

from services.abnormal_push.detection import DetectionState
from services.abnormal_push.domain.detection.findings import plan_filings
from services.abnormal_push.domain.detection.model import Finding, ProjectFacts, RuleDefinition
from services.abnormal_push.domain.detection.rules import same_fingerprint
from services.abnormal_push.domain.reports import BehaviourType, Severity, Subject, SubjectKind
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.kafka.publisher import EventPublisher
from tests.integration.abnormal_push.fixtures import Keys, credit_code, inbox, publish
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

SHARED_DISK = "WD-WCC4N0SHARED7"  # a disk serial: decisive alone (an IP is not)


def _now() -> Any:
    return to_timestamp(datetime.now(UTC))


def _org(code: str) -> common_pb2.OrganisationRef:
    return common_pb2.OrganisationRef(name="某公司", unified_social_credit_code=code)


def _bid(project_id: str, bidder: str, price: int) -> intake_pb2.BidSubmitted:
    """A bid from the shared disk, everything else its own."""
    return intake_pb2.BidSubmitted(
        project_id=project_id,
        occurred_at=_now(),
        actor_department="JYZX",
        bidder=_org(bidder),
        bid_section_code="S1",
        bid_price_fen=price,
        fingerprint=common_pb2.BidFileFingerprint(
            cpu_id=uuid.uuid4().hex,
            disk_serial=SHARED_DISK,
            mac_address=":".join(f"{b:02X}" for b in uuid.uuid4().bytes[:6]),
            ip_address=f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}",
            document_md5=uuid.uuid4().hex,
        ),
        deposit_account=str(uuid.uuid4().int % 10**16),
        deposit_fen=100_000_00,
    )


async def test_three_bidders_from_one_disk_are_one_report_counted_once(
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    publisher: EventPublisher,
    redis: Redis,
) -> None:
    state = DetectionState(redis)
    before = (await state.findings_by_rule()).get("PRT-FP-001", 0)
    project_id = f"p-{uuid.uuid4()}"

    async def send(message: Message) -> None:
        await publish(publisher, PROJECT_EVENTS, message, project_id)

    tenderer = credit_code()
    await send(
        intake_pb2.ProjectRegistered(
            project_id=project_id,
            occurred_at=_now(),
            actor_department="JYZX",
            name="共享IP测试项目",
            category=common_pb2.PROJECT_CATEGORY_WATER,
            region_code="370102",
            tenderer=_org(tenderer),
            trading_method=intake_pb2.TRADING_METHOD_OPEN_TENDER,
            bid_sections=[intake_pb2.BidSection(bid_section_code="S1", name="一标段")],
        )
    )
    a, b, c = credit_code(), credit_code(), credit_code()
    for n, bidder in enumerate((a, b, c)):
        await send(_bid(project_id, bidder, 90_000_000_00 + n * n * 3_210_00))
    # The breach comes after the bids in the same partition (same key): once its report is in,
    # detection has judged every bid.
    await send(
        intake_pb2.DeficiencyDeadlineBreached(
            project_id=project_id,
            occurred_at=_now(),
            supplement_deadline=common_pb2.LocalDate(year=2024, month=10, day=8),
            outstanding_documents=["取水许可证"],
            tenderer=_org(tenderer),
        )
    )

    async def detected() -> list[dict[str, Any]]:
        return [
            push["report"]
            for push in await inbox(client, push_api, keys["SWJ"])
            if push["report"] and push["report"]["project_id"] == project_id
        ]

    async with httpx.AsyncClient(timeout=10) as client:
        reports = await eventually(
            detected,
            lambda found: (
                {"PRT-FP-001", "PRT-RQ-001"} <= {r["detection"]["rule_id"] for r in found}
            ),
        )
    fingerprint = [r for r in reports if r["detection"]["rule_id"] == "PRT-FP-001"]
    (report,) = fingerprint
    assert {s["credit_code"] for s in report["subjects"]} == {a, b}
    assert report["detection"]["evidence_values"] == {"disk_serial": SHARED_DISK}

    # One report filed for the sign, counted once; the third bidder is recorded beside it.
    assert (await state.findings_by_rule())["PRT-FP-001"] == before + 1
    sign_key = Finding(
        definition=same_fingerprint.RULE.definition,
        project=ProjectFacts(project_id),
        bid_section_code="S1",
        subjects=(),
        description="",
        source_event_ids=(),
        evidence_values=(("disk_serial", SHARED_DISK),),
        act_at=datetime.now(UTC),
        open_to_joiners=True,
    ).sign_key
    sign = await state.filed_sign(sign_key)
    assert sign is not None and sign.report_id == report["report_id"]
    assert [s.credit_code for s in sign.joined] == [c]
    assert len(sign.source_event_ids) == 3


async def test_a_report_found_again_or_replayed_is_counted_once(redis: Redis) -> None:
    """Counted by its id: found again by later events, or committed again by a replay."""
    state = DetectionState(redis)
    rule_id = f"TEST-{uuid.uuid4().hex[:8]}"
    definition = RuleDefinition(
        rule_id, "1", "测试规则", "测试", "BidSubmitted", BehaviourType.OTHER, Severity.LOW, {}
    )
    finding = Finding(
        definition=definition,
        project=ProjectFacts(f"p-{uuid.uuid4()}"),
        bid_section_code="S1",
        subjects=(Subject(SubjectKind.BIDDER, credit_code=credit_code()),),
        description="测试",
        source_event_ids=("e-1",),
        evidence_values=(("value", "1"),),
        act_at=datetime.now(UTC),
    )
    filings = plan_filings([finding], {})
    for event_id in (f"e-{uuid.uuid4()}", f"e-{uuid.uuid4()}"):  # found again by a later event
        await state.commit(event_id, filings=filings)
    await state.commit(event_id, filings=filings)  # the same event applied again (a replay)
    assert (await state.findings_by_rule())[rule_id] == 1
