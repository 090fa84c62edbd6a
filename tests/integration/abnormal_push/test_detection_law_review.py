"""The procurement-law review's cases on the real broker and Redis: one pair of bidders whose
files came from one machine is one report (it was five); a common CPU id and a LAN address
are no report, nor are waived deposits "paid from" one "免缴" account; a 政府采购 tender's
report cites 政府采购 law. And the reports filed per component before the fix are not filed
again after it: neither live, when a later bid re-evaluates the section, nor by a rebuild's
replay, nor when a bidder joins the pair later."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from google.protobuf.message import Message
from prt.v1 import abnormal_push_pb2, common_pb2, intake_pb2
from redis.asyncio import Redis

from services.abnormal_push.detection import DetectionState, Detector, LogPosition
from services.abnormal_push.domain.detection.findings import plan_filings, report_from_finding
from services.abnormal_push.domain.detection.model import (
    Bid,
    BidSubmittedTrigger,
    Finding,
    Fingerprint,
    Organisation,
    ProjectFacts,
)
from services.abnormal_push.domain.detection.rules import same_fingerprint
from services.abnormal_push.domain.reports import AbnormalReport
from services.abnormal_push.domain.routing import derived_event_id
from services.abnormal_push.event_codec import report_from_event
from services.abnormal_push.publishing import publish_report
from services.abnormal_push.rebuild import (
    count_filed_reports,
    delete_projections,
    record_replay_boundary,
)
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import ABNORMAL_REPORTS, PROJECT_EVENTS
from services.platform_core.kafka.log_replay import ReplayCounts, replay_topic
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from tests.integration.abnormal_push.fixtures import credit_code, publish
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

MIGRATION_DB = 9  # not the services' database: the migration test wipes it
T = datetime(2026, 10, 20, 1, tzinfo=UTC)
COMMON_CPU = "BFEBFBFF000906EA"


def _org(code: str, name: str = "某公司") -> common_pb2.OrganisationRef:
    return common_pb2.OrganisationRef(name=name, unified_social_credit_code=code)


def _fingerprint(**shared: str) -> common_pb2.BidFileFingerprint:
    """A fingerprint of its own, but for the components given."""
    own = {
        "cpu_id": uuid.uuid4().hex[:16].upper(),
        "disk_serial": f"WD-{uuid.uuid4().hex[:12].upper()}",
        "mac_address": ":".join(f"{b:02X}" for b in uuid.uuid4().bytes[:6]),
        "ip_address": f"58.57.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}",
        "document_md5": uuid.uuid4().hex,
    }
    return common_pb2.BidFileFingerprint(**{**own, **shared})


def _one_machine(tag: str) -> dict[str, str]:
    """All five components of the one machine two bidders' files were made on."""
    return {
        "cpu_id": COMMON_CPU,
        "disk_serial": f"WD-{tag}",
        "mac_address": "3C:7C:3F:1A:2B:77",
        "ip_address": "58.56.1.2",
        "document_md5": uuid.uuid5(uuid.NAMESPACE_URL, tag).hex,
    }


def _bid(
    project_id: str,
    bidder: str,
    fingerprint: common_pb2.BidFileFingerprint,
    *,
    account: str = "",
    deposit_fen: int = 100_000_00,
    at: datetime | None = None,
) -> intake_pb2.BidSubmitted:
    return intake_pb2.BidSubmitted(
        project_id=project_id,
        occurred_at=to_timestamp(at or datetime.now(UTC)),
        actor_department="JYZX",
        bidder=_org(bidder),
        bid_section_code="S1",
        bid_price_fen=90_000_000_00 + uuid.uuid4().int % 10**8,
        fingerprint=fingerprint,
        deposit_account=account or str(uuid.uuid4().int % 10**16),
        deposit_fen=deposit_fen,
    )


def _registered(project_id: str, category: int) -> intake_pb2.ProjectRegistered:
    return intake_pb2.ProjectRegistered(
        project_id=project_id,
        occurred_at=to_timestamp(datetime.now(UTC)),
        actor_department="JYZX",
        name="法律审查复现项目",
        category=category,  # type: ignore[arg-type]
        region_code="370102",
        tenderer=_org(credit_code(), "招标人"),
        trading_method=intake_pb2.TRADING_METHOD_OPEN_TENDER,
        bid_sections=[intake_pb2.BidSection(bid_section_code="S1", name="一标段")],
    )


def _breach(project_id: str) -> intake_pb2.DeficiencyDeadlineBreached:
    """Published after a project's bids, in its partition: once its report (PRT-RQ-001) is on
    the log, every bid before it was judged and whatever it filed is on the log too."""
    return intake_pb2.DeficiencyDeadlineBreached(
        project_id=project_id,
        occurred_at=to_timestamp(datetime.now(UTC)),
        supplement_deadline=common_pb2.LocalDate(year=2026, month=10, day=8),
        outstanding_documents=["资格证明文件"],
        tenderer=_org(credit_code(), "招标人"),
    )


async def _reports_on_the_log(
    settings: PlatformSettings, project_ids: set[str]
) -> dict[str, list[AbnormalReport]]:
    """Every report record abnormal.reports.v1 holds for the projects (one per record, so a
    report filed twice shows twice), by project."""
    found: dict[str, list[AbnormalReport]] = {pid: [] for pid in project_ids}
    async for envelope in replay_topic(
        settings, ABNORMAL_REPORTS, ReplayCounts(), client_id=f"law-review-{uuid.uuid4().hex}"
    ):
        message = envelope.message
        if (
            isinstance(message, abnormal_push_pb2.AbnormalReportFiled)
            and message.project_id in project_ids
        ):
            found[message.project_id].append(report_from_event(message))
    return found


def _by_rule(reports: list[AbnormalReport]) -> dict[str, list[AbnormalReport]]:
    rules: dict[str, list[AbnormalReport]] = {}
    for report in reports:
        assert report.detection is not None
        rules.setdefault(report.detection.rule_id, []).append(report)
    return rules


async def test_the_law_review_cases_through_the_worker(
    push_worker: ServiceProcess, publisher: EventPublisher, settings: PlatformSettings
) -> None:
    run = uuid.uuid4().hex[:10].upper()
    one_machine, weak_only, procurement = (f"p-law-{run}-{n}" for n in ("fp", "weak", "gp"))

    async def send(project_id: str, message: Message) -> None:
        await publish(publisher, PROJECT_EVENTS, message, project_id)

    # 1. One pair whose files came from one machine (all five components), one bidder apart.
    await send(one_machine, _registered(one_machine, common_pb2.PROJECT_CATEGORY_WATER))
    a, b = credit_code(), credit_code()
    for bidder in (a, b):
        await send(one_machine, _bid(one_machine, bidder, _fingerprint(**_one_machine(run))))
    await send(one_machine, _bid(one_machine, credit_code(), _fingerprint()))
    # 2. A common CPU id and a LAN address only; deposits waived ("免缴", 0 paid) for all.
    await send(weak_only, _registered(weak_only, common_pb2.PROJECT_CATEGORY_MUNICIPAL))
    weak = {"cpu_id": COMMON_CPU, "ip_address": "192.168.1.100"}
    for n in range(3):
        shared = weak if n < 2 else {}
        fingerprint = _fingerprint(**shared)
        await send(
            weak_only,
            _bid(weak_only, credit_code(), fingerprint, account="免缴", deposit_fen=0),
        )
    # 3. A 政府采购 goods tender: two suppliers' files from one disk.
    gp_category = common_pb2.PROJECT_CATEGORY_GOVERNMENT_PROCUREMENT
    await send(procurement, _registered(procurement, gp_category))
    for _ in range(2):
        fingerprint = _fingerprint(disk_serial=f"WD-GP-{run}")
        await send(procurement, _bid(procurement, credit_code(), fingerprint))
    for project_id in (one_machine, weak_only, procurement):
        await send(project_id, _breach(project_id))

    projects = {one_machine, weak_only, procurement}
    reports = await eventually(
        lambda: _reports_on_the_log(settings, projects),
        lambda found: all(
            any(r.detection and r.detection.rule_id == "PRT-RQ-001" for r in found[pid])
            for pid in projects
        ),
        timeout_s=60,
    )

    fingerprinted = _by_rule(reports[one_machine])
    assert set(fingerprinted) == {"PRT-FP-001", "PRT-RQ-001"}
    (report,) = fingerprinted["PRT-FP-001"]  # one report, not five
    assert report.detection is not None
    assert {s.credit_code for s in report.subjects} == {a, b}
    assert dict(report.detection.evidence_values) == {
        "cpu_id": COMMON_CPU,
        "disk_serial": f"WD-{run}",
        "mac_address": "3C:7C:3F:1A:2B:77",
        "ip_address": "58.56.1.2",
        "document_md5": uuid.uuid5(uuid.NAMESPACE_URL, run).hex,
    }
    assert "招标投标法实施条例 第四十条 第(一)项" in report.detection.legal_basis

    # Neither the CPU id with a LAN address nor the waived deposits are a report.
    assert set(_by_rule(reports[weak_only])) == {"PRT-RQ-001"}

    (gp,) = _by_rule(reports[procurement])["PRT-FP-001"]
    assert gp.detection is not None
    assert "财政部令第87号) 第三十七条 第(一)项" in gp.detection.legal_basis
    assert "政府采购法实施条例 第七十四条" in gp.detection.legal_basis
    assert "招标投标法" not in gp.detection.legal_basis
    assert gp.severity.value == "HIGH"


# --- the reports filed per component before the fix ---------------------------------------


@pytest.fixture
async def own_redis(settings: PlatformSettings) -> AsyncIterator[Redis]:
    base, _, _ = settings.redis_url.rpartition("/")
    client = Redis.from_url(f"{base}/{MIGRATION_DB}")
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


def _envelope(project_id: str, message: Message) -> Envelope[Message]:
    return Envelope(message=message, source="/tests/abnormal-push", subject=project_id)


def _as_detection_sees(envelope: Envelope[Message]) -> Bid:
    message = envelope.message
    assert isinstance(message, intake_pb2.BidSubmitted)
    fp = message.fingerprint
    return Bid(
        event_id=envelope.id,
        bidder=Organisation(message.bidder.unified_social_credit_code, message.bidder.name),
        bid_section_code=message.bid_section_code,
        bid_price_fen=message.bid_price_fen,
        fingerprint=Fingerprint(
            fp.cpu_id, fp.disk_serial, fp.mac_address, fp.ip_address, fp.document_md5
        ),
        deposit_account=message.deposit_account,
        submitted_at=T,
    )


def _filed_per_component(project_id: str, pair: list[Bid]) -> list[Finding]:
    """What the rule found before the fix for a pair sharing five components: one finding per
    component, each a sign of its own, keyed "rule|project|section|component=value"."""
    trigger = BidSubmittedTrigger("e", T, ProjectFacts(project_id), "S1", tuple(pair))
    (group,) = [o for o in same_fingerprint.RULE.evaluate(trigger) if isinstance(o, Finding)]
    return [
        Finding(
            definition=group.definition,
            project=group.project,
            bid_section_code="S1",
            subjects=group.subjects,
            description=f"指纹 {name} 相同: {value}",
            source_event_ids=group.source_event_ids,
            evidence_values=((name, value),),
            act_at=group.act_at,
            open_to_joiners=True,
        )
        for name, value in group.evidence_values
    ]


async def test_reports_filed_per_component_are_not_filed_again_live_on_replay_or_on_joining(
    settings: PlatformSettings, publisher: EventPublisher, own_redis: Redis
) -> None:
    run = uuid.uuid4().hex[:10].upper()
    project_id = f"p-law-migration-{run}"
    topic = PROJECT_EVENTS.name
    shared = _one_machine(run)
    a, b = (
        _envelope(project_id, _bid(project_id, credit_code(), _fingerprint(**shared), at=T))
        for _ in range(2)
    )
    c = _envelope(project_id, _bid(project_id, credit_code(), _fingerprint(), at=T))

    # Before the deploy: the old rule filed five reports for A and B (one per component) and
    # recorded five signs; A and B were applied.
    state = DetectionState(own_redis)
    legacy = _filed_per_component(project_id, [_as_detection_sees(a), _as_detection_sees(b)])
    for finding in legacy:
        report = report_from_finding(finding, "JYZX", T)
        await publish_report(publisher, report, derived_event_id("report-filed", report.report_id))
    await state.commit(a.id, bid=(project_id, _as_detection_sees(a)))
    await state.commit(
        b.id, bid=(project_id, _as_detection_sees(b)), filings=plan_filings(legacy, {})
    )
    legacy_ids = sorted(f.report_id for f in legacy)
    assert len(set(legacy_ids)) == 5

    async def filed() -> list[str]:
        return sorted(
            r.report_id for r in (await _reports_on_the_log(settings, {project_id}))[project_id]
        )

    assert await filed() == legacy_ids

    # After the deploy, live: C's bid re-evaluates the section, A and B are one group now,
    # matched to the signs already filed by their disk, MAC and MD5: nothing is filed.
    live = Detector(state, publisher)
    await live.apply(c, LogPosition(topic, 0, 2))
    assert await filed() == legacy_ids

    # A rebuild: the state is wiped, each rule's reports counted from the log, and A, B, C
    # replayed below the boundary. The group's new id is not on the log: not filed.
    await record_replay_boundary(own_redis, {f"{topic}:0": 3})
    await delete_projections(own_redis)
    await count_filed_reports(settings, own_redis)
    replay_state = DetectionState(own_redis)
    replay = Detector(replay_state, publisher)
    for offset, envelope in enumerate((a, b, c)):
        await replay.apply(envelope, LogPosition(topic, 0, offset))
    assert await filed() == legacy_ids
    assert any(
        entry["rule_id"] == "PRT-FP-001" and "not on the log" in entry["reason"]
        for entry in await replay_state.recent_not_applied(limit=200)
    )

    # Past the boundary: D shares A's and B's MAC — it joins their sign, no new report.
    d = _envelope(
        project_id,
        _bid(project_id, credit_code(), _fingerprint(mac_address=shared["mac_address"]), at=T),
    )
    await replay.apply(d, LogPosition(topic, 0, 3))
    assert await filed() == legacy_ids

    # While a new pair past the boundary is filed: detection is judging, not silent.
    e, f = (
        _envelope(
            project_id,
            _bid(project_id, credit_code(), _fingerprint(disk_serial=f"WD-NEW-{run}"), at=T),
        )
        for _ in range(2)
    )
    await replay.apply(e, LogPosition(topic, 0, 4))
    await replay.apply(f, LogPosition(topic, 0, 5))
    after = await filed()
    assert len(after) == 6 and set(legacy_ids) < set(after)
