"""容缺 deadlines that wait for the working-day calendar.

A 容缺 registration gives the tenderer a number of Chinese working days to supply the missing
documents. The deadline is counted with the published calendar (statutory holidays, 调休
make-up days; see working_days). When the count reaches a year the calendar does not cover yet
— in December, the next year's State Council notice and the package release that carries it may
still be out — the registration is accepted all the same with its deadline *pending*: no date
is guessed, and so no breach can be raised on a guessed date. The deadline watch sets it (a
DeficiencyDeadlineSet event) once the calendar covers it; from then on it is an ordinary
deadline. The count is the one registration would have made: from the registration's China
date, whenever the calendar arrives.

The working-day count is a parameter (``count``) so that tests can stand in a calendar that
does or does not cover a year.
"""

from __future__ import annotations

from datetime import date, datetime

from services.intake.domain.lifecycle import ProjectView
from services.intake.domain.registration import Deficiency
from services.intake.domain.working_days import (
    CalendarUnavailable,
    WorkingDays,
    add_working_days,
    china_date,
)


def accept_deficiency(
    missing_documents: tuple[str, ...],
    registered_at: datetime,
    working_days: int,
    count: WorkingDays = add_working_days,
) -> Deficiency:
    """容缺受理 at ``registered_at``: the deadline counted now, or pending (None) while the
    calendar does not cover it."""
    try:
        deadline: date | None = count(china_date(registered_at), working_days)
    except CalendarUnavailable:
        deadline = None
    return Deficiency(missing_documents, deadline, working_days)


def counted_from(view: ProjectView) -> date:
    """The day a project's 容缺 working days are counted from (not itself counted)."""
    return china_date(view.registered_at)


def pending_deadline(view: ProjectView, count: WorkingDays = add_working_days) -> date | None:
    """A pending deadline, once the calendar covers it; None while it does not, and for a view
    whose deadline is not pending."""
    try:
        return _count_pending(view, count)
    except CalendarUnavailable:
        return None


def pending_reason(view: ProjectView, count: WorkingDays = add_working_days) -> str | None:
    """Why a project's deadline is pending, in words for the department; None when it is not."""
    try:
        if _count_pending(view, count) is None:
            return None
    except CalendarUnavailable as unavailable:
        return (
            f"the working-day calendar for {unavailable.year} is not published yet; the "
            f"deadline ({_counted(view)}) will be set when it is"
        )
    return (
        f"the working-day calendar covers the deadline ({_counted(view)}) now; the deadline "
        "watch sets it at its next check"
    )


def _counted(view: ProjectView) -> str:
    return f"{view.supplement_working_days} working days after {counted_from(view).isoformat()}"


def _count_pending(view: ProjectView, count: WorkingDays) -> date | None:
    """The pending deadline counted now (raises CalendarUnavailable while the calendar does not
    cover it); None for a view whose deadline is not pending."""
    if not view.supplement_deadline_pending or not view.supplement_working_days:
        return None
    return count(counted_from(view), view.supplement_working_days)
