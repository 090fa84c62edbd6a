"""Deadlines in Chinese working days (statutory holidays and make-up working days, 调休).

A limit of N working days ends at 24:00 Asia/Shanghai of the Nth working day after the day the
push was routed (the routing day itself does not count, as with statutory periods). The
calendar comes from ``chinese_calendar``, which follows the State Council's yearly notice and
covers the years it has data for and no further. A push whose deadlines need a year it does
not cover yet is still routed at once, with *estimated* deadlines (Monday to Friday counted)
that the department sees marked as estimates; they are never judged. Once a release of the
package covers the year, the deadline watch counts the real ones and states them
(PushDeadlinesSet): a department is never found late against a guess, e.g. on New Year's Day
or in the Spring Festival week.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

from services.abnormal_push.domain.reports import Severity

log = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")


def published_working_day(day: date) -> bool | None:
    """Whether ``day`` is a working day, or None while the calendar has no data for its year."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def estimated_working_day(day: date) -> bool:
    """The estimate for a year the calendar does not cover yet: Monday to Friday."""
    return day.weekday() < 5


def is_working_day(day: date) -> bool:
    """The calendar's answer, or the estimate for a year it does not cover yet."""
    published = published_working_day(day)
    return estimated_working_day(day) if published is None else published


class _Unpublished(Exception):
    """A day of a year the calendar does not cover (internal: ends a strict count)."""


def add_working_days(
    start: date, days: int, is_working: Callable[[date], bool] = is_working_day
) -> date:
    """The Nth working day after ``start`` (``start`` itself never counts)."""
    if days < 0:
        raise ValueError("a limit is a non-negative number of working days")
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working(day):
            counted += 1
    return day


def due_after(
    moment: datetime, working_days: int, is_working: Callable[[date], bool] = is_working_day
) -> datetime:
    """The UTC instant a limit of ``working_days`` starting at ``moment`` runs out."""
    local_day = moment.astimezone(CHINA).date()
    last_day = add_working_days(local_day, working_days, is_working)
    end_local = datetime.combine(last_day + timedelta(days=1), time(0, 0), tzinfo=CHINA)
    return end_local.astimezone(UTC)


@dataclass(frozen=True)
class Limits:
    sign_for_working_days: int
    feedback_working_days: int


@dataclass(frozen=True)
class PushDues:
    """A push's two deadlines, and whether they are estimates (see the module's docstring)."""

    sign_for_due: datetime
    feedback_due: datetime
    estimated: bool = False


WorkingDayCalendar = Callable[[date], bool | None]
"""Whether a day is a working day, None for a year not published: the package, or a test's."""


@dataclass(frozen=True)
class DeadlinePolicy:
    by_severity: Mapping[Severity, Limits]
    calendar: WorkingDayCalendar = published_working_day

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> DeadlinePolicy:
        limits = {
            Severity(name): Limits(
                int(entry["sign_for_working_days"]), int(entry["feedback_working_days"])
            )
            for name, entry in data["by_severity"].items()
        }
        missing = [s.value for s in Severity if s not in limits]
        if missing:
            raise ValueError(f"push deadlines miss severities {missing}")
        return cls(limits)

    def due_times(self, severity: Severity, routed_at: datetime) -> PushDues:
        """The deadlines of a push routed at ``routed_at``: the real ones, or estimates while
        the calendar does not cover their year."""
        published = self.published_due_times(severity, routed_at)
        if published is not None:
            return published
        limits = self.by_severity[severity]
        log.warning(
            "no holiday data for the deadlines of a push routed at %s: estimated (Monday to "
            "Friday) until chinese_calendar covers the year",
            routed_at.isoformat(),
        )
        return PushDues(
            due_after(routed_at, limits.sign_for_working_days, self._estimated_day),
            due_after(routed_at, limits.feedback_working_days, self._estimated_day),
            estimated=True,
        )

    def published_due_times(self, severity: Severity, routed_at: datetime) -> PushDues | None:
        """The real deadlines, or None while the calendar does not cover their year."""
        limits = self.by_severity[severity]
        try:
            return PushDues(
                due_after(routed_at, limits.sign_for_working_days, self._published_day),
                due_after(routed_at, limits.feedback_working_days, self._published_day),
            )
        except _Unpublished:
            return None

    def _published_day(self, day: date) -> bool:
        working = self.calendar(day)
        if working is None:
            raise _Unpublished(day.year)
        return working

    def _estimated_day(self, day: date) -> bool:
        working = self.calendar(day)
        return estimated_working_day(day) if working is None else working
