"""Which counters each fact moves, and the per-aggregate state some metrics need.

A counter is a metric name plus its dimensions (see the catalogue). Some metrics need what an
earlier event of the same aggregate said — a transaction's category is on the project's
registration, a push's deadline on its routing (or on the PushDeadlinesSet that replaced
estimated ones), days to announcement need the registration time — so :func:`contribute`
takes the aggregate's state and returns the new one with the increments. The aggregate's
events share a Kafka key, hence a partition, hence an order, so the stream worker and the
recompute see them in the same order and compute the same figures.

The read model applies a contribution once per event id, state and counters in one atomic step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, cached_property, lru_cache
from typing import Any, NamedTuple
from urllib.parse import quote, unquote

from services.reporting.domain import catalogue
from services.reporting.domain.facts import (
    AbnormalReportFiledFact,
    AnnouncementPublishedFact,
    ContractAwardedFact,
    DeficiencyDeadlineBreachedFact,
    DepositWaivedFact,
    EvaluationCancelledFact,
    EvaluationRequestedFact,
    EvaluationScheduledFact,
    ExpertConfirmedFact,
    ExpertLeftFact,
    Fact,
    HistoricalDepositRefundedFact,
    LargeAmountRecordImportedFact,
    PartnerVenueDecisionFact,
    ProjectRegisteredFact,
    ProjectTerminatedFact,
    PushDeadlinesSetFact,
    PushEscalatedFact,
    PushFeedbackGivenFact,
    PushOverdueFact,
    PushRoutedFact,
    PushSignedForFact,
    PushTransferredFact,
    TenderDocumentPrePublishedFact,
    TransactionCompletedFact,
    VenueCapacityPublishedFact,
)
from services.reporting.domain.periods import china_date, periods_of

REGISTRATIONS = "registrations"
REGISTERED_AMOUNT_FEN = "registered_amount_fen"
UNKNOWN = "UNKNOWN"
PERIOD = "period"
OPEN_PUSHES = "open-pushes"

State = Mapping[str, Any]


@lru_cache(maxsize=65536)
def _escape(value: str) -> str:
    return quote(value, safe="")  # '|', '=' and '%' cannot break the key's structure


def _encode(metric: str, dimensions: Iterable[tuple[str, str]], period: str | None) -> str:
    parts = [metric, *(f"{name}={_escape(value)}" for name, value in dimensions)]
    if period is not None:
        parts.append(f"{PERIOD}={_escape(period)}")
    return "|".join(parts)


@dataclass(frozen=True)
class CounterKey:
    metric: str
    dimensions: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # Dimensions in name order, so equal keys are equal however they were written.
        object.__setattr__(self, "dimensions", tuple(sorted(self.dimensions)))

    def encode(self) -> str:
        return self.encoded

    @cached_property
    def encoded(self) -> str:
        """A stable string form: ``metric|dim=value|…|period=P``, dimensions in name order
        and the period last (so a cut's per-period keys share the cut's key as a prefix)."""
        return _encode(
            self.metric,
            ((name, value) for name, value in self.dimensions if name != PERIOD),
            self.period,
        )

    @classmethod
    def decode(cls, text: str) -> CounterKey:
        metric, *rest = text.split("|")
        dimensions = []
        for part in rest:
            name, value = part.split("=", 1)
            dimensions.append((name, unquote(value)))
        return cls(metric, tuple(dimensions))

    @property
    def period(self) -> str | None:
        return dict(self.dimensions).get(PERIOD)

    def without_period(self) -> dict[str, str]:
        return {name: value for name, value in self.dimensions if name != PERIOD}


class Increment(NamedTuple):
    field: str  # the encoded counter key: the read model's hash field
    by: int

    @property
    def key(self) -> CounterKey:
        return CounterKey.decode(self.field)


@dataclass(frozen=True)
class IndexChange:
    """Add a member to (or remove it from) a named set, e.g. the open pushes."""

    index: str
    member: str
    add: bool


class Counted(NamedTuple):
    """The same amount added to several counters: a metric's cuts, for all time and per
    period (kept together, as one event moves dozens of counters by the same amount)."""

    fields: tuple[str, ...]
    by: int


@dataclass(frozen=True)
class Contribution:
    counted: tuple[Counted, ...] = ()
    # Evidence cells (metric + every dimension + month) the event belongs to: the cell itself
    # where the event added to the metric's counters, its subtracted cell (see
    # :func:`subtracted_cell`) where it took from them, so the events behind a figure that
    # went down reconcile with it (added − subtracted = the count, where each event moved it
    # by one: a set of event ids keeps no weight).
    evidence: tuple[CounterKey, ...] = ()
    # The aggregate state after the event; None leaves it as it was.
    new_state: State | None = None
    index_changes: tuple[IndexChange, ...] = ()

    @property
    def increments(self) -> tuple[Increment, ...]:
        """Each counter moved, one by one."""
        return tuple(Increment(field, c.by) for c in self.counted for field in c.fields)


@cache
def _stored_cuts(metric_key: str) -> tuple[tuple[str, ...], ...]:
    """The total and every cut of a metric, dimension names in order; a distribution's cuts
    all carry its value dimension ``days``."""
    definition = catalogue.metric(metric_key)
    extra = ("days",) if definition.kind == "distribution" else ()
    return tuple(tuple(sorted((*cut, *extra))) for cut in ((), *definition.cuts))


@cache
def _value_names(metric_key: str) -> tuple[str, ...]:
    """Every dimension name a metric's counters and evidence cell read, in a fixed order."""
    definition = catalogue.metric(metric_key)
    return tuple(
        sorted({*definition.dimensions, *(n for cut in _stored_cuts(metric_key) for n in cut)})
    )


@lru_cache(maxsize=16384)
def _cells(
    metric_key: str, values: tuple[str, ...], periods: tuple[str, str, str, str]
) -> tuple[tuple[str, ...], CounterKey]:
    """The counter fields (every cut, for all time and per period) and the evidence cell of a
    metric's dimension values (in :func:`_value_names` order) in a month. Dimension values and
    months repeat across events, so the encoded keys are built once each; when a combination
    was forgotten, its parts (one cut's key, the periods' suffixes) usually were not."""
    named = dict(zip(_value_names(metric_key), values, strict=True))
    suffixes = _period_suffixes(periods)
    fields: list[str] = []
    for cut in _stored_cuts(metric_key):
        base = _cut_key(metric_key, cut, tuple(named[name] for name in cut))
        fields.append(base)
        fields.extend([base + suffix for suffix in suffixes])
    definition = catalogue.metric(metric_key)
    cell = tuple(named[name] for name in definition.dimensions)
    return tuple(fields), _evidence_cell(metric_key, cell, periods[-1])


@lru_cache(maxsize=16384)
def _cut_key(metric_key: str, cut: tuple[str, ...], values: tuple[str, ...]) -> str:
    return _encode(metric_key, zip(cut, values, strict=True), None)


@lru_cache(maxsize=1024)
def _period_suffixes(periods: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"|{PERIOD}={_escape(period)}" for period in periods)


@lru_cache(maxsize=16384)
def _evidence_cell(metric_key: str, values: tuple[str, ...], month: str) -> CounterKey:
    names = catalogue.metric(metric_key).dimensions
    return CounterKey(metric_key, (*zip(names, values, strict=True), (PERIOD, month)))


# The dimension that marks an evidence cell as the events that subtracted from the cell's
# counters (e.g. pushes_in_hand at the measure taken after 立案): kept apart from the events
# that added, as the two are read apart. No catalogue metric has a dimension of this name.
SUBTRACTED = "subtracted"


@lru_cache(maxsize=4096)
def subtracted_cell(cell: CounterKey) -> CounterKey:
    """The evidence cell of the events that subtracted from ``cell``'s counters."""
    return CounterKey(cell.metric, (*cell.dimensions, (SUBTRACTED, "true")))


@dataclass
class _Builder:
    counted: list[Counted] = field(default_factory=list)
    evidence: list[CounterKey] = field(default_factory=list)
    _periods_at: tuple[datetime, tuple[str, str, str, str]] | None = None

    def _periods(self, at: datetime) -> tuple[str, str, str, str]:
        # A contribution counts its metrics at one or two instants: find their periods once.
        if self._periods_at is None or self._periods_at[0] != at:
            self._periods_at = (at, periods_of(at))
        return self._periods_at[1]

    def count(self, metric_key: str, values: Mapping[str, str], at: datetime, by: int = 1) -> None:
        dimension_values = tuple([values[name] or UNKNOWN for name in _value_names(metric_key)])
        fields, cell = _cells(metric_key, dimension_values, self._periods(at))
        self.counted.append(Counted(fields, by))
        # A negative count is evidence too, but of the figure going down: never listed among
        # the events that make it up.
        self.evidence.append(cell if by >= 0 else subtracted_cell(cell))

    def done(
        self, new_state: State | None = None, index_changes: Iterable[IndexChange] = ()
    ) -> Contribution:
        return Contribution(
            tuple(self.counted), tuple(self.evidence), new_state, tuple(index_changes)
        )


# Each fact that reads or writes an aggregate's state: the aggregate's kind and the fact's field
# holding its id.
_STATE_OF: dict[type, tuple[str, str]] = {
    **dict.fromkeys(
        (
            ProjectRegisteredFact,
            TenderDocumentPrePublishedFact,
            AnnouncementPublishedFact,
            ContractAwardedFact,
            TransactionCompletedFact,
            DepositWaivedFact,
            DeficiencyDeadlineBreachedFact,
            ProjectTerminatedFact,
        ),
        ("project", "project_id"),
    ),
    LargeAmountRecordImportedFact: ("deal", "unified_deal_code"),
    AbnormalReportFiledFact: ("report", "report_id"),
    **dict.fromkeys(
        (
            PushRoutedFact,
            PushDeadlinesSetFact,
            PushSignedForFact,
            PushFeedbackGivenFact,
            PushTransferredFact,
            PushOverdueFact,
            PushEscalatedFact,
        ),
        ("push", "push_id"),
    ),
    VenueCapacityPublishedFact: ("venue", "venue_id"),
    **dict.fromkeys(
        (
            EvaluationRequestedFact,
            EvaluationScheduledFact,
            EvaluationCancelledFact,
            PartnerVenueDecisionFact,
            ExpertConfirmedFact,
            ExpertLeftFact,
        ),
        ("evaluation", "evaluation_id"),
    ),
}


def state_key(fact: Fact) -> str | None:
    """The aggregate whose state the fact reads or writes, if any."""
    found = _STATE_OF.get(type(fact))
    if found is None:
        return None
    kind, id_field = found
    return f"{kind}:{getattr(fact, id_field)}"


def _instant(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def contribute(fact: Fact, state: State | None) -> Contribution:  # noqa: PLR0911, PLR0912
    """The counters a fact moves and its aggregate's new state. Pure."""
    # One case per kind of fact: a flat dispatch reads better than a table of lambdas.
    match fact:
        case ProjectRegisteredFact():
            return _registration(fact, state)
        case AnnouncementPublishedFact():
            return _announcement(fact, state)
        case TenderDocumentPrePublishedFact():
            return _project_count("tender_documents_pre_published", fact, state, fact.department)
        case DeficiencyDeadlineBreachedFact():
            return _project_count("deficiency_breaches", fact, state, UNKNOWN)
        case ContractAwardedFact() | TransactionCompletedFact():
            return _deal(fact, state)
        case DepositWaivedFact():
            return _deposit_waived(fact, state)
        case ProjectTerminatedFact():
            return _termination(fact, state)
        case HistoricalDepositRefundedFact():
            builder = _Builder()
            values = {"department": fact.department}
            builder.count("historical_deposits_refunded", values, fact.occurred_at)
            builder.count(
                "historical_deposit_refunded_fen", values, fact.occurred_at, fact.amount_fen
            )
            return builder.done()
        case LargeAmountRecordImportedFact():
            return _large_amount_record(fact, state)
        case AbnormalReportFiledFact():
            builder = _Builder()
            values = {
                "behaviour_type": fact.behaviour_type,
                "source": fact.source,
                "department": fact.department,
            }
            builder.count("abnormal_reports", values, fact.occurred_at)
            if fact.source == "DETECTED":
                rule = {"rule": fact.rule_id, "rule_name": fact.rule_name}
                builder.count("detected_signals", rule, fact.occurred_at)
            # What the dashboard's push board says of each push: the behaviour pushed, and
            # whether a department reported it or which rule found it.
            report = {
                "behaviour_type": fact.behaviour_type,
                "source": fact.source,
                "rule": fact.rule_id,
            }
            return builder.done(report)
        case PushRoutedFact():
            return _push_routed(fact)
        case PushDeadlinesSetFact():
            return _push_deadlines_set(fact, state)
        case PushSignedForFact():
            return _push_signed_for(fact, state)
        case PushFeedbackGivenFact():
            return _push_feedback(fact, state)
        case PushTransferredFact():
            return _push_transferred(fact, state)
        case PushOverdueFact():
            return _push_overdue(fact, state)
        case PushEscalatedFact():
            return _push_escalated(fact, state)
        case VenueCapacityPublishedFact():
            venue = {
                "name": fact.venue_name,
                "partner": fact.partner_code,
                "region": fact.region_code,
            }
            return Contribution(new_state=venue)
        case EvaluationRequestedFact():
            return _evaluation_requested(fact, state)
        case EvaluationScheduledFact():
            return _evaluation_scheduled(fact, state)
        case EvaluationCancelledFact():
            return _evaluation_cancelled(fact, state)
        case PartnerVenueDecisionFact():
            return _venue_decision(fact, state)
        case ExpertConfirmedFact():
            return _expert_confirmed(fact, state)
        case ExpertLeftFact():
            return _expert_left(fact, state)


# ── intake ─────────────────────────────────────────────────────────────────────────────────


def _registration(fact: ProjectRegisteredFact, state: State | None) -> Contribution:
    builder = _Builder()
    values = {
        "region": fact.region_code,
        "category": fact.category,
        "department": fact.registering_department,
    }
    at = fact.registered_at
    builder.count(REGISTRATIONS, values, at)
    builder.count(REGISTERED_AMOUNT_FEN, values, at, fact.budget_fen)
    if fact.key_project:
        builder.count("key_project_registrations", values, at)
    if fact.green_channel:
        builder.count("green_channel_registrations", values, at)
    if fact.deficiency_accepted:
        builder.count("deficiency_registrations", values, at)
    project = {
        **(state or {}),
        "region": fact.region_code,
        "category": fact.category,
        "department": fact.registering_department,
        "registered_at": at.isoformat(),
        # A registration told again (another id) does not take the sections back to the start.
        **({} if SECTIONS in (state or {}) else _registered_sections(fact)),
    }
    project.setdefault("announced", False)
    return builder.done(project)


def _project_values(state: State | None, department: str) -> dict[str, str]:
    project = state or {}
    return {
        "region": project.get("region", UNKNOWN),
        "category": project.get("category", UNKNOWN),
        "department": project.get("department", department),
    }


def _announcement(fact: AnnouncementPublishedFact, state: State | None) -> Contribution:
    """Days from registration to the project's first announcement; every announcement (one
    naming some sections may follow another) moves the sections it announces."""
    if state is None:
        return Contribution()
    project = _sections_moved(state, fact.bid_section_codes, ANNOUNCE)
    registered_at = _instant(state.get("registered_at"))
    if registered_at is None or state.get("announced"):
        # Only a project's first announcement after its registration counts.
        return Contribution(new_state=project if project is not state else None)
    days = (china_date(fact.occurred_at) - china_date(registered_at)).days
    builder = _Builder()
    values = {**_project_values(state, fact.department), "days": str(days)}
    builder.count("registration_to_announcement_days", values, fact.occurred_at)
    return builder.done({**project, "announced": True})


def _project_count(
    metric_key: str,
    fact: TenderDocumentPrePublishedFact | DeficiencyDeadlineBreachedFact,
    state: State | None,
    department: str,
) -> Contribution:
    builder = _Builder()
    builder.count(metric_key, _project_values(state, department), fact.occurred_at)
    return builder.done()


# ── deals (成交) ───────────────────────────────────────────────────────────────────────────
#
# Each section's place in intake's lifecycle, as far as deals need it (the project state's
# SECTIONS, section code -> place). Intake decides which sections a step naming none concerns
# by their states (services/intake/domain/lifecycle.py, sections_concerned): reporting keeps
# them to decide the same, so a completion of "the whole project" after one section's deal is
# the deal of the sections it concluded, not a repeat of that section's.
SECTIONS = "sections"
TRADING_METHOD = "trading_method"
NOT_ANNOUNCED = "REGISTERED"  # registered (or its documents pre-published)
TRADING = "TRADING"  # announced and open: ANNOUNCED up to CANDIDATES_PUBLICISED in intake
AWARDED = "AWARDED"
COMPLETED = "COMPLETED"
TERMINATED = "TERMINATED"
CONCLUDED = frozenset({AWARDED, COMPLETED})  # the section's deal is made (and counted)
OPEN = frozenset({NOT_ANNOUNCED, TRADING})
# Intake's TENDER_METHODS: a tender concludes (成交) only after its award.
TENDER_METHODS = frozenset({"OPEN_TENDER", "INVITED_TENDER"})


@dataclass(frozen=True)
class _SectionStep:
    """A lifecycle step as intake's TRANSITIONS has it, in section places: the places it may
    happen in and the place after it."""

    allowed: frozenset[str]
    after: str


ANNOUNCE = _SectionStep(frozenset({NOT_ANNOUNCED}), TRADING)
# Intake awards a section from CANDIDATES_PUBLICISED; reporting does not follow bids, openings,
# evaluations and publicity, so an award naming no section concerns every section announced and
# open (the same sections, unless the project's sections stand at different pre-award steps).
AWARD = _SectionStep(frozenset({TRADING}), AWARDED)
COMPLETE = _SectionStep(frozenset({TRADING, AWARDED}), COMPLETED)
TENDER_COMPLETE = _SectionStep(frozenset({AWARDED}), COMPLETED)  # intake's TENDER_COMPLETION
TERMINATE = _SectionStep(OPEN, TERMINATED)


def _registered_sections(fact: ProjectRegisteredFact) -> dict[str, Any]:
    """The sections' places kept from the registration; none for a registration listing no
    section (the project's deals are then told apart by the codes their events name)."""
    if not fact.bid_sections:
        return {}
    return {
        SECTIONS: dict.fromkeys(fact.bid_sections, NOT_ANNOUNCED),
        TRADING_METHOD: fact.trading_method,
    }


def _sections_concerned(
    state: State, named: Iterable[str], step: _SectionStep, fallback: _SectionStep | None = None
) -> tuple[str, ...]:
    """The sections a step moves, as intake's sections_concerned: those it names, else every
    section whose place allows the step, else (``fallback``) those the state machine alone
    allows it in (a tender's completion accepted before the method's rule)."""
    codes = tuple(dict.fromkeys(named))
    if codes:
        return codes
    places: Mapping[str, str] = state[SECTIONS]
    for allowing in (step, fallback):
        if allowing is not None:
            concerned = tuple(code for code, place in places.items() if place in allowing.allowed)
            if concerned:
                return concerned
    return ()


def _sections_moved(state: State, named: Iterable[str], step: _SectionStep) -> State:
    """The project state after a step that moves its sections (the state itself when it keeps
    no sections, or the step moves none). A section named where intake would refuse the step
    stays where it is."""
    if SECTIONS not in state:
        return state
    places = dict(state[SECTIONS])
    moved = False
    for code in _sections_concerned(state, named, step):
        if places.get(code) in step.allowed:
            places[code] = step.after
            moved = True
    return {**state, SECTIONS: places} if moved else state


def _termination(fact: ProjectTerminatedFact, state: State | None) -> Contribution:
    """流标/终止 counts nothing, but a terminated section is not concluded by a later
    completion of the whole project."""
    if state is None:
        return Contribution()
    project = _sections_moved(
        state, (fact.bid_section_code,) if fact.bid_section_code else (), TERMINATE
    )
    return Contribution(new_state=project if project is not state else None)


WHOLE_PROJECT = ""  # the section of a deal made for the project as a whole
DEAL_SECTIONS = "deal_sections"  # the sections counted, in a state stored without SECTIONS


def _is_new_deal(counted: Iterable[str], section: str) -> bool:
    """For a project whose state keeps no sections (stored before reporting kept them, or
    registered listing none): whether an award or completion of ``section`` is a deal not
    counted yet. A whole-project deal and a section's cannot both be counted there, as which
    sections a whole-project completion concluded is not known (a rebuild tells)."""
    sections = set(counted)
    if not sections:
        return True
    if section == WHOLE_PROJECT or WHOLE_PROJECT in sections:
        return False  # the whole project's deal covers its sections, and they cover it
    return section not in sections


def _deal(
    fact: ContractAwardedFact | TransactionCompletedFact, state: State | None
) -> Contribution:
    """A deal (成交): an award (中标) or completion (成交) that concludes a section not concluded
    before, with that event's amount. A tendered project usually ends at its award, so the
    award is the deal; a completion after it is not another one. A completion naming no section
    concludes the sections intake applies it to (every one announced and open or awarded; a
    tender's awarded ones): a deal if any of them had none yet, once, with its amount, as intake
    keeps a whole-project completion as one deal."""
    if state is None or SECTIONS not in state:
        return _deal_by_codes(fact, state)
    award = isinstance(fact, ContractAwardedFact)
    step = AWARD if award else COMPLETE
    if not award and state.get(TRADING_METHOD) in TENDER_METHODS:
        step = TENDER_COMPLETE
    named = (fact.bid_section_code,) if fact.bid_section_code else ()
    places = dict(state[SECTIONS])
    concerned = _sections_concerned(
        state, named, step, COMPLETE if step is TENDER_COMPLETE else None
    )
    # A section unknown to the registration (intake refuses such a step) is counted all the same.
    new_deal = any(places.get(code) not in CONCLUDED for code in concerned)
    for code in concerned:
        if places.get(code) != COMPLETED:
            places[code] = step.after
    project = {**state, SECTIONS: places}
    if not new_deal:
        return Contribution(new_state=project)
    return _counted_deal(fact, state, project)


def _deal_by_codes(
    fact: ContractAwardedFact | TransactionCompletedFact, state: State | None
) -> Contribution:
    counted = list((state or {}).get(DEAL_SECTIONS, []))
    section = fact.bid_section_code
    if not _is_new_deal(counted, section):
        return Contribution()
    return _counted_deal(fact, state, {**(state or {}), DEAL_SECTIONS: sorted([*counted, section])})


def _counted_deal(
    fact: ContractAwardedFact | TransactionCompletedFact, state: State | None, project: State
) -> Contribution:
    # An award is made on the platform; a completion says (SOE transfers may be made off it).
    on_platform = fact.on_platform if isinstance(fact, TransactionCompletedFact) else True
    builder = _Builder()
    values = {**_project_values(state, fact.department), "on_platform": _flag(on_platform)}
    at = fact.occurred_at
    builder.count("transactions_completed", values, at)
    builder.count("transaction_amount_fen", values, at, fact.amount_fen)
    category = values["category"]
    if category == "SOE_PROPERTY_RIGHTS":
        builder.count("soe_property_transactions", values, at)  # on the platform or not
    elif category == "RURAL_COLLECTIVE_PROPERTY" and on_platform:
        # The bulletin counts those done "通过公共资源交易平台".
        builder.count("rural_collective_trades", values, at)
    elif category == "EMISSION_RIGHTS":
        builder.count("emission_rights_trades", values, at)
    return builder.done(project)


def _deposit_waived(fact: DepositWaivedFact, state: State | None) -> Contribution:
    builder = _Builder()
    values = {**_project_values(state, fact.department), "relief_kind": fact.relief_kind}
    builder.count("deposits_waived", values, fact.occurred_at)
    builder.count("deposit_amount_saved_fen", values, fact.occurred_at, fact.amount_saved_fen)
    return builder.done()


def _large_amount_record(fact: LargeAmountRecordImportedFact, state: State | None) -> Contribution:
    if state is not None:
        return Contribution()  # a re-import of a record already counted
    builder = _Builder()
    values = {
        "source_level": fact.source_level,
        "region": fact.region_code,
        "category": fact.category,
    }
    builder.count("large_amount_records", values, fact.occurred_at)
    builder.count("large_amount_record_amount_fen", values, fact.occurred_at, fact.amount_fen)
    return builder.done({"first_event_id": fact.event_id})


# ── abnormal-behaviour push ────────────────────────────────────────────────────────────────

HANDLER = "HANDLER"


def _push_routed(fact: PushRoutedFact) -> Contribution:
    builder = _Builder()
    values = {"department": fact.department, "role": fact.role}
    builder.count("pushes_routed", values, fact.occurred_at)
    changes: list[IndexChange] = []
    if fact.role == HANDLER:
        builder.count("pushes_to_handle", values, fact.occurred_at)
        changes.append(IndexChange(OPEN_PUSHES, fact.push_id, add=True))
        if fact.deadlines_estimated:
            department = {"department": fact.department}
            builder.count("pushes_on_estimated_deadlines", department, fact.occurred_at)
    push: dict[str, Any] = {
        "report_id": fact.report_id,
        "department": fact.department,
        "role": fact.role,
        "routed_at": fact.occurred_at.isoformat(),
        "sign_for_due": fact.sign_for_due.isoformat() if fact.sign_for_due else None,
        "feedback_due": fact.feedback_due.isoformat() if fact.feedback_due else None,
        "deadlines_estimated": fact.deadlines_estimated,
        "estimated_deadlines": sorted(fact.estimates()),
        "signed_at": None,
        "fed_back_at": None,
        "case_filed_at": None,  # the first 立案 feedback: in hand until the measure
        "resolved": False,  # closed: by the measure taken (then ``measure``) or a transfer
        "measure": None,
        "overdue": [],
    }
    return builder.done(push, changes)


def _push_signed_for(fact: PushSignedForFact, state: State | None) -> Contribution:
    if state is None or state.get("role") != HANDLER or state.get("signed_at"):
        return Contribution()
    if state.get("transferred_at"):
        return Contribution()  # abnormal push refuses it: the transfer closed the push
    builder = _Builder()
    routed_at = _instant(state["routed_at"]) or fact.occurred_at
    builder.count("pushes_signed_for", {"department": state["department"]}, routed_at)
    signed = {**state, "signed_at": fact.occurred_at.isoformat()}
    return builder.done(_void_met_in_time(signed, builder, routed_at))


# 立案: the first feedback (it meets the feedback deadline), but the push stays in hand until a
# later feedback gives the measure taken, one of RESOLVING_RESULTS (abnormal push's
# HandlingResult); after that abnormal push takes no more feedback on the push.
CASE_FILED = "CASE_FILED"
RESOLVING_RESULTS = frozenset({"PENALISED", "INTERVIEWED", "REFERRED", "NO_ACTION"})


def _fed_back_on_time(fed_back_at: datetime, feedback_due: datetime | None) -> bool:
    return feedback_due is None or fed_back_at <= feedback_due


def _feedback_met_at(state: State) -> datetime | None:
    """When the push's feedback deadline was met, as abnormal push judges it (Push.met_at): at
    its first feedback, or at its transfer (移送), which passes the case on. Nothing is done on a
    push after its transfer, so whichever is set came first."""
    return _instant(state.get("fed_back_at") or state.get("transferred_at"))


def _push_feedback(fact: PushFeedbackGivenFact, state: State | None) -> Contribution:
    """处理结果反馈. The first feedback (立案 included) meets the feedback deadline; the one
    giving the measure taken resolves the push (已办结), by that measure, and closes it. A case
    filed (立案) keeps the push in hand until then. The state's ``resolved`` says the push is
    closed (by its measure, or by a transfer); ``measure`` which measure resolved it."""
    if state is None or state.get("role") != HANDLER:
        return Contribution()
    if state.get("transferred_at"):
        return Contribution()  # abnormal push refuses it: the transfer closed the push
    if state.get("resolved"):
        return Contribution()  # abnormal push refuses it: the measure was fed back already
    builder = _Builder()
    new_state = dict(state)
    routed_at = _instant(state["routed_at"]) or fact.occurred_at
    values = {"department": state["department"]}
    if not state.get("fed_back_at"):
        builder.count("pushes_fed_back", values, routed_at)
        if _fed_back_on_time(fact.occurred_at, _instant(state.get("feedback_due"))):
            builder.count("pushes_fed_back_on_time", values, routed_at)
        new_state["fed_back_at"] = fact.occurred_at.isoformat()
    changes: list[IndexChange] = []
    if fact.result in RESOLVING_RESULTS:
        builder.count("pushes_resolved", {**values, "measure": fact.result}, routed_at)
        if state.get("case_filed_at"):
            builder.count("pushes_in_hand", values, routed_at, -1)
        new_state["resolved"] = True
        new_state["measure"] = fact.result
        changes.append(IndexChange(OPEN_PUSHES, fact.push_id, add=False))
    elif fact.result == CASE_FILED and not state.get("case_filed_at"):
        builder.count("pushes_in_hand", values, routed_at)
        new_state["case_filed_at"] = fact.occurred_at.isoformat()
    return builder.done(_void_met_in_time(new_state, builder, routed_at), changes)


def _push_transferred(fact: PushTransferredFact, state: State | None) -> Contribution:
    """移送, as abnormal push has it: the push is closed (TRANSFERRED) and leaves the open
    pushes, and the transfer meets both of its deadlines (Push.met_at), so a push transferred
    before signing for counts as signed for, and one transferred before any feedback as fed
    back — on time when transferred by the feedback due. A push in hand (立案) leaves
    pushes_in_hand, but is not resolved: the receiving department's push, a PushRouted of its
    own, is resolved when its measure is fed back."""
    if (
        state is None
        or state.get("role") != HANDLER
        or state.get("resolved")
        or fact.department != state.get("department")
        or fact.to_department == fact.department
    ):
        # Abnormal push refuses such a transfer (check_transfer): an unknown push or a copy,
        # one fed back or transferred already, another department's, or to itself.
        return Contribution()
    builder = _Builder()
    routed_at = _instant(state["routed_at"]) or fact.occurred_at
    values = {"department": state["department"]}
    builder.count("pushes_transferred", {**values, "to_department": fact.to_department}, routed_at)
    if not state.get("signed_at"):
        builder.count("pushes_signed_for", values, routed_at)
    if not state.get("fed_back_at"):
        builder.count("pushes_fed_back", values, routed_at)
        if _fed_back_on_time(fact.occurred_at, _instant(state.get("feedback_due"))):
            builder.count("pushes_fed_back_on_time", values, routed_at)
    if state.get("case_filed_at"):
        # A case filed (立案) and passed on: no longer in hand here, and not resolved here.
        builder.count("pushes_in_hand", values, routed_at, -1)
    push = {
        **state,
        "transferred_at": fact.occurred_at.isoformat(),
        "transferred_to": fact.to_department,
        "resolved": True,
    }
    return builder.done(
        _void_met_in_time(push, builder, routed_at),
        [IndexChange(OPEN_PUSHES, fact.push_id, add=False)],
    )


def _push_deadlines_set(fact: PushDeadlinesSetFact, state: State | None) -> Contribution:
    """The real deadlines replace the estimated ones. A push already fed back (or transferred)
    was judged against the estimate: when the real feedback due gives the other verdict, the
    on-time count moves (+1 or -1), where the feedback counted it, so the figure reads as if
    the push had been routed with the real deadlines."""
    if state is None or state.get("role") != HANDLER or not state.get("deadlines_estimated"):
        return Contribution()  # as abnormal push: a push's real deadlines are stated once
    builder = _Builder()
    routed_at = _instant(state["routed_at"]) or fact.occurred_at
    values = {"department": state["department"]}
    builder.count("pushes_on_estimated_deadlines", values, routed_at, -1)
    fed_back_at = _feedback_met_at(state)
    if fed_back_at is not None:
        was_on_time = _fed_back_on_time(fed_back_at, _instant(state.get("feedback_due")))
        is_on_time = _fed_back_on_time(fed_back_at, fact.feedback_due)
        if was_on_time != is_on_time:
            # The event joins the figure's evidence either way: it is what moved the figure.
            builder.count("pushes_fed_back_on_time", values, routed_at, 1 if is_on_time else -1)
    push = {
        **state,
        "sign_for_due": fact.sign_for_due.isoformat() if fact.sign_for_due else None,
        "feedback_due": fact.feedback_due.isoformat() if fact.feedback_due else None,
        "deadlines_estimated": False,
        "estimated_deadlines": [],
    }
    return builder.done(push)


def _met_in_time(state: State, deadline: str) -> bool:
    """Whether the step ``deadline`` asks for was done by its due time, as abnormal push judges
    it (Push.met_in_time): signing for (or a transfer) meets SIGN_FOR, the first feedback (or a
    transfer) FEEDBACK."""
    if deadline == "SIGN_FOR":
        met = _instant(state.get("signed_at") or state.get("transferred_at"))
        due = _instant(state.get("sign_for_due"))
    else:
        met, due = _feedback_met_at(state), _instant(state.get("feedback_due"))
    return met is not None and due is not None and met <= due


def _push_overdue(fact: PushOverdueFact, state: State | None) -> Contribution:
    """A push overdue (超期推送) counts once, at its first deadline missed; each deadline missed
    counts in push_deadlines_overdue, so a push late to sign for and to feed back is one push
    overdue and two deadlines missed. A PushOverdue for a deadline already counted (the watch
    published it twice), or one whose step had been done in time (the watch judged on a read
    model behind the topic), is void, as abnormal push folds it."""
    if state is not None and (
        fact.deadline in state.get("overdue", []) or _met_in_time(state, fact.deadline)
    ):
        return Contribution()
    builder = _Builder()
    routed_at = _instant((state or {}).get("routed_at")) or fact.occurred_at
    department = {"department": fact.department}
    builder.count("push_deadlines_overdue", {**department, "deadline": fact.deadline}, routed_at)
    if not (state or {}).get("overdue"):
        builder.count("pushes_overdue", department, routed_at)
    if state is None:
        return builder.done()
    overdue = sorted({*state.get("overdue", []), fact.deadline})
    # The department each deadline was counted under: what a void overdue takes back.
    counted = {**state.get("overdue_departments", {}), fact.deadline: fact.department}
    return builder.done({**state, "overdue": overdue, "overdue_departments": counted})


def _push_escalated(fact: PushEscalatedFact, state: State | None) -> Contribution:
    """One count per push and level: a level escalated again (a watch that published it twice
    under different ids) is the same escalation."""
    escalated: list[int] = (state or {}).get("escalated_levels", [])
    if fact.level in escalated:
        return Contribution()
    if (
        state is not None
        and fact.deadline not in state.get("overdue", [])
        and _met_in_time(state, fact.deadline)
    ):
        return Contribution()  # the PushOverdue before it was void: so is the escalation
    builder = _Builder()
    routed_at = _instant((state or {}).get("routed_at")) or fact.occurred_at
    values = {
        "level": str(fact.level),
        "to_department": fact.to_department,
        "department": (state or {}).get("department") or UNKNOWN,
        "deadline": fact.deadline,
    }
    builder.count("pushes_escalated", values, routed_at)
    if state is None:
        return builder.done()
    # Who each level went to (level -> department), as abnormal push keeps it (Push.escalated_to):
    # the dashboard's push board shows a push to the departments it was escalated to. A state
    # stored before this was kept has none (the rebuild fills it in): no target sees the push.
    escalated_to = {**state.get("escalated_to", {}), str(fact.level): fact.to_department}
    escalated_for = {**state.get("escalated_for", {}), str(fact.level): fact.deadline}
    return builder.done(
        {
            **state,
            "escalated_levels": sorted([*escalated, fact.level]),
            "escalated_to": escalated_to,
            "escalated_for": escalated_for,
        }
    )


def _void_met_in_time(state: State, builder: _Builder, routed_at: datetime) -> State:
    """A step that met an overdue deadline in time, arriving after the deadline watch judged the
    push (history posted after the watch looked), makes that overdue void, and the escalations
    it caused, as abnormal push folds it (Push's OVERDUE_VOID): their counts are taken back,
    under the values they were counted with, and a later escalation may take a void level
    again. A state stored before those values were kept (no ``overdue_departments``) is left
    as it is: the rebuild counts it again."""
    overdue: list[str] = state.get("overdue", [])
    void = [deadline for deadline in overdue if _met_in_time(state, deadline)]
    counted: dict[str, str] = state.get("overdue_departments", {})
    if not void or any(deadline not in counted for deadline in overdue):
        return state
    for deadline in void:
        values = {"department": counted[deadline], "deadline": deadline}
        builder.count("push_deadlines_overdue", values, routed_at, -1)
    kept = [deadline for deadline in overdue if deadline not in void]
    if not kept:  # the push was counted overdue at its first deadline: no longer
        builder.count("pushes_overdue", {"department": counted[overdue[0]]}, routed_at, -1)
    escalated_to: dict[str, str] = state.get("escalated_to", {})
    escalated_for: dict[str, str] = state.get("escalated_for", {})
    levels: list[int] = state.get("escalated_levels", [])
    void_levels = [
        level
        for level in levels
        if escalated_for.get(str(level)) in void and str(level) in escalated_to
    ]
    for level in void_levels:
        values = {
            "level": str(level),
            "to_department": escalated_to[str(level)],
            "department": state.get("department") or UNKNOWN,
            "deadline": escalated_for[str(level)],
        }
        builder.count("pushes_escalated", values, routed_at, -1)
    return {
        **state,
        "overdue": kept,
        "overdue_departments": {d: counted[d] for d in kept},
        "escalated_levels": [level for level in levels if level not in void_levels],
        "escalated_to": {k: v for k, v in escalated_to.items() if int(k) not in void_levels},
        "escalated_for": {k: v for k, v in escalated_for.items() if int(k) not in void_levels},
    }


# ── remote evaluation ──────────────────────────────────────────────────────────────────────
#
# What an evaluation counts follows from its state, not from the event at hand: hosted once
# scheduled (a request that failed to be scheduled hosts nothing); each venue of its latest
# schedule (a re-plan supersedes the earlier one), the host's main venue and every secondary
# venue whose partner accepted the seat request; each partner owning such a secondary venue
# served it; each confirmed expert from another pool than the host's who did not leave the
# committee was shared; and nothing once the evaluation is cancelled (its trade terminated
# before its day). Each event moves the state, and the counters move by the difference between
# what the new state counts and what was counted (kept in the state, with the dimensions it was
# counted under): a re-plan, a decline after an acceptance, a no-show or a cancellation takes
# back what no longer holds, and an event applied again changes nothing.

MAIN = "MAIN"  # the host's own venue (主场); the others are secondary venues (副场)
EVALUATION_COUNTED = "counted"  # {"hosted": bool, "venues": {venue: role},
#                                  "served": [partner], "experts": {pseudonym: pool partner}}


def _evaluation(state: State | None, fact_at: datetime) -> dict[str, Any]:
    evaluation: dict[str, Any] = {
        "host": UNKNOWN,
        "requested_at": fact_at.isoformat(),
        "scheduled": False,
        "cancelled": False,
        "allocations": {},  # venue -> [partner, role], as the latest EvaluationScheduled has it
        "accepted": [],  # venues of the schedule whose partner accepted the seat request
        "confirmed": {},  # pseudonym -> pool partner, experts who confirmed
        "left": [],  # pseudonyms of experts who left the committee
        EVALUATION_COUNTED: {"hosted": False, "venues": {}, "served": [], "experts": {}},
    }
    if state is not None:
        evaluation.update(state)
    return evaluation


def _counted_at_request(state: State | None) -> bool:
    """A state stored when the request counted the evaluation hosted and its main venue used
    (before counting waited for the schedule): its evaluation goes on being counted that way,
    at acceptances and confirmations, until a rebuild (python -m services.reporting.rebuild)
    counts it again from the log."""
    return state is not None and EVALUATION_COUNTED not in state


def _recounted(evaluation: dict[str, Any]) -> Contribution:
    """The evaluation's state with its counts brought to what it now counts."""
    builder = _Builder()
    host: str = evaluation["host"]
    at = datetime.fromisoformat(evaluation["requested_at"])
    live = evaluation["scheduled"] and not evaluation["cancelled"]
    accepted = set(evaluation["accepted"])
    venues = {
        venue: role
        for venue, (_partner, role) in evaluation["allocations"].items()
        if live and (role == MAIN or venue in accepted)
    }
    served = sorted(
        {
            partner
            for venue, (partner, role) in evaluation["allocations"].items()
            if venue in venues and role != MAIN
        }
    )
    left = set(evaluation["left"])
    experts = {
        pseudonym: partner
        for pseudonym, partner in evaluation["confirmed"].items()
        if live and pseudonym not in left and partner != host
    }
    counted = evaluation[EVALUATION_COUNTED]
    if live != counted["hosted"]:
        builder.count("remote_evaluations_hosted", {"host": host}, at, 1 if live else -1)
    for venue, role in counted["venues"].items():
        if venues.get(venue) != role:
            builder.count("remote_evaluations_by_venue", {"venue": venue, "role": role}, at, -1)
    for venue, role in venues.items():
        if counted["venues"].get(venue) != role:
            builder.count("remote_evaluations_by_venue", {"venue": venue, "role": role}, at)
    for partner in sorted(set(counted["served"]) ^ set(served)):
        by = 1 if partner in served else -1
        builder.count("remote_evaluations_served", {"partner": partner, "host": host}, at, by)
    for pseudonym, partner in counted["experts"].items():
        if experts.get(pseudonym) != partner:
            builder.count("experts_shared", {"partner": partner, "host": host}, at, -1)
    for pseudonym, partner in experts.items():
        if counted["experts"].get(pseudonym) != partner:
            builder.count("experts_shared", {"partner": partner, "host": host}, at)
    now_counted = {"hosted": live, "venues": venues, "served": served, "experts": experts}
    return builder.done({**evaluation, EVALUATION_COUNTED: now_counted})


def _evaluation_requested(fact: EvaluationRequestedFact, state: State | None) -> Contribution:
    if _counted_at_request(state):
        return Contribution()  # requested already
    evaluation = _evaluation(state, fact.occurred_at)
    counted = evaluation[EVALUATION_COUNTED]
    if not (counted["hosted"] or counted["venues"] or counted["served"] or counted["experts"]):
        # The request names the host and the period the evaluation counts in; once something is
        # counted they stay as it was counted under (a request told again changes nothing).
        evaluation["host"] = fact.host_centre_code
        evaluation["requested_at"] = fact.occurred_at.isoformat()
    return _recounted(evaluation)


def _evaluation_scheduled(fact: EvaluationScheduledFact, state: State | None) -> Contribution:
    if _counted_at_request(state):
        return Contribution()  # counted as before until a rebuild
    evaluation = _evaluation(state, fact.occurred_at)
    allocations = {venue: [partner, role] for venue, partner, role in fact.allocations}
    evaluation["scheduled"] = True
    evaluation["allocations"] = allocations
    # A venue re-planned away and back is asked for seats again: its earlier answer is over.
    evaluation["accepted"] = [venue for venue in evaluation["accepted"] if venue in allocations]
    return _recounted(evaluation)


def _evaluation_cancelled(fact: EvaluationCancelledFact, state: State | None) -> Contribution:
    if _counted_at_request(state):
        return Contribution()  # counted as before until a rebuild
    evaluation = _evaluation(state, fact.occurred_at)
    evaluation["cancelled"] = True
    return _recounted(evaluation)


def _venue_decision(fact: PartnerVenueDecisionFact, state: State | None) -> Contribution:
    if _counted_at_request(state):
        return _venue_decision_counted_at_request(fact, state)
    evaluation = _evaluation(state, fact.occurred_at)
    accepted = [venue for venue in evaluation["accepted"] if venue != fact.venue_id]
    if fact.accepted:
        accepted.append(fact.venue_id)
    evaluation["accepted"] = sorted(accepted)
    return _recounted(evaluation)


def _expert_confirmed(fact: ExpertConfirmedFact, state: State | None) -> Contribution:
    if _counted_at_request(state):
        return _expert_confirmed_counted_at_request(fact, state)
    evaluation = _evaluation(state, fact.occurred_at)
    if fact.expert_pseudonym in evaluation["left"]:
        return Contribution()  # remote_eval refuses it: one who left does not come back
    evaluation["confirmed"] = {
        **evaluation["confirmed"],
        fact.expert_pseudonym: fact.pool_partner_code,
    }
    return _recounted(evaluation)


def _expert_left(fact: ExpertLeftFact, state: State | None) -> Contribution:
    if _counted_at_request(state):
        return Contribution()  # counted as before until a rebuild
    evaluation = _evaluation(state, fact.occurred_at)
    if fact.expert_pseudonym in evaluation["left"]:
        return Contribution()
    evaluation["left"] = sorted([*evaluation["left"], fact.expert_pseudonym])
    return _recounted(evaluation)


# States stored before counting waited for the schedule (see _counted_at_request).


def _evaluation_values(
    fact: PartnerVenueDecisionFact | ExpertConfirmedFact, state: State | None
) -> tuple[State, str, datetime]:
    evaluation: State = state or {
        "host": UNKNOWN,
        "venues": [],
        "partners_served": [],
        "experts_counted": [],
    }
    at = _instant(evaluation.get("requested_at")) or fact.occurred_at
    return evaluation, evaluation["host"], at


def _venue_decision_counted_at_request(
    fact: PartnerVenueDecisionFact, state: State | None
) -> Contribution:
    if not fact.accepted:
        return Contribution()
    evaluation, host, at = _evaluation_values(fact, state)
    builder = _Builder()
    served = list(evaluation["partners_served"])
    venues = list(evaluation["venues"])
    if fact.partner_code not in served:
        served.append(fact.partner_code)
        builder.count("remote_evaluations_served", {"partner": fact.partner_code, "host": host}, at)
    if fact.venue_id not in venues:
        venues.append(fact.venue_id)
        builder.count(
            "remote_evaluations_by_venue", {"venue": fact.venue_id, "role": "SECONDARY"}, at
        )
    return builder.done({**evaluation, "partners_served": served, "venues": venues})


def _expert_confirmed_counted_at_request(
    fact: ExpertConfirmedFact, state: State | None
) -> Contribution:
    evaluation, host, at = _evaluation_values(fact, state)
    counted = list(evaluation["experts_counted"])
    if fact.expert_pseudonym in counted:
        return Contribution()
    counted.append(fact.expert_pseudonym)
    builder = _Builder()
    if fact.pool_partner_code != host:
        builder.count("experts_shared", {"partner": fact.pool_partner_code, "host": host}, at)
    return builder.done({**evaluation, "experts_counted": counted})


def increments_for(fact: Fact, state: State | None = None) -> list[Increment]:
    """The counters a fact moves given its aggregate's state (kept for callers of v0)."""
    return list(contribute(fact, state).increments)
