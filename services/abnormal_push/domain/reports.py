"""Abnormal reports (异常行为信息): who did what, on which project, how serious, with evidence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.abnormal_push.domain.errors import ReportRefused
from services.platform_core.credit_code import credit_code_problem
from services.platform_core.reference_data import regions


class SubjectKind(StrEnum):
    BIDDER = "BIDDER"
    TENDERER = "TENDERER"
    AGENCY = "AGENCY"
    EXPERT = "EXPERT"


class BehaviourType(StrEnum):
    """The code list; the six COLLUSION_* values are 实施条例 art. 40's deemed-collusion facts."""

    COLLUSION_SAME_PREPARER = "COLLUSION_SAME_PREPARER"
    COLLUSION_SAME_AGENT = "COLLUSION_SAME_AGENT"
    COLLUSION_SAME_PROJECT_MANAGER = "COLLUSION_SAME_PROJECT_MANAGER"
    COLLUSION_ABNORMAL_SIMILARITY = "COLLUSION_ABNORMAL_SIMILARITY"
    COLLUSION_FILES_MIXED = "COLLUSION_FILES_MIXED"
    COLLUSION_SAME_DEPOSIT_ACCOUNT = "COLLUSION_SAME_DEPOSIT_ACCOUNT"
    FALSE_MATERIALS = "FALSE_MATERIALS"
    EXPERT_MISCONDUCT = "EXPERT_MISCONDUCT"
    AGENCY_MISCONDUCT = "AGENCY_MISCONDUCT"
    DISCRIMINATORY_TERMS = "DISCRIMINATORY_TERMS"
    AWARD_ABANDONED = "AWARD_ABANDONED"
    DEPOSIT_IRREGULARITY = "DEPOSIT_IRREGULARITY"
    COMMITMENT_BREACH = "COMMITMENT_BREACH"
    OTHER = "OTHER"


class Severity(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class ReportSource(StrEnum):
    MANUAL = "MANUAL"
    DETECTED = "DETECTED"


@dataclass(frozen=True)
class Subject:
    """An organisation by credit code, or an expert by pseudonym (never an ID number)."""

    kind: SubjectKind
    credit_code: str = ""
    name: str = ""
    expert_pseudonym: str = ""

    @property
    def identity(self) -> str:
        return self.credit_code or f"expert:{self.expert_pseudonym}"


@dataclass(frozen=True)
class Evidence:
    sha256: str
    location: str
    media_type: str = ""


@dataclass(frozen=True)
class DetectionTrail:
    rule_id: str
    rule_version: str
    rule_name: str
    legal_basis: str
    source_event_ids: tuple[str, ...]
    evidence_values: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AbnormalReport:
    report_id: str
    filed_at: datetime
    reporting_department: str
    source: ReportSource
    subjects: tuple[Subject, ...]
    project_id: str
    bid_section_code: str
    project_category: str  # ProjectCategory member name, e.g. HOUSING; "" when unknown
    behaviour_type: BehaviourType
    severity: Severity
    description: str
    evidence: tuple[Evidence, ...]
    act_at: datetime
    detection: DetectionTrail | None = None
    suspected_crime: bool = False
    suspected_official_misconduct: bool = False
    suspected_misuse_of_funds: bool = False
    # The region of the project (GB/T 2260 code, regions.json): decides whether a district
    # branch handles the report. "" when unknown (reports filed before it was asked for).
    region_code: str = ""


_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# 18 digits, or 17 digits and X: the shape of a PRC resident ID number, never accepted.
_ID_NUMBER = re.compile(r"\d{17}[\dXx]")
_PSEUDONYM = re.compile(r"^[A-Za-z0-9_-]{4,64}$")
MAX_DESCRIPTION = 4000


def subject_problem(subject: Subject) -> str | None:
    """Why a subject cannot be named like this, or None."""
    if subject.kind is SubjectKind.EXPERT:
        if subject.credit_code:
            return "an expert is named by pseudonym only, not a credit code"
        if _ID_NUMBER.search(subject.expert_pseudonym):
            return "looks like an ID-card number: never send one, use the pseudonym"
        if not _PSEUDONYM.match(subject.expert_pseudonym):
            return (
                "an expert's pseudonym from the sealed registry is required "
                "(4-64 letters, digits, - or _)"
            )
        return None
    if subject.expert_pseudonym:
        return f"a {subject.kind.value.lower()} is named by credit code"
    return credit_code_problem(subject.credit_code)


def evidence_problems(evidence: tuple[Evidence, ...], prefix: str = "evidence") -> dict[str, str]:
    problems: dict[str, str] = {}
    for index, item in enumerate(evidence):
        if not _SHA256.match(item.sha256):
            problems[f"{prefix}.{index}.sha256"] = "64 lowercase hex characters (SHA-256)"
        if not item.location.strip():
            problems[f"{prefix}.{index}.location"] = "where the evidence is kept"
    return problems


def check_report(report: AbnormalReport, known_departments: frozenset[str]) -> None:
    """Refuse a report that cannot be acted on, naming every bad field."""
    problems: dict[str, str] = {}
    if report.reporting_department not in known_departments:
        problems["reporting_department"] = (
            f"{report.reporting_department!r} is not a department of the registry"
        )
    if not report.subjects:
        problems["subjects"] = "name at least one party the report is about"
    for index, subject in enumerate(report.subjects):
        if (problem := subject_problem(subject)) is not None:
            problems[f"subjects.{index}"] = problem
    if not report.project_id.strip():
        problems["project_id"] = "the project concerned is required"
    if not report.description.strip():
        problems["description"] = "say what happened"
    elif len(report.description) > MAX_DESCRIPTION:
        problems["description"] = f"at most {MAX_DESCRIPTION} characters"
    if _ID_NUMBER.search(report.description):
        problems["description"] = "contains what looks like an ID-card number; remove it"
    problems.update(evidence_problems(report.evidence))
    if report.act_at > report.filed_at:
        problems["act_at"] = "the act cannot be later than the report"
    if report.region_code and report.region_code not in regions():
        problems["region_code"] = (
            f"unknown region {report.region_code!r}; accepted: {', '.join(sorted(regions()))}"
        )
    if problems:
        raise ReportRefused(problems)
