from __future__ import annotations

import pytest

from services.platform_core.credit_code import check_character, credit_code_problem


def test_documented_example_is_valid() -> None:
    assert credit_code_problem("91110000600037341L") is None


def test_check_character_is_computed_from_the_first_17() -> None:
    assert check_character("91110000600037341") == "L"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91110000600037341X", "check character is 'X', expected 'L'"),
        ("9111000060003734", "must be 18 characters, got 16"),
        ("91110000600O37341L", "outside 0-9 A-H J-N P-R T U W-Y: O"),
    ],
)
def test_bad_codes_say_why(code: str, reason: str) -> None:
    problem = credit_code_problem(code)
    assert problem is not None and reason in problem
