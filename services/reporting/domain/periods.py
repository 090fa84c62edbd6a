"""Reporting periods: month, quarter, half-year and year, on the Asia/Shanghai calendar.

A period is named by a string: ``2023`` (year), ``2023-H1`` (half-year), ``2023-Q2`` (quarter),
``2023-05`` (month). Instants are UTC; the calendar a bulletin speaks of is China's, so an event
at 2023-06-30T17:00Z (01:00 on 1 July in Jinan) counts in July and in H2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from services.reporting.domain.errors import ReportingError

CHINA = ZoneInfo("Asia/Shanghai")

# ASCII digits only: ``\d`` would take any Unicode digit (２０２３-H1, as a Chinese IME types it),
# which int() reads as 2023 while the counters are keyed by the name as given. Matched whole
# (fullmatch: ``$`` would let a trailing newline through into headers and keys).
_PATTERN = re.compile(r"([0-9]{4})(?:-(?:(0[1-9]|1[0-2])|Q([1-4])|H([12])))?")
# The years the platform's figures can be about: its records start this century.
FIRST_YEAR, LAST_YEAR = 2000, 2100
ACCEPTED = "YYYY, YYYY-H1/H2, YYYY-Q1..Q4 or YYYY-MM in ASCII digits (e.g. 2023-H1)"


class InvalidPeriod(ReportingError):
    """A period name that is not YYYY, YYYY-Hn, YYYY-Qn or YYYY-MM (ASCII digits), or whose
    year is before 2000 or after 2100."""


@dataclass(frozen=True)
class Period:
    """A run of whole months: [first_month, last_month] of one year."""

    name: str
    year: int
    first_month: int
    last_month: int

    def contains_month(self, month_name: str) -> bool:
        year, month = int(month_name[:4]), int(month_name[5:7])
        return year == self.year and self.first_month <= month <= self.last_month

    @property
    def start(self) -> date:
        return date(self.year, self.first_month, 1)

    @property
    def label_zh(self) -> str:
        if self.first_month == 1 and self.last_month == 12:
            return f"{self.year}年"
        if self.last_month - self.first_month == 5:
            return f"{self.year}年{'上' if self.first_month == 1 else '下'}半年"
        if self.last_month - self.first_month == 2:
            return f"{self.year}年第{'一二三四'[(self.first_month - 1) // 3]}季度"
        return f"{self.year}年{self.first_month}月"


def parse_period(name: str) -> Period:
    match = _PATTERN.fullmatch(name)
    if match is None:
        raise InvalidPeriod(f"period {name!r} is not one of {ACCEPTED}")
    year = int(match.group(1))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidPeriod(
            f"period {name!r}: the year must be from {FIRST_YEAR} to {LAST_YEAR}; "
            f"periods are {ACCEPTED}"
        )
    month, quarter, half = match.group(2), match.group(3), match.group(4)
    if month:
        return Period(name, year, int(month), int(month))
    if quarter:
        first = (int(quarter) - 1) * 3 + 1
        return Period(name, year, first, first + 2)
    if half:
        first = 1 if half == "1" else 7
        return Period(name, year, first, first + 5)
    return Period(name, year, 1, 12)


def periods_of(moment: datetime) -> tuple[str, str, str, str]:
    """The year, half-year, quarter and month an instant falls in, on China's calendar."""
    local = moment.astimezone(CHINA)
    return _periods_of_month(local.year, local.month)


@lru_cache(maxsize=4096)
def _periods_of_month(year: int, month: int) -> tuple[str, str, str, str]:
    return (
        f"{year:04d}",
        f"{year:04d}-H{1 if month <= 6 else 2}",
        f"{year:04d}-Q{(month - 1) // 3 + 1}",
        f"{year:04d}-{month:02d}",
    )


def china_date(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()
