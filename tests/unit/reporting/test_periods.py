from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.platform_core.http.errors import ApiError
from services.reporting.domain.ledger import Ledger
from services.reporting.domain.periods import InvalidPeriod, parse_period, periods_of
from services.reporting.http_api.bulletins import build_bulletin
from services.reporting.http_api.metrics import checked_period
from tests.unit.reporting.factories import ledger_read_model


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


@pytest.mark.parametrize(
    "name",
    [
        "２０２３-H1",  # full-width digits, as a Chinese IME types them
        "２０２３",
        "2023-０５",
        "٢٠٢٣-H1",  # Arabic-Indic digits: \d would take these too
        "2023-H1\n",  # $ would have let a trailing newline through
    ],
)
def test_only_ascii_digits_name_a_period(name: str) -> None:
    with pytest.raises(InvalidPeriod, match="ASCII digits"):
        parse_period(name)


@pytest.mark.parametrize("name", ["1999", "0000-H1", "1023-05", "2101", "9999-Q4"])
def test_implausible_years_are_refused_saying_which_are_taken(name: str) -> None:
    with pytest.raises(InvalidPeriod, match="from 2000 to 2100"):
        parse_period(name)


@pytest.mark.parametrize("name", ["2000", "2100-H2", "2099-12"])
def test_the_years_at_the_bounds_are_taken(name: str) -> None:
    assert parse_period(name).name == name


@pytest.mark.parametrize("name", ["２０２３-H1", "1999"])
async def test_the_api_refuses_such_a_period_with_the_shared_422(name: str) -> None:
    with pytest.raises(ApiError) as caught:
        checked_period(name)
    assert (caught.value.status, caught.value.code) == (422, "invalid_request")
    assert [detail.field for detail in caught.value.details] == ["period"]
    assert "YYYY-H1/H2" in caught.value.message
    with pytest.raises(ApiError) as refused:
        await build_bulletin(ledger_read_model(Ledger()), name, None, None)
    assert refused.value.status == 422
