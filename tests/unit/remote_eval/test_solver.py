"""Each scheduling rule: a test that it holds and a test of the refusal's wording."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta

import pytest

from services.remote_eval.domain.checker import check_schedule
from services.remote_eval.domain.model import (
    ExpertDirectory,
    ExpertHistory,
    ExpertKind,
    SchedulingPolicy,
    SpecialtyNeed,
    VenueRole,
)
from services.remote_eval.domain.solver import (
    FailedConstraint,
    Infeasible,
    Schedule,
    SchedulingContext,
    schedule,
)
from tests.unit.remote_eval.fixtures import (
    HOST,
    MAIN,
    SLOT,
    employer,
    market,
    request,
    rich_pools,
)

POLICY = SchedulingPolicy()
SEEDS = [bytes([n]) * 32 for n in range(12)]


def _ok(outcome: Schedule | Infeasible) -> Schedule:
    assert isinstance(outcome, Schedule), outcome
    return outcome


def _failed(outcome: Schedule | Infeasible) -> Infeasible:
    assert isinstance(outcome, Infeasible), outcome
    return outcome


@pytest.mark.parametrize("seed", SEEDS)
def test_a_schedule_passes_the_independent_checker(seed: bytes) -> None:
    experts = rich_pools()
    req = request(
        committee_size=7,
        needs=(
            SpecialtyNeed("A01", ExpertKind.TECHNICAL, 4),
            SpecialtyNeed("B02", ExpertKind.ECONOMIC, 2),
        ),
        avoided_unit_codes=frozenset({employer(3), employer(1004)}),
    )
    result = _ok(
        schedule(
            req,
            SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY),
            seed,
        )
    )
    violations = check_schedule(
        req,
        SLOT,
        allocations=result.allocations,
        assignments=result.assignments,
        experts={e.expert_id: e for e in experts},
        history_before=ExpertHistory(),
        market_before=market(),
        policy=POLICY,
    )
    assert violations == []


def test_the_checker_catches_a_tampered_schedule() -> None:
    experts = rich_pools()
    req = request()
    result = _ok(
        schedule(
            req,
            SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY),
            SEEDS[0],
        )
    )
    first = result.assignments[0]
    twin = dataclasses.replace(result.assignments[1], employer_code=first.employer_code)
    tampered = (first, twin, *result.assignments[2:])
    by_id = {e.expert_id: e for e in experts}
    by_id[twin.expert_id] = dataclasses.replace(
        by_id[twin.expert_id], employer_code=first.employer_code
    )
    violations = check_schedule(
        req,
        SLOT,
        allocations=result.allocations,
        assignments=tampered,
        experts=by_id,
        history_before=ExpertHistory(),
        market_before=market(),
        policy=POLICY,
    )
    assert any("from employer" in v for v in violations)


# --- committee composition -----------------------------------------------------------------


@pytest.mark.parametrize("size", [5, 7, 9])
def test_odd_committees_of_at_least_five_with_two_thirds_experts_are_scheduled(size: int) -> None:
    experts_needed = -(-size * 2 // 3)
    req = request(
        committee_size=size,
        needs=(
            SpecialtyNeed("A01", ExpertKind.TECHNICAL, experts_needed - 1),
            SpecialtyNeed("B02", ExpertKind.ECONOMIC, 1),
        ),
    )
    result = _ok(
        schedule(
            req,
            SchedulingContext(market(), ExpertDirectory(rich_pools()), ExpertHistory(), POLICY),
            SEEDS[1],
        )
    )
    assert len(result.assignments) == experts_needed
    assert sum(a.seats for a in result.allocations) == size


@pytest.mark.parametrize(
    ("size", "needs", "words"),
    [
        (3, 3, "at least 5 members, not 3"),
        (6, 6, "odd number of members, not 6"),
        (7, 4, "at least two thirds of the committee: 4 of 7 is less (at least 5 needed)"),
        (5, 6, "6 experts asked for do not fit a committee of 5"),
    ],
)
def test_bad_compositions_are_refused_with_the_rule(size: int, needs: int, words: str) -> None:
    req = request(committee_size=size, needs=(SpecialtyNeed("A01", ExpertKind.TECHNICAL, needs),))
    failure = _failed(
        schedule(
            req,
            SchedulingContext(market(), ExpertDirectory(rich_pools()), ExpertHistory(), POLICY),
            SEEDS[0],
        )
    )
    assert failure.constraint is FailedConstraint.COMMITTEE_COMPOSITION
    assert words in failure.detail
    assert failure.alternative is None


# --- specialty counts ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_specialty_counts_are_met_exactly(seed: bytes) -> None:
    req = request()
    result = _ok(
        schedule(
            req,
            SchedulingContext(market(), ExpertDirectory(rich_pools()), ExpertHistory(), POLICY),
            seed,
        )
    )
    got = Counter((a.specialty_code, a.kind) for a in result.assignments)
    assert got == {("A01", ExpertKind.TECHNICAL): 3, ("B02", ExpertKind.ECONOMIC): 2}


def test_a_specialty_nobody_has_is_refused_naming_it() -> None:
    req = request(
        needs=(
            SpecialtyNeed("A01", ExpertKind.TECHNICAL, 3),
            SpecialtyNeed("Z99", ExpertKind.ECONOMIC, 2),
        )
    )
    failure = _failed(
        schedule(
            req,
            SchedulingContext(market(), ExpertDirectory(rich_pools()), ExpertHistory(), POLICY),
            SEEDS[0],
        )
    )
    assert failure.constraint is FailedConstraint.EXPERT_AVAILABILITY
    assert "not enough economic experts of specialty Z99 (need 2)" in failure.detail


# --- avoidance (回避) ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_experts_of_avoided_units_are_never_drawn(seed: bytes) -> None:
    experts = rich_pools(per_pool=4)
    avoided = frozenset(e.employer_code for e in experts[::2])
    req = request(avoided_unit_codes=avoided)
    result = _ok(
        schedule(
            req,
            SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY),
            seed,
        )
    )
    assert not {a.employer_code for a in result.assignments} & avoided


def test_avoidance_that_empties_a_specialty_is_named_as_the_cause() -> None:
    experts = rich_pools()
    economic_employers = frozenset(
        e.employer_code for e in experts if e.kind is ExpertKind.ECONOMIC
    )
    req = request(avoided_unit_codes=economic_employers)
    failure = _failed(
        schedule(
            req,
            SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY),
            SEEDS[0],
        )
    )
    assert failure.constraint is FailedConstraint.AVOIDANCE
    assert "48 employed by an avoided unit (回避)" in failure.detail


@pytest.mark.parametrize("seed", SEEDS)
def test_at_most_one_expert_per_employer(seed: bytes) -> None:
    # Two employers per pool only: a committee must spread over pools to find enough.
    experts = [
        dataclasses.replace(e, employer_code=f"{e.pool_code}-{n % 2}-{e.kind.value}")
        for n, e in enumerate(rich_pools(per_pool=6))
    ]
    result = _ok(
        schedule(
            request(),
            SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY),
            seed,
        )
    )
    employers = [a.employer_code for a in result.assignments]
    assert len(set(employers)) == len(employers)


def test_one_employer_cannot_fill_a_specialty() -> None:
    experts = [dataclasses.replace(e, employer_code="ONE-EMPLOYER") for e in rich_pools()]
    failure = _failed(
        schedule(
            request(),
            SchedulingContext(market(), ExpertDirectory(experts), ExpertHistory(), POLICY),
            SEEDS[0],
        )
    )
    assert failure.constraint is FailedConstraint.EXPERT_AVAILABILITY
    assert "at most one expert per employer" in failure.detail


# --- recently drawn, two committees at once ------------------------------------------------


def test_experts_drawn_recently_are_not_drawn_again() -> None:
    experts = rich_pools(per_pool=3)
    recent = {e.expert_id: (SLOT.day - timedelta(days=3),) for e in experts[1::4]}
    history = ExpertHistory(draw_days=recent)
    for seed in SEEDS:
        result = _ok(
            schedule(
                request(),
                SchedulingContext(market(), ExpertDirectory(experts), history, POLICY),
                seed,
            )
        )
        assert not {a.expert_id for a in result.assignments} & set(recent)


def test_recent_draws_exhausting_a_pool_are_reported() -> None:
    experts = rich_pools(per_pool=2)
    history = ExpertHistory(
        draw_days={e.expert_id: (SLOT.day,) for e in experts if e.kind is ExpertKind.ECONOMIC}
    )
    failure = _failed(
        schedule(
            request(),
            SchedulingContext(market(), ExpertDirectory(experts), history, POLICY),
            SEEDS[0],
        )
    )
    assert failure.constraint is FailedConstraint.EXPERT_AVAILABILITY
    assert "drawn within 7 days" in failure.detail
    # Outside the window they are drawable again: the alternative is a later slot.
    assert failure.alternative is None or failure.alternative.slot > SLOT


def test_an_expert_sits_on_one_committee_per_slot() -> None:
    experts = rich_pools(per_pool=3)
    busy = ExpertHistory(busy={SLOT: frozenset(e.expert_id for e in experts[:3])})
    for seed in SEEDS:
        result = _ok(
            schedule(
                request(), SchedulingContext(market(), ExpertDirectory(experts), busy, POLICY), seed
            )
        )
        assert not {a.expert_id for a in result.assignments} & set(busy.busy[SLOT])


def test_busy_experts_leaving_too_few_is_refused_with_a_later_slot_offered() -> None:
    experts = rich_pools(per_pool=1)
    busy = ExpertHistory(busy={SLOT: frozenset(e.expert_id for e in experts)})
    slots = (SLOT, SLOT.shifted(1))
    failure = _failed(
        schedule(
            request(),
            SchedulingContext(market(slots=slots), ExpertDirectory(experts), busy, POLICY),
            SEEDS[0],
        )
    )
    assert failure.constraint is FailedConstraint.EXPERT_AVAILABILITY
    assert "on another committee in the slot" in failure.detail
    assert failure.alternative is not None
    assert failure.alternative.slot == SLOT.shifted(1)
    assert "1 half-day(s) later" in failure.alternative.description


# --- seats and the main/secondary split ----------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_seats_never_exceed_what_is_free(seed: bytes) -> None:
    booked = {("ZB-1", SLOT): 5, ("DY-1", SLOT): 6}
    view = market(booked=booked)
    result = _ok(
        schedule(
            request(),
            SchedulingContext(view, ExpertDirectory(rich_pools()), ExpertHistory(), POLICY),
            seed,
        )
    )
    for allocation in result.allocations:
        assert allocation.seats <= view.free_seats(allocation.venue_id, SLOT)


def test_too_few_seats_is_refused_and_the_nearest_slot_with_seats_offered() -> None:
    later = SLOT.shifted(3)
    view = market(slots=(SLOT, later), booked={(MAIN, SLOT): 9})
    failure = _failed(
        schedule(
            request(),
            SchedulingContext(view, ExpertDirectory(rich_pools()), ExpertHistory(), POLICY),
            SEEDS[0],
        )
    )
    assert failure.constraint is FailedConstraint.SEATS
    assert "main venue JN-MAIN has 1 free seats" in failure.detail
    assert failure.alternative is not None and failure.alternative.slot == later


def test_secondary_seat_shortage_is_refused_in_words() -> None:
    view = market(seats={MAIN: 10, "ZB-1": 1, "DY-1": 0, "TA-1": 0})
    failure = _failed(
        schedule(
            request(main_venue_experts=1),
            SchedulingContext(view, ExpertDirectory(rich_pools()), ExpertHistory(), POLICY),
            SEEDS[0],
        )
    )
    assert failure.constraint is FailedConstraint.SEATS
    assert "4 secondary-venue seats needed" in failure.detail
    assert "offer 1 free" in failure.detail


@pytest.mark.parametrize(("main_experts", "percent"), [(None, 40), (None, 0), (3, 40), (5, 40)])
def test_the_main_secondary_split_is_kept(main_experts: int | None, percent: int) -> None:
    policy = SchedulingPolicy(main_venue_percent=percent)
    req = request(main_venue_experts=main_experts)
    result = _ok(
        schedule(
            req,
            SchedulingContext(market(), ExpertDirectory(rich_pools()), ExpertHistory(), policy),
            SEEDS[2],
        )
    )
    at_main = sum(1 for a in result.assignments if a.venue_id == MAIN)
    expected = main_experts if main_experts is not None else (5 * percent + 50) // 100
    assert at_main == expected
    roles = {a.venue_id: a.role for a in result.allocations}
    assert roles[MAIN] is VenueRole.MAIN
    assert all(role is VenueRole.SECONDARY for v, role in roles.items() if v != MAIN)
    for a in result.assignments:
        assert a.pool_code == (HOST if a.venue_id == MAIN else a.pool_code)


def test_an_impossible_split_is_refused() -> None:
    failure = _failed(
        schedule(
            request(main_venue_experts=9),
            SchedulingContext(market(), ExpertDirectory(rich_pools()), ExpertHistory(), POLICY),
            SEEDS[0],
        )
    )
    assert failure.constraint is FailedConstraint.COMMITTEE_COMPOSITION
    assert "main-venue experts must be between 0 and 5, not 9" in failure.detail


# --- required and preferred partners -------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_required_partners_get_seats(seed: bytes) -> None:
    req = request(required_partner_codes=("370900",), main_venue_experts=2)
    result = _ok(
        schedule(
            req,
            SchedulingContext(market(), ExpertDirectory(rich_pools()), ExpertHistory(), POLICY),
            seed,
        )
    )
    assert "370900" in {a.partner_code for a in result.allocations}


def test_preferred_partners_are_used_first() -> None:
    req = request(preferred_partner_codes=("370500",), main_venue_experts=2)
    result = _ok(
        schedule(
            req,
            SchedulingContext(
                market(),
                ExpertDirectory(rich_pools()),
                ExpertHistory(),
                SchedulingPolicy(host_reserve_seats=0),
            ),
            SEEDS[0],
        )
    )
    secondary = {a.partner_code for a in result.allocations if a.role is VenueRole.SECONDARY}
    assert secondary == {"370500"}


def test_a_required_partner_without_seats_is_refused_with_another_venue_offered() -> None:
    view = market(seats={MAIN: 10, "ZB-1": 6, "DY-1": 6, "TA-1": 0})
    req = request(required_partner_codes=("370900",))
    failure = _failed(
        schedule(
            req,
            SchedulingContext(view, ExpertDirectory(rich_pools()), ExpertHistory(), POLICY),
            SEEDS[0],
        )
    )
    assert failure.constraint is FailedConstraint.REQUIRED_PARTNER
    assert "required partner 370900 has no venue with free seats" in failure.detail
    assert failure.alternative is not None
    assert failure.alternative.slot == SLOT
    assert "instead of required partner(s) 370900" in failure.alternative.description


def test_no_alternative_when_nothing_close_exists() -> None:
    view = market(seats={MAIN: 1, "ZB-1": 0, "DY-1": 0, "TA-1": 0})
    failure = _failed(
        schedule(
            request(),
            SchedulingContext(view, ExpertDirectory(rich_pools()), ExpertHistory(), POLICY),
            SEEDS[0],
        )
    )
    assert failure.constraint is FailedConstraint.SEATS
    assert failure.alternative is None
