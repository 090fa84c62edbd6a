"""A project's lifecycle as a state machine, and the project view folded from its events.

registered → (pre-published) → announced → bids submitted → bids opened → evaluated →
candidates publicised → awarded / completed (成交), or terminated (流标/终止). Auctions, listings
and negotiated transfers may conclude (成交) straight after the announcement; a tender (open or
invited, 招标投标法) only after its award: its deal is the award (中标, art. 45), struck through
bids, their opening and evaluation, never without them. That rule is the trading method's
(``transitions``) and is checked where a step is received (``check_method_allows``), not when the
log is folded: a completion accepted before it stays readable. Some steps do not move
the state (deposit relief, historical deposit refunds, 补正, a pending 容缺 deadline set, a breached
容缺 deadline) but are still allowed only in certain states.

Each bid section (标段/包) runs through these states on its own: one section may be awarded
while another is still taking bids, or is re-tendered after a 流标. The trading steps name the
sections they concern (a step naming none concerns every section it can apply to); the project-wide
steps (补正, 容缺 deadlines, historical deposit refunds, declaring 依法必须招标 before the first
announcement) concern the project. The project's own
state sums its sections up: the least advanced open section, or, once every section is final, the
deal (completed, else awarded) or the termination.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from functools import cache

from services.intake.domain.tender_obligation import TENDER_METHODS
from services.platform_core.errors import PlatformError


class ProjectState(StrEnum):
    REGISTERED = "REGISTERED"  # 已登记
    PRE_PUBLISHED = "PRE_PUBLISHED"  # 招标文件预公示
    ANNOUNCED = "ANNOUNCED"  # 已发布公告
    BIDS_SUBMITTED = "BIDS_SUBMITTED"  # 投标中
    BIDS_OPENED = "BIDS_OPENED"  # 已开标
    EVALUATED = "EVALUATED"  # 已评标
    CANDIDATES_PUBLICISED = "CANDIDATES_PUBLICISED"  # 中标候选人公示
    AWARDED = "AWARDED"  # 已中标
    COMPLETED = "COMPLETED"  # 已成交
    TERMINATED = "TERMINATED"  # 流标/终止


class Step(StrEnum):
    """What a lifecycle event does; each is one event type on intake.projects.v1."""

    REGISTER = "REGISTER"
    DECLARE_TENDER_OBLIGATION = "DECLARE_TENDER_OBLIGATION"
    PRE_PUBLISH = "PRE_PUBLISH"
    ANNOUNCE = "ANNOUNCE"
    SUBMIT_BID = "SUBMIT_BID"
    OPEN_BIDS = "OPEN_BIDS"
    COMPLETE_EVALUATION = "COMPLETE_EVALUATION"
    PUBLICISE_CANDIDATES = "PUBLICISE_CANDIDATES"
    AWARD = "AWARD"
    COMPLETE_TRANSACTION = "COMPLETE_TRANSACTION"
    RELIEVE_DEPOSIT = "RELIEVE_DEPOSIT"
    REFUND_HISTORICAL_DEPOSIT = "REFUND_HISTORICAL_DEPOSIT"
    SUPPLEMENT_DOCUMENTS = "SUPPLEMENT_DOCUMENTS"
    SET_DEADLINE = "SET_DEADLINE"
    BREACH_DEADLINE = "BREACH_DEADLINE"
    TERMINATE = "TERMINATE"


S = ProjectState
FINAL_STATES = frozenset({S.AWARDED, S.COMPLETED, S.TERMINATED})
OPEN_STATES = frozenset(ProjectState) - FINAL_STATES

# step -> {state it may happen in: state after it}
TRANSITIONS: dict[Step, dict[ProjectState, ProjectState]] = {
    # Before any section is announced (trading_rules refuses it once one is).
    Step.DECLARE_TENDER_OBLIGATION: {S.REGISTERED: S.REGISTERED, S.PRE_PUBLISHED: S.PRE_PUBLISHED},
    Step.PRE_PUBLISH: {S.REGISTERED: S.PRE_PUBLISHED, S.PRE_PUBLISHED: S.PRE_PUBLISHED},
    Step.ANNOUNCE: {S.REGISTERED: S.ANNOUNCED, S.PRE_PUBLISHED: S.ANNOUNCED},
    Step.SUBMIT_BID: {S.ANNOUNCED: S.BIDS_SUBMITTED, S.BIDS_SUBMITTED: S.BIDS_SUBMITTED},
    Step.OPEN_BIDS: {S.BIDS_SUBMITTED: S.BIDS_OPENED},
    Step.COMPLETE_EVALUATION: {S.BIDS_OPENED: S.EVALUATED},
    Step.PUBLICISE_CANDIDATES: {S.EVALUATED: S.CANDIDATES_PUBLICISED},
    Step.AWARD: {S.CANDIDATES_PUBLICISED: S.AWARDED},
    Step.COMPLETE_TRANSACTION: {
        state: S.COMPLETED
        for state in (
            S.ANNOUNCED,
            S.BIDS_SUBMITTED,
            S.BIDS_OPENED,
            S.EVALUATED,
            S.CANDIDATES_PUBLICISED,
            S.AWARDED,
        )
    },
    Step.RELIEVE_DEPOSIT: {
        state: state for state in (S.ANNOUNCED, S.BIDS_SUBMITTED, S.BIDS_OPENED)
    },
    Step.REFUND_HISTORICAL_DEPOSIT: {state: state for state in ProjectState},
    Step.SUPPLEMENT_DOCUMENTS: {state: state for state in OPEN_STATES},
    Step.SET_DEADLINE: {state: state for state in ProjectState},
    Step.BREACH_DEADLINE: {state: state for state in ProjectState},
    Step.TERMINATE: {state: S.TERMINATED for state in OPEN_STATES},
}

# A tender (公开/邀请招标) concludes only after its award: 成交 records the contract with the
# winner (招标投标法 art. 45-46), so no tender reaches it without bids, opening, evaluation and
# award. Other methods (auction, listing, negotiation...) keep TRANSITIONS' wider row.
TENDER_COMPLETION: Mapping[ProjectState, ProjectState] = {S.AWARDED: S.COMPLETED}
TENDER_COMPLETION_RULE = (
    "a tender (open or invited) concludes (成交) only after its award (中标, 招标投标法 art. 45): "
    "bids, their opening, the evaluation, the candidates' publicity and the award come first"
)


def transitions(step: Step, trading_method: str = "") -> Mapping[ProjectState, ProjectState]:
    """The states that allow ``step`` under the trading method ('' : a view from before the
    method was kept, to which only TRANSITIONS applies), and the state after each."""
    if step is Step.COMPLETE_TRANSACTION and trading_method in TENDER_METHODS:
        return TENDER_COMPLETION
    return TRANSITIONS[step]


# Steps that move bid sections; the rest concern the whole project (and check its summed-up state).
SECTION_STEPS = frozenset(
    {
        Step.PRE_PUBLISH,
        Step.ANNOUNCE,
        Step.SUBMIT_BID,
        Step.OPEN_BIDS,
        Step.COMPLETE_EVALUATION,
        Step.PUBLICISE_CANDIDATES,
        Step.AWARD,
        Step.COMPLETE_TRANSACTION,
        Step.RELIEVE_DEPOSIT,
        Step.TERMINATE,
    }
)
_PROGRESS = tuple(ProjectState)  # declaration order is the order a section moves in

# Steps a department asks for (the rest are the platform's own).
REQUESTABLE_STEPS = tuple(
    s for s in Step if s not in (Step.REGISTER, Step.SET_DEADLINE, Step.BREACH_DEADLINE)
)


class TransitionRefused(PlatformError):
    """The project's (or the named bid section's) current state does not allow the step;
    ``reason``: why, when the trading method's rule refuses what the state alone would allow."""

    def __init__(
        self,
        project_id: str,
        current: ProjectState,
        step: Step,
        section: str = "",
        *,
        trading_method: str = "",
        reason: str = "",
    ) -> None:
        self.project_id = project_id
        self.current = current
        self.step = step
        self.section = section
        self.reason = reason
        self.allowed = allowed_steps(current, trading_method)
        where = f"project {project_id}" + (f" section {section}" if section else "")
        because = f" ({reason})" if reason else ""
        allowed = ", ".join(s.value for s in self.allowed) or "nothing (final state)"
        super().__init__(
            f"{where} is {current.value}; {step.value} is not allowed now{because}; "
            f"allowed next: {allowed}"
        )


class UnknownBidSection(PlatformError):
    """A step names a bid section the project was not registered with."""

    def __init__(self, project_id: str, unknown: tuple[str, ...], known: tuple[str, ...]) -> None:
        self.project_id = project_id
        self.unknown = unknown
        self.known = known
        super().__init__(
            f"project {project_id} has no bid section {', '.join(unknown)}; "
            f"its sections: {', '.join(known)}"
        )


class NothingToSupplement(PlatformError):
    """补正 for a project with no documents outstanding, or naming documents not missing."""


@cache  # a pure function of a few enum members, asked on every answer about a project
def allowed_steps(state: ProjectState, trading_method: str = "") -> tuple[Step, ...]:
    return tuple(step for step in REQUESTABLE_STEPS if state in transitions(step, trading_method))


def next_state(project_id: str, current: ProjectState, step: Step) -> ProjectState:
    after = TRANSITIONS[step].get(current)
    if after is None:
        raise TransitionRefused(project_id, current, step)
    return after


@dataclass(frozen=True)
class Deal:
    """A section's deal (成交): the award's winner (中标人), or the counterparty of a trade
    completed without an award, with the amount (fen) and when. The first of them stands: a
    completion after the award is the same deal (as reporting counts it)."""

    party_code: str
    party_name: str
    amount_fen: int
    at: datetime


@dataclass(frozen=True)
class SectionView:
    """One bid section's place in the lifecycle."""

    code: str
    state: ProjectState = ProjectState.REGISTERED
    updated_at: datetime | None = None  # its last step (None: none since registration)
    # 投标截止时间, as its announcement states it (None: not announced, or announced before the
    # view kept it): bids arriving after it are refused (招标投标法 art. 28: 应当拒收), bids are
    # not opened before it (art. 34).
    submission_deadline: datetime | None = None
    # Who bid (credit codes, in order of first bid), who was ruled out at evaluation (否决投标),
    # who was publicised as a candidate, and when the publicity ends: the parties each later
    # step may name (trading_rules). None: the view was stored before it kept them, so the
    # rules that need them are not applied to this section.
    bidders: tuple[str, ...] | None = ()
    disqualified: tuple[str, ...] | None = ()
    candidates: tuple[str, ...] | None = ()
    publicity_ends_at: datetime | None = None
    evaluation_id: str = ""  # the remote evaluation (远程异地评标) its evaluation step named
    deal: Deal | None = None
    # The section's budget (估算价/预算, or reserve price), fen, as registered: a bid deposit is
    # at most 2% of it (trading_rules). None: a view stored before it was kept (the project's
    # budget then stands for its sections').
    budget_fen: int | None = None


# From bid opening on, how many bid may be told (before it, 招标投标法 art. 22 keeps even the
# number of potential bidders confidential); a terminated section's tender is over.
BIDDERS_DISCLOSED = frozenset(
    {
        ProjectState.BIDS_OPENED,
        ProjectState.EVALUATED,
        ProjectState.CANDIDATES_PUBLICISED,
        ProjectState.AWARDED,
        ProjectState.COMPLETED,
        ProjectState.TERMINATED,
    }
)


@dataclass(frozen=True)
class ProjectView:
    """What the API answers about a project and checks transitions against."""

    project_id: str
    unified_deal_code: str
    name: str
    category: str
    region_code: str
    registering_department: str
    supervise_dept_code: str
    tenderer_name: str
    tenderer_credit_code: str
    budget_fen: int
    key_project: bool
    green_channel: bool
    commitment_pledged: bool
    registered_at: datetime
    state: ProjectState = ProjectState.REGISTERED
    version: int = 1  # events applied
    outstanding_documents: tuple[str, ...] = ()
    supplement_deadline: date | None = None
    deadline_breached: bool = False
    updated_at: datetime | None = None
    # 容缺: the working days given to supply the documents (None: no 容缺, or registered before
    # they were recorded), and whether the deadline is pending: accepted while the working-day
    # calendar of a year the count reaches was unpublished, to be set by SET_DEADLINE. A pending
    # deadline is dropped when every document is supplied or the project ends (a final state).
    supplement_working_days: int | None = None
    supplement_deadline_pending: bool = False
    # The bid sections, in registration order. Empty only for a view stored before sections were
    # tracked: the project then moves as one, by ``state``, whatever sections its events name.
    sections: tuple[SectionView, ...] = ()
    # The registration's trading method (TradingMethod's value; '' for a view stored before it
    # was kept): which of the trading rules apply (trading_rules).
    trading_method: str = ""
    # 依法必须招标 (see tender_obligation): None for a project registered before it was recorded
    # (the 20-day bidding period then binds only government procurement); ``derived`` when intake
    # worked it out from the section budgets because the department did not say.
    tender_required_by_law: bool | None = None
    tender_obligation_derived: bool = False


@dataclass(frozen=True)
class LifecycleFact:
    """One decoded lifecycle event, as much of it as the project view needs."""

    project_id: str
    step: Step
    occurred_at: datetime
    actor_department: str = ""
    supplemented_documents: tuple[str, ...] = ()
    supplement_deadline: date | None = None  # SET_DEADLINE's deadline
    bid_section_codes: tuple[str, ...] = ()  # the sections it names; none: every open one
    submission_deadline: datetime | None = None  # ANNOUNCE's 投标截止时间
    opening_at: datetime | None = None  # ANNOUNCE's scheduled opening (开标时间)
    # The parties a step names: SUBMIT_BID's bidder, OPEN_BIDS' opened bids, COMPLETE_EVALUATION's
    # ruled-out bidders, PUBLICISE_CANDIDATES' candidates, AWARD's winner (credit codes).
    party_codes: tuple[str, ...] = ()
    publicity_ends_at: datetime | None = None  # PUBLICISE_CANDIDATES' end of the publicity
    tender_required_by_law: bool | None = None  # DECLARE_TENDER_OBLIGATION's 依法必须招标
    evaluation_id: str = ""  # COMPLETE_EVALUATION's remote evaluation, if any
    deal: Deal | None = None  # AWARD's winner or COMPLETE_TRANSACTION's counterparty, amount
    # AWARD's reason for passing over the candidates ranked above its winner (PassedOverReason's
    # value; '' : none given, the first-ranked won).
    passed_over_reason: str = ""
    on_platform: bool = True  # COMPLETE_TRANSACTION: traded on the platform (进场交易)
    amount_saved_fen: int | None = None  # RELIEVE_DEPOSIT's deposit not collected
    relieved_bidder: str = ""  # RELIEVE_DEPOSIT's bidder ('' : every bidder)


def check_supplement(view: ProjectView, documents: tuple[str, ...]) -> None:
    if not view.outstanding_documents:
        raise NothingToSupplement(f"project {view.project_id} has no documents outstanding")
    unknown = [name for name in documents if name not in view.outstanding_documents]
    if unknown or not documents:
        raise NothingToSupplement(
            f"supplement only outstanding documents: {', '.join(view.outstanding_documents)}; "
            f"not outstanding: {', '.join(unknown) or '(none named)'}"
        )


def summed_up(sections: tuple[SectionView, ...]) -> ProjectState:
    """The project's state from its sections': the least advanced open one; once all are
    final, the deal (completed, else awarded), else terminated."""
    open_states = [s.state for s in sections if s.state not in FINAL_STATES]
    if open_states:
        return min(open_states, key=_PROGRESS.index)
    finals = {s.state for s in sections}
    for state in (S.COMPLETED, S.AWARDED):
        if state in finals:
            return state
    return S.TERMINATED


def sections_concerned(view: ProjectView, fact: LifecycleFact) -> tuple[SectionView, ...]:
    """The sections a section step moves (raises UnknownBidSection for a code the project lacks).

    Naming none means every section whose state allows the step under the project's trading
    method (announcing "all" after one section went ahead announces the rest; a tender's 成交
    for the whole project concludes its awarded sections); if none does, every section the
    state machine alone allows it in (a step the log accepted before the method's rule: the
    API refuses it by check_method_allows); if none allows it, the project's state is what the
    step is refused by."""
    if fact.bid_section_codes:
        by_code = {section.code: section for section in view.sections}
        unknown = tuple(code for code in fact.bid_section_codes if code not in by_code)
        if unknown:
            known = tuple(section.code for section in view.sections)
            raise UnknownBidSection(view.project_id, unknown, known)
        return tuple(by_code[code] for code in dict.fromkeys(fact.bid_section_codes))
    method_allows = transitions(fact.step, view.trading_method)
    allowing = tuple(s for s in view.sections if s.state in method_allows)
    if not allowing:
        allowing = tuple(s for s in view.sections if s.state in TRANSITIONS[fact.step])
    if not allowing:
        raise TransitionRefused(
            view.project_id, view.state, fact.step, trading_method=view.trading_method
        )
    return allowing


def check_method_allows(view: ProjectView, fact: LifecycleFact) -> None:
    """Raises TransitionRefused, with the reason, for a step the project's trading method does
    not allow where the state machine alone would (a tender's 成交 before its award). Checked
    where a step is received, after ``evolve`` accepted it; folding the log does not check it."""
    allows = transitions(fact.step, view.trading_method)
    if allows is TRANSITIONS[fact.step]:
        return
    reason = TENDER_COMPLETION_RULE
    if fact.step not in SECTION_STEPS or not view.sections:
        if view.state not in allows:
            raise TransitionRefused(
                view.project_id,
                view.state,
                fact.step,
                trading_method=view.trading_method,
                reason=reason,
            )
        return
    for section in sections_concerned(view, fact):
        if section.state not in allows:
            raise TransitionRefused(
                view.project_id,
                section.state,
                fact.step,
                section.code,
                trading_method=view.trading_method,
                reason=reason,
            )


def last_step_at(view: ProjectView, fact: LifecycleFact) -> datetime:
    """When the sections the step concerns (or, for a project step, the project) last moved: a
    step may not be dated before it. Sections keep their own times, so the steps of two sections
    may be recorded in either order."""
    if fact.step in SECTION_STEPS and view.sections:
        return max(
            (s.updated_at or view.registered_at for s in sections_concerned(view, fact)),
            default=view.registered_at,
        )
    return view.updated_at or view.registered_at


def view_allowed_steps(view: ProjectView) -> tuple[Step, ...]:
    """The steps a department may ask for now: any an open section allows, and the project
    steps its summed-up state allows — but 补正 only while documents are outstanding (it is
    refused otherwise: check_supplement), so the list never offers a step that is refused."""
    if not view.sections:
        allowed = allowed_steps(view.state, view.trading_method)
    else:
        allowed = _allowed_with_sections(
            view.state, frozenset(s.state for s in view.sections), view.trading_method
        )
    if view.outstanding_documents:
        return allowed
    return tuple(step for step in allowed if step is not Step.SUPPLEMENT_DOCUMENTS)


@cache  # the project's state and its sections' states are few: the answers are a small table
def _allowed_with_sections(
    project_state: ProjectState, section_states: frozenset[ProjectState], trading_method: str
) -> tuple[Step, ...]:
    states = section_states | {project_state}
    return tuple(
        step
        for step in REQUESTABLE_STEPS
        if any(
            state in transitions(step, trading_method)
            for state in (states if step in SECTION_STEPS else {project_state})
        )
    )


def _moved_sections(view: ProjectView, fact: LifecycleFact) -> tuple[SectionView, ...]:
    """Every section after the step (the project's, unchanged, for a project step)."""
    if fact.step not in SECTION_STEPS or not view.sections:
        next_state(view.project_id, view.state, fact.step)
        return view.sections
    moved: dict[str, SectionView] = {}
    concerned = sections_concerned(view, fact)
    # A completion for the whole project is one deal: told per section only when it has one.
    if fact.deal is not None and len(concerned) > 1 and not fact.bid_section_codes:
        fact = replace(fact, deal=None)
    for section in concerned:
        after = TRANSITIONS[fact.step].get(section.state)
        if after is None:
            raise TransitionRefused(
                view.project_id,
                section.state,
                fact.step,
                section.code,
                trading_method=view.trading_method,
            )
        moved[section.code] = _with_parties(
            replace(section, state=after, updated_at=fact.occurred_at), fact
        )
    return tuple(moved.get(section.code, section) for section in view.sections)


def _with_parties(section: SectionView, fact: LifecycleFact) -> SectionView:
    """What the step tells about the section's deadline and parties, kept for later steps."""
    if fact.step is Step.ANNOUNCE and fact.submission_deadline is not None:
        return replace(section, submission_deadline=fact.submission_deadline)
    if fact.step is Step.SUBMIT_BID and section.bidders is not None:
        new = tuple(code for code in fact.party_codes if code not in section.bidders)
        return replace(section, bidders=(*section.bidders, *new))
    if fact.step is Step.COMPLETE_EVALUATION:  # the committee's whole list, once
        return replace(
            section,
            disqualified=tuple(dict.fromkeys(fact.party_codes)),
            evaluation_id=fact.evaluation_id,
        )
    if fact.deal is not None and section.deal is None:  # the award, or a trade's completion
        return replace(section, deal=fact.deal)
    if fact.step is Step.PUBLICISE_CANDIDATES:  # the whole list, in rank order, once
        return replace(
            section,
            candidates=tuple(dict.fromkeys(fact.party_codes)),
            publicity_ends_at=fact.publicity_ends_at,
        )
    return section


def evolve(view: ProjectView, fact: LifecycleFact) -> ProjectView:
    """The view after one more event (raises TransitionRefused when the event is out of order,
    UnknownBidSection when it names a section the project lacks)."""
    sections = _moved_sections(view, fact)
    after = summed_up(sections) if sections else next_state(view.project_id, view.state, fact.step)
    outstanding = view.outstanding_documents
    deadline = view.supplement_deadline
    breached = view.deadline_breached
    pending = view.supplement_deadline_pending
    if fact.step is Step.SUPPLEMENT_DOCUMENTS:
        outstanding = tuple(d for d in outstanding if d not in fact.supplemented_documents)
        if not outstanding:
            deadline = None
            pending = False
    elif fact.step is Step.SET_DEADLINE:
        # Only a pending deadline is set: one supplemented or terminated meanwhile needs none
        # (the event is still recorded in the history, and changes nothing else).
        if pending and fact.supplement_deadline is not None:
            deadline = fact.supplement_deadline
            pending = False
    elif fact.step is Step.BREACH_DEADLINE:
        breached = True
    elif fact.step is Step.DECLARE_TENDER_OBLIGATION:
        view = replace(
            view,
            tender_required_by_law=fact.tender_required_by_law,
            tender_obligation_derived=False,
        )
    if after in FINAL_STATES:
        # No section left to trade (awarded, completed or terminated): 补正 is refused from now
        # on, so there is no deadline to set (and the read model stops watching a counted one).
        pending = False
    return replace(
        view,
        state=after,
        version=view.version + 1,
        outstanding_documents=outstanding,
        supplement_deadline=deadline,
        deadline_breached=breached,
        updated_at=max(fact.occurred_at, view.updated_at or fact.occurred_at),
        supplement_deadline_pending=pending,
        sections=sections,
    )
