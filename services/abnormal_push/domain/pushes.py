"""A push's life: 待签收 (ROUTED) → 已签收 (SIGNED_FOR) → 已反馈 (FEEDBACK_GIVEN), or TRANSFERRED.

Overdue is not a status of its own but a mark on the push (which deadline passed, when), since
an overdue push still has to be signed for and answered. Every step keeps who did it and when.
The state is rebuilt by folding the push's events with :func:`apply_push_event`.

The deadline watch judges the read model, which may lag behind the topic (a restart catching
up, a slow projector): it can find a push unanswered whose in-time sign-for is already on the
topic, ahead of the PushOverdue it then emits. The fold has the last word: a PushOverdue or
PushEscalated for a deadline the push met in time changes nothing.

The other order happens too, with history: a migration posts a push's past steps with a backfill
key, and the watch judges the push (its deadline long past in wall-clock time) before the step
that met the deadline in time arrives. That step makes the overdue void, and the escalations it
caused with it: the push is as if it had been answered before the watch looked (an OVERDUE_VOID
step tells what happened), and a later escalation takes the level the void one had.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from services.abnormal_push.domain.deadlines import PushDues
from services.abnormal_push.domain.errors import PushActionRefused
from services.abnormal_push.domain.reports import Evidence, Severity
from services.abnormal_push.domain.routing import PushRole, RoutingReason


class PushStatus(StrEnum):
    ROUTED = "ROUTED"  # 待签收
    SIGNED_FOR = "SIGNED_FOR"  # 已签收 (待处理)
    FEEDBACK_GIVEN = "FEEDBACK_GIVEN"  # 已反馈 (已处理)
    TRANSFERRED = "TRANSFERRED"  # 已移送: closed here, routed on


class HandlingResult(StrEnum):
    CASE_FILED = "CASE_FILED"  # 立案: in hand until the measure is fed back
    PENALISED = "PENALISED"  # 处罚
    INTERVIEWED = "INTERVIEWED"  # 约谈
    REFERRED = "REFERRED"  # 移送 (to police, discipline inspection, court)
    NO_ACTION = "NO_ACTION"  # 不予处理


class Deadline(StrEnum):
    SIGN_FOR = "SIGN_FOR"
    FEEDBACK = "FEEDBACK"


# The audit-trail step kinds that meet each deadline, and those done by a person.
_MEETING_STEPS = {
    Deadline.SIGN_FOR: frozenset({"SIGNED_FOR", "TRANSFERRED"}),
    Deadline.FEEDBACK: frozenset({"FEEDBACK", "TRANSFERRED"}),
}
_ACTS = frozenset({"ROUTED", "SIGNED_FOR", "FEEDBACK", "TRANSFERRED"})


# --- events (domain view of the protobuf messages on abnormal.pushes.v1) ---------------------


@dataclass(frozen=True)
class PushRouted:
    event_id: str
    push_id: str
    at: datetime
    report_id: str
    department: str
    reason: RoutingReason
    role: PushRole
    severity: Severity
    sign_for_due: datetime | None
    feedback_due: datetime | None
    transferred_from_push_id: str = ""
    # The dues are estimates: the holiday calendar did not cover their year (domain.deadlines).
    deadlines_estimated: bool = False
    # Which of them (for the event's consumers; see :func:`estimated_in`).
    estimated_deadlines: tuple[Deadline, ...] = ()


@dataclass(frozen=True)
class PushSignedFor:
    event_id: str
    push_id: str
    at: datetime
    actor_department: str


@dataclass(frozen=True)
class PushFeedbackGiven:
    event_id: str
    push_id: str
    at: datetime
    actor_department: str
    result: HandlingResult
    result_text: str
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class PushTransferred:
    event_id: str
    push_id: str
    at: datetime
    actor_department: str
    to_department: str
    reason: str


@dataclass(frozen=True)
class PushOverdue:
    event_id: str
    push_id: str
    at: datetime
    deadline: Deadline
    due_at: datetime
    department: str


@dataclass(frozen=True)
class PushEscalated:
    event_id: str
    push_id: str
    at: datetime
    deadline: Deadline
    to_department: str
    level: int


@dataclass(frozen=True)
class PushDeadlinesSet:
    """The real deadlines of a push routed with estimates, once the calendar covers them."""

    event_id: str
    push_id: str
    at: datetime
    sign_for_due: datetime
    feedback_due: datetime


PushEvent = (
    PushRouted
    | PushSignedFor
    | PushFeedbackGiven
    | PushTransferred
    | PushOverdue
    | PushEscalated
    | PushDeadlinesSet
)


@dataclass(frozen=True)
class Step:
    """One line of the push's audit trail."""

    event_id: str
    kind: str
    at: datetime
    actor: str
    detail: str = ""


@dataclass(frozen=True)
class Feedback:
    result: HandlingResult
    result_text: str
    at: datetime
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True)
class Push:
    push_id: str
    report_id: str
    department: str
    reason: RoutingReason
    role: PushRole
    severity: Severity
    status: PushStatus
    routed_at: datetime
    sign_for_due: datetime | None
    feedback_due: datetime | None
    transferred_from_push_id: str = ""
    signed_for_at: datetime | None = None
    feedback: tuple[Feedback, ...] = ()
    transferred_to: str = ""
    overdue: tuple[Deadline, ...] = ()
    escalation_levels: tuple[int, ...] = ()
    steps: tuple[Step, ...] = field(default_factory=tuple)
    deadlines_estimated: bool = False
    # The departments each escalation went to, in order (escalation_levels' order). Empty for a
    # push escalated before they were kept, when every escalation went to the joint-conference
    # office.
    escalated_to: tuple[str, ...] = ()
    # The deadline each escalation was for, in the same order (empty for a push stored before
    # they were kept: then read from its ESCALATED steps).
    escalated_for: tuple[Deadline, ...] = ()

    @property
    def resolved(self) -> bool:
        return self.status in (PushStatus.FEEDBACK_GIVEN, PushStatus.TRANSFERRED)

    @property
    def is_open(self) -> bool:
        """Still waiting for the receiving department (copies never wait for anyone)."""
        return self.role is PushRole.HANDLER and not self.resolved

    def met_at(self, deadline: Deadline) -> datetime | None:
        """When the step a deadline asks for was done (business time), or None while it is not.

        Signing for meets the sign-for deadline, the first feedback (立案 included) the feedback
        deadline; transferring the push on meets both, since it leaves this department.
        """
        meeting = _MEETING_STEPS[deadline]
        return next((step.at for step in self.steps if step.kind in meeting), None)

    def due(self, deadline: Deadline) -> datetime | None:
        return self.sign_for_due if deadline is Deadline.SIGN_FOR else self.feedback_due

    def met_in_time(self, deadline: Deadline, due: datetime | None = None) -> bool:
        """Whether the step ``deadline`` asks for was done by its due time (the push's, or
        ``due`` where the push states none)."""
        due = self.due(deadline) or due
        met = self.met_at(deadline)
        return met is not None and due is not None and met <= due

    def pending_deadlines(
        self, real: Mapping[Deadline, datetime] | None = None
    ) -> list[tuple[Deadline, datetime]]:
        """Deadlines the deadline watch still has to judge: not marked overdue, and either not
        met yet or met after they ran out (a backfilled late answer is overdue all the same).

        Estimated deadlines are never judged. A push routed with estimates carries one flag
        for both (``deadlines_estimated``), so the watch tells them apart by counting again on
        the published calendar: a deadline in ``real`` with the very time the push states is
        real and judged (typically the sign-for deadline of a push whose feedback deadline
        alone runs into a year the calendar does not cover); the others wait until the real
        ones replace them (PushDeadlinesSet)."""
        if self.role is not PushRole.HANDLER:
            return []
        pending: list[tuple[Deadline, datetime]] = []
        for deadline in Deadline:
            due = self.due(deadline)
            if due is None or deadline in self.overdue:
                continue
            if self.deadlines_estimated and (real is None or real.get(deadline) != due):
                continue  # an estimate
            if not self.met_in_time(deadline):
                pending.append((deadline, due))
        return pending


def _each(dues: PushDues) -> tuple[tuple[Deadline, datetime, bool], ...]:
    return (
        (Deadline.SIGN_FOR, dues.sign_for_due, dues.sign_for_estimated),
        (Deadline.FEEDBACK, dues.feedback_due, dues.feedback_estimated),
    )


def real_deadlines(counted: PushDues) -> dict[Deadline, datetime]:
    """Of a push's deadlines counted now on the calendar, those it covers (not estimates)."""
    return {deadline: due for deadline, due, is_estimate in _each(counted) if not is_estimate}


def estimated_in(dues: PushDues) -> tuple[Deadline, ...]:
    """The deadlines of ``dues`` that are estimates, as a PushRouted names them."""
    return tuple(deadline for deadline, _, is_estimate in _each(dues) if is_estimate)


def estimated_deadlines(push: Push, counted: PushDues) -> list[Deadline]:
    """Which of the deadlines ``push`` states are estimates, ``counted`` being its deadlines
    counted now for its severity from its routing. A push routed with estimates carries one
    flag for both (``deadlines_estimated``); a deadline it states that the calendar now gives
    to the minute is real, and judged (see :meth:`Push.pending_deadlines`): the department
    must not take it for a guess."""
    if not push.deadlines_estimated:
        return []
    real = real_deadlines(counted)
    return [
        deadline
        for deadline in Deadline
        if (due := push.due(deadline)) is not None and real.get(deadline) != due
    ]


def overdue_now(
    push: Push, now: datetime, real: Mapping[Deadline, datetime] | None = None
) -> list[tuple[Deadline, datetime]]:
    """The deadlines of ``push`` that have passed at ``now`` unmet (or met late), not yet marked
    (``real``: see :meth:`Push.pending_deadlines`)."""
    return [(deadline, due) for deadline, due in push.pending_deadlines(real) if now >= due]


def last_act_at(push: Push) -> datetime:
    """The business time of the push's latest step by a person (the timer's marks excluded)."""
    acts = [step.at for step in push.steps if step.kind in _ACTS]
    return max(acts, default=push.routed_at)


def check_step_time(push: Push, at: datetime) -> None:
    """A step cannot be dated before the step it follows (backfilled history must be in order)."""
    previous = last_act_at(push)
    if at < previous:
        raise PushActionRefused(
            "before_previous_step",
            f"occurred_at {at.isoformat()} precedes the push's previous step "
            f"({previous.isoformat()}); a step follows the one before it",
        )


def next_escalation_level(push: Push) -> int:
    return max(push.escalation_levels, default=0) + 1


def was_escalated_to(push: Push, department: str, *, office: str) -> bool:
    """Whether an escalation of ``push`` went to ``department``; ``office``, the joint-conference
    office, received every escalation of a push stored before the targets were kept."""
    if department in push.escalated_to:
        return True
    return department == office and bool(push.escalation_levels) and not push.escalated_to


# --- checks the HTTP edge applies before emitting an event ------------------------------------


def _check_addressed(push: Push, department: str) -> None:
    if push.department != department:
        raise PushActionRefused(
            "not_addressed_to_you",
            f"push {push.push_id} is addressed to {push.department}, not to {department}",
        )


def _check_handler(push: Push) -> None:
    if push.role is not PushRole.HANDLER:
        raise PushActionRefused(
            "copy_only",
            f"push {push.push_id} is a copy for information; no sign-for, feedback or transfer "
            "is due",
        )


def check_sign_for(push: Push, department: str) -> None:
    _check_addressed(push, department)
    _check_handler(push)
    if push.status is not PushStatus.ROUTED:
        raise PushActionRefused(
            "wrong_status", f"push {push.push_id} is {push.status.value}; only ROUTED is signed for"
        )


def check_feedback(push: Push, department: str) -> None:
    _check_addressed(push, department)
    _check_handler(push)
    if push.status is not PushStatus.SIGNED_FOR:
        raise PushActionRefused(
            "wrong_status",
            f"push {push.push_id} is {push.status.value}; feedback follows sign-for and ends "
            "with the measure taken",
        )


def check_transfer(push: Push, department: str, to_department: str, known: frozenset[str]) -> None:
    _check_addressed(push, department)
    _check_handler(push)
    if push.status not in (PushStatus.ROUTED, PushStatus.SIGNED_FOR):
        raise PushActionRefused(
            "wrong_status", f"push {push.push_id} is {push.status.value} and cannot be transferred"
        )
    if to_department not in known:
        raise PushActionRefused(
            "unknown_department", f"{to_department!r} is not a department of the registry"
        )
    if to_department == department:
        raise PushActionRefused("same_department", "a push cannot be transferred to yourself")


# --- folding events into state ----------------------------------------------------------------


def _step(
    push: Push, event_id: str, kind: str, at: datetime, *, actor: str, detail: str = ""
) -> Push:
    return replace(push, steps=(*push.steps, Step(event_id, kind, at, actor, detail)))


def _routed(event: PushRouted) -> Push:
    push = Push(
        push_id=event.push_id,
        report_id=event.report_id,
        department=event.department,
        reason=event.reason,
        role=event.role,
        severity=event.severity,
        status=PushStatus.ROUTED,
        routed_at=event.at,
        sign_for_due=event.sign_for_due,
        feedback_due=event.feedback_due,
        transferred_from_push_id=event.transferred_from_push_id,
        deadlines_estimated=event.deadlines_estimated,
    )
    return _step(push, event.event_id, "ROUTED", event.at, actor="router", detail=event.reason)


def _signed_for(push: Push, event: PushSignedFor) -> Push:
    check_sign_for(push, event.actor_department)
    signed = replace(push, status=PushStatus.SIGNED_FOR, signed_for_at=event.at)
    stepped = _step(signed, event.event_id, "SIGNED_FOR", event.at, actor=event.actor_department)
    return _void_met_in_time(stepped, event.event_id, event.at)


def _feedback(push: Push, event: PushFeedbackGiven) -> Push:
    check_feedback(push, event.actor_department)
    status = (
        PushStatus.SIGNED_FOR
        if event.result is HandlingResult.CASE_FILED
        else PushStatus.FEEDBACK_GIVEN
    )
    feedback = Feedback(event.result, event.result_text, event.at, event.evidence)
    answered = replace(push, status=status, feedback=(*push.feedback, feedback))
    stepped = _step(
        answered,
        event.event_id,
        "FEEDBACK",
        event.at,
        actor=event.actor_department,
        detail=event.result,
    )
    return _void_met_in_time(stepped, event.event_id, event.at)


def _transferred(push: Push, event: PushTransferred) -> Push:
    check_transfer(
        push, event.actor_department, event.to_department, frozenset({event.to_department})
    )
    moved = replace(push, status=PushStatus.TRANSFERRED, transferred_to=event.to_department)
    stepped = _step(
        moved,
        event.event_id,
        "TRANSFERRED",
        event.at,
        actor=event.actor_department,
        detail=f"to {event.to_department}: {event.reason}",
    )
    return _void_met_in_time(stepped, event.event_id, event.at)


def _overdue(push: Push, event: PushOverdue) -> Push:
    if event.deadline in push.overdue:
        return push
    if push.met_in_time(event.deadline, event.due_at):
        return push  # judged on a read model behind the topic: void (module docstring)
    late = replace(push, overdue=(*push.overdue, event.deadline))
    return _step(
        late, event.event_id, "OVERDUE", event.at, actor="deadline timer", detail=event.deadline
    )


def _escalated(push: Push, event: PushEscalated) -> Push:
    if event.level in push.escalation_levels:
        return push
    if event.deadline not in push.overdue and push.met_in_time(event.deadline):
        return push  # the PushOverdue before it was void: so is the escalation it caused
    escalated = replace(
        push,
        escalation_levels=(*push.escalation_levels, event.level),
        escalated_to=(*push.escalated_to, event.to_department),
        escalated_for=(*_escalated_for(push), event.deadline),
    )
    return _step(
        escalated,
        event.event_id,
        "ESCALATED",
        event.at,
        actor="deadline timer",
        detail=f"{event.deadline.value} to {event.to_department}, level {event.level}",
    )


def _escalated_for(push: Push) -> tuple[Deadline, ...]:
    """The deadline of each escalation, in escalation_levels' order; for a push stored before
    they were kept, read from its ESCALATED steps ("SIGN_FOR to FGW, level 1")."""
    if len(push.escalated_for) == len(push.escalation_levels):
        return push.escalated_for
    by_level: dict[int, Deadline] = {}
    for step in push.steps:
        if step.kind == "ESCALATED":
            deadline, _, rest = step.detail.partition(" to ")
            level = rest.rpartition("level ")[2]
            if deadline in Deadline.__members__ and level.isdigit():
                by_level[int(level)] = Deadline(deadline)
    # A level no step names cannot be told apart: it counts as the sign-for's.
    return tuple(by_level.get(level, Deadline.SIGN_FOR) for level in push.escalation_levels)


def _void_met_in_time(push: Push, event_id: str, at: datetime) -> Push:
    """The push after a step done at ``at``: an overdue deadline this step met in time is void,
    and so are the escalations it caused (module docstring)."""
    void = [deadline for deadline in push.overdue if push.met_in_time(deadline)]
    if not void:
        return push
    deadlines = _escalated_for(push)
    levels = push.escalation_levels
    # Targets kept for every level, or for none (stored before they were kept: the office).
    targets = push.escalated_to if len(push.escalated_to) == len(levels) else ("",) * len(levels)
    kept = [
        (level, to, deadline)
        for level, to, deadline in zip(push.escalation_levels, targets, deadlines, strict=True)
        if deadline not in void
    ]
    dropped = sorted(set(push.escalation_levels) - {level for level, _, _ in kept})
    cleared = replace(
        push,
        overdue=tuple(d for d in push.overdue if d not in void),
        escalation_levels=tuple(level for level, _, _ in kept),
        escalated_to=tuple(to for _, to, _ in kept) if any(targets) else (),
        escalated_for=tuple(deadline for _, _, deadline in kept),
    )
    escalations = f"; escalation level(s) {', '.join(map(str, dropped))} void" if dropped else ""
    return _step(
        cleared,
        f"{event_id}:void",
        "OVERDUE_VOID",
        at,
        actor="deadline timer",
        detail=f"{', '.join(d.value for d in void)} met in time: overdue void{escalations}",
    )


def _deadlines_set(push: Push, event: PushDeadlinesSet) -> Push:
    if not push.deadlines_estimated:
        return push  # stated before: the watch states a push's real deadlines once
    counted = replace(
        push,
        sign_for_due=event.sign_for_due,
        feedback_due=event.feedback_due,
        deadlines_estimated=False,
    )
    return _step(
        counted,
        event.event_id,
        "DEADLINES_SET",
        event.at,
        actor="deadline timer",
        detail=f"sign-for {event.sign_for_due.isoformat()}, "
        f"feedback {event.feedback_due.isoformat()} (the holiday calendar now covers them)",
    )


def apply_push_event(push: Push | None, event: PushEvent) -> Push:
    """The push after ``event``; raises PushActionRefused for an event its state contradicts."""
    if isinstance(event, PushRouted):
        # The same routing re-emitted (a replayed report) changes nothing.
        return push if push is not None else _routed(event)
    if push is None:
        raise PushActionRefused("unknown_push", f"{type(event).__name__} for unknown push")
    if any(step.event_id == event.event_id for step in push.steps):
        return push
    changed: Push
    match event:
        case PushSignedFor():
            changed = _signed_for(push, event)
        case PushFeedbackGiven():
            changed = _feedback(push, event)
        case PushTransferred():
            changed = _transferred(push, event)
        case PushOverdue():
            changed = _overdue(push, event)
        case PushDeadlinesSet():
            changed = _deadlines_set(push, event)
        case _:
            changed = _escalated(push, event)
    return changed
