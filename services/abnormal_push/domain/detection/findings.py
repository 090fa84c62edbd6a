"""A rule's finding becomes a detected report, filed by the trading centre's platform.

A sign open to joiners (bidders sharing one value) is reported once: by the report filed when
it is first seen. The platform has no event that amends a filed report (AbnormalReportFiled is
the only report event, and the stream side keeps the first copy of a report id), so a bidder
who shares the value later is not put in a new report, which would reach every department again
and count twice in the bulletin: detection records the joiner beside the sign instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from services.abnormal_push.domain.detection.model import Finding
from services.abnormal_push.domain.reports import (
    AbnormalReport,
    DetectionTrail,
    ReportSource,
    Subject,
)


@dataclass(frozen=True)
class FiledSign:
    """A sign open to joiners that was reported: the report filed when it was first seen, and
    the subjects who shared its value after (whom that report does not name)."""

    sign_key: str
    rule_id: str
    report_id: str
    reported: tuple[str, ...]  # identities of the subjects the report names
    joined: tuple[Subject, ...] = ()  # subjects who shared the value later, in the order seen
    # The trading events behind the sign: the report's, then those of the joiners.
    source_event_ids: tuple[str, ...] = ()
    # The sign's other keys: a sign found on several values (a bidder group sharing a disk
    # serial and a MAC) is known by each, so a bidder sharing any one of them later joins it.
    also_known_as: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return (self.sign_key, *self.also_known_as)

    def knows(self, subject: Subject) -> bool:
        return subject.identity in self.reported or any(
            joined.identity == subject.identity for joined in self.joined
        )


@dataclass(frozen=True)
class Filing:
    """What becomes of one finding: the report it comes under and whether that report is filed
    now. ``sign`` is the record of a sign open to joiners as it stands after this finding."""

    finding: Finding
    report_id: str
    files_report: bool
    joiners: tuple[Subject, ...] = ()
    sign: FiledSign | None = None
    # The sign is new, or took on a joiner or a key: it is to be stored (again).
    sign_changed: bool = False


def plan_filings(findings: Sequence[Finding], filed: Mapping[str, FiledSign]) -> list[Filing]:
    """The filing of each finding, given the signs open to joiners already reported (by sign
    key). A sign first seen files its report; seen again — by any of its keys — it files none,
    whoever joined it. Other findings file their report each time they are found: its id is
    fixed by the finding, so the stream side keeps one copy. Pure: the same findings and
    signs, the same filings.

    A finding whose keys name several filed signs (one per value, as they were filed before
    bidder groups were reported as one; or two groups a new bid bridges) files nothing: it is
    recorded beside the first of them by key, which takes on the finding's keys no other sign
    holds."""
    known = dict(filed)
    filings: list[Filing] = []
    for finding in findings:
        if not finding.open_to_joiners:
            filings.append(Filing(finding, finding.report_id, files_report=True))
            continue
        keys = finding.sign_keys
        matched = [key for key in keys if key in known]
        if not matched:
            sign = FiledSign(
                sign_key=keys[0],
                rule_id=finding.definition.rule_id,
                report_id=finding.report_id,
                reported=tuple(s.identity for s in finding.subjects),
                source_event_ids=finding.source_event_ids,
                also_known_as=keys[1:],
            )
            filings.append(
                Filing(finding, sign.report_id, files_report=True, sign=sign, sign_changed=True)
            )
        else:
            sign = known[matched[0]]
            # Reported already by any sign the finding matched (a new bid bridging two filed
            # groups joins the first, and the other group's bidders were reported in theirs).
            joiners = tuple(
                s for s in finding.subjects if not any(known[key].knows(s) for key in matched)
            )
            new_keys = tuple(key for key in keys if key not in known)
            changed = bool(joiners or new_keys)
            if changed:
                new_events = (
                    tuple(e for e in finding.source_event_ids if e not in sign.source_event_ids)
                    if joiners
                    else ()
                )
                sign = replace(
                    sign,
                    joined=sign.joined + joiners,
                    source_event_ids=sign.source_event_ids + new_events,
                    also_known_as=sign.also_known_as + new_keys,
                )
            filings.append(
                Filing(
                    finding,
                    sign.report_id,
                    files_report=False,
                    joiners=joiners,
                    sign=sign,
                    sign_changed=changed,
                )
            )
        for key in sign.keys:
            known[key] = sign
    return filings


def report_from_finding(
    finding: Finding, detecting_department: str, filed_at: datetime
) -> AbnormalReport:
    definition = finding.definition
    return AbnormalReport(
        report_id=finding.report_id,
        filed_at=filed_at,
        reporting_department=detecting_department,
        source=ReportSource.DETECTED,
        subjects=finding.subjects,
        project_id=finding.project.project_id,
        bid_section_code=finding.bid_section_code,
        project_category=finding.project.category,
        region_code=finding.project.region_code,
        behaviour_type=definition.behaviour_type,
        severity=finding.citation.severity,
        description=f"[{definition.rule_id}] {finding.description}",
        evidence=(),
        act_at=min(finding.act_at, filed_at),
        detection=DetectionTrail(
            rule_id=definition.rule_id,
            rule_version=definition.version,
            rule_name=definition.name,
            legal_basis=finding.citation.legal_basis,
            source_event_ids=finding.source_event_ids,
            evidence_values=finding.evidence_values,
        ),
    )
