"""Helpers for the fault suite (tests/faults): the principals it calls with, the shared error
format check, and a plain table printer for the figures it reports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Caller(StrEnum):
    """The kinds of caller the suite tries against every route."""

    DEPARTMENT = "department"  # a city-level department acting for the resource's region
    BRANCH_OTHER_REGION = "branch_other_region"  # a district branch acting for another region
    PARTNER = "partner"  # a partner city (沿黄九市)
    OPERATOR = "operator"  # the joint-conference office: reads everything
    NO_KEY = "no_key"
    REVOKED = "revoked"  # a key that was valid and has been revoked


@dataclass(frozen=True)
class CallerKeys:
    """An API key per caller kind (None for NO_KEY)."""

    keys: dict[Caller, str | None]

    def headers(self, caller: Caller) -> dict[str, str]:
        key = self.keys[caller]
        return {} if key is None else {"X-API-Key": key}


def error_format_problem(status: int, content_type: str, body: bytes) -> str | None:
    """Why a refusal body is not ``{code, message, details: [{field, problem}]}``; None if it is."""
    if "json" not in content_type:
        return f"{status} with content-type {content_type!r}, not JSON"
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        parsed = None
    shown = f"{status} body {body[:300]!r}"
    if not isinstance(parsed, dict) or not {"code", "message", "details"} <= parsed.keys():
        return f"{shown} is not an object with code, message and details"
    fields_ok = (
        isinstance(parsed["code"], str)
        and isinstance(parsed["message"], str)
        and bool(parsed["message"].strip())
    )
    details = parsed["details"]
    details_ok = isinstance(details, list) and all(
        isinstance(item, dict)
        and isinstance(item.get("field"), str)
        and isinstance(item.get("problem"), str)
        for item in details
    )
    if not fields_ok:
        return f"{shown}: code and message must be strings, the message not empty"
    if not details_ok:
        return f"{shown}: details must be a list of {{field, problem}}"
    return None


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A fixed-width text table for the figures a fault test prints."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
