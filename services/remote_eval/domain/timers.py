"""Answer deadlines: a seat request a partner venue has not answered, or a drawn expert who has
not confirmed, within a configurable time.

A deadline counts from the business time of the act that opened it (the seat request or the
draw, stamped with the causing event's time), but never from before the worker's clock: a
cause stamped long ago (a partner's answer whose own ``ce_time`` is stale, a timeout fired
late after the worker was down) would otherwise open a deadline already passed, the next
timer tick would draw another substitute, and so on through the pool.

Only live evaluations get deadlines: a request recorded by a backfill key (a historical
record, e.g. the demo's 2023 half-year) has its answers replayed from history, and measuring a
2023 request against today's clock would time it out before the replay could answer. So
backfilled evaluations have no deadlines at all, and their partners answer explicitly.

Nor does a deadline count from much after the worker's clock: a partner whose clock runs ahead
(or whose answer is stamped days ahead) would otherwise put off its substitute's deadline by as
much, and the committee would wait for an answer nobody is asked for yet. A stamp up to
:data:`CLOCK_SKEW` ahead is taken as it is (clocks differ by seconds, not by hours).

Pure: the scheduler stores the open deadlines of each evaluation with its state (so they are
rebuilt with it) and a timer asks :func:`due` which have passed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# How far ahead of the worker's clock a cause's stamp is believed (see the module docstring).
CLOCK_SKEW = timedelta(minutes=5)


class DeadlineKind(StrEnum):
    SEAT_REQUEST = "seat"  # the partner venue must accept or decline
    CONFIRMATION = "confirm"  # the drawn expert must confirm


@dataclass(frozen=True, order=True)
class Deadline:
    due: datetime
    evaluation_id: str
    kind: DeadlineKind
    subject: str  # venue id (seat request) or expert pseudonym (confirmation)
    partner_code: str

    def key(self) -> str:
        """Stable identity of the deadline (the same act, the same deadline)."""
        return f"{self.evaluation_id}|{self.kind.value}|{self.subject}|{self.due.isoformat()}"


@dataclass(frozen=True)
class AnswerWindows:
    seat_request: timedelta
    confirmation: timedelta


def deadline_for(
    opened_at: datetime,
    window: timedelta,
    *,
    backfilled: bool,
    not_before: datetime | None = None,
) -> datetime | None:
    """When the answer is due, or None when no deadline applies (backfilled records). The
    window counts from ``opened_at``, kept between ``not_before`` (the worker's clock) and
    :data:`CLOCK_SKEW` after it."""
    if backfilled:
        return None
    if not_before is None:
        return opened_at + window
    start = min(max(opened_at, not_before), not_before + CLOCK_SKEW)
    return start + window


def due(deadlines: Iterable[Deadline], now: datetime) -> list[Deadline]:
    """The deadlines that have passed at ``now``, earliest first."""
    return sorted(d for d in deadlines if d.due <= now)
