"""The facts reporting reads from other services' events, as plain frozen dataclasses.

Each fact keeps only what a metric needs. ``event_id`` is the CloudEvents id (the evidence a
figure links to); ``occurred_at`` is the business time from the message (a UTC instant), which
decides the period a fact counts in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ProjectRegisteredFact:
    event_id: str
    project_id: str
    region_code: str
    category: str  # e.g. "HOUSING", "GOVERNMENT_PROCUREMENT"
    budget_fen: int
    registering_department: str
    registered_at: datetime
    key_project: bool = False
    green_channel: bool = False
    deficiency_accepted: bool = False  # 容缺受理
    commitment_pledged: bool = False  # 告知承诺
    # The bid sections (codes, in registration order) and the trading method (TradingMethod's
    # value, '' unknown): which sections a step naming none concerns, as intake decides it.
    bid_sections: tuple[str, ...] = ()
    trading_method: str = ""

    @property
    def occurred_at(self) -> datetime:
        return self.registered_at


@dataclass(frozen=True)
class TenderDocumentPrePublishedFact:
    event_id: str
    project_id: str
    department: str
    occurred_at: datetime


@dataclass(frozen=True)
class AnnouncementPublishedFact:
    event_id: str
    project_id: str
    department: str
    occurred_at: datetime
    bid_section_codes: tuple[str, ...] = ()  # the sections announced; none: all not yet announced


@dataclass(frozen=True)
class ContractAwardedFact:
    """中标: the deal of a tendered section (its usual end), made on the platform."""

    event_id: str
    project_id: str
    department: str
    occurred_at: datetime
    bid_section_code: str
    amount_fen: int


@dataclass(frozen=True)
class TransactionCompletedFact:
    event_id: str
    project_id: str
    department: str
    occurred_at: datetime
    amount_fen: int
    on_platform: bool
    # Empty when the project is traded as a whole.
    bid_section_code: str = ""


@dataclass(frozen=True)
class ProjectTerminatedFact:
    """流标/终止 of a section, or (no section) of every section still open: a section
    terminated is not concluded by a later completion of the whole project."""

    event_id: str
    project_id: str
    department: str
    occurred_at: datetime
    bid_section_code: str = ""  # empty: the whole project


@dataclass(frozen=True)
class DepositWaivedFact:
    event_id: str
    project_id: str
    department: str
    occurred_at: datetime
    relief_kind: str  # WAIVED | REDUCED
    amount_saved_fen: int


@dataclass(frozen=True)
class HistoricalDepositRefundedFact:
    event_id: str
    project_id: str
    department: str
    occurred_at: datetime
    amount_fen: int


@dataclass(frozen=True)
class DeficiencyDeadlineBreachedFact:
    event_id: str
    project_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class LargeAmountRecordImportedFact:
    event_id: str
    unified_deal_code: str
    department: str
    occurred_at: datetime
    source_level: str  # PROVINCIAL | CITY | COUNTY
    region_code: str
    category: str
    amount_fen: int


@dataclass(frozen=True)
class AbnormalReportFiledFact:
    event_id: str
    report_id: str
    department: str
    occurred_at: datetime
    source: str  # MANUAL | DETECTED
    behaviour_type: str
    # For detected reports: the rule that fired (e.g. "R028") and its name as the rule states
    # it; empty for manual reports.
    rule_id: str = ""
    rule_name: str = ""


@dataclass(frozen=True)
class PushRoutedFact:
    event_id: str
    push_id: str
    report_id: str
    department: str
    occurred_at: datetime
    reason: str
    role: str  # HANDLER | COPY
    sign_for_due: datetime | None
    feedback_due: datetime | None
    # The dues are estimates (Monday to Friday counted): the holiday calendar did not cover
    # their year yet. A PushDeadlinesSetFact replaces them with the real ones later.
    deadlines_estimated: bool = False
    # Which of them are estimates (SIGN_FOR, FEEDBACK): a push routed in December may have a
    # real sign-for deadline and an estimated feedback one. Events from before the field was
    # added do not say: see :meth:`estimates`.
    estimated_deadlines: frozenset[str] = frozenset()

    def estimates(self) -> frozenset[str]:
        """The deadlines that are estimates: those named, or both when the event says only
        that its deadlines are estimated."""
        if not self.deadlines_estimated:
            return frozenset()
        return self.estimated_deadlines or frozenset({"SIGN_FOR", "FEEDBACK"})


@dataclass(frozen=True)
class PushDeadlinesSetFact:
    """The real deadlines of a push routed with estimated ones; they replace the estimates."""

    event_id: str
    push_id: str
    occurred_at: datetime
    sign_for_due: datetime | None
    feedback_due: datetime | None


@dataclass(frozen=True)
class PushSignedForFact:
    event_id: str
    push_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class PushFeedbackGivenFact:
    event_id: str
    push_id: str
    occurred_at: datetime
    result: str


@dataclass(frozen=True)
class PushTransferredFact:
    """移送: the receiving department passed the push on; abnormal push closes it and routes a
    new push (its own PushRouted) to ``to_department``."""

    event_id: str
    push_id: str
    occurred_at: datetime
    department: str  # the department transferring (the push's own, abnormal push checks)
    to_department: str


@dataclass(frozen=True)
class PushOverdueFact:
    event_id: str
    push_id: str
    occurred_at: datetime
    deadline: str  # SIGN_FOR | FEEDBACK
    department: str


@dataclass(frozen=True)
class PushEscalatedFact:
    """An overdue push was escalated (升级督办) to a higher authority: a district branch's to the
    city department supervising it, a city department's to the joint-conference office."""

    event_id: str
    push_id: str
    occurred_at: datetime
    deadline: str  # SIGN_FOR | FEEDBACK
    to_department: str
    level: int  # 1 for the push's first escalation, 2 for the next, ...


@dataclass(frozen=True)
class VenueCapacityPublishedFact:
    event_id: str
    venue_id: str
    occurred_at: datetime
    partner_code: str
    venue_name: str
    region_code: str


@dataclass(frozen=True)
class EvaluationRequestedFact:
    event_id: str
    evaluation_id: str
    occurred_at: datetime
    host_centre_code: str
    main_venue_id: str


@dataclass(frozen=True)
class PartnerVenueDecisionFact:
    event_id: str
    evaluation_id: str
    occurred_at: datetime
    partner_code: str
    venue_id: str
    accepted: bool


@dataclass(frozen=True)
class EvaluationScheduledFact:
    """The scheduler placed an evaluation (or re-planned it: the latest supersedes the earlier
    ones): the venues it sits at, each as ``(venue, partner, role)``."""

    event_id: str
    evaluation_id: str
    occurred_at: datetime
    allocations: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class EvaluationCancelledFact:
    """The evaluation will not take place: its trade was terminated before its day."""

    event_id: str
    evaluation_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class ExpertConfirmedFact:
    event_id: str
    evaluation_id: str
    occurred_at: datetime
    pool_partner_code: str
    expert_pseudonym: str


@dataclass(frozen=True)
class ExpertLeftFact:
    """A drawn expert left the committee: did not come (ExpertNoShow), declined
    (ExpertDeclined, even after confirming) or was replaced (SubstituteDrawn's replaced
    expert). An expert who left is not one shared, whether or not they had confirmed."""

    event_id: str
    evaluation_id: str
    occurred_at: datetime
    expert_pseudonym: str


Fact = (
    ProjectRegisteredFact
    | TenderDocumentPrePublishedFact
    | AnnouncementPublishedFact
    | ContractAwardedFact
    | TransactionCompletedFact
    | ProjectTerminatedFact
    | DepositWaivedFact
    | HistoricalDepositRefundedFact
    | DeficiencyDeadlineBreachedFact
    | LargeAmountRecordImportedFact
    | AbnormalReportFiledFact
    | PushRoutedFact
    | PushDeadlinesSetFact
    | PushSignedForFact
    | PushFeedbackGivenFact
    | PushTransferredFact
    | PushOverdueFact
    | PushEscalatedFact
    | VenueCapacityPublishedFact
    | EvaluationRequestedFact
    | PartnerVenueDecisionFact
    | EvaluationScheduledFact
    | EvaluationCancelledFact
    | ExpertConfirmedFact
    | ExpertLeftFact
)
