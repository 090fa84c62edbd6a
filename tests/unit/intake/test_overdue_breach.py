"""Whoever notices a passed 容缺 deadline (the watch, or the API receiving a late 补正 or a step
that ends the project) publishes the same breach; a project that ended cannot breach."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from services.intake.deadlines import breach_event_id, breach_moment, overdue_breach
from services.intake.domain.lifecycle import (
    LifecycleFact,
    ProjectState,
    Step,
    evolve,
)
from tests.unit.intake.views import project_view

DEADLINE = date(2023, 10, 10)
MIDNIGHT_AFTER = datetime(2023, 10, 10, 16, 0, tzinfo=UTC)  # 00:00 on 11 Oct in Jinan
VIEW = project_view(
    name="济阳区黄河大堤加固工程",
    category="WATER",
    region_code="370115",
    registering_department="SWJ",
    supervise_dept_code="SWJ",
    tenderer_name="济南市济阳区水务局",
    registered_at=datetime(2023, 9, 27, 2, 0, tzinfo=UTC),
    outstanding_documents=("水土保持方案批复",),
    supplement_deadline=DEADLINE,
    trading_method="OPEN_TENDER",
)


def test_the_breach_is_the_watchs_event_dated_when_it_happened() -> None:
    assert overdue_breach(VIEW, datetime(2023, 10, 10, 15, 59, tzinfo=UTC)) is None
    breach = overdue_breach(VIEW, MIDNIGHT_AFTER)
    assert breach is not None
    assert breach.envelope.id == breach_event_id("p1", DEADLINE)
    assert breach.envelope.time == breach_moment(DEADLINE) == MIDNIGHT_AFTER
    assert breach.fact == LifecycleFact("p1", Step.BREACH_DEADLINE, MIDNIGHT_AFTER)
    assert list(breach.envelope.message.outstanding_documents) == ["水土保持方案批复"]


def test_no_breach_once_breached_supplied_or_ended() -> None:
    later = datetime(2023, 11, 1, tzinfo=UTC)
    assert overdue_breach(replace(VIEW, deadline_breached=True), later) is None
    assert overdue_breach(replace(VIEW, outstanding_documents=()), later) is None
    for final in (ProjectState.AWARDED, ProjectState.COMPLETED, ProjectState.TERMINATED):
        assert overdue_breach(replace(VIEW, state=final), later) is None


def test_a_pending_deadline_is_dropped_when_the_project_ends() -> None:
    pending = replace(
        VIEW,
        supplement_deadline=None,
        supplement_deadline_pending=True,
        supplement_working_days=5,
        trading_method="LISTING",
    )
    announced = evolve(pending, LifecycleFact("p1", Step.ANNOUNCE, MIDNIGHT_AFTER))
    assert announced.supplement_deadline_pending
    completed = evolve(announced, LifecycleFact("p1", Step.COMPLETE_TRANSACTION, MIDNIGHT_AFTER))
    assert completed.state is ProjectState.COMPLETED
    assert not completed.supplement_deadline_pending
