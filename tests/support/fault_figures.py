"""The fault suite's one table of figures: each fault test records what it measured, and the
suite's conftest prints every row together at the end of the run (and writes them to
.run/faults/figures.tsv), so a maintainer reads one table instead of scrolling through parts.

A row is one measured part (``"worker kills: intake"``) with named figures; a row also says
whether it passed, so the table shows at a glance which figure failed the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.support.faults import table

# The columns of the table, in order; a row leaves out the ones it does not measure.
COLUMNS = (
    "sent",
    "acknowledged",
    "found once",
    "lost",
    "duplicated",
    "5xx",
    "cases",
    "cells passed",
    "cells failed",
    "kills",
    "differences",
)


@dataclass
class FigureRow:
    part: str
    figures: dict[str, int] = field(default_factory=dict)
    passed: bool = True
    note: str = ""


_ROWS: list[FigureRow] = []


def record(part: str, *, passed: bool, note: str = "", **figures: int) -> FigureRow:
    """Adds one row; figure names use ``_`` for spaces (``found_once=3``), ``server_5xx`` is
    the 5xx column."""
    named = {
        "5xx" if name == "server_5xx" else name.replace("_", " "): value
        for name, value in figures.items()
    }
    unknown = set(named) - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown figure columns {sorted(unknown)}; add them to COLUMNS")
    row = FigureRow(part, named, passed, note)
    _ROWS.append(row)
    return row


def rows() -> list[FigureRow]:
    return list(_ROWS)


def render(recorded: list[FigureRow]) -> str:
    used = [c for c in COLUMNS if any(c in row.figures for row in recorded)]
    body = [
        [
            row.part,
            *(row.figures.get(c, "") for c in used),
            "ok" if row.passed else "FAIL",
            row.note,
        ]
        for row in recorded
    ]
    return table(["part", *used, "result", "note"], body)


def write_tsv(recorded: list[FigureRow], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(["part", *COLUMNS, "result", "note"])]
    for row in recorded:
        values = [str(row.figures.get(c, "")) for c in COLUMNS]
        lines.append("\t".join([row.part, *values, "ok" if row.passed else "FAIL", row.note]))
    path.write_text("\n".join(lines) + "\n")
