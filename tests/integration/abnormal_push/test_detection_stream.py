"""Detection in the stream, from intake's events on the real topic: the opening-time rules
(R028, R018), the deposit account, the evaluation's rulings (R035) and the 容缺 breach fire and
are routed; honest bids do not fire; the detection state is idempotent by event id."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from google.protobuf.message import Message
from prt.v1 import common_pb2, intake_pb2, remote_eval_pb2
from redis.asyncio import Redis

from services.abnormal_push.detection import DetectionState
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import EVALUATIONS, PROJECT_EVENTS
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from tests.integration.abnormal_push.fixtures import (
    Keys,
    auth,
    credit_code,
    dead_letter_reasons,
    inbox,
    publish,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration


def _now() -> Any:
    return to_timestamp(datetime.now(UTC))


def _org(code: str, name: str = "某公司") -> common_pb2.OrganisationRef:
    return common_pb2.OrganisationRef(name=name, unified_social_credit_code=code)


class Project:
    def __init__(self, publisher: EventPublisher, category: int, method: int) -> None:
        self.publisher = publisher
        self.project_id = f"p-{uuid.uuid4()}"
        self.tenderer = credit_code()
        self.category = category
        self.method = method

    async def register(self, **fields: Any) -> None:
        await self.send(
            intake_pb2.ProjectRegistered(
                project_id=self.project_id,
                occurred_at=_now(),
                actor_department="JYZX",
                name="检测测试项目",
                category=self.category,  # type: ignore[arg-type]
                region_code="370102",
                tenderer=_org(self.tenderer, "招标人"),
                trading_method=self.method,  # type: ignore[arg-type]
                bid_sections=[intake_pb2.BidSection(bid_section_code="S1", name="一标段")],
                **fields,
            )
        )

    async def bid(self, bidder: str, price: int, account: str = "") -> str:
        envelope: Envelope[Message] = await self.send(
            intake_pb2.BidSubmitted(
                project_id=self.project_id,
                occurred_at=_now(),
                actor_department="JYZX",
                bidder=_org(bidder),
                bid_section_code="S1",
                bid_price_fen=price,
                fingerprint=common_pb2.BidFileFingerprint(
                    cpu_id=uuid.uuid4().hex,
                    disk_serial=uuid.uuid4().hex,
                    mac_address=":".join(f"{b:02X}" for b in uuid.uuid4().bytes[:6]),
                    ip_address=f"172.16.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}",
                    document_md5=uuid.uuid4().hex,
                ),
                deposit_account=account or str(uuid.uuid4().int % 10**16),
                deposit_fen=100_000_00,  # paid: a waived deposit is no transfer (PRT-DEP-001)
            )
        )
        return envelope.id

    async def open(self, *bidders: str) -> None:
        await self.send(
            intake_pb2.BidsOpened(
                project_id=self.project_id,
                occurred_at=_now(),
                actor_department="JYZX",
                bid_section_code="S1",
                opened_bidder_codes=list(bidders),
            )
        )

    async def evaluate(self, ruled_out: dict[str, str]) -> None:
        await self.send(
            intake_pb2.EvaluationCompleted(
                project_id=self.project_id,
                occurred_at=_now(),
                actor_department="JYZX",
                bid_section_code="S1",
                disqualifications=[
                    intake_pb2.Disqualification(bidder_code=code, reason=reason)
                    for code, reason in ruled_out.items()
                ],
            )
        )

    async def send(self, message: Message, event_id: str | None = None) -> Envelope[Message]:
        return await publish(
            self.publisher, PROJECT_EVENTS, message, self.project_id, event_id=event_id
        )


async def _reports(
    client: httpx.AsyncClient, api: ServiceProcess, key: str, project_id: str
) -> dict[str, dict[str, Any]]:
    """This project's detected reports in one inbox, by rule id."""
    found: dict[str, dict[str, Any]] = {}
    for push in await inbox(client, api, key):
        report = push["report"]
        if report and report["project_id"] == project_id and report["detection"]:
            found.setdefault(report["detection"]["rule_id"], report)
    return found


async def test_identical_prices_and_a_shared_deposit_account_fire_and_are_routed(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys, publisher: EventPublisher
) -> None:
    project = Project(
        publisher, common_pb2.PROJECT_CATEGORY_WATER, intake_pb2.TRADING_METHOD_OPEN_TENDER
    )
    await project.register()
    a, b, c = credit_code(), credit_code(), credit_code()
    await project.bid(a, 55_500_000_00, account="6228-4800-1234-5678")
    await project.bid(b, 55_500_000_00, account="6228 4800 1234 5678")
    await project.bid(c, 54_900_000_00)
    await project.open(a, b, c)
    async with httpx.AsyncClient(timeout=10) as client:
        reports = await eventually(
            lambda: _reports(client, push_api, keys["SWJ"], project.project_id),
            lambda found: {"R028", "PRT-DEP-001"} <= set(found),
        )
    assert set(reports) == {"R028", "PRT-DEP-001"}  # no fingerprint shared, one bidder each
    assert reports["R028"]["detection"]["evidence_values"] == {"bid_price_fen": "5550000000"}
    assert {s["credit_code"] for s in reports["R028"]["subjects"]} == {a, b}
    assert reports["PRT-DEP-001"]["behaviour_type"] == "COLLUSION_SAME_DEPOSIT_ACCOUNT"


async def test_single_bidder_in_open_tender_fires_at_opening_but_not_in_negotiation(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys, publisher: EventPublisher
) -> None:
    open_tender = Project(
        publisher, common_pb2.PROJECT_CATEGORY_TRANSPORT, intake_pb2.TRADING_METHOD_OPEN_TENDER
    )
    negotiated = Project(
        publisher,
        common_pb2.PROJECT_CATEGORY_TRANSPORT,
        intake_pb2.TRADING_METHOD_COMPETITIVE_NEGOTIATION,
    )
    for project in (negotiated, open_tender):
        await project.register()
        only = credit_code()
        await project.bid(only, 1_000_000_00)
        await project.open(only)
    # A later event of the negotiated project (same key, same partition): once its finding is
    # in, the opening before it has been evaluated.
    await negotiated.send(
        intake_pb2.DeficiencyDeadlineBreached(
            project_id=negotiated.project_id,
            occurred_at=_now(),
            supplement_deadline=common_pb2.LocalDate(year=2024, month=10, day=8),
            outstanding_documents=["资格预审文件"],
            tenderer=_org(negotiated.tenderer, "招标人"),
        )
    )
    async with httpx.AsyncClient(timeout=10) as client:
        reports = await eventually(
            lambda: _reports(client, push_api, keys["JTJ"], open_tender.project_id),
            lambda found: "R018" in found,
        )
        silent = await eventually(
            lambda: _reports(client, push_api, keys["JTJ"], negotiated.project_id),
            lambda found: "PRT-RQ-001" in found,
        )
    assert reports["R018"]["subjects"][0]["kind"] == "TENDERER"
    assert reports["R018"]["subjects"][0]["credit_code"] == open_tender.tenderer
    assert set(silent) == {"PRT-RQ-001"}  # no R018 outside open procedures


async def test_an_open_tender_failing_with_one_bidder_is_not_reported(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys, publisher: EventPublisher
) -> None:
    """Intake opens no tender with fewer than 3 bidders (实施条例 art. 44): the section fails
    (流标, here for the whole project, naming no section) and the tenderer tenders again, as
    招标投标法 art. 28 orders — lawful, so no R018 push to sign for and answer."""
    failed = Project(
        publisher, common_pb2.PROJECT_CATEGORY_WATER, intake_pb2.TRADING_METHOD_OPEN_TENDER
    )
    await failed.register()
    await failed.bid(credit_code(), 2_000_000_00)
    await failed.send(
        intake_pb2.ProjectTerminated(
            project_id=failed.project_id,
            occurred_at=_now(),
            reason=intake_pb2.TERMINATION_REASON_FAILED_TENDER,
            explanation="投标人不足三家",
        )
    )
    # After the 流标 in the project's partition: once its report is in, the 流标 was judged.
    await failed.send(
        intake_pb2.DeficiencyDeadlineBreached(
            project_id=failed.project_id,
            occurred_at=_now(),
            supplement_deadline=common_pb2.LocalDate(year=2024, month=10, day=8),
            outstanding_documents=["取水许可证"],
            tenderer=_org(failed.tenderer, "招标人"),
        )
    )
    async with httpx.AsyncClient(timeout=10) as client:
        reports = await eventually(
            lambda: _reports(client, push_api, keys["SWJ"], failed.project_id),
            lambda found: "PRT-RQ-001" in found,
        )
    assert set(reports) == {"PRT-RQ-001"}


async def test_honest_bids_fire_nothing_and_a_replayed_bid_changes_nothing(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys, publisher: EventPublisher
) -> None:
    honest = Project(
        publisher, common_pb2.PROJECT_CATEGORY_HOUSING, intake_pb2.TRADING_METHOD_OPEN_TENDER
    )
    await honest.register()
    first = await honest.bid(credit_code(), 7_000_000_00)
    await honest.bid(credit_code(), 7_100_000_00)
    # Replaying a bid under its own event id is skipped by the detection state.
    await honest.send(
        intake_pb2.BidSubmitted(
            project_id=honest.project_id,
            occurred_at=_now(),
            actor_department="JYZX",
            bidder=_org(credit_code()),
            bid_section_code="S1",
            bid_price_fen=7_000_000_00,
            deposit_account="0",
        ),
        event_id=first,
    )
    await honest.open()
    # The breach comes after the honest events in the same partition (same key): once its
    # finding is in, every earlier event of the project has been processed.
    breach = intake_pb2.DeficiencyDeadlineBreached(
        project_id=honest.project_id,
        occurred_at=_now(),
        supplement_deadline=common_pb2.LocalDate(year=2024, month=10, day=8),
        outstanding_documents=["施工许可证"],
        tenderer=_org(honest.tenderer, "招标人"),
    )
    await honest.send(breach)
    async with httpx.AsyncClient(timeout=10) as client:
        reports = await eventually(
            lambda: _reports(client, push_api, keys["ZJJ"], honest.project_id),
            lambda found: "PRT-RQ-001" in found,
        )
    # Only the 容缺 breach: the replayed bid (same price as the first) was not applied, so
    # R028 did not see two equal prices; and no fingerprint or account is shared.
    assert set(reports) == {"PRT-RQ-001"}
    assert reports["PRT-RQ-001"]["behaviour_type"] == "COMMITMENT_BREACH"
    assert "施工许可证" in reports["PRT-RQ-001"]["description"]


async def test_a_deadline_set_late_is_passed_by_and_its_breach_still_fires(
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    publisher: EventPublisher,
    settings: PlatformSettings,
) -> None:
    """intake's DeficiencyDeadlineSet (a pending 容缺 deadline set once the working-day calendar
    covers it) means nothing to detection: skipped, not dead-lettered; the breach after it on
    the same partition is still detected."""
    project = Project(
        publisher, common_pb2.PROJECT_CATEGORY_HOUSING, intake_pb2.TRADING_METHOD_OPEN_TENDER
    )
    await project.register()
    deadline = common_pb2.LocalDate(year=2027, month=1, day=12)
    await project.send(
        intake_pb2.DeficiencyDeadlineSet(
            project_id=project.project_id,
            occurred_at=_now(),
            supplement_deadline=deadline,
            supplement_working_days=30,
            counted_from=common_pb2.LocalDate(year=2026, month=11, day=30),
        )
    )
    await project.send(
        intake_pb2.DeficiencyDeadlineBreached(
            project_id=project.project_id,
            occurred_at=_now(),
            supplement_deadline=deadline,
            outstanding_documents=["施工图审查合格书"],
            tenderer=_org(project.tenderer, "招标人"),
        )
    )
    async with httpx.AsyncClient(timeout=10) as client:
        reports = await eventually(
            lambda: _reports(client, push_api, keys["ZJJ"], project.project_id),
            lambda found: "PRT-RQ-001" in found,
        )
    assert set(reports) == {"PRT-RQ-001"}
    assert "2027-01-12" in reports["PRT-RQ-001"]["description"]
    assert (
        await dead_letter_reasons(settings, "abnormal-push.detector", project.project_id.encode())
        == []
    )


async def test_all_bids_but_one_ruled_out_at_evaluation_fires_r035(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys, publisher: EventPublisher
) -> None:
    project = Project(
        publisher, common_pb2.PROJECT_CATEGORY_MUNICIPAL, intake_pb2.TRADING_METHOD_OPEN_TENDER
    )
    await project.register()
    bidders = [credit_code() for _ in range(4)]
    for n, bidder in enumerate(bidders):
        await project.bid(bidder, 80_000_000_00 + n * n * 1_234_00)  # irregular prices
    await project.open(*bidders)
    kept = bidders[2]
    await project.evaluate({code: "未提供有效的安全生产许可证" for code in bidders if code != kept})
    async with httpx.AsyncClient(timeout=10) as client:
        reports = await eventually(
            lambda: _reports(client, push_api, keys["ZJJ"], project.project_id),
            lambda found: "R035" in found,
        )
    report = reports["R035"]
    assert set(reports) == {"R035"}  # R038 leaves all-but-one to R035
    assert [(s["kind"], s["credit_code"]) for s in report["subjects"]] == [
        ("BIDDER", kept),
        ("TENDERER", project.tenderer),
    ]
    assert report["detection"]["evidence_values"] == {
        "bidder_count": "4",
        "disqualified_count": "3",
        "remaining_bidder": kept,
    }
    assert "未提供有效的安全生产许可证" in report["description"]


async def test_candidates_publicised_long_after_the_evaluation_fire_prt_pub_001(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys, publisher: EventPublisher
) -> None:
    """Registered as not bound to tender, then declared bound before its announcement: the
    declaration is what detection judges the project by."""
    project = Project(
        publisher, common_pb2.PROJECT_CATEGORY_HOUSING, intake_pb2.TRADING_METHOD_OPEN_TENDER
    )
    await project.register(tender_required_by_law=False)
    await project.send(
        intake_pb2.TenderObligationDeclared(
            project_id=project.project_id,
            occurred_at=_now(),
            actor_department="JYZX",
            tender_required_by_law=True,
            basis="济发改核准〔2023〕12号",
        )
    )
    bidders = [credit_code() for _ in range(3)]
    for n, bidder in enumerate(bidders):
        await project.bid(bidder, 60_000_000_00 + n * n * 7_654_00)  # irregular prices
    await project.open(*bidders)
    # Late whatever the day of the run: a third day on a weekend or in a holiday runs to the
    # next working day (民法典 art. 203), at most some 9 days on (the Spring Festival).
    evaluated = datetime.now(UTC) - timedelta(days=15)
    await project.send(
        intake_pb2.EvaluationCompleted(
            project_id=project.project_id,
            occurred_at=to_timestamp(evaluated),
            actor_department="JYZX",
            bid_section_code="S1",
        )
    )
    await project.send(
        intake_pb2.CandidatesPublicised(
            project_id=project.project_id,
            occurred_at=_now(),
            actor_department="JYZX",
            bid_section_code="S1",
            candidates=[
                intake_pb2.Candidate(rank=n + 1, bidder=_org(code), bid_price_fen=60_000_000_00)
                for n, code in enumerate(bidders)
            ],
        )
    )
    async with httpx.AsyncClient(timeout=10) as client:
        reports = await eventually(
            lambda: _reports(client, push_api, keys["ZJJ"], project.project_id),
            lambda found: "PRT-PUB-001" in found,
        )
    report = reports["PRT-PUB-001"]
    assert [(s["kind"], s["credit_code"]) for s in report["subjects"]] == [
        ("TENDERER", project.tenderer)
    ]
    assert int(report["detection"]["evidence_values"]["days_late"]) >= 1


async def test_bids_opened_hours_after_the_announced_deadline_fire_prt_open_001(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys, publisher: EventPublisher
) -> None:
    """The deadline in force is the latest announcement's: a section's first announcement
    (deadline 10 minutes ago: an opening now would be in time) is replaced by a re-announcement
    of the whole project whose deadline passed 3 hours ago."""
    project = Project(
        publisher, common_pb2.PROJECT_CATEGORY_HOUSING, intake_pb2.TRADING_METHOD_OPEN_TENDER
    )
    await project.register()
    now = datetime.now(UTC)
    for announced, sections, deadline in (
        (now - timedelta(days=30), ["S1"], now - timedelta(minutes=10)),
        (now - timedelta(days=25), [], now - timedelta(hours=3)),
    ):
        await project.send(
            intake_pb2.AnnouncementPublished(
                project_id=project.project_id,
                occurred_at=to_timestamp(announced),
                actor_department="JYZX",
                bid_section_codes=sections,
                title="招标公告",
                submission_deadline=to_timestamp(deadline),
            )
        )
    bidders = [credit_code() for _ in range(3)]
    for n, bidder in enumerate(bidders):
        await project.bid(bidder, 70_000_000_00 + n * n * 3_210_00)  # irregular prices
    await project.open(*bidders)
    async with httpx.AsyncClient(timeout=10) as client:
        reports = await eventually(
            lambda: _reports(client, push_api, keys["ZJJ"], project.project_id),
            lambda found: "PRT-OPEN-001" in found,
        )
    report = reports["PRT-OPEN-001"]
    assert [(s["kind"], s["credit_code"]) for s in report["subjects"]] == [
        ("TENDERER", project.tenderer)
    ]
    assert int(report["detection"]["evidence_values"]["minutes_late"]) >= 179


async def test_an_expert_absent_twice_within_a_year_is_reported_by_pseudonym(
    *,
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    publisher: EventPublisher,
    settings: PlatformSettings,
    redis: Redis,
) -> None:
    """PRT-EXP-001 from remote evaluation's topic: an expert who confirmed and did not come to
    two evaluations of a water project, the later no-show published first (evaluations sit on
    different partitions, so either may be read first). The report on the later one is held
    until the award unseals that evaluation's committee (招标投标法 art. 37) — unsealing the
    earlier one releases nothing — then it names the expert by pseudonym and reaches the
    project's supervisor (市水务局)."""
    project = Project(
        publisher, common_pb2.PROJECT_CATEGORY_WATER, intake_pb2.TRADING_METHOD_OPEN_TENDER
    )
    await project.register()
    expert = f"SUP-{uuid.uuid4().hex[:8].upper()}"
    earlier, later = f"ev-{uuid.uuid4()}", f"ev-{uuid.uuid4()}"
    now = datetime.now(UTC)
    for evaluation in (earlier, later):
        await publish(
            publisher,
            EVALUATIONS,
            remote_eval_pb2.EvaluationRequested(
                evaluation_id=evaluation,
                occurred_at=_now(),
                host_centre_code="370113",
                project_id=project.project_id,
                bid_section_code="S1",
            ),
            evaluation,
        )
    for evaluation, at in ((later, now), (earlier, now - timedelta(days=100))):
        await publish(
            publisher,
            EVALUATIONS,
            remote_eval_pb2.ExpertAbsenceRecorded(
                evaluation_id=evaluation,
                occurred_at=to_timestamp(at),
                partner_code="370300",
                expert_pseudonym=f"EXP-{evaluation[-8:]}",  # unrelated in each evaluation
                venue_id=f"V-{evaluation[-4:]}",
                supervision_pseudonym=expert,
            ),
            evaluation,
        )

    async def expert_reports(client: httpx.AsyncClient) -> list[dict[str, Any]]:
        return [
            push["report"]
            for push in await inbox(client, push_api, keys["SWJ"])
            if push["report"]
            and push["report"]["detection"]
            and push["report"]["detection"]["rule_id"] == "PRT-EXP-001"
            and push["report"]["subjects"][0].get("expert_pseudonym") == expert
        ]

    state = DetectionState(redis)

    async def unseal(evaluation: str) -> None:
        message = remote_eval_pb2.CommitteeUnsealed(
            evaluation_id=evaluation,
            occurred_at=_now(),
            project_id=project.project_id,
            bid_section_code="S1",
            member_count=5,
        )
        await publish(publisher, EVALUATIONS, message, evaluation)

    async def held_cases(client: httpx.AsyncClient) -> list[str]:
        response = await client.get(
            f"{push_api.base_url}/v1/detection/rules", headers=auth(keys["operator"])
        )
        assert response.status_code == 200, response.text
        return [
            case["reason"]
            for case in response.json()["recently_not_applied"]
            if case["rule_id"] == "PRT-EXP-001" and expert in case["reason"]
        ]

    async def held_list(client: httpx.AsyncClient) -> list[tuple[str, str]]:
        response = await client.get(
            f"{push_api.base_url}/v1/detection/rules", headers=auth(keys["operator"])
        )
        return [
            (entry["evaluation_id"], entry["project_id"])
            for entry in response.json()["held_until_award"]
            if entry["expert_pseudonym"] == expert
        ]

    async with httpx.AsyncClient(timeout=10) as client:
        [held] = await eventually(lambda: held_cases(client), lambda found: len(found) > 0)
        assert later in held and "第三十七条" in held
        assert await held_list(client) == [(later, project.project_id)]
        await unseal(earlier)  # on the worker's one expert watch, read after the no-shows
        await eventually(lambda: state.unsealed([earlier]), bool)
        assert await expert_reports(client) == []
        await unseal(later)
        [report] = await eventually(lambda: expert_reports(client), lambda found: len(found) > 0)
        await eventually(lambda: held_list(client), lambda found: found == [])  # released
    assert report["project_id"] == project.project_id
    assert report["behaviour_type"] == "EXPERT_MISCONDUCT"
    assert report["subjects"][0]["kind"] == "EXPERT"
    assert not report["subjects"][0].get("credit_code")
    assert report["detection"]["evidence_values"]["evaluation_id"] == later
    assert len(report["detection"]["source_event_ids"]) == 2

    # An absence naming no supervision pseudonym cannot be judged: set aside with the reason.
    await publish(
        publisher,
        EVALUATIONS,
        remote_eval_pb2.ExpertAbsenceRecorded(
            evaluation_id=later, occurred_at=_now(), expert_pseudonym="EXP-1", venue_id="V-9"
        ),
        later,
    )
    reasons = await eventually(
        lambda: dead_letter_reasons(settings, "abnormal-push.expert-watch", later.encode()),
        lambda found: len(found) > 0,
    )
    assert len(reasons) == 1 and "names no expert" in reasons[0]
