"""Answer deadlines: when they fall due, and that backfilled records have none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.remote_eval.domain.timers import (
    CLOCK_SKEW,
    Deadline,
    DeadlineKind,
    deadline_for,
    due,
)
from services.remote_eval.scheduler import derived_event_id

OPENED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _deadline(due_at: datetime, subject: str = "JN-1") -> Deadline:
    return Deadline(due_at, "EV-1", DeadlineKind.SEAT_REQUEST, subject, "370300")


def test_a_live_deadline_counts_from_the_business_time_of_the_act() -> None:
    assert deadline_for(OPENED, DAY, backfilled=False) == OPENED + DAY


def test_a_deadline_never_counts_from_before_the_workers_clock() -> None:
    """A cause stamped 30 days ago (a partner's stale ce_time, a timeout fired late) opens a
    deadline a window from now, not one already passed (which the next tick would fire)."""
    now = OPENED + 30 * DAY
    assert deadline_for(OPENED, DAY, backfilled=False, not_before=now) == now + DAY
    later = now + timedelta(minutes=5)
    assert deadline_for(later, DAY, backfilled=False, not_before=now) == later + DAY
    assert deadline_for(OPENED, DAY, backfilled=True, not_before=now) is None


def test_a_cause_stamped_ahead_of_the_workers_clock_counts_from_at_most_the_skew_after_it() -> None:
    """A partner's answer stamped two days ahead would otherwise put its substitute's
    confirmation deadline off by two days; seconds of skew are taken as stamped."""
    now = OPENED
    assert deadline_for(now + 2 * DAY, DAY, backfilled=False, not_before=now) == (
        now + CLOCK_SKEW + DAY
    )
    ahead = now + timedelta(seconds=30)
    assert deadline_for(ahead, DAY, backfilled=False, not_before=now) == ahead + DAY


def test_a_backfilled_record_has_no_deadline_so_todays_clock_cannot_time_it_out() -> None:
    assert deadline_for(datetime(2023, 3, 1, tzinfo=UTC), DAY, backfilled=True) is None


def test_only_passed_deadlines_are_due_earliest_first() -> None:
    late, early, future = _deadline(OPENED + DAY), _deadline(OPENED), _deadline(OPENED + 3 * DAY)
    assert due([late, future, early], OPENED + DAY) == [early, late]
    assert due([future], OPENED + DAY) == []


def test_a_deadline_is_due_exactly_at_its_instant_not_a_moment_before() -> None:
    deadline = _deadline(OPENED)
    assert due([deadline], OPENED - timedelta(microseconds=1)) == []
    assert due([deadline], OPENED) == [deadline]


def test_the_same_deadline_keeps_its_key_and_so_its_timeout_event_id() -> None:
    first, again = _deadline(OPENED), _deadline(OPENED)
    assert derived_event_id(first.key(), 0) == derived_event_id(again.key(), 0)
    other = _deadline(OPENED, subject="JN-2")
    assert derived_event_id(other.key(), 0) != derived_event_id(first.key(), 0)


def test_derived_event_ids_are_stable_per_cause_and_step() -> None:
    assert derived_event_id("cause", 0) == derived_event_id("cause", 0)
    assert derived_event_id("cause", 0) != derived_event_id("cause", 1)
    assert derived_event_id("cause", 0) != derived_event_id("other", 0)


def test_deadlines_survive_the_state_json_and_older_states_still_load() -> None:
    from services.remote_eval.store import EvaluationState, deadline_from_json, deadline_to_json
    from tests.unit.remote_eval.fixtures import request

    deadline = Deadline(OPENED, "EV-1", DeadlineKind.CONFIRMATION, "PSEUDO-1", "370300")
    assert deadline_from_json(deadline_to_json(deadline)) == deadline
    state = EvaluationState(request=request(), backfilled=True, deadlines=[deadline])
    assert EvaluationState.from_json(state.to_json()) == state
    older = state.to_json()
    del older["deadlines"], older["backfilled"]  # stored before deadlines existed
    loaded = EvaluationState.from_json(older)
    assert loaded.deadlines == [] and loaded.backfilled is False
