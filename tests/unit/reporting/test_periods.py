from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.reporting.domain.periods import InvalidPeriod, parse_period, periods_of


def test_an_instant_falls_in_periods_of_chinas_calendar() -> None:
    # 17:00 UTC on 30 June is 01:00 on 1 July in Jinan: July, Q3, H2.
    assert periods_of(datetime(2023, 6, 30, 17, 0, tzinfo=UTC)) == (
        "2023",
        "2023-H2",
        "2023-Q3",
        "2023-07",
    )
    assert periods_of(datetime(2023, 6, 30, 15, 59, tzinfo=UTC)) == (
        "2023",
        "2023-H1",
        "2023-Q2",
        "2023-06",
    )


@pytest.mark.parametrize(
    ("name", "first", "last", "label"),
    [
        ("2023", 1, 12, "2023年"),
        ("2023-H1", 1, 6, "2023年上半年"),
        ("2023-H2", 7, 12, "2023年下半年"),
        ("2023-Q3", 7, 9, "2023年第三季度"),
        ("2023-05", 5, 5, "2023年5月"),
    ],
)
def test_period_names(name: str, first: int, last: int, label: str) -> None:
    period = parse_period(name)
    assert (period.first_month, period.last_month, period.label_zh) == (first, last, label)
    assert period.contains_month(f"2023-{first:02d}")
    assert not period.contains_month(f"2024-{first:02d}")


@pytest.mark.parametrize("name", ["2023-H3", "2023-13", "23-H1", "2023-Q0", "H1", ""])
def test_bad_period_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidPeriod):
        parse_period(name)
