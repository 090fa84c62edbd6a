"""The push state machine: 待签收 → 已签收 → 已反馈, transfer, overdue and escalation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.abnormal_push.domain.deadlines import PushDues
from services.abnormal_push.domain.errors import PushActionRefused
from services.abnormal_push.domain.pushes import (
    Deadline,
    HandlingResult,
    Push,
    PushDeadlinesSet,
    PushEscalated,
    PushFeedbackGiven,
    PushOverdue,
    PushRouted,
    PushSignedFor,
    PushStatus,
    PushTransferred,
    apply_push_event,
    check_transfer,
    estimated_deadlines,
    estimated_in,
    next_escalation_level,
    overdue_now,
    was_escalated_to,
)
from services.abnormal_push.domain.reports import Severity
from services.abnormal_push.domain.routing import PushRole, RoutingReason
from services.abnormal_push.service_config import load_deadline_policy

ROUTED_AT = datetime(2024, 9, 30, 2, 0, tzinfo=UTC)  # Monday before National Day, 10:00 Jinan


def routed(role: PushRole = PushRole.HANDLER, department: str = "ZJJ") -> Push:
    dues = load_deadline_policy().due_times(Severity.MEDIUM, ROUTED_AT)
    sign_for_due, feedback_due = dues.sign_for_due, dues.feedback_due
    handler = role is PushRole.HANDLER
    return apply_push_event(
        None,
        PushRouted(
            event_id="e-routed",
            push_id="push-1",
            at=ROUTED_AT,
            report_id="r-1",
            department=department,
            reason=RoutingReason.CATEGORY_SUPERVISOR,
            role=role,
            severity=Severity.MEDIUM,
            sign_for_due=sign_for_due if handler else None,
            feedback_due=feedback_due if handler else None,
        ),
    )


def sign(push: Push, by: str = "ZJJ", event_id: str = "e-sign") -> Push:
    return apply_push_event(push, PushSignedFor(event_id, push.push_id, ROUTED_AT, by))


def feedback(push: Push, result: HandlingResult, event_id: str = "e-fb") -> Push:
    return apply_push_event(
        push,
        PushFeedbackGiven(event_id, push.push_id, ROUTED_AT, "ZJJ", result, "已处理"),
    )


def test_routed_signed_for_answered() -> None:
    push = routed()
    assert push.status is PushStatus.ROUTED and push.is_open
    push = sign(push)
    assert push.status is PushStatus.SIGNED_FOR
    push = feedback(push, HandlingResult.PENALISED)
    assert push.status is PushStatus.FEEDBACK_GIVEN and not push.is_open
    assert [s.kind for s in push.steps] == ["ROUTED", "SIGNED_FOR", "FEEDBACK"]
    assert push.steps[1].actor == "ZJJ"


def test_case_filed_keeps_the_push_in_hand_until_the_measure() -> None:
    push = feedback(sign(routed()), HandlingResult.CASE_FILED)
    assert push.status is PushStatus.SIGNED_FOR
    push = feedback(push, HandlingResult.INTERVIEWED, event_id="e-fb2")
    assert push.status is PushStatus.FEEDBACK_GIVEN
    assert [f.result for f in push.feedback] == [
        HandlingResult.CASE_FILED,
        HandlingResult.INTERVIEWED,
    ]


def test_the_same_event_applied_twice_changes_nothing() -> None:
    push = sign(routed())
    assert sign(push) == push


def test_another_department_cannot_sign_or_answer() -> None:
    with pytest.raises(PushActionRefused) as refused:
        sign(routed(), by="JTJ")
    assert refused.value.code == "not_addressed_to_you"
    with pytest.raises(PushActionRefused):
        apply_push_event(
            sign(routed()),
            PushFeedbackGiven("e-x", "push-1", ROUTED_AT, "JTJ", HandlingResult.NO_ACTION, ""),
        )


def test_feedback_before_sign_for_and_sign_for_twice_are_refused() -> None:
    with pytest.raises(PushActionRefused, match="feedback follows sign-for"):
        feedback(routed(), HandlingResult.NO_ACTION)
    with pytest.raises(PushActionRefused, match="only ROUTED"):
        sign(sign(routed()), event_id="e-sign-2")


def test_copies_need_no_sign_for() -> None:
    copy = routed(PushRole.COPY, department="JYZX")
    assert not copy.is_open and copy.pending_deadlines() == []
    with pytest.raises(PushActionRefused) as refused:
        sign(copy, by="JYZX")
    assert refused.value.code == "copy_only"


def test_transfer_closes_the_push() -> None:
    push = apply_push_event(
        routed(), PushTransferred("e-t", "push-1", ROUTED_AT, "ZJJ", "JTJ", "公路项目")
    )
    assert push.status is PushStatus.TRANSFERRED and push.transferred_to == "JTJ"
    assert overdue_now(push, ROUTED_AT + timedelta(days=60)) == []
    with pytest.raises(PushActionRefused) as refused:
        check_transfer(routed(), "ZJJ", "NOPE", frozenset({"ZJJ", "JTJ"}))
    assert refused.value.code == "unknown_department"


def test_sign_for_becomes_overdue_on_the_right_working_day_across_national_day() -> None:
    push = routed()
    assert push.sign_for_due == datetime(2024, 10, 8, 16, 0, tzinfo=UTC)
    # During the holiday nothing is late, although days have passed.
    assert overdue_now(push, datetime(2024, 10, 7, 15, 59, tzinfo=UTC)) == []
    assert overdue_now(push, datetime(2024, 10, 8, 15, 59, 59, tzinfo=UTC)) == []
    late = overdue_now(push, datetime(2024, 10, 8, 16, 0, tzinfo=UTC))
    assert late == [(Deadline.SIGN_FOR, datetime(2024, 10, 8, 16, 0, tzinfo=UTC))]


def test_overdue_and_escalation_are_marked_once_and_levels_count_up() -> None:
    push = routed()
    due = push.sign_for_due
    assert due is not None
    overdue = PushOverdue("e-o", "push-1", due, Deadline.SIGN_FOR, due, "ZJJ")
    push = apply_push_event(push, overdue)
    assert overdue_now(push, due + timedelta(days=1)) == []
    assert next_escalation_level(push) == 1
    push = apply_push_event(push, PushEscalated("e-e", "push-1", due, Deadline.SIGN_FOR, "FGW", 1))
    assert next_escalation_level(push) == 2
    assert push.escalated_to == ("FGW",)
    assert apply_push_event(push, overdue) == push
    # Signing late stops nothing else: feedback is still due, and then late as well.
    push = sign(push)
    assert push.feedback_due is not None
    assert overdue_now(push, push.feedback_due) == [(Deadline.FEEDBACK, push.feedback_due)]


def test_feedback_in_time_clears_the_feedback_deadline() -> None:
    push = feedback(sign(routed()), HandlingResult.CASE_FILED)
    assert push.feedback_due is not None
    assert overdue_now(push, push.feedback_due + timedelta(days=1)) == []


def test_estimated_deadlines_are_never_judged_until_the_real_ones_replace_them() -> None:
    estimated = replace(routed(), deadlines_estimated=True)
    long_after = ROUTED_AT + timedelta(days=365)
    assert estimated.pending_deadlines() == []
    assert overdue_now(estimated, long_after) == []

    real_sign_for = datetime(2024, 10, 8, 16, 0, tzinfo=UTC)
    real_feedback = datetime(2024, 10, 25, 16, 0, tzinfo=UTC)
    stated = PushDeadlinesSet("e-set", "push-1", long_after, real_sign_for, real_feedback)
    counted = apply_push_event(estimated, stated)
    assert not counted.deadlines_estimated
    assert (counted.sign_for_due, counted.feedback_due) == (real_sign_for, real_feedback)
    assert counted.steps[-1].kind == "DEADLINES_SET"
    assert overdue_now(counted, long_after) == [
        (Deadline.SIGN_FOR, real_sign_for),
        (Deadline.FEEDBACK, real_feedback),
    ]
    # Stated once: the same event again, or another statement, changes nothing.
    assert apply_push_event(counted, stated) == counted
    later = PushDeadlinesSet("e-set-2", "push-1", long_after, long_after, long_after)
    assert apply_push_event(counted, later) == counted


def test_a_push_knows_whom_it_was_escalated_to() -> None:
    push = replace(routed(), department="ZJJ-CQ")
    due = push.sign_for_due
    assert due is not None
    assert not was_escalated_to(push, "ZJJ", office="FGW")
    push = apply_push_event(push, PushEscalated("e-1", "push-1", due, Deadline.SIGN_FOR, "ZJJ", 1))
    assert was_escalated_to(push, "ZJJ", office="FGW")
    assert not was_escalated_to(push, "FGW", office="FGW")
    later = apply_push_event(push, PushEscalated("e-2", "push-1", due, Deadline.FEEDBACK, "FGW", 2))
    assert later.escalated_to == ("ZJJ", "FGW")
    assert was_escalated_to(later, "FGW", office="FGW")
    # Stored before the targets were kept: every escalation went to the office.
    legacy = replace(later, escalated_to=())
    assert was_escalated_to(legacy, "FGW", office="FGW")
    assert not was_escalated_to(legacy, "ZJJ", office="FGW")


def test_a_push_answered_in_time_is_not_made_overdue_by_a_watch_that_lagged() -> None:
    # The watch read the push before its sign-for (on the topic, one hour before the due)
    # was projected, and emitted PushOverdue and PushEscalated after it on the topic.
    push = routed()
    due = push.sign_for_due
    assert due is not None
    signed = apply_push_event(
        push, PushSignedFor("e-sign", "push-1", due - timedelta(hours=1), "ZJJ")
    )
    overdue = PushOverdue("e-o", "push-1", due, Deadline.SIGN_FOR, due, "ZJJ")
    escalated = PushEscalated("e-e", "push-1", due, Deadline.SIGN_FOR, "FGW", 1)
    after = apply_push_event(apply_push_event(signed, overdue), escalated)
    assert after == signed
    assert after.overdue == () and after.escalation_levels == () and after.escalated_to == ()
    assert next_escalation_level(after) == 1


def test_an_in_time_step_arriving_after_the_watch_judged_makes_overdue_and_escalation_void() -> (
    None
):
    """History posted after the watch judged the push (its deadline long past by the wall
    clock): the sign-for, dated an hour before the due, arrives after PushOverdue and
    PushEscalated. The push is as if answered before the watch looked; a later escalation (the
    feedback's) takes level 1 again, and the office no longer sees the push as escalated."""
    push = routed()
    due = push.sign_for_due
    assert due is not None
    judged = apply_push_event(
        push, PushOverdue("e-o", "push-1", due, Deadline.SIGN_FOR, due, "ZJJ")
    )
    judged = apply_push_event(
        judged, PushEscalated("e-e", "push-1", due, Deadline.SIGN_FOR, "FGW", 1)
    )
    assert judged.overdue == (Deadline.SIGN_FOR,) and judged.escalated_for == (Deadline.SIGN_FOR,)
    signed = apply_push_event(
        judged, PushSignedFor("e-sign", "push-1", due - timedelta(hours=1), "ZJJ")
    )
    assert signed.status is PushStatus.SIGNED_FOR
    assert (signed.overdue, signed.escalation_levels, signed.escalated_to) == ((), (), ())
    assert not was_escalated_to(signed, "FGW", office="FGW")
    assert next_escalation_level(signed) == 1
    [void] = [step for step in signed.steps if step.kind == "OVERDUE_VOID"]
    assert "SIGN_FOR met in time" in void.detail and "level(s) 1 void" in void.detail
    assert apply_push_event(signed, PushSignedFor("e-sign", "push-1", due, "ZJJ")) == signed
    assert overdue_now(signed, due + timedelta(days=1)) == []  # not judged again


def test_a_void_overdue_leaves_the_other_deadlines_overdue_and_escalation() -> None:
    """Overdue on both deadlines (each escalated): a transfer dated after the sign-for due but
    before the feedback due voids the feedback's only."""
    push = routed()
    sign_due, feedback_due = push.sign_for_due, push.feedback_due
    assert sign_due is not None and feedback_due is not None
    for n, (deadline, due) in enumerate(
        ((Deadline.SIGN_FOR, sign_due), (Deadline.FEEDBACK, feedback_due)), start=1
    ):
        push = apply_push_event(push, PushOverdue(f"e-o{n}", "push-1", due, deadline, due, "ZJJ"))
        push = apply_push_event(
            push, PushEscalated(f"e-e{n}", "push-1", due, deadline, f"UP{n}", n)
        )
    moved = apply_push_event(
        push,
        PushTransferred(
            "e-t", "push-1", feedback_due - timedelta(hours=1), "ZJJ", "JTJ", "属交通领域"
        ),
    )
    assert moved.overdue == (Deadline.SIGN_FOR,)
    assert (moved.escalation_levels, moved.escalated_to) == ((1,), ("UP1",))
    assert next_escalation_level(moved) == 2


def test_a_push_stored_before_escalation_deadlines_were_kept_reads_them_from_its_steps() -> None:
    push = routed()
    due = push.sign_for_due
    assert due is not None
    judged = apply_push_event(
        push, PushOverdue("e-o", "push-1", due, Deadline.SIGN_FOR, due, "ZJJ")
    )
    judged = apply_push_event(
        judged, PushEscalated("e-e", "push-1", due, Deadline.SIGN_FOR, "FGW", 1)
    )
    legacy = replace(judged, escalated_for=(), escalated_to=())
    signed = apply_push_event(
        legacy, PushSignedFor("e-sign", "push-1", due - timedelta(hours=1), "ZJJ")
    )
    assert (signed.overdue, signed.escalation_levels) == ((), ())


def test_signed_for_exactly_at_the_due_time_is_in_time() -> None:
    push = routed()
    due = push.sign_for_due
    assert due is not None
    signed = apply_push_event(push, PushSignedFor("e-sign", "push-1", due, "ZJJ"))
    overdue = PushOverdue("e-o", "push-1", due, Deadline.SIGN_FOR, due, "ZJJ")
    assert apply_push_event(signed, overdue).overdue == ()


def test_a_late_step_keeps_the_overdue_mark_and_its_escalation() -> None:
    push = routed()
    due = push.sign_for_due
    assert due is not None
    late = apply_push_event(
        push, PushSignedFor("e-sign", "push-1", due + timedelta(hours=1), "ZJJ")
    )
    late = apply_push_event(late, PushOverdue("e-o", "push-1", due, Deadline.SIGN_FOR, due, "ZJJ"))
    late = apply_push_event(late, PushEscalated("e-e", "push-1", due, Deadline.SIGN_FOR, "FGW", 1))
    assert late.overdue == (Deadline.SIGN_FOR,) and late.escalation_levels == (1,)
    # Signed for in time, the feedback deadline can still pass and be marked.
    signed = sign(routed())
    feedback_due = signed.feedback_due
    assert feedback_due is not None
    marked = apply_push_event(
        signed,
        PushOverdue("e-o2", "push-1", feedback_due, Deadline.FEEDBACK, feedback_due, "ZJJ"),
    )
    assert marked.overdue == (Deadline.FEEDBACK,)


def test_the_real_deadline_of_a_push_routed_with_estimates_is_judged_on_its_own() -> None:
    # Routed with one flag for both deadlines; the watch found the sign-for deadline real (its
    # recount on the published calendar gives the time the push states), the feedback not.
    push = replace(routed(), deadlines_estimated=True)
    sign_for_due, feedback_due = push.sign_for_due, push.feedback_due
    assert sign_for_due is not None and feedback_due is not None
    long_after = feedback_due + timedelta(days=30)
    assert overdue_now(push, long_after, {Deadline.SIGN_FOR: sign_for_due}) == [
        (Deadline.SIGN_FOR, sign_for_due)
    ]
    assert overdue_now(push, sign_for_due - timedelta(seconds=1), {}) == []
    # A recount that differs from what the push states: the stated time is an estimate.
    other = sign_for_due + timedelta(days=1)
    assert overdue_now(push, long_after, {Deadline.SIGN_FOR: other}) == []
    # Signed for in time: nothing to judge.
    assert overdue_now(sign(push), long_after, {Deadline.SIGN_FOR: sign_for_due}) == []


def test_the_deadlines_a_push_states_as_estimates_are_told_apart() -> None:
    # Routed with one flag for both deadlines: a deadline whose count on the published
    # calendar gives the time the push states is real; one that differs (or that the calendar
    # cannot count) is an estimate. A push routed with real deadlines has no estimates.
    push = replace(routed(), deadlines_estimated=True)
    sign_for_due, feedback_due = push.sign_for_due, push.feedback_due
    assert sign_for_due is not None and feedback_due is not None
    feedback_real = PushDues(sign_for_due, feedback_due, feedback_estimated=False)
    later = feedback_due + timedelta(days=3)
    only_sign_for = PushDues(sign_for_due, later, feedback_estimated=True)
    assert estimated_deadlines(push, only_sign_for) == [Deadline.FEEDBACK]
    moved = PushDues(sign_for_due + timedelta(days=1), later)
    assert estimated_deadlines(push, moved) == [Deadline.SIGN_FOR, Deadline.FEEDBACK]
    assert estimated_deadlines(push, feedback_real) == []
    assert estimated_deadlines(routed(), only_sign_for) == []
    assert (
        estimated_deadlines(replace(routed(PushRole.COPY), deadlines_estimated=True), moved) == []
    )


def test_a_push_routed_with_estimates_names_which_they_are() -> None:
    sign_for, feedback = ROUTED_AT, ROUTED_AT + timedelta(days=20)
    assert estimated_in(PushDues(sign_for, feedback, feedback_estimated=True)) == (
        Deadline.FEEDBACK,
    )
    assert estimated_in(PushDues(sign_for, feedback, True, True)) == (
        Deadline.SIGN_FOR,
        Deadline.FEEDBACK,
    )
    assert estimated_in(PushDues(sign_for, feedback)) == ()
