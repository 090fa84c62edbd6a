"""Deadlines in Chinese working days (statutory holidays and make-up working days, 调休).

A limit of N working days ends at 24:00 Asia/Shanghai of the Nth working day after the day the
push was routed (the routing day itself does not count, as with statutory periods). The
calendar comes from ``chinese_calendar``, which follows the State Council's yearly notice and
covers the years it has data for and no further.

Each of a push's two deadlines is counted on its own. One whose working days the calendar
covers is real, and judged like any other. One that needs a year the calendar does not cover
yet is an *estimate* (Monday to Friday counted for that year) that the department sees marked
as such; it is never judged: a department is never found late against a guess, e.g. on New
Year's Day or in the Spring Festival week. So a push routed in mid-December has a real sign-for
deadline (judged) and an estimated feedback deadline (not yet).

What happens once the calendar is updated: the push keeps the estimate it was routed with
(``deadlines_estimated`` stays true in the API, the estimate still shown) until the deadline
watch, counting again with the release that covers the year, states the real deadlines
(PushDeadlinesSet); the real ones then replace the estimates and are judged from the next
tick on (one already past is overdue at once, dated when it ran out). A sign-for deadline that
was real from the start is stated again unchanged, so its judgement stands.
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
    """A push's two deadlines, and which of them are estimates (see the module's docstring)."""

    sign_for_due: datetime
    feedback_due: datetime
    sign_for_estimated: bool = False
    feedback_estimated: bool = False

    @property
    def estimated(self) -> bool:
        """Whether either deadline is an estimate (a push's ``deadlines_estimated``)."""
        return self.sign_for_estimated or self.feedback_estimated


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
        """The deadlines of a push routed at ``routed_at``, each real or, while the calendar
        does not cover its year, estimated (logged: the package wants upgrading)."""
        dues = self.counted_due_times(severity, routed_at)
        if dues.estimated:
            estimated = [
                name
                for name, is_estimate in (
                    ("sign-for", dues.sign_for_estimated),
                    ("feedback", dues.feedback_estimated),
                )
                if is_estimate
            ]
            log.warning(
                "no holiday data for the %s of a push routed at %s: estimated (Monday to "
                "Friday) until chinese_calendar covers the year",
                " and ".join(estimated) + (" deadlines" if len(estimated) > 1 else " deadline"),
                routed_at.isoformat(),
            )
        return dues

    def counted_due_times(self, severity: Severity, routed_at: datetime) -> PushDues:
        """:meth:`due_times` without the warning (the deadline watch counts them every tick)."""
        limits = self.by_severity[severity]
        sign_for, sign_for_estimated = self._due(routed_at, limits.sign_for_working_days)
        feedback, feedback_estimated = self._due(routed_at, limits.feedback_working_days)
        return PushDues(sign_for, feedback, sign_for_estimated, feedback_estimated)

    def published_due_times(self, severity: Severity, routed_at: datetime) -> PushDues | None:
        """Both real deadlines, or None while the calendar does not cover either's year."""
        dues = self.counted_due_times(severity, routed_at)
        return None if dues.estimated else dues

    def _due(self, routed_at: datetime, working_days: int) -> tuple[datetime, bool]:
        """One deadline, and whether it is an estimate: counted on the published calendar if
        it covers every day the count goes through, else with the estimate for the rest."""
        try:
            return due_after(routed_at, working_days, self._published_day), False
        except _Unpublished:
            return due_after(routed_at, working_days, self._estimated_day), True

    def _published_day(self, day: date) -> bool:
        working = self.calendar(day)
        if working is None:
            raise _Unpublished(day.year)
        return working

    def _estimated_day(self, day: date) -> bool:
        working = self.calendar(day)
        return estimated_working_day(day) if working is None else working
