"""Deadlines of backfilled history: counted from the business times of the steps, a step done
after its deadline is overdue however late the timer sees it, and steps stay in order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.abnormal_push.domain.errors import PushActionRefused
from services.abnormal_push.domain.pushes import (
    Deadline,
    HandlingResult,
    Push,
    PushFeedbackGiven,
    PushRouted,
    PushSignedFor,
    PushTransferred,
    apply_push_event,
    check_step_time,
    overdue_now,
)
from services.abnormal_push.domain.reports import Severity
from services.abnormal_push.domain.routing import PushRole, RoutingReason
from services.abnormal_push.service_config import load_deadline_policy

# Wednesday 1 March 2023, 10:00 in Jinan.
FILED = datetime(2023, 3, 1, 2, 0, tzinfo=UTC)
# MEDIUM: sign for within 1 working day (to 24:00 Thursday 2 March), feed back within 15
# (March 2023 has no holiday: to 24:00 Wednesday 22 March).
SIGN_FOR_DUE = datetime(2023, 3, 2, 16, 0, tzinfo=UTC)
FEEDBACK_DUE = datetime(2023, 3, 22, 16, 0, tzinfo=UTC)
SIGNED = datetime(2023, 3, 2, 1, 30, tzinfo=UTC)  # Thursday 09:30: in time
ANSWERED = datetime(2023, 4, 10, 2, 0, tzinfo=UTC)  # Monday 10 April: late
TODAY = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # when the history is migrated


def routed() -> Push:
    dues = load_deadline_policy().due_times(Severity.MEDIUM, FILED)
    sign_for_due, feedback_due = dues.sign_for_due, dues.feedback_due
    return apply_push_event(
        None,
        PushRouted(
            "e-r", "push-1", FILED, "r-1", "ZJJ", RoutingReason.CATEGORY_SUPERVISOR,
            PushRole.HANDLER, Severity.MEDIUM, sign_for_due, feedback_due,
        ),
    )  # fmt: skip


def signed(push: Push, at: datetime = SIGNED) -> Push:
    return apply_push_event(push, PushSignedFor("e-s", "push-1", at, "ZJJ"))


def answered(push: Push, at: datetime = ANSWERED) -> Push:
    return apply_push_event(
        push,
        PushFeedbackGiven("e-f", "push-1", at, "ZJJ", HandlingResult.PENALISED, "罚款"),
    )


def test_deadlines_count_from_the_backfilled_filing_day() -> None:
    push = routed()
    assert (push.sign_for_due, push.feedback_due) == (SIGN_FOR_DUE, FEEDBACK_DUE)


def test_signed_in_time_answered_late_is_overdue_for_feedback_only() -> None:
    push = answered(signed(routed()))
    assert push.met_at(Deadline.SIGN_FOR) == SIGNED
    assert push.met_at(Deadline.FEEDBACK) == ANSWERED
    # Judged years later, the late feedback is overdue at its deadline; the sign-for is not.
    assert overdue_now(push, TODAY) == [(Deadline.FEEDBACK, FEEDBACK_DUE)]


def test_answered_in_time_is_never_overdue() -> None:
    push = answered(signed(routed()), at=datetime(2023, 3, 20, 2, 0, tzinfo=UTC))
    assert push.pending_deadlines() == []
    assert overdue_now(push, TODAY) == []


def test_a_late_sign_for_is_overdue_even_when_answered_meanwhile() -> None:
    late_sign = datetime(2023, 3, 6, 2, 0, tzinfo=UTC)
    push = answered(signed(routed(), at=late_sign), at=datetime(2023, 3, 7, 2, 0, tzinfo=UTC))
    assert overdue_now(push, TODAY) == [(Deadline.SIGN_FOR, SIGN_FOR_DUE)]


def test_a_transfer_meets_both_deadlines_at_its_time() -> None:
    moved = apply_push_event(
        routed(), PushTransferred("e-t", "push-1", SIGNED, "ZJJ", "JTJ", "公路项目")
    )
    assert overdue_now(moved, TODAY) == []


def test_unmet_deadlines_are_overdue_from_their_due_times() -> None:
    assert overdue_now(routed(), TODAY) == [
        (Deadline.SIGN_FOR, SIGN_FOR_DUE),
        (Deadline.FEEDBACK, FEEDBACK_DUE),
    ]


def test_a_step_cannot_be_dated_before_the_one_it_follows() -> None:
    push = signed(routed())
    check_step_time(push, SIGNED)  # the same instant is allowed
    with pytest.raises(PushActionRefused) as refused:
        check_step_time(push, datetime(2023, 3, 1, 9, 0, tzinfo=UTC))
    assert refused.value.code == "before_previous_step"
    with pytest.raises(PushActionRefused):
        check_step_time(routed(), datetime(2023, 2, 28, tzinfo=UTC))
