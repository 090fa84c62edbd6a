from __future__ import annotations

from datetime import UTC, datetime

import pytest
from prt.v1 import intake_pb2

from services.platform_core.errors import EventDecodeError
from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.topics import PROJECT_EVENTS


def _registered() -> Envelope[intake_pb2.ProjectRegistered]:
    return Envelope(
        message=intake_pb2.ProjectRegistered(project_id="p-1", name="测试项目", budget_fen=100),
        source="/jinan-prt/intake",
        subject="p-1",
        time=datetime(2023, 3, 1, 2, 3, 4, 500, tzinfo=UTC),
    )


def test_round_trip_keeps_every_attribute() -> None:
    original = _registered()
    value, headers = encode_envelope(original)
    decoded = decode_record(value, headers, PROJECT_EVENTS.message_types)
    assert decoded == original
    names = dict(headers)
    assert names["ce_type"] == b"prt.v1.ProjectRegistered"
    assert names["content-type"] == b"application/protobuf"
    assert names["ce_time"] == b"2023-03-01T02:03:04.000500Z"


def test_event_ids_are_time_ordered() -> None:
    first, second = _registered(), _registered()
    assert first.id < second.id


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda v, h: (v[:-2], h), "not a valid prt.v1.ProjectRegistered"),
        (lambda v, h: (v, [x for x in h if x[0] != "ce_id"]), "missing CloudEvents header 'ce_id'"),
        (
            lambda v, h: (v, [(n, b"prt.v1.Nope" if n == "ce_type" else b) for n, b in h]),
            "not allowed on this topic",
        ),
        (
            lambda v, h: (v, [(n, b"9.9" if n == "ce_specversion" else b) for n, b in h]),
            "unsupported ce_specversion",
        ),
        (lambda v, h: (b"\x00" * 2_000_000, h), "exceeds"),
        (lambda v, h: (None, h), "no value"),
    ],
)
def test_bad_records_are_refused_with_a_reason(mangle: object, reason: str) -> None:
    value, headers = encode_envelope(_registered())
    bad_value, bad_headers = mangle(value, headers)  # type: ignore[operator]
    with pytest.raises(EventDecodeError, match=reason):
        decode_record(bad_value, bad_headers, PROJECT_EVENTS.message_types)
