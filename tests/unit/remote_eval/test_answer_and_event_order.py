"""Which answers and events change anything: a venue's answer to a request settled otherwise
(declined, timed out) is refused before it reaches the log, the same answer again is nothing to
record; of two events about one key the later by ce_time (then id) wins, whatever order they
are read in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prt.v1 import remote_eval_pb2

from services.platform_core.errors import EventRejected
from services.platform_core.events.envelope import Envelope
from services.remote_eval.domain.model import VenueAllocation, VenueRole
from services.remote_eval.domain.timers import Deadline, DeadlineKind
from services.remote_eval.scheduler import repeated_venue_answer
from services.remote_eval.sealed_registry import AppliedVersion
from services.remote_eval.store import EvaluationState
from tests.unit.remote_eval.fixtures import request

VENUE = "ZB-1"
ACCEPTED = remote_eval_pb2.VENUE_DECISION_ACCEPTED
DECLINED = remote_eval_pb2.VENUE_DECISION_DECLINED


def _answer(decision: remote_eval_pb2.VenueDecision) -> remote_eval_pb2.PartnerVenueDecision:
    return remote_eval_pb2.PartnerVenueDecision(
        evaluation_id="EV-1", partner_code="370300", venue_id=VENUE, decision=decision
    )


def _state(settled: str | None, *, awaited: bool = False) -> EvaluationState:
    state = EvaluationState(request=request(), status="scheduled")
    if settled is not None:
        state.venue_decisions[VENUE] = settled
    if awaited:
        due = datetime(2026, 3, 9, tzinfo=UTC)
        state.deadlines.append(Deadline(due, "EV-1", DeadlineKind.SEAT_REQUEST, VENUE, "370300"))
    return state


@pytest.mark.parametrize("settled", ["DECLINED", "TIMED_OUT"])
def test_an_accept_after_a_decline_or_a_timeout_is_refused(settled: str) -> None:
    """The re-plan moved the venue's seats away (no allocation left there)."""
    with pytest.raises(EventRejected, match=f"venue {VENUE} in evaluation EV-1 was"):
        repeated_venue_answer(_state(settled), _answer(ACCEPTED))


@pytest.mark.parametrize("settled", ["DECLINED", "TIMED_OUT"])
def test_a_late_accept_stands_while_the_failed_re_plan_left_the_seats_there(settled: str) -> None:
    """No other venue could take the seats: the partner's change of mind is the way forward,
    for the scheduler to apply (it clears the failure)."""
    state = _state(settled)
    state.allocations.append(VenueAllocation(VENUE, "370300", VenueRole.SECONDARY, 3))
    assert not repeated_venue_answer(state, _answer(ACCEPTED))


def test_the_same_answer_again_is_nothing_to_record() -> None:
    assert repeated_venue_answer(_state("ACCEPTED"), _answer(ACCEPTED))
    assert repeated_venue_answer(_state("DECLINED"), _answer(DECLINED))


def test_an_unanswered_request_or_an_unknown_evaluation_is_the_scheduler_s_to_judge() -> None:
    assert not repeated_venue_answer(_state(None, awaited=True), _answer(ACCEPTED))
    assert not repeated_venue_answer(None, _answer(ACCEPTED))
    # A venue asked again (a new seat request awaits its answer) answers afresh.
    assert not repeated_venue_answer(_state("ACCEPTED", awaited=True), _answer(ACCEPTED))
    # An accept withdrawn: the scheduler re-plans.
    assert not repeated_venue_answer(_state("ACCEPTED"), _answer(DECLINED))


def _envelope(at: datetime, event_id: str) -> Envelope[remote_eval_pb2.VenueCapacityPublished]:
    message = remote_eval_pb2.VenueCapacityPublished(venue_id=VENUE)
    return Envelope(message=message, source="test", subject=VENUE, time=at, id=event_id)


def test_the_later_event_by_ce_time_then_id_is_the_newer_whatever_the_order_read() -> None:
    at = datetime(2026, 3, 1, 8, tzinfo=UTC)
    old = AppliedVersion.of(_envelope(at, "b"))
    new = AppliedVersion.of(_envelope(at + timedelta(minutes=1), "a"))
    tie = AppliedVersion.of(_envelope(at, "c"))
    assert old < new and old < tie
    assert max([new, old, tie]) == max([old, tie, new]) == new
    # Stored and read back (any offset), it compares the same.
    shifted = at.astimezone(datetime.now().astimezone().tzinfo)
    assert AppliedVersion.parse(new.text()) == new
    assert AppliedVersion.of(_envelope(shifted, "b")) == old
