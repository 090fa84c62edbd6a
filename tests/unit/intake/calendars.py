"""A working-day calendar for tests that may or may not have been published for a year yet.

Up to 2026 it is chinese_calendar's own. 2027 is the year chinese-calendar 1.11.0 (the latest
release on 2026-12-02) has no data for: this stand-in answers for it only once the test says it
was published, and then with weekends and New Year's Day (Friday 1 January 2027) off — a
pretend calendar, good for counting in tests, not the State Council's notice.
"""

from __future__ import annotations

from datetime import date

import pytest

from services.intake.domain import working_days
from services.intake.domain.working_days import CalendarUnavailable

PRETEND_2027_HOLIDAYS = frozenset({date(2027, 1, 1)})
real_is_working_day = working_days.is_working_day


class Calendar:
    def __init__(self, published_through: int) -> None:
        self.published_through = published_through

    def is_working_day(self, day: date) -> bool:
        if day.year > self.published_through:
            raise CalendarUnavailable(day.year)
        if day.year <= 2026:
            return real_is_working_day(day)
        if day.year == 2027:
            return day.weekday() < 5 and day not in PRETEND_2027_HOLIDAYS
        raise CalendarUnavailable(day.year)  # this stand-in knows no later year

    def publish(self, year: int) -> None:
        self.published_through = year


def install(monkeypatch: pytest.MonkeyPatch, published_through: int) -> Calendar:
    """Put the calendar behind working_days.add_working_days (and so behind the API's
    registration, the watch's default count and the view's pending reason)."""
    calendar = Calendar(published_through)
    monkeypatch.setattr(working_days, "is_working_day", calendar.is_working_day)
    return calendar
