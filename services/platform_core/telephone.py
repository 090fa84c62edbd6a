"""Telephone numbers as written in Chinese documents, reduced to what identifies them."""

from __future__ import annotations

import unicodedata

COUNTRY_CODES = ("+86", "0086")
SEPARATORS = " -()"


def without_notation(text: str) -> str:
    """The number without its notation: full-width forms folded (NFKC), a +86 / 0086 country
    code and separators (spaces, hyphens, brackets) removed. "(0531)8888-6666" and
    "+86 0531 88886666" both give "053188886666"; what is left is not checked."""
    number = unicodedata.normalize("NFKC", text).strip()
    for country_code in COUNTRY_CODES:
        number = number.removeprefix(country_code)
    return "".join(c for c in number if c not in SEPARATORS)
