"""PRT-PUB-001 and 民法典 art. 203: a period whose last day is a statutory holiday or a rest day
ends on the next working day, by the State Council's calendar (make-up working days count)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from services.abnormal_push.domain.deadlines import published_working_day
from services.abnormal_push.domain.detection.model import (
    CandidatesPublicisedTrigger,
    Finding,
    NotApplied,
    RankedCandidate,
)
from services.abnormal_push.domain.detection.rules.late_candidate_publicity import (
    RULE,
    LateCandidatePublicity,
)
from tests.unit.abnormal_push.factories import PROJECT, org

BEIJING = timezone(timedelta(hours=8))


def publicised(evaluated: date, publicised_on: date) -> CandidatesPublicisedTrigger:
    return CandidatesPublicisedTrigger(
        "e-cand",
        datetime.combine(publicised_on, datetime.min.time(), BEIJING) + timedelta(hours=10),
        PROJECT,
        "S1",
        (RankedCandidate(1, org(1), 100_000_00), RankedCandidate(2, org(2), 101_000_00)),
        (),
        evaluated_at=datetime.combine(evaluated, datetime.min.time(), BEIJING)
        + timedelta(hours=16),
    )


def test_a_period_ending_on_a_sunday_runs_to_monday() -> None:
    # Evaluated Thursday 2025-09-11: the third day is Sunday 09-14, so Monday 09-15 is in time.
    assert RULE.evaluate(publicised(date(2025, 9, 11), date(2025, 9, 15))) == []


def test_a_period_ending_in_the_national_day_holiday_runs_to_the_first_working_day_after() -> None:
    # Evaluated Monday 2024-09-30: the third day, 10-03, is in the holiday (10-01..10-07), so
    # Tuesday 10-08 is in time; it was reported 5 days late.
    assert RULE.evaluate(publicised(date(2024, 9, 30), date(2024, 10, 8))) == []


def test_late_after_the_extended_last_day_counts_from_it() -> None:
    (finding,) = RULE.evaluate(publicised(date(2024, 9, 30), date(2024, 10, 10)))
    assert isinstance(finding, Finding)
    assert dict(finding.evidence_values)["days_late"] == "2"  # after 10-08
    assert "顺延至 2024-10-08" in finding.description


def test_publicity_after_a_working_third_day_is_late() -> None:
    # Evaluated Monday 2025-09-08: the third day is Thursday 09-11, a working day.
    (finding,) = RULE.evaluate(publicised(date(2025, 9, 8), date(2025, 9, 12)))
    assert isinstance(finding, Finding)
    assert dict(finding.evidence_values) == {
        "evaluated_on": "2025-09-08",
        "publicised_on": "2025-09-12",
        "days_late": "1",
    }
    assert "顺延" not in finding.description


def test_a_make_up_working_day_is_not_extended() -> None:
    # Evaluated Thursday 2024-10-09: the third day is Saturday 10-12, a make-up working day
    # (调休) after National Day 2024, so Monday 10-14 is late by 2 days.
    (finding,) = RULE.evaluate(publicised(date(2024, 10, 9), date(2024, 10, 14)))
    assert isinstance(finding, Finding)
    assert dict(finding.evidence_values)["days_late"] == "2"


def test_an_extension_into_a_year_the_calendar_does_not_cover_is_not_guessed() -> None:
    def without_2025(day: date) -> bool | None:
        return None if day.year == 2025 else published_working_day(day)

    rule = LateCandidatePublicity(RULE.definition, calendar=without_2025)
    (outcome,) = rule.evaluate(publicised(date(2025, 9, 11), date(2025, 9, 15)))
    assert isinstance(outcome, NotApplied)
    assert "does not cover 2025-09-14" in outcome.reason
    # In time on the third day needs no calendar at all.
    assert rule.evaluate(publicised(date(2025, 9, 11), date(2025, 9, 14))) == []
