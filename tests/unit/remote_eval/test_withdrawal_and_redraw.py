"""The pure parts of seats withdrawn under bookings and of redrawing empty seats: which
bookings lose their seats, the empty seats a state keeps (and those of a state stored before it
kept them), an answer to a withdrawn seat request, and the redraw's refusals."""

from __future__ import annotations

import json

import pytest
from prt.v1 import remote_eval_pb2

from services.platform_core.errors import EventRejected
from services.remote_eval.domain.model import Assignment, ExpertKind, VenueAllocation, VenueRole
from services.remote_eval.domain.withdrawal import Booking, bookings_to_withdraw
from services.remote_eval.http_api.evaluations import redraw_refusal
from services.remote_eval.scheduler import repeated_venue_answer
from services.remote_eval.store import EvaluationState, Member
from tests.unit.remote_eval.fixtures import MAIN, SLOT, request

SECONDARY, MAIN_ROLE = VenueRole.SECONDARY, VenueRole.MAIN


def _ids(chosen: list[Booking]) -> list[str]:
    return [b.evaluation_id for b in chosen]


def test_bookings_that_fit_lose_nothing() -> None:
    bookings = [Booking("EV-1", 3, SECONDARY), Booking("EV-2", 3, SECONDARY)]
    assert bookings_to_withdraw(6, bookings) == []
    assert bookings_to_withdraw(7, bookings) == []


def test_the_most_recently_requested_lose_their_seats_first_and_only_enough() -> None:
    bookings = [
        Booking("EV-0193a", 3, SECONDARY),
        Booking("EV-0193c", 2, SECONDARY),
        Booking("EV-0193b", 3, SECONDARY),
    ]
    assert _ids(bookings_to_withdraw(6, bookings)) == ["EV-0193c"]  # 8 booked, 2 over
    assert _ids(bookings_to_withdraw(4, bookings)) == ["EV-0193c", "EV-0193b"]
    # Whole bookings: one seat over still takes the evaluation's every seat there.
    assert _ids(bookings_to_withdraw(7, bookings)) == ["EV-0193c"]
    assert _ids(bookings_to_withdraw(0, bookings)) == ["EV-0193c", "EV-0193b", "EV-0193a"]


def test_secondary_bookings_go_before_a_main_venue_s_whatever_their_age() -> None:
    """A secondary venue's experts can be re-planned elsewhere; a main venue cannot move."""
    bookings = [Booking("EV-2", 4, MAIN_ROLE), Booking("EV-1", 2, SECONDARY)]
    assert _ids(bookings_to_withdraw(4, bookings)) == ["EV-1"]
    assert _ids(bookings_to_withdraw(1, bookings)) == ["EV-1", "EV-2"]


def test_bookings_that_cannot_be_withdrawn_count_but_are_kept() -> None:
    bookings = [
        Booking("EV-3", 3, SECONDARY, withdrawable=False),  # unsealed, or withdrawn before
        Booking("EV-2", 3, SECONDARY),
        Booking("EV-1", 3, SECONDARY),
    ]
    assert _ids(bookings_to_withdraw(6, bookings)) == ["EV-2"]
    assert _ids(bookings_to_withdraw(2, bookings)) == ["EV-2", "EV-1"]  # still over: all it can


def _assignment(n: int, venue: str, specialty: str = "A01") -> Assignment:
    kind = ExpertKind.TECHNICAL if specialty == "A01" else ExpertKind.ECONOMIC
    return Assignment(f"X-{n}", "370100", venue, specialty, kind, f"EMP{n}")


def _scheduled_state() -> EvaluationState:
    """Five experts (3 A01 technical, 2 B02 economic): two at the main venue, three at ZB-1."""
    state = EvaluationState(request=request(), status="scheduled", slot=SLOT)
    state.allocations = [
        VenueAllocation(MAIN, "370100", MAIN_ROLE, 2),
        VenueAllocation("ZB-1", "370300", SECONDARY, 3),
    ]
    state.members = [
        Member(_assignment(1, MAIN), "P-1"),
        Member(_assignment(2, MAIN, "B02"), "P-2"),
        Member(_assignment(3, "ZB-1"), "P-3"),
        Member(_assignment(4, "ZB-1"), "P-4"),
        Member(_assignment(5, "ZB-1", "B02"), "P-5"),
    ]
    return state


def _leave(state: EvaluationState, pseudonym: str, status: str) -> Member:
    member = next(m for m in state.members if m.pseudonym == pseudonym)
    member.status = status
    state.members.remove(member)
    state.former.append(member)
    return member


def test_the_empty_seats_are_kept_with_the_state() -> None:
    state = _scheduled_state()
    _leave(state, "P-3", "declined")
    state.vacated.append("P-3")
    again = EvaluationState.from_json(json.loads(json.dumps(state.to_json())))
    assert again.vacated == ["P-3"]
    assert [m.pseudonym for m in again.vacated_members()] == ["P-3"]


def test_a_state_stored_before_empty_seats_were_kept_finds_them_by_venue_and_specialty() -> None:
    """P-1 (main, A01) declined and nobody came; P-5 (ZB-1, B02) declined and Q-6 took the
    seat; later P-4 (ZB-1, A01) was avoided and nobody came. The empty seats are P-1's and
    P-4's, not P-5's, though P-5 left after P-1: its venue and specialty are whole."""
    state = _scheduled_state()
    _leave(state, "P-1", "declined")
    _leave(state, "P-5", "declined")
    state.members.append(Member(_assignment(6, "ZB-1", "B02"), "Q-6"))
    _leave(state, "P-4", "avoided")
    state.members[0].status = "confirmed"
    legacy = state.to_json()
    del legacy["vacated"]
    assert EvaluationState.from_json(legacy).vacated == ["P-1", "P-4"]
    assert EvaluationState.from_json(legacy).unfilled_seats == 2


def test_members_moved_by_a_re_plan_leave_no_empty_seat_in_a_legacy_state() -> None:
    state = _scheduled_state()
    _leave(state, "P-3", "replaced")
    state.members.append(Member(_assignment(7, "DY-1"), "Q-7"))
    state.allocations = [
        VenueAllocation(MAIN, "370100", MAIN_ROLE, 2),
        VenueAllocation("ZB-1", "370300", SECONDARY, 2),
        VenueAllocation("DY-1", "370500", SECONDARY, 1),
    ]
    legacy = state.to_json()
    del legacy["vacated"]
    assert EvaluationState.from_json(legacy).vacated == []


def test_an_answer_to_a_seat_request_whose_seats_were_withdrawn_is_refused() -> None:
    """Even while the failed re-plan left the seats there: the owner took them back, so an
    accept must not clear the failure and seat the committee at a venue without seats."""
    state = _scheduled_state()
    state.venue_decisions["ZB-1"] = "WITHDRAWN"
    answer = remote_eval_pb2.PartnerVenueDecision(
        evaluation_id="EV-1",
        partner_code="370300",
        venue_id="ZB-1",
        decision=remote_eval_pb2.VENUE_DECISION_ACCEPTED,
    )
    with pytest.raises(EventRejected, match="withdrawn by its owner"):
        repeated_venue_answer(state, answer)
    assert "ZB-1" in state.declined_venue_ids  # nobody is seated there again


def _refusal_code(state: EvaluationState) -> str | None:
    refusal = redraw_refusal(state)
    return None if refusal is None else f"{refusal.status} {refusal.code}"


def test_a_redraw_is_refused_without_a_scheduled_sealed_committee_with_an_empty_seat() -> None:
    state = _scheduled_state()
    assert _refusal_code(state) == "409 no_empty_seat"
    _leave(state, "P-2", "declined")
    state.vacated.append("P-2")
    assert _refusal_code(state) is None
    state.unsealed = True
    assert _refusal_code(state) == "409 committee_unsealed"
    state.unsealed, state.status = False, "cancelled"
    assert _refusal_code(state) == "409 evaluation_cancelled"
    failed = EvaluationState(request=request(), status="failed")
    assert _refusal_code(failed) == "409 not_scheduled"
