"""容缺 deadlines count Chinese working days: holidays off, 调休 make-up days on."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.intake.domain.working_days import (
    CalendarUnavailable,
    add_working_days,
    china_date,
    deadline_passed,
)


def test_national_day_2023_skips_the_golden_week_and_counts_the_make_up_weekend() -> None:
    # 2023: 29 Sep - 6 Oct off (中秋+国庆); Sat 7 and Sun 8 Oct are make-up working days.
    assert add_working_days(date(2023, 9, 27), 1) == date(2023, 9, 28)
    assert add_working_days(date(2023, 9, 27), 2) == date(2023, 10, 7)
    assert add_working_days(date(2023, 9, 27), 3) == date(2023, 10, 8)
    assert add_working_days(date(2023, 9, 27), 5) == date(2023, 10, 10)


def test_spring_festival_2024_counts_the_make_up_sunday_before_and_skips_the_week() -> None:
    # 2024: 10-17 Feb off; Sun 4 Feb and Sat 18 Feb are make-up working days.
    assert add_working_days(date(2024, 2, 2), 1) == date(2024, 2, 4)
    assert add_working_days(date(2024, 2, 8), 1) == date(2024, 2, 9)
    assert add_working_days(date(2024, 2, 9), 1) == date(2024, 2, 18)
    assert add_working_days(date(2024, 2, 9), 2) == date(2024, 2, 19)


def test_ordinary_weekend_is_skipped() -> None:
    assert add_working_days(date(2023, 6, 2), 1) == date(2023, 6, 5)  # Fri -> Mon


def test_a_year_without_a_published_calendar_is_refused_not_guessed() -> None:
    # A year no chinese-calendar release will cover for decades (the package's own data, so the
    # test holds whichever release is installed).
    with pytest.raises(CalendarUnavailable, match="2099"):
        add_working_days(date(2099, 6, 1), 30)


def test_the_deadline_passes_when_its_china_date_is_over() -> None:
    deadline = date(2023, 10, 10)
    # 23:59 in Jinan on the deadline day is 15:59 UTC: not passed.
    assert not deadline_passed(deadline, datetime(2023, 10, 10, 15, 59, tzinfo=UTC))
    # 00:00 in Jinan the next day is 16:00 UTC on the deadline day.
    assert deadline_passed(deadline, datetime(2023, 10, 10, 16, 0, tzinfo=UTC))
    assert china_date(datetime(2023, 10, 10, 16, 0, tzinfo=UTC)) == date(2023, 10, 11)
