"""Slots outside the days the scheduler reasons about (2015-01-01 to 2100-12-31) are refused
with the reason, and a batch holding one still plans the others: near the calendar's ends the
date arithmetic of planning once raised OverflowError and ended the worker's agent."""

from __future__ import annotations

from datetime import date

import pytest

from services.remote_eval.domain.model import (
    ExpertDirectory,
    ExpertHistory,
    HalfDay,
    SchedulingPolicy,
    Slot,
    slot_day_problem,
)
from services.remote_eval.domain.solver import (
    FailedConstraint,
    Infeasible,
    PendingRequest,
    Schedule,
    SchedulingContext,
    schedule,
    schedule_batch,
)
from tests.unit.remote_eval.fixtures import market, request, rich_pools

CONTEXT = SchedulingContext(
    market(), ExpertDirectory(rich_pools()), ExpertHistory(), SchedulingPolicy()
)


@pytest.mark.parametrize("day", [date.min, date(2014, 12, 31), date(2101, 1, 1), date.max])
def test_a_day_outside_the_range_says_so(day: date) -> None:
    assert slot_day_problem(day) == (
        f"slot date {day.isoformat()} is outside 2015-01-01 to 2100-12-31"
    )
    refused = schedule(request(slot=Slot(day, HalfDay.AM)), CONTEXT, bytes(32))
    assert isinstance(refused, Infeasible)
    assert refused.constraint is FailedConstraint.SEATS
    assert "outside 2015-01-01 to 2100-12-31" in refused.detail


@pytest.mark.parametrize("day", [date(2015, 1, 1), date(2023, 3, 1), date(2100, 12, 31)])
def test_a_day_inside_the_range_is_fine(day: date) -> None:
    assert slot_day_problem(day) is None


def test_a_batch_with_a_request_out_of_range_plans_the_others() -> None:
    good = request(evaluation_id="EV-good")
    other = request(evaluation_id="EV-other")
    bad = request(evaluation_id="EV-bad", slot=Slot(date.min, HalfDay.AM))
    pending = [PendingRequest(r, bytes([n]) * 32) for n, r in enumerate([good, bad, other])]
    outcomes = {r.evaluation_id: o for r, o in schedule_batch(pending, CONTEXT)}
    assert isinstance(outcomes["EV-good"], Schedule)
    assert isinstance(outcomes["EV-other"], Schedule)
    refused = outcomes["EV-bad"]
    assert isinstance(refused, Infeasible) and "outside" in refused.detail
