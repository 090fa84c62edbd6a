"""Reading a dead letter and planning its re-drive (dead_letter_review), without a broker."""

from __future__ import annotations

import pytest

from services.platform_core.kafka.dead_letter_review import (
    REDRIVEN_FROM,
    DeadLetter,
    RedriveRefused,
    dead_letter_from_record,
    plan_redrive,
)

DLQ = "reporting.aggregator.dead-letters.v1"
ORIGINAL = [
    ("ce_id", b"0193a1b2-0000-7000-8000-000000000001"),
    ("ce_type", b"prt.v1.ProjectRegistered"),
    ("content-type", b"application/protobuf"),
]


def _letter(
    offset: int, topic: str = "intake.projects.v1", *extra: tuple[str, bytes]
) -> DeadLetter:
    headers = [
        *ORIGINAL,
        *extra,
        ("dlq-reason", "区县代码未知".encode()),
        ("dlq-topic", topic.encode()),
        ("dlq-partition", b"3"),
        ("dlq-offset", b"1207"),
        ("dlq-consumer", b"reporting.aggregator"),
        ("dlq-time", b"2026-12-03T07:00:00+00:00"),
    ]
    return dead_letter_from_record(offset, b"p-1", b"\x0a\x03p-1", headers)


def test_a_letter_says_where_it_came_from_and_why_and_keeps_the_original_headers() -> None:
    letter = _letter(5)
    assert (letter.offset, letter.consumer, letter.reason) == (
        5,
        "reporting.aggregator",
        "区县代码未知",
    )
    assert letter.source == "intake.projects.v1[3]@1207"
    assert letter.event_type == "prt.v1.ProjectRegistered"
    assert letter.event_id == "0193a1b2-0000-7000-8000-000000000001"
    assert letter.original_headers == tuple(ORIGINAL)
    summary = letter.summary(redriven=True)
    assert summary["redriven"] is True and summary["key"] == "p-1" and summary["value_bytes"] == 5
    assert b"\x0a\x03p-1" not in repr(summary).encode()


def test_a_letter_without_its_headers_reads_as_unknown_rather_than_failing() -> None:
    letter = dead_letter_from_record(0, None, None, [("dlq-partition", b"x")])
    assert (letter.source_topic, letter.source_partition, letter.event_id) == ("", None, None)
    assert letter.source == "?"
    assert letter.summary(redriven=False)["value_bytes"] == 0


def test_each_letter_goes_back_to_its_own_topic_marked_with_where_it_was() -> None:
    # A letter re-driven before and refused again: its old marker is replaced, not stacked.
    earlier = (REDRIVEN_FROM, f"{DLQ}@1".encode())
    letters = [_letter(7, "intake.projects.v1", earlier), _letter(8, "abnormal_push.pushes.v1")]
    planned, skipped = plan_redrive(DLQ, letters, {"intake.projects.v1", "abnormal_push.pushes.v1"})
    assert skipped == []
    assert [each.topic for each in planned] == ["intake.projects.v1", "abnormal_push.pushes.v1"]
    assert planned[0].headers == (*ORIGINAL, (REDRIVEN_FROM, f"{DLQ}@7".encode()))
    assert letters[0].redriven_from == f"{DLQ}@1"


def test_a_letter_that_cannot_go_back_stops_the_whole_redrive_until_passed_over() -> None:
    letters = [
        _letter(1),
        _letter(2, ""),
        _letter(3, "remote_eval.scheduler.dead-letters.v1"),
        _letter(4, "gone.v1"),
    ]
    known = {"intake.projects.v1", "remote_eval.scheduler.dead-letters.v1"}
    with pytest.raises(RedriveRefused) as refused:
        plan_redrive(DLQ, letters, known)
    message = str(refused.value)
    assert "Nothing was re-driven" in message
    assert "@2: it does not say which topic" in message
    assert "@3: it came from a dead-letter topic" in message
    assert "@4: its topic gone.v1 is not on the broker" in message
    planned, skipped = plan_redrive(DLQ, letters, known, skip={2, 3, 4})
    assert [each.letter.offset for each in planned] == [1]
    assert [letter.offset for letter in skipped] == [2, 3, 4]
