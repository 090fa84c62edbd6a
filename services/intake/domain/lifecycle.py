"""A project's lifecycle as a state machine, and the project view folded from its events.

registered → (pre-published) → announced → bids submitted → bids opened → evaluated →
candidates publicised → awarded / completed (成交), or terminated (流标/终止). Auctions, listings
and negotiated transfers may conclude (成交) straight after the announcement. Some steps do not move
the state (deposit relief, historical deposit refunds, 补正, a pending 容缺 deadline set, a breached
容缺 deadline) but are still allowed only in certain states.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

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

# Steps a department asks for (the rest are the platform's own).
REQUESTABLE_STEPS = tuple(
    s for s in Step if s not in (Step.REGISTER, Step.SET_DEADLINE, Step.BREACH_DEADLINE)
)


class TransitionRefused(PlatformError):
    """The project's current state does not allow the step."""

    def __init__(self, project_id: str, current: ProjectState, step: Step) -> None:
        self.project_id = project_id
        self.current = current
        self.step = step
        self.allowed = allowed_steps(current)
        super().__init__(
            f"project {project_id} is {current.value}; {step.value} is not allowed now; "
            f"allowed next: {', '.join(s.value for s in self.allowed) or 'nothing (final state)'}"
        )


class NothingToSupplement(PlatformError):
    """补正 for a project with no documents outstanding, or naming documents not missing."""


def allowed_steps(state: ProjectState) -> tuple[Step, ...]:
    return tuple(step for step in REQUESTABLE_STEPS if state in TRANSITIONS[step])


def next_state(project_id: str, current: ProjectState, step: Step) -> ProjectState:
    after = TRANSITIONS[step].get(current)
    if after is None:
        raise TransitionRefused(project_id, current, step)
    return after


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
    # deadline is dropped when every document is supplied or the project is terminated.
    supplement_working_days: int | None = None
    supplement_deadline_pending: bool = False


@dataclass(frozen=True)
class LifecycleFact:
    """One decoded lifecycle event, as much of it as the project view needs."""

    project_id: str
    step: Step
    occurred_at: datetime
    actor_department: str = ""
    supplemented_documents: tuple[str, ...] = ()
    supplement_deadline: date | None = None  # SET_DEADLINE's deadline


def check_supplement(view: ProjectView, documents: tuple[str, ...]) -> None:
    if not view.outstanding_documents:
        raise NothingToSupplement(f"project {view.project_id} has no documents outstanding")
    unknown = [name for name in documents if name not in view.outstanding_documents]
    if unknown or not documents:
        raise NothingToSupplement(
            f"supplement only outstanding documents: {', '.join(view.outstanding_documents)}; "
            f"not outstanding: {', '.join(unknown) or '(none named)'}"
        )


def evolve(view: ProjectView, fact: LifecycleFact) -> ProjectView:
    """The view after one more event (raises TransitionRefused when the event is out of order)."""
    after = next_state(view.project_id, view.state, fact.step)
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
    elif fact.step is Step.TERMINATE:
        pending = False
    return replace(
        view,
        state=after,
        version=view.version + 1,
        outstanding_documents=outstanding,
        supplement_deadline=deadline,
        deadline_breached=breached,
        updated_at=fact.occurred_at,
        supplement_deadline_pending=pending,
    )
