"""Deadlines in Chinese working days (statutory holidays and make-up working days, 调休).

A limit of N working days ends at 24:00 Asia/Shanghai of the Nth working day after the day the
push was routed (the routing day itself does not count, as with statutory periods). The
calendar comes from ``chinese_calendar``; for a year it has no data for yet (the State Council
publishes each year's holidays in the preceding autumn), Monday to Friday are counted, and the
caller is told the result is an estimate.
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


def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        log.warning("no holiday data for %s; counting Monday-Friday as working days", day.year)
        return day.weekday() < 5


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
class DeadlinePolicy:
    by_severity: Mapping[Severity, Limits]
    escalate_to_role: str

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
        return cls(limits, data.get("escalate_to_role", "joint_conference_office"))

    def due_times(self, severity: Severity, routed_at: datetime) -> tuple[datetime, datetime]:
        """(sign-for due, feedback due) of a push routed at ``routed_at``."""
        limits = self.by_severity[severity]
        return (
            due_after(routed_at, limits.sign_for_working_days),
            due_after(routed_at, limits.feedback_working_days),
        )
