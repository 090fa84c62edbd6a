"""Chinese working days (工作日): statutory holidays off, make-up working days (调休) on.

The calendar is the ``chinese_calendar`` package's, which follows the State Council's yearly
notice; it covers the years it has data for and no further, so a deadline that would need an
unpublished year is never guessed: :func:`add_working_days` raises CalendarUnavailable, and a
容缺 registration is then accepted with its deadline pending, set by the deadline watch once a
release of the package covers the year (services/intake/deadlines.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from services.platform_core.errors import PlatformError

CHINA = ZoneInfo("Asia/Shanghai")


class CalendarUnavailable(PlatformError):
    """The holiday calendar for the year a deadline falls in is not published yet."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"the working-day calendar for {year} is not published yet "
            "(chinese_calendar has no data for it)"
        )
        self.year = year


def china_date(moment: datetime) -> date:
    """The civil date in China at an instant (deadlines are China dates)."""
    if moment.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return moment.astimezone(CHINA).date()


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise CalendarUnavailable(day.year) from exc


def add_working_days(start: date, working_days: int) -> date:
    """The ``working_days``-th working day after ``start`` (``start`` itself is not counted).

    Registered on Wednesday 2023-09-27 with 5 working days: 28 Sep, then 7 and 8 Oct (调休
    Saturday and Sunday), 9 and 10 Oct — the deadline is 2023-10-10, not 2023-10-04.
    """
    if working_days < 1:
        raise ValueError("count at least one working day")
    day = start
    counted = 0
    while counted < working_days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


WorkingDays = Callable[[date, int], date]
"""How a deadline is counted: :func:`add_working_days`, or a test's stand-in."""


def deadline_passed(deadline: date, now: datetime) -> bool:
    """A deadline is the last day to act: it has passed once that China date is over."""
    return china_date(now) > deadline
