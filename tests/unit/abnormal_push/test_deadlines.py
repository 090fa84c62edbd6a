"""Working-day deadlines across statutory holidays and make-up working days (调休)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.abnormal_push.domain.deadlines import (
    DeadlinePolicy,
    add_working_days,
    due_after,
    is_working_day,
)
from services.abnormal_push.domain.reports import Severity
from services.abnormal_push.service_config import load_deadline_policy


def test_national_day_2024_is_skipped_and_make_up_days_count() -> None:
    # 2024: 10-01..10-07 off; Sunday 09-29 and Saturday 10-12 are make-up working days.
    assert not is_working_day(date(2024, 10, 1))
    assert is_working_day(date(2024, 9, 29))
    assert is_working_day(date(2024, 10, 12))
    assert add_working_days(date(2024, 9, 30), 1) == date(2024, 10, 8)
    assert add_working_days(date(2024, 9, 28), 1) == date(2024, 9, 29)
    assert add_working_days(date(2024, 10, 8), 4) == date(2024, 10, 12)


def test_a_one_day_limit_from_the_eve_of_national_day_ends_at_midnight_after_october_8() -> None:
    routed = datetime(2024, 9, 30, 2, 0, tzinfo=UTC)  # 10:00 in Jinan
    # End of 2024-10-08 in Asia/Shanghai is 2024-10-08 16:00 UTC.
    assert due_after(routed, 1) == datetime(2024, 10, 8, 16, 0, tzinfo=UTC)


def test_routing_day_counts_in_china_time_not_utc() -> None:
    # 2024-09-29 20:00 UTC is already Monday 09-30 04:00 in Jinan.
    assert due_after(datetime(2024, 9, 29, 20, 0, tzinfo=UTC), 1) == datetime(
        2024, 10, 8, 16, 0, tzinfo=UTC
    )


def test_spring_festival_2025() -> None:
    # 2025: 01-28..02-04 off; Sunday 01-26 and Saturday 02-08 are make-up working days.
    assert add_working_days(date(2025, 1, 27), 1) == date(2025, 2, 5)
    assert add_working_days(date(2025, 1, 25), 1) == date(2025, 1, 26)


def test_years_without_holiday_data_count_weekdays() -> None:
    assert add_working_days(date(2031, 1, 3), 1) == date(2031, 1, 6)  # Friday -> Monday


def test_policy_from_the_data_file_by_severity() -> None:
    policy = load_deadline_policy()
    routed = datetime(2024, 9, 30, 2, 0, tzinfo=UTC)
    sign_for, feedback = policy.due_times(Severity.MEDIUM, routed)
    assert sign_for == datetime(2024, 10, 8, 16, 0, tzinfo=UTC)
    # 15 working days from 09-30: 10-08..10-12 (5), 10-14..18 (10), 10-21..25 (15).
    assert feedback == datetime(2024, 10, 25, 16, 0, tzinfo=UTC)


def test_policy_must_cover_every_severity() -> None:
    with pytest.raises(ValueError, match="LOW"):
        DeadlinePolicy.from_data(
            {
                "by_severity": {
                    "HIGH": {"sign_for_working_days": 1, "feedback_working_days": 5},
                    "MEDIUM": {"sign_for_working_days": 1, "feedback_working_days": 5},
                }
            }
        )
