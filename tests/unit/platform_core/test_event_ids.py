"""Event ids are RFC 9562 version-7 UUIDs, unique, and sort in the order they were made."""

from __future__ import annotations

import time
import uuid

import pytest

from services.platform_core.events import ids
from services.platform_core.events.ids import new_event_id


def test_ids_are_version_7_uuids_carrying_the_time() -> None:
    before = time.time_ns() // 1_000_000
    text = new_event_id()
    after = time.time_ns() // 1_000_000
    made = uuid.UUID(text)
    assert text == str(made)  # the canonical lower-case form
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after


def test_ids_made_in_one_burst_are_unique_and_in_order() -> None:
    made = [new_event_id() for _ in range(50_000)]
    assert len(set(made)) == len(made)
    assert made == sorted(made)


def test_more_than_4096_ids_in_a_millisecond_borrow_the_next_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frozen = 1_700_000_000_000 * 1_000_000
    monkeypatch.setattr(time, "time_ns", lambda: frozen)
    monkeypatch.setattr(ids, "_last_millisecond", 0)
    made = [new_event_id() for _ in range(5_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    stamps = {uuid.UUID(i).int >> 80 for i in made}
    assert stamps == {1_700_000_000_000, 1_700_000_000_001}


def test_a_clock_that_steps_back_does_not_reorder_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_700_000_000_500 * 1_000_000]
    monkeypatch.setattr(time, "time_ns", lambda: now[0])
    monkeypatch.setattr(ids, "_last_millisecond", 0)
    first = new_event_id()
    now[0] -= 200 * 1_000_000
    second = new_event_id()
    assert second > first


def test_ids_made_from_one_seed_are_the_same_every_run_and_in_order() -> None:
    seed = new_event_id()
    time.sleep(0.002)
    with ids.ids_from_seed(seed):
        first_run = [new_event_id() for _ in range(5000)]
    with ids.ids_from_seed(seed):
        second_run = [new_event_id() for _ in range(5000)]
    assert first_run == second_run  # a retry writes the same ids
    assert first_run == sorted(first_run)
    assert len(set(first_run)) == len(first_run)
    for text in first_run[:3]:
        made = uuid.UUID(text)
        assert text == str(made)
        assert made.version == 7
        assert made.variant == uuid.RFC_4122
    # The first run's millisecond, not the retry's: the ids say when the write was first made.
    assert uuid.UUID(first_run[0]).int >> 80 == uuid.UUID(seed).int >> 80


def test_another_seed_or_no_seed_makes_other_ids() -> None:
    seed, other = new_event_id(), new_event_id()
    with ids.ids_from_seed(seed):
        from_seed = [new_event_id() for _ in range(3)]
    with ids.ids_from_seed(other):
        from_other = [new_event_id() for _ in range(3)]
    fresh = [new_event_id() for _ in range(3)]
    assert not set(from_seed) & set(from_other)
    assert not set(from_seed) & set(fresh)
