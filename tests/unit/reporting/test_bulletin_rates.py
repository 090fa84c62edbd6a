"""The bulletin's percentages are rounded half up (四舍五入) on the exact fraction, as its 万元
are: a float's formatting rounds half to even, and 1/16 (6.25%) would print as 6.2%."""

from __future__ import annotations

from datetime import date

import pytest

from services.reporting.domain.bulletin import FigureRef, Labels, compose_bulletin, format_percent
from services.reporting.domain.metrics import PERIOD, CounterKey
from services.reporting.domain.periods import parse_period


def _sign_for_rate(signed_for: int, to_handle: int) -> FigureRef:
    counters = {
        CounterKey("pushes_signed_for", ((PERIOD, "2023-H1"),)): signed_for,
        CounterKey("pushes_to_handle", ((PERIOD, "2023-H1"),)): to_handle,
        CounterKey("pushes_routed", ((PERIOD, "2023-H1"),)): to_handle,
    }
    bulletin = compose_bulletin(
        counters,
        parse_period("2023-H1"),
        Labels(),
        issuer="济南市公共资源交易管理工作联席会议办公室",
        document_number="济公管办〔2023〕16号",
        issued_on=date(2023, 8, 22),
        seal_note="(济南市发展和改革委员会代章)",
    )
    (rate,) = [f for f in bulletin.figures if f.metric == "push_sign_for_rate"]
    return rate


@pytest.mark.parametrize(
    ("signed_for", "to_handle", "shown"),
    [(1, 16, "6.3%"), (3, 16, "18.8%"), (1, 8, "12.5%"), (16, 16, "100.0%"), (0, 16, "0.0%")],
)
def test_the_sign_for_rate_is_printed_rounded_half_up(
    signed_for: int, to_handle: int, shown: str
) -> None:
    rate = _sign_for_rate(signed_for, to_handle)
    assert rate.text == shown
    # The footnote still gives the exact ratio and the evidence of its numerator.
    assert rate.raw == repr(signed_for / to_handle)
    assert rate.evidence == "/v1/metrics/evidence?metric=pushes_signed_for&period=2023-H1"


def test_a_rate_without_a_denominator_is_a_dash() -> None:
    assert _sign_for_rate(0, 0).text == "—"


@pytest.mark.parametrize(
    ("numerator", "denominator", "shown"),
    [
        (1, 16, "6.3%"),
        (3, 16, "18.8%"),
        (5, 16, "31.3%"),  # 31.25
        (1, 8, "12.5%"),
        (1, 3, "33.3%"),
        (2, 3, "66.7%"),
        (1, 2000, "0.1%"),  # 0.05: half up
        (1, 2001, "0.0%"),  # just under 0.05
        (10**18, 16 * 10**18, "6.3%"),  # large counters: exact, no float
    ],
)
def test_format_percent_rounds_the_exact_fraction_half_up(
    numerator: int, denominator: int, shown: str
) -> None:
    assert format_percent(numerator, denominator) == shown
