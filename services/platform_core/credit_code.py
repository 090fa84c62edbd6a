"""Unified social credit code (统一社会信用代码, GB 32100-2015) validation.

18 characters from ``0-9 A-H J-N P-R T U W-Y`` (no I, O, S, V, Z); the last is a check
character over the first 17 with weights 3^i mod 31.
"""

from __future__ import annotations

from functools import lru_cache

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES = {char: value for value, char in enumerate(ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first_17: str) -> str:
    total = sum(_VALUES[char] * weight for char, weight in zip(first_17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


# Departments register many projects for the same tenderers and agencies.
@lru_cache(maxsize=65_536)
def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or None when it is."""
    if len(code) != 18:
        return f"must be 18 characters, got {len(code)}"
    bad = sorted({char for char in code if char not in _VALUES})
    if bad:
        return f"contains characters outside 0-9 A-H J-N P-R T U W-Y: {''.join(bad)}"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r}, expected {expected!r}"
    return None
