"""Chinese working days (工作日): statutory holidays off, make-up working days (调休) on.

The calendar is the ``chinese_calendar`` package's, which follows the State Council's yearly
notice; it covers the years it has data for and no further, so a deadline that would need an
unpublished year is refused rather than guessed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from services.platform_core.errors import PlatformError

CHINA = ZoneInfo("Asia/Shanghai")


class CalendarUnavailable(PlatformError):
    """The holiday calendar for the year a deadline falls in is not published yet."""


def china_date(moment: datetime) -> date:
    """The civil date in China at an instant (deadlines are China dates)."""
    if moment.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return moment.astimezone(CHINA).date()


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise CalendarUnavailable(
            f"the working-day calendar for {day.year} is not published yet "
            "(chinese_calendar has no data for it)"
        ) from exc


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


def deadline_passed(deadline: date, now: datetime) -> bool:
    """A deadline is the last day to act: it has passed once that China date is over."""
    return china_date(now) > deadline
