"""Intake's trading events as detection sees them (decoded from protobuf by the codec)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.abnormal_push.domain.detection.model import (
    Bid,
    Disqualification,
    Organisation,
    ProjectFacts,
    RankedCandidate,
)


@dataclass(frozen=True)
class ProjectSeen:
    event_id: str
    project: ProjectFacts


@dataclass(frozen=True)
class BidSeen:
    project_id: str
    bid: Bid


@dataclass(frozen=True)
class ObligationDeclared:
    """The department declared or corrected 依法必须招标 after registering the project."""

    event_id: str
    project_id: str
    tender_required_by_law: bool


@dataclass(frozen=True)
class AnnouncementSeen:
    """An announcement's submission deadline (投标截止时间), for the sections it names (none: the
    whole project)."""

    event_id: str
    at: datetime
    project_id: str
    section_codes: tuple[str, ...]
    submission_deadline: datetime


@dataclass(frozen=True)
class OpeningSeen:
    event_id: str
    at: datetime
    project_id: str
    section_code: str
    opened_bidder_codes: tuple[str, ...]


@dataclass(frozen=True)
class EvaluationSeen:
    event_id: str
    at: datetime
    project_id: str
    section_code: str
    disqualifications: tuple[Disqualification, ...]


@dataclass(frozen=True)
class CandidatesSeen:
    event_id: str
    at: datetime
    project_id: str
    section_code: str
    candidates: tuple[RankedCandidate, ...]


@dataclass(frozen=True)
class TenderFailedSeen:
    """流标 of one section, or of every section of the project (section_code '')."""

    event_id: str
    at: datetime
    project_id: str
    section_code: str


@dataclass(frozen=True)
class BreachSeen:
    event_id: str
    at: datetime
    project_id: str
    tenderer: Organisation | None
    supplement_deadline: str
    outstanding_documents: tuple[str, ...]


IntakeFact = (
    ProjectSeen
    | BidSeen
    | ObligationDeclared
    | AnnouncementSeen
    | OpeningSeen
    | EvaluationSeen
    | CandidatesSeen
    | TenderFailedSeen
    | BreachSeen
)
