"""What detection rules see (the facts of a live project) and what they return.

A rule is one module in ``rules/`` with a JSON data file of the same name beside it; the module
exposes ``RULE``, an object with ``definition`` (id, version, name, legal basis, ...) and
``evaluate(trigger)``. The registry finds the modules: adding a rule touches nothing else.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from services.abnormal_push.domain.errors import RuleDataError
from services.abnormal_push.domain.reports import BehaviourType, Severity, Subject

DETECTION_NAMESPACE = uuid.UUID("0b7e4c1a-8f1d-4b6e-a3c2-5e9f7d2a1c40")


@dataclass(frozen=True)
class Organisation:
    credit_code: str
    name: str


@dataclass(frozen=True)
class Fingerprint:
    cpu_id: str = ""
    disk_serial: str = ""
    mac_address: str = ""
    ip_address: str = ""
    document_md5: str = ""


@dataclass(frozen=True)
class Bid:
    event_id: str
    bidder: Organisation
    bid_section_code: str
    bid_price_fen: int
    fingerprint: Fingerprint
    deposit_account: str
    submitted_at: datetime
    # Deposit paid, in fen: 0 when waived or covered by a guarantee (no money moved, so no
    # account to compare); None for a bid stored before detection kept the amount.
    deposit_fen: int | None = None
    # 注册执业证书编号 of the project manager named in the bid; never an ID-card number.
    project_manager_certificate_no: str = ""
    # The bidder's address and contact telephone as the bid states them ("" when not given).
    bidder_address: str = ""
    bidder_contact_phone: str = ""


@dataclass(frozen=True)
class ProjectFacts:
    """What detection remembers of a project from its ProjectRegistered event."""

    project_id: str
    name: str = ""
    category: str = ""  # ProjectCategory member name; "" when the registration was not seen
    trading_method: str = ""  # TradingMethod member name
    tenderer: Organisation | None = None
    # The project's region, which routes its reports to a district branch; "" when not seen
    # (and in facts stored before detection kept it).
    region_code: str = ""
    # 依法必须招标 as intake registered it (declared or derived); None when the registration did
    # not record it (or was not seen, or the facts were stored before detection kept it).
    tender_required_by_law: bool | None = None


@dataclass(frozen=True)
class Disqualification:
    """A bid the evaluation committee ruled out (否决投标), with the committee's reason."""

    bidder_code: str
    reason: str


@dataclass(frozen=True)
class RankedCandidate:
    rank: int
    bidder: Organisation
    bid_price_fen: int


# --- triggers: the trading event a rule is evaluated on, with the state detection keeps ------


@dataclass(frozen=True)
class BidSubmittedTrigger:
    event_id: str
    at: datetime
    project: ProjectFacts
    section_code: str
    bids: tuple[Bid, ...]  # the section's current bids, one per bidder, the new one included


@dataclass(frozen=True)
class BidsOpenedTrigger:
    event_id: str
    at: datetime
    project: ProjectFacts
    section_code: str
    opened_bidder_codes: tuple[str, ...]
    bids: tuple[Bid, ...]
    # The section's submission deadline as last announced; None if no announcement stated it.
    submission_deadline: datetime | None = None


@dataclass(frozen=True)
class CandidatesPublicisedTrigger:
    event_id: str
    at: datetime
    project: ProjectFacts
    section_code: str
    candidates: tuple[RankedCandidate, ...]
    # Relative winner/runner-up price gaps of earlier sections (this one not included).
    gap_history: tuple[float, ...]
    # When the section's evaluation completed (its report was handed over); None if not seen.
    evaluated_at: datetime | None = None


@dataclass(frozen=True)
class EvaluationCompletedTrigger:
    event_id: str
    at: datetime
    project: ProjectFacts
    section_code: str
    bids: tuple[Bid, ...]  # the section's bids as submitted, one per bidder
    disqualifications: tuple[Disqualification, ...]


@dataclass(frozen=True)
class TenderFailedTrigger:
    """A section's tender failed (流标) — since intake does not open a tender with fewer than 3
    bidders, this is where a tender that drew too few bids ends."""

    event_id: str
    at: datetime
    project: ProjectFacts
    section_code: str
    bids: tuple[Bid, ...]  # the section's bids, one per bidder


@dataclass(frozen=True)
class DeficiencyBreachTrigger:
    event_id: str
    at: datetime
    project: ProjectFacts
    tenderer: Organisation | None
    supplement_deadline: str  # ISO date
    outstanding_documents: tuple[str, ...]


@dataclass(frozen=True)
class ExpertNoShow:
    """A confirmed evaluation expert who did not arrive at the venue, as remote_eval recorded
    it (ExpertAbsenceRecorded), known by pseudonym only."""

    event_id: str
    at: datetime
    expert_pseudonym: str  # the supervision pseudonym: the same in every evaluation
    evaluation_id: str
    project_id: str  # the evaluation's project; "" when its request was not seen
    venue_id: str
    # The expert's pseudonym in that evaluation, which its unsealed committee list names.
    evaluation_pseudonym: str = ""


@dataclass(frozen=True)
class ExpertNoShowTrigger:
    """An expert's no-show, with every no-show of that expert detection has seen (this one
    included, in time order) and the facts of the projects they concern. No-shows of one
    expert arrive from evaluations on different partitions, so not necessarily in time order:
    a rule judges each no-show the new one can matter to, not only the new one.

    ``disclosed_evaluations`` are those of the history's evaluations whose committee has been
    unsealed (the award decided): only a no-show at one of them may be reported yet, since a
    report naming the expert's evaluation would disclose its committee (招标投标法 art. 37)."""

    event_id: str
    at: datetime
    no_show: ExpertNoShow
    history: tuple[ExpertNoShow, ...]
    projects: Mapping[str, ProjectFacts]
    disclosed_evaluations: frozenset[str]


@dataclass(frozen=True)
class CommitteeUnsealedTrigger:
    """An evaluation's committee was unsealed (remote_eval's CommitteeUnsealed, on the award):
    the no-shows at it may now be reported. One trigger per expert absent from it, with that
    expert's whole no-show history (in time order) and the projects it concerns."""

    event_id: str
    at: datetime
    evaluation_id: str
    history: tuple[ExpertNoShow, ...]
    projects: Mapping[str, ProjectFacts]


Trigger = (
    BidSubmittedTrigger
    | BidsOpenedTrigger
    | EvaluationCompletedTrigger
    | CandidatesPublicisedTrigger
    | TenderFailedTrigger
    | DeficiencyBreachTrigger
    | ExpertNoShowTrigger
    | CommitteeUnsealedTrigger
)


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Citation:
    """The law a report cites and the severity that law gives the act."""

    legal_basis: str
    severity: Severity


GOVERNMENT_PROCUREMENT = "GOVERNMENT_PROCUREMENT"


def citation_from_data(data: Mapping[str, Any], default_severity: Severity) -> Citation:
    """A citation as rule data states it: a legal basis, and a severity (the rule's if left
    out)."""
    return Citation(
        legal_basis=str(data["legal_basis"]),
        severity=Severity(data.get("severity", default_severity.value)),
    )


@dataclass(frozen=True)
class RuleDefinition:
    rule_id: str
    version: str
    name: str
    legal_basis: str  # the law cited for engineering tenders (and any category not listed)
    applies_to: str
    behaviour_type: BehaviourType
    severity: Severity
    parameters: dict[str, Any]
    # Where the law differs by the project's category (ProjectCategory member name): 政府采购
    # goods and services follow 政府采购法 and its 实施条例 and 财政部令第87号, not 招标投标法.
    citations_by_category: Mapping[str, Citation] = field(default_factory=dict)

    def citation_for(self, category: str) -> Citation:
        """What a finding on a project of ``category`` cites ("" — registration not seen —
        cites the rule's default law)."""
        return self.citations_by_category.get(category, Citation(self.legal_basis, self.severity))

    @classmethod
    def load(cls, module_file: str) -> RuleDefinition:
        """Read the JSON data file beside a rule module (same name, .json)."""
        path = Path(module_file).with_suffix(".json")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            severity = Severity(data["severity"])
            return cls(
                rule_id=data["rule_id"],
                version=data["version"],
                name=data["name"],
                legal_basis=data["legal_basis"],
                applies_to=data["applies_to"],
                behaviour_type=BehaviourType(data["behaviour_type"]),
                severity=severity,
                parameters=dict(data.get("parameters", {})),
                citations_by_category={
                    category: citation_from_data(cited, severity)
                    for category, cited in data.get("legal_basis_by_category", {}).items()
                },
            )
        except (OSError, KeyError, ValueError) as exc:
            raise RuleDataError(f"rule data {path.name}: {exc}") from exc


@dataclass(frozen=True)
class Finding:
    """A rule fired: the audit trail that becomes a detected report."""

    definition: RuleDefinition
    project: ProjectFacts
    bid_section_code: str
    subjects: tuple[Subject, ...]
    description: str
    source_event_ids: tuple[str, ...]
    evidence_values: tuple[tuple[str, str], ...]
    act_at: datetime
    # True for a sign that more subjects may join later: bidders found sharing one value (an
    # IP, an account, ...). Every bid re-evaluates the section, so a third bidder sharing the
    # value comes back as a wider finding of the same sign; it is one sign, reported once.
    open_to_joiners: bool = False
    # The names of those evidence values that depend on what else detection had seen when the
    # rule judged (the sections a statistic was taken over), not on the facts found. They stay
    # in the report's trail but out of its identity: the history is shared by every project, a
    # replay reads the projects' partitions at another pace than they were lived, and the same
    # facts must give the same report id whatever the order (else a rebuild re-files them).
    history_dependent: frozenset[str] = frozenset()
    # For a sign open to joiners found on several values at once (a bidder group sharing a
    # disk serial and a MAC): those of the evidence values each of which, alone, identifies
    # the sign — a later finding sharing any of them is the same sign. Empty: the evidence
    # values together are the sign's one key. Supporting evidence (a CPU id) is never one.
    sign_values: tuple[tuple[str, str], ...] = ()
    # The citation when the finding's own facts change the law (a shared contact person in
    # 政府采购 is deemed collusion); None: the rule's, for the project's category.
    cited: Citation | None = None

    @property
    def citation(self) -> Citation:
        """The legal basis and severity the report states."""
        if self.cited is not None:
            return self.cited
        return self.definition.citation_for(self.project.category)

    @property
    def sign_key(self) -> str:
        """What makes two findings the same sign: the rule, the project, the section and the
        values found, and, unless the sign is open to joiners, the subjects too. For a sign
        known by several values, the first of its ``sign_keys``."""
        return self.sign_keys[0]

    @property
    def sign_keys(self) -> tuple[str, ...]:
        """Each key that identifies this finding's sign. A sign open to joiners with
        ``sign_values`` has one key per value, in the form a one-value sign's key always had
        ("rule|project|section|name=value"): a sign filed per value before bidder groups were
        reported as one is found again by the group that shares its value."""
        if not (self.open_to_joiners and self.sign_values):
            return (self._identity(with_subjects=not self.open_to_joiners),)
        prefix = [self.definition.rule_id, self.project.project_id, self.bid_section_code]
        return tuple(sorted({"|".join([*prefix, f"{k}={v}"]) for k, v in self.sign_values}))

    @property
    def report_id(self) -> str:
        """The id of the report filed for this finding when its sign is first seen: fixed by
        what was found, so re-evaluating the same events files the same report. A sign open to
        joiners keeps the id of its first report whoever joins it later (see
        ``findings.plan_filings``)."""
        return str(uuid.uuid5(DETECTION_NAMESPACE, self._identity(with_subjects=True)))

    def _identity(self, *, with_subjects: bool) -> str:
        # The subjects' place in the string is the one report ids were first derived with:
        # changing it would re-file, under new ids, every sign already reported when the
        # detection state is rebuilt from the topics.
        parts = [self.definition.rule_id, self.project.project_id, self.bid_section_code]
        if with_subjects:
            parts.append(",".join(sorted(s.identity for s in self.subjects)))
        parts.append(
            ",".join(
                f"{k}={v}"
                for k, v in sorted(self.evidence_values)
                if k not in self.history_dependent
            )
        )
        return "|".join(parts)


@dataclass(frozen=True)
class NotApplied:
    """A rule that could not judge this trigger, and why (e.g. not enough history)."""

    rule_id: str
    reason: str


@dataclass(frozen=True)
class Withheld(NotApplied):
    """A no-show that qualifies but may not be reported yet: its evaluation's committee is
    sealed until the award (招标投标法 art. 37). Listed as held until its unsealing."""

    evaluation_id: str
    expert_pseudonym: str
    project_id: str
    no_show_at: datetime


Outcome = Finding | NotApplied


class DetectionRule(Protocol):
    @property
    def definition(self) -> RuleDefinition: ...

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]: ...
