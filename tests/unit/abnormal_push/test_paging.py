"""List paging: cursors and the order they continue (pure parts of the read model)."""

from __future__ import annotations

import pytest

from services.abnormal_push.domain.pushes import HandlingResult, PushStatus
from services.abnormal_push.read_model import (
    ALL_PUSHES,
    INBOX,
    Facet,
    PageCursor,
    index_key,
    push_facets,
    status_facet,
)
from tests.unit.abnormal_push.test_pushes import feedback, routed, sign


def test_a_cursor_round_trips_and_garbage_is_refused() -> None:
    cursor = PageCursor(1727661600.123456, "0193c1de-0000-7000-8000-000000000001")
    assert PageCursor.decode(cursor.encode()) == cursor
    for garbage in ("", "abc", "bm90IGpzb24", PageCursor(1.0, "x").encode()[:-3] + "!!"):
        with pytest.raises(ValueError, match="not a cursor"):
            PageCursor.decode(garbage)


def test_the_next_page_starts_after_the_cursor_in_list_order() -> None:
    # Newest first; equal times by push id descending (Redis's order for equal scores).
    cursor = PageCursor(100.0, "p-5")
    assert cursor.admits(99.0, "p-9")
    assert cursor.admits(100.0, "p-4")
    assert not cursor.admits(100.0, "p-5")
    assert not cursor.admits(100.0, "p-6")
    assert not cursor.admits(101.0, "p-1")


def test_index_keys_keep_the_inbox_keys_and_separate_departments() -> None:
    assert index_key("ZJJ", Facet.ALL) == INBOX + "ZJJ"
    assert index_key(None, Facet.ALL) == ALL_PUSHES
    assert index_key("ZJJ", Facet.OPEN) != index_key(None, Facet.OPEN)
    assert index_key("ZJJ", status_facet(PushStatus.ROUTED)).endswith("ZJJ:status:ROUTED")


def test_a_push_is_in_exactly_one_status_index_and_leaves_open_when_answered() -> None:
    push = routed()
    facets = push_facets(push)
    assert [f for f, member in facets.items() if f.startswith("status:") and member] == [
        "status:ROUTED"
    ]
    assert facets[Facet.OPEN] and not facets[Facet.OVERDUE]
    answered = push_facets(feedback(sign(push), HandlingResult.NO_ACTION))
    assert answered[status_facet(PushStatus.FEEDBACK_GIVEN)]
    assert not answered[status_facet(PushStatus.ROUTED)] and not answered[Facet.OPEN]
