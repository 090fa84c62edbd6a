"""Which API keys are due for rotation or were cut off by their end: keys_ending_between."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.platform_core.auth.api_keys import keys_ending_between

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


def _key(key_id: str, ends: datetime | None, revoked: bool = False) -> dict[str, object]:
    return {
        "key_id": key_id,
        "expires_at": ends.isoformat() if ends else None,
        "revoked_at": NOW.isoformat() if revoked else None,
    }


def test_the_keys_ending_in_the_window_soonest_first_revoked_and_endless_left_out() -> None:
    listed = [
        _key("far", NOW + timedelta(days=90)),
        _key("soon", NOW + timedelta(days=3)),
        _key("sooner", NOW + timedelta(hours=2)),
        _key("ended", NOW - timedelta(days=1)),
        _key("endless", None),
        _key("revoked", NOW + timedelta(days=1), revoked=True),
        _key("long-ended", NOW - timedelta(days=60)),
    ]
    ahead = [e["key_id"] for e in keys_ending_between(listed, NOW, NOW + timedelta(days=30))]
    assert ahead == ["sooner", "soon"]
    around = keys_ending_between(listed, NOW - timedelta(days=30), NOW + timedelta(days=30))
    assert [e["key_id"] for e in around] == ["ended", "sooner", "soon"]


def test_the_window_includes_its_bounds_and_ties_go_by_key_id() -> None:
    listed = [_key("b", NOW), _key("a", NOW), _key("c", NOW + timedelta(days=30))]
    due = keys_ending_between(listed, NOW, NOW + timedelta(days=30))
    assert [e["key_id"] for e in due] == ["a", "b", "c"]
