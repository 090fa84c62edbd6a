"""Telephone numbers written the ways Chinese documents write them reduce to one form."""

from __future__ import annotations

import pytest

from services.platform_core.telephone import without_notation


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("0531-8888 6666", "053188886666"),
        ("(0531)88886666", "053188886666"),
        ("（0531）8888６６６６", "053188886666"),  # full-width brackets and digits
        ("+86 138 1234 5678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        (" 13812345678 ", "13812345678"),
        ("电话待补", "电话待补"),  # not a number: left for the caller to refuse
    ],
)
def test_the_notation_goes_and_the_number_stays(written: str, number: str) -> None:
    assert without_notation(written) == number
