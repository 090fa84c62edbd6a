"""When a recorded act happened: now, or — for keys allowed to backfill — the stated time.

Every write API stamps its event with ``occurred_at``, the business time the bulletin counts by.
Live callers never state it: the server's clock decides, so a department cannot date a
registration into last month's figures. Migrating historical records (the large-amount pull,
an archive of earlier half-years, the demo half-year) needs the true dates, so API keys issued
with ``--backfill`` may send ``occurred_at`` in the request body. It must carry a UTC offset,
may not lie in the future and may not predate the platform's records.

Use it in a route as ``business_time(principal, body.occurred_at)``; schemas declare the field
with :data:`OCCURRED_AT_DESCRIPTION`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.platform_core.auth.principals import Principal
from services.platform_core.http.errors import ApiError, FieldProblem

# Records before this are out of the platform's scope (the integrated platform dates from 2015).
EARLIEST_RECORD = datetime(2015, 1, 1, tzinfo=UTC)
# Tolerated clock difference between a backfilling client and this server.
CLOCK_SKEW = timedelta(minutes=5)

OCCURRED_AT_DESCRIPTION = (
    "When the act happened, with a UTC offset. Only API keys issued for backfill (historical "
    "migrations) may state it; otherwise the server's clock is used."
)


def business_time(
    principal: Principal, requested: datetime | None, *, now: datetime | None = None
) -> datetime:
    """The UTC instant to record; raises :class:`ApiError` (403/422) with the reason."""
    current = now or datetime.now(UTC)
    if requested is None:
        return current
    field = [FieldProblem(field="occurred_at", problem="stated by a key without backfill")]
    if not principal.may_backfill:
        raise ApiError(
            403,
            "backfill_not_permitted",
            f"API key {principal.key_id} may not state occurred_at: the server records the "
            "current time. Historical records need a key issued with --backfill.",
            field,
        )
    if requested.tzinfo is None or requested.utcoffset() is None:
        raise ApiError(
            422,
            "occurred_at_without_offset",
            "occurred_at must carry a UTC offset, e.g. 2023-03-01T09:30:00+08:00",
            [FieldProblem(field="occurred_at", problem="no UTC offset")],
        )
    try:
        instant = requested.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00+08:00 or 9999-12-31T23:59-08:00: in UTC it falls outside years 1-9999.
        raise ApiError(
            422,
            "occurred_at_out_of_range",
            f"occurred_at {requested.isoformat()} is not a representable instant; backfill "
            f"records acts from {EARLIEST_RECORD.date().isoformat()} up to now",
            [FieldProblem(field="occurred_at", problem="outside the representable range")],
        ) from None
    if instant > current + CLOCK_SKEW:
        raise ApiError(
            422,
            "occurred_at_in_future",
            f"occurred_at {requested.isoformat()} lies in the future; backfill records past acts",
            [FieldProblem(field="occurred_at", problem="in the future")],
        )
    if instant < EARLIEST_RECORD:
        raise ApiError(
            422,
            "occurred_at_too_early",
            f"occurred_at {requested.isoformat()} predates the platform's records "
            f"(from {EARLIEST_RECORD.date().isoformat()})",
            [FieldProblem(field="occurred_at", problem="before the earliest record")],
        )
    return instant
