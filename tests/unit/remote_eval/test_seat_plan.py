"""Batch planning: requests pending together for a slot are seated together, and each draw
still passes the independent checker and reproduces from its recorded inputs."""

from __future__ import annotations

from collections import Counter

from services.remote_eval.domain.checker import check_schedule
from services.remote_eval.domain.model import (
    EvaluationRequest,
    Expert,
    ExpertDirectory,
    ExpertHistory,
    ExpertKind,
    MarketView,
    SchedulingPolicy,
    SeatOffer,
    SpecialtyNeed,
    Venue,
)
from services.remote_eval.domain.seat_plan import plan_seats
from services.remote_eval.domain.solver import (
    FailedConstraint,
    Infeasible,
    PendingRequest,
    Schedule,
    SchedulingContext,
    rerun_draw,
    schedule,
    schedule_batch,
)
from tests.unit.remote_eval.fixtures import SLOT, pool, request

POLICY = SchedulingPolicy(host_reserve_seats=0)
CITIES = ("A", "B", "C")
VENUES = {f"{c}-1": Venue(f"{c}-1", f"{c} venue", c, c) for c in CITIES}
FIVE_TECHNICAL = (SpecialtyNeed("A01", ExpertKind.TECHNICAL, 5),)


def _market(seats: int = 4) -> MarketView:
    offers = {(v, SLOT): SeatOffer(v, SLOT, seats, 20_000) for v in VENUES}
    return MarketView(VENUES, offers)


def _experts() -> list[Expert]:
    return [
        e for n, c in enumerate(CITIES) for e in pool(c, 12, specialty="A01", employer_base=n * 100)
    ]


def _request(evaluation_id: str, host: str, main_experts: int, **kw: object) -> EvaluationRequest:
    return request(
        evaluation_id=evaluation_id,
        host_code=host,
        main_venue_id=f"{host}-1",
        needs=FIVE_TECHNICAL,
        main_venue_experts=main_experts,
        **kw,  # type: ignore[arg-type]
    )


# r1 (host A) keeps 2 experts at home and sends 3 away; r2 (host B) needs 4 seats at home.
# One at a time, r1's three secondary seats may land at B and leave r2 no room; planned
# together, r1's go to C and both fit (A: 2+1, B: 4, C: 3 of 4 seats each).
R1 = _request("EV-1", "A", 2, preferred_partner_codes=("B",))
R2 = _request("EV-2", "B", 4)


def test_one_at_a_time_strands_the_seats_the_next_request_needs() -> None:
    context = SchedulingContext(_market(), ExpertDirectory(_experts()), ExpertHistory(), POLICY)
    first = schedule(R1, context, b"\x01" * 32)
    assert isinstance(first, Schedule)
    booked = {(a.venue_id, SLOT): a.seats for a in first.allocations}
    after = SchedulingContext(
        MarketView(VENUES, _market().offers, booked),
        context.experts,
        ExpertHistory(),
        POLICY,
    )
    second = schedule(R2, after, b"\x02" * 32)
    assert isinstance(second, Infeasible)
    assert second.constraint is FailedConstraint.SEATS


def test_planned_together_both_requests_get_seats_within_every_venues_capacity() -> None:
    plan = plan_seats([R1, R2], SLOT, _market(), {"EV-1": 2, "EV-2": 4})
    assert set(plan) == {"EV-1", "EV-2"}
    assert plan["EV-1"]["A-1"] == 2 and plan["EV-2"]["B-1"] == 4
    load: Counter[str] = Counter()
    for evaluation_id, seats in plan.items():
        assert sum(seats.values()) == 5, evaluation_id
        load.update(seats)
    assert all(load[v] <= 4 for v in VENUES), load
    assert "A-1" not in {v for v in plan["EV-1"] if v != "A-1"}  # no secondary at home


def test_main_venue_seats_taken_by_others_secondary_experts_are_moved_to_make_room() -> None:
    # R1 is planned first (larger committee first; equal here, then by id) and may put its
    # secondary seats at B; adding R2 must move them, not give up.
    plan = plan_seats([R2, R1], SLOT, _market(), {"EV-1": 2, "EV-2": 4})
    assert set(plan) == {"EV-1", "EV-2"}
    assert plan["EV-1"].get("B-1", 0) == 0


def test_when_not_all_fit_the_plan_seats_the_most_seats() -> None:
    # 12 seats, 17 asked for (a 7-member committee and two 5-member ones): the two fives fill
    # 10, the seven with either five fills all 12.
    seven = request(
        evaluation_id="EV-7",
        host_code="C",
        main_venue_id="C-1",
        committee_size=7,
        needs=(SpecialtyNeed("A01", ExpertKind.TECHNICAL, 7),),
        main_venue_experts=3,
    )
    plan = plan_seats(
        [R2, _request("EV-3", "A", 4), seven],
        SLOT,
        _market(),
        {"EV-2": 4, "EV-3": 4, "EV-7": 3},
    )
    seated = sum(sum(s.values()) for s in plan.values())
    assert seated == 12
    assert "EV-7" in plan


def test_a_required_partner_gets_a_seat_in_the_plan() -> None:
    r1 = _request("EV-1", "A", 2, required_partner_codes=("B",))
    plan = plan_seats([r1, R2], SLOT, _market(), {"EV-1": 2, "EV-2": 4})
    # B can give EV-1 its required seat only if EV-2 is left out or B has 5 seats.
    if "EV-1" in plan:
        assert plan["EV-1"].get("B-1", 0) >= 1
    plan_roomy = plan_seats([r1, R2], SLOT, _market(5), {"EV-1": 2, "EV-2": 4})
    assert set(plan_roomy) == {"EV-1", "EV-2"}
    assert plan_roomy["EV-1"]["B-1"] >= 1


def test_a_batch_passes_the_checker_in_decision_order_and_every_draw_reproduces() -> None:
    experts = _experts()
    by_id = {e.expert_id: e for e in experts}
    pending = [
        PendingRequest(R1, b"\x01" * 32),
        PendingRequest(R2, b"\x02" * 32),
        PendingRequest(_request("EV-3", "C", 4), b"\x03" * 32),  # does not fit: 12 seats
    ]
    context = SchedulingContext(_market(), ExpertDirectory(experts), ExpertHistory(), POLICY)
    outcomes = schedule_batch(pending, context)
    assert sorted(r.evaluation_id for r, _ in outcomes) == ["EV-1", "EV-2", "EV-3"]
    booked: Counter[tuple[str, object]] = Counter()
    busy: set[str] = set()
    scheduled = []
    for req, outcome in outcomes:
        if isinstance(outcome, Infeasible):
            assert outcome.constraint is FailedConstraint.SEATS
            assert "seats" in outcome.detail
            continue
        scheduled.append(req.evaluation_id)
        problems = check_schedule(
            req,
            outcome.slot,
            allocations=outcome.allocations,
            assignments=outcome.assignments,
            experts=by_id,
            history_before=ExpertHistory({SLOT: frozenset(busy)}),
            market_before=MarketView(VENUES, _market().offers, dict(booked)),  # type: ignore[arg-type]
            policy=POLICY,
        )
        assert problems == []
        assert rerun_draw(outcome.draw) == outcome.draw.expert_ids
        for allocation in outcome.allocations:
            booked[(allocation.venue_id, SLOT)] += allocation.seats
        busy |= {a.expert_id for a in outcome.assignments}
    assert sorted(scheduled) == ["EV-1", "EV-2"]


def test_a_batch_is_deterministic() -> None:
    pending = [PendingRequest(R1, b"\x01" * 32), PendingRequest(R2, b"\x02" * 32)]
    context = SchedulingContext(_market(), ExpertDirectory(_experts()), ExpertHistory(), POLICY)
    first = schedule_batch(pending, context)
    again = schedule_batch(pending, context)
    assert first == again
