"""A re-drive behind later records of the letter's key (dead_letter_review.check_order): warned
of, and refused onto a compacted topic — where the letter would become its key's newest record
and compaction would delete the newer one — unless the operator overwrites on purpose."""

from __future__ import annotations

import pytest

from services.platform_core.events.topics import EXPERT_REGISTRY, VENUE_CAPACITY
from services.platform_core.kafka.dead_letter_review import (
    COMPACTED_TOPICS,
    DeadLetter,
    LaterRecords,
    Redrive,
    RedriveRefused,
    check_order,
    dead_letter_from_record,
    plan_redrive,
)

DLQ = "remote_eval.scheduler.dead-letters.v1"


def _letter(offset: int, topic: str) -> DeadLetter:
    headers = [
        ("ce_id", f"0193a1b2-0000-7000-8000-00000000000{offset}".encode()),
        ("ce_type", b"prt.v1.ExpertRegistered"),
        ("dlq-reason", b"pool 379900 unknown"),
        ("dlq-topic", topic.encode()),
        ("dlq-partition", b"0"),
        ("dlq-offset", b"40"),
        ("dlq-consumer", b"remote_eval.scheduler"),
    ]
    return dead_letter_from_record(offset, b"X-1", b"\x0a\x03X-1", headers)


def _planned(*letters: DeadLetter) -> list[Redrive]:
    planned, _ = plan_redrive(DLQ, letters, {EXPERT_REGISTRY.name, VENUE_CAPACITY.name})
    return planned


def test_the_experts_topic_is_known_as_compacted_and_the_venues_topic_is_not() -> None:
    assert EXPERT_REGISTRY.name in COMPACTED_TOPICS
    assert VENUE_CAPACITY.name not in COMPACTED_TOPICS


def test_a_letter_behind_a_later_record_of_its_key_on_a_compacted_topic_is_refused() -> None:
    planned = _planned(_letter(0, EXPERT_REGISTRY.name))
    with pytest.raises(RedriveRefused, match=r"@0 .*1 later record\(s\).*first at offset 57"):
        check_order(planned, {0: LaterRecords(1, 57)})
    # Said on purpose, it goes, with a warning.
    [warning] = check_order(planned, {0: LaterRecords(1, 57)}, overwrite_newer=True)
    assert "@0" in warning and "offset 57" in warning


def test_a_letter_whose_later_records_nobody_can_tell_is_refused_on_a_compacted_topic() -> None:
    planned = _planned(_letter(0, EXPERT_REGISTRY.name))
    with pytest.raises(RedriveRefused, match=r"unknown .*Read"):
        check_order(planned, {0: LaterRecords(unknown="no Read ACL on the topic")})


def test_a_letter_behind_later_records_on_a_kept_topic_goes_with_a_warning() -> None:
    planned = _planned(_letter(0, VENUE_CAPACITY.name), _letter(1, VENUE_CAPACITY.name))
    warnings = check_order(planned, {0: LaterRecords(2, 41), 1: LaterRecords()})
    assert len(warnings) == 1 and warnings[0].startswith("@0 ")
    assert "2 later record(s)" in warnings[0]


def test_a_letter_with_no_later_record_of_its_key_goes_without_a_word() -> None:
    planned = _planned(_letter(0, EXPERT_REGISTRY.name))
    assert check_order(planned, {0: LaterRecords()}) == []
