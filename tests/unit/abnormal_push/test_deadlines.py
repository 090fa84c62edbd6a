"""Working-day deadlines across statutory holidays and make-up working days (调休)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from services.abnormal_push.domain.deadlines import (
    DeadlinePolicy,
    add_working_days,
    due_after,
    is_working_day,
    published_working_day,
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
    dues = policy.due_times(Severity.MEDIUM, routed)
    sign_for, feedback = dues.sign_for_due, dues.feedback_due
    assert not dues.estimated
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


def _calendar_without_2027(day: date) -> bool | None:
    """The package as it stood before the 2027 notice; 2027 as the notice will have it, in the
    days these tests use (元旦: 1 January off; 2 and 3 January a weekend)."""
    if day.year != 2027:
        return published_working_day(day)
    return None


def _calendar_with_2027(day: date) -> bool | None:
    if day.year != 2027:
        return published_working_day(day)
    return day.weekday() < 5 and day != date(2027, 1, 1)


def test_a_push_whose_deadline_needs_an_unpublished_year_gets_estimates() -> None:
    policy = replace(load_deadline_policy(), calendar=_calendar_without_2027)
    routed = datetime(2026, 12, 31, 2, 0, tzinfo=UTC)  # Thursday, 10:00 in Jinan
    dues = policy.due_times(Severity.HIGH, routed)
    # Monday to Friday: Friday 1 January 2027 counts, though it is New Year's Day.
    assert dues.estimated
    assert dues.sign_for_due == datetime(2027, 1, 1, 16, 0, tzinfo=UTC)
    assert policy.published_due_times(Severity.HIGH, routed) is None


def test_the_real_deadlines_once_the_calendar_covers_the_year() -> None:
    policy = replace(load_deadline_policy(), calendar=_calendar_with_2027)
    routed = datetime(2026, 12, 31, 2, 0, tzinfo=UTC)
    dues = policy.published_due_times(Severity.HIGH, routed)
    assert dues is not None
    assert not dues.estimated
    assert dues.sign_for_due == datetime(2027, 1, 4, 16, 0, tzinfo=UTC)  # Monday 4 January
    assert policy.due_times(Severity.HIGH, routed) == dues


def test_the_package_itself_has_no_data_for_a_far_year() -> None:
    assert published_working_day(date(2099, 1, 5)) is None
    dues = load_deadline_policy().due_times(Severity.LOW, datetime(2099, 1, 5, 2, 0, tzinfo=UTC))
    assert dues.estimated


def test_each_deadline_is_estimated_on_its_own() -> None:
    # The live case: a LOW report filed on Friday 2026-12-04 while the calendar covers 2026
    # but not 2027. Its 2 sign-for days (12-07, 12-08) are all in 2026: real. Its 20 feedback
    # days run into 2027: estimated.
    policy = replace(load_deadline_policy(), calendar=_calendar_without_2027)
    routed = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    dues = policy.due_times(Severity.LOW, routed)
    assert dues.sign_for_due == datetime(2026, 12, 8, 16, 0, tzinfo=UTC)
    assert not dues.sign_for_estimated
    assert dues.feedback_estimated
    assert dues.estimated  # the push's one flag: its deadlines are not all real yet
    assert policy.published_due_times(Severity.LOW, routed) is None
    # The real sign-for deadline is what the release covering 2027 will count as well.
    covered = replace(policy, calendar=_calendar_with_2027).published_due_times(
        Severity.LOW, routed
    )
    assert covered is not None and covered.sign_for_due == dues.sign_for_due


def test_a_deadline_is_real_only_when_every_day_it_counts_is_covered() -> None:
    policy = replace(load_deadline_policy(), calendar=_calendar_without_2027)
    # Wednesday 2026-12-30: HIGH's 1 sign-for day is Thursday 12-31, covered; routed a day
    # later, the one day is Friday 2027-01-01, not covered.
    on_30th = policy.due_times(Severity.HIGH, datetime(2026, 12, 30, 2, 0, tzinfo=UTC))
    assert not on_30th.sign_for_estimated and on_30th.feedback_estimated
    on_31st = policy.due_times(Severity.HIGH, datetime(2026, 12, 31, 2, 0, tzinfo=UTC))
    assert on_31st.sign_for_estimated and on_31st.feedback_estimated
