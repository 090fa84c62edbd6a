"""The scheduler's pure helpers: availability dates become unavailable slots, and a schedule
planned with its batch is re-checked against the seats as they are when it is stored."""

from __future__ import annotations

from datetime import timedelta

from services.remote_eval.domain.model import (
    ExpertDirectory,
    ExpertHistory,
    HalfDay,
    SchedulingPolicy,
    Slot,
)
from services.remote_eval.domain.solver import Schedule, SchedulingContext, schedule
from services.remote_eval.scheduler import still_holds, with_unavailable_dates
from tests.unit.remote_eval.fixtures import SLOT, market, request, rich_pools

POLICY = SchedulingPolicy()


def test_a_date_marked_unavailable_covers_both_half_days_and_keeps_other_slots() -> None:
    expert = rich_pools()[0]
    marked = with_unavailable_dates(expert, frozenset({SLOT.day}))
    assert Slot(SLOT.day, HalfDay.AM) in marked.unavailable
    assert Slot(SLOT.day, HalfDay.PM) in marked.unavailable
    assert SLOT.shifted(2) not in marked.unavailable
    assert with_unavailable_dates(expert, frozenset()) is expert


def test_a_planned_schedule_holds_until_its_seats_or_experts_are_taken() -> None:
    experts = ExpertDirectory(rich_pools())
    context = SchedulingContext(market(), experts, ExpertHistory(), POLICY)
    planned = schedule(request(), context, b"\x07" * 32)
    assert isinstance(planned, Schedule)
    assert still_holds(request(), planned, context)
    secondary = next(a for a in planned.allocations if a.role.value == "SECONDARY")
    seats_gone = SchedulingContext(
        market(booked={(secondary.venue_id, SLOT): 6}), experts, ExpertHistory(), POLICY
    )
    assert not still_holds(request(), planned, seats_gone)
    drawn = planned.assignments[0].expert_id
    expert_busy = SchedulingContext(
        market(), experts, ExpertHistory({SLOT: frozenset({drawn})}), POLICY
    )
    assert not still_holds(request(), planned, expert_busy)
    drawn_yesterday = SchedulingContext(
        market(),
        experts,
        ExpertHistory({}, {drawn: (SLOT.day - timedelta(days=1),)}),
        POLICY,
    )
    assert not still_holds(request(), planned, drawn_yesterday)
