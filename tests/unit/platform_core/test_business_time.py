"""Who may state when an act happened, and which stated times are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.http.business_time import business_time
from services.platform_core.http.errors import ApiError

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
CLERK = Principal("k1", PrincipalKind.DEPARTMENT, "ZJJ", "住建局", frozenset({"370102"}))
MIGRATION = Principal(
    "k2", PrincipalKind.DEPARTMENT, "ZJJ", "住建局", frozenset({"370102"}), may_backfill=True
)
SHANGHAI = timezone(timedelta(hours=8))


def test_without_a_stated_time_the_server_clock_decides() -> None:
    assert business_time(CLERK, None, now=NOW) == NOW
    assert business_time(MIGRATION, None, now=NOW) == NOW


def test_a_backfill_key_records_the_stated_time_in_utc() -> None:
    stated = datetime(2023, 3, 1, 9, 30, tzinfo=SHANGHAI)
    recorded = business_time(MIGRATION, stated, now=NOW)
    assert recorded == datetime(2023, 3, 1, 1, 30, tzinfo=UTC)
    assert recorded.tzinfo is UTC


def test_a_live_key_may_not_state_the_time() -> None:
    with pytest.raises(ApiError) as refused:
        business_time(CLERK, datetime(2023, 3, 1, tzinfo=UTC), now=NOW)
    assert refused.value.status == 403
    assert "--backfill" in refused.value.message


@pytest.mark.parametrize(
    ("stated", "code"),
    [
        (datetime(2023, 3, 1, 9, 30), "occurred_at_without_offset"),
        (NOW + timedelta(minutes=6), "occurred_at_in_future"),
        (datetime(2014, 12, 31, 23, 0, tzinfo=UTC), "occurred_at_too_early"),
    ],
)
def test_unusable_times_are_refused_with_the_reason(stated: datetime, code: str) -> None:
    with pytest.raises(ApiError) as refused:
        business_time(MIGRATION, stated, now=NOW)
    assert (refused.value.status, refused.value.code) == (422, code)


def test_small_clock_skew_is_tolerated() -> None:
    assert business_time(MIGRATION, NOW + timedelta(minutes=4), now=NOW) == NOW + timedelta(
        minutes=4
    )


@pytest.mark.parametrize("edge", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00"])
def test_a_stated_time_with_no_utc_instant_is_refused_with_422(edge: str) -> None:
    with pytest.raises(ApiError) as refused:
        business_time(MIGRATION, datetime.fromisoformat(edge), now=NOW)
    assert (refused.value.status, refused.value.code) == (422, "occurred_at_out_of_range")
    assert [d.field for d in refused.value.details] == ["occurred_at"]
    assert "2015-01-01" in refused.value.message
