"""A collusion sign (bidders sharing one value) is one report, filed when first seen: a bidder
who shares the value later is recorded beside it, not reported again. Pure: findings of the
rules, planned against the signs already filed, bid after bid as detection sees them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace

from services.abnormal_push.domain.detection import evaluate_all
from services.abnormal_push.domain.detection.findings import FiledSign, Filing, plan_filings
from services.abnormal_push.domain.detection.model import (
    DETECTION_NAMESPACE,
    Bid,
    BidsOpenedTrigger,
    BidSubmittedTrigger,
    Finding,
)
from tests.unit.abnormal_push.factories import PROJECT, T0, bid, org

SHARED_DISK = "WD-WCC4N0SHARED"  # a disk serial: decisive alone (an IP is not)


class Detection:
    """The signs filed so far, as detection keeps them: each bid re-evaluates its section."""

    def __init__(self) -> None:
        self.signs: dict[str, FiledSign] = {}
        self.bids: dict[str, dict[str, Bid]] = {}
        self.filed: list[str] = []  # report ids, in the order their reports were filed

    def submit(self, new: Bid) -> list[Filing]:
        section = self.bids.setdefault(new.bid_section_code, {})
        section[new.bidder.credit_code] = new
        trigger = BidSubmittedTrigger(
            f"e-{new.event_id}",
            new.submitted_at,
            PROJECT,
            new.bid_section_code,
            (*section.values(),),
        )
        return self.plan([o for o in evaluate_all(trigger) if isinstance(o, Finding)])

    def plan(self, findings: Sequence[Finding]) -> list[Filing]:
        filings = plan_filings(findings, self.signs)
        for filing in filings:
            if filing.sign is not None:
                self.signs[filing.sign.sign_key] = filing.sign
            if filing.files_report:
                self.filed.append(filing.report_id)
        return filings


def _in(section: str, serial: int, disk: str) -> Bid:
    return replace(bid(serial, disk=disk), bid_section_code=section)


def test_a_third_bidder_joining_a_shared_disk_files_no_second_report() -> None:
    detection = Detection()
    assert detection.submit(bid(1, disk=SHARED_DISK)) == []
    (first,) = detection.submit(bid(2, disk=SHARED_DISK))
    assert first.files_report and first.finding.definition.rule_id == "PRT-FP-001"
    assert {s.credit_code for s in first.finding.subjects} == {
        org(1).credit_code,
        org(2).credit_code,
    }

    (joined,) = detection.submit(bid(3, disk=SHARED_DISK))
    assert not joined.files_report
    assert joined.report_id == first.report_id
    assert [s.credit_code for s in joined.joiners] == [org(3).credit_code]
    assert detection.filed == [first.report_id]  # one report for the one sign

    # The sign records the joiner, and the bid that brought it, beside the report.
    sign = detection.signs[first.finding.sign_key]
    assert sign.report_id == first.report_id
    assert set(sign.reported) == {org(1).credit_code, org(2).credit_code}
    assert [s.credit_code for s in sign.joined] == [org(3).credit_code]
    assert sign.source_event_ids == ("e-bid-1", "e-bid-2", "e-bid-3")

    # An unrelated bid re-evaluates the section: the sign is found again, nothing is filed.
    (again,) = detection.submit(bid(4))
    assert (again.files_report, again.joiners, again.report_id) == (False, (), first.report_id)
    assert detection.filed == [first.report_id]


def test_the_first_report_keeps_the_id_a_two_bidder_sign_always_had() -> None:
    """Signs reported before this fix keep their ids: a rebuild of the detection state files
    them again under the ids the stream side already holds (and routed)."""
    trigger = BidSubmittedTrigger(
        "e", T0, PROJECT, "S1", (bid(1, disk=SHARED_DISK), bid(2, disk=SHARED_DISK))
    )
    (finding,) = [o for o in evaluate_all(trigger) if isinstance(o, Finding)]
    (filing,) = plan_filings([finding], {})
    assert filing.report_id == finding.report_id == _legacy_report_id(finding)


def _legacy_report_id(finding: Finding) -> str:
    """The report id as it was derived before signs were open to joiners."""
    identity = "|".join(
        [
            finding.definition.rule_id,
            finding.project.project_id,
            finding.bid_section_code,
            ",".join(sorted(s.identity for s in finding.subjects)),
            ",".join(f"{k}={v}" for k, v in sorted(finding.evidence_values)),
        ]
    )
    return str(uuid.uuid5(DETECTION_NAMESPACE, identity))


def test_two_values_shared_in_one_section_are_two_reports() -> None:
    detection = Detection()
    detection.submit(bid(1, disk=SHARED_DISK))
    detection.submit(bid(2, disk=SHARED_DISK))
    detection.submit(bid(3, disk="WD-WCC4N0OTHER"))
    detection.submit(bid(4, disk="WD-WCC4N0OTHER"))
    assert len(detection.filed) == len(set(detection.filed)) == 2
    # The same two bidders sharing a second value (their account) is a sign of its own too.
    (account,) = [
        f
        for f in detection.submit(bid(2, disk=SHARED_DISK, account="6222 0000 0000 0001"))
        if f.files_report
    ]
    assert account.finding.definition.rule_id == "PRT-DEP-001"
    assert len(set(detection.filed)) == 3


def test_one_value_shared_in_two_sections_is_two_reports() -> None:
    detection = Detection()
    for section in ("S1", "S2"):
        detection.submit(_in(section, 1, disk=SHARED_DISK))
        detection.submit(_in(section, 2, disk=SHARED_DISK))
    assert len(detection.filed) == len(set(detection.filed)) == 2
    # A third bidder in S2 joins S2's sign only.
    (joined,) = detection.submit(_in("S2", 3, disk=SHARED_DISK))
    assert (joined.files_report, joined.report_id) == (False, detection.filed[1])


def test_a_replay_of_the_same_bids_files_the_same_reports() -> None:
    bids = [bid(1, disk=SHARED_DISK), bid(2, disk=SHARED_DISK), bid(3, disk=SHARED_DISK), bid(4)]
    first, replay = Detection(), Detection()
    for one in bids:
        first.submit(one)
    for one in bids:
        replay.submit(one)
    assert first.filed == replay.filed and len(first.filed) == 1
    assert first.signs == replay.signs


def test_the_same_sign_found_twice_in_one_evaluation_is_filed_once() -> None:
    trigger = BidSubmittedTrigger(
        "e", T0, PROJECT, "S1", (bid(1, disk=SHARED_DISK), bid(2, disk=SHARED_DISK))
    )
    (finding,) = [o for o in evaluate_all(trigger) if isinstance(o, Finding)]
    wider = replace(finding, subjects=(*finding.subjects, *finding.subjects[:1]))
    filings = plan_filings([finding, wider], {})
    assert [f.files_report for f in filings] == [True, False]


def test_findings_closed_to_joiners_are_filed_under_their_own_ids_each_time() -> None:
    """E.g. identical prices at opening: the subjects are part of what was found."""
    same = (bid(1, price=123_456_00), bid(2, price=123_456_00), bid(3, price=123_456_00))
    trigger = BidsOpenedTrigger("e-open", T0, PROJECT, "S1", (), same)
    (finding,) = [o for o in evaluate_all(trigger) if isinstance(o, Finding)]
    assert not finding.open_to_joiners
    (filing,) = plan_filings([finding], {})
    assert (filing.files_report, filing.report_id, filing.sign) == (True, finding.report_id, None)
