"""CloudEvents Kafka protocol binding, binary mode: attributes in headers, protobuf as the value.

https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/kafka-protocol-binding.md
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from google.protobuf.message import DecodeError, Message

from services.platform_core.errors import EventDecodeError
from services.platform_core.events.ids import new_event_id
from services.platform_core.events.message_types import message_class, type_name

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/protobuf"
# A record this large is not an event of ours; refusing it protects consumers' memory.
MAX_EVENT_BYTES = 1_000_000

Headers = Sequence[tuple[str, bytes]]
MessageT_co = TypeVar("MessageT_co", bound=Message, covariant=True)


@dataclass(frozen=True)
class Envelope(Generic[MessageT_co]):
    """One event: CloudEvents attributes plus the protobuf message they describe."""

    message: MessageT_co
    source: str
    subject: str
    id: str = field(default_factory=new_event_id)
    time: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def type(self) -> str:
        return type_name(self.message)


def _format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("event times must be timezone-aware UTC instants")
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def encode_envelope(envelope: Envelope[Message]) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The Kafka value and headers for an event."""
    headers = [
        ("ce_specversion", SPEC_VERSION.encode()),
        ("ce_id", envelope.id.encode()),
        ("ce_type", envelope.type.encode()),
        ("ce_source", envelope.source.encode()),
        ("ce_time", _format_time(envelope.time).encode()),
        ("ce_subject", envelope.subject.encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    return envelope.message.SerializeToString(deterministic=True), headers


def _header_map(headers: Headers | None) -> dict[str, str]:
    decoded: dict[str, str] = {}
    for name, raw in headers or ():
        try:
            decoded[name] = raw.decode("utf-8") if raw is not None else ""
        except UnicodeDecodeError as exc:
            raise EventDecodeError(f"header {name!r} is not UTF-8") from exc
    return decoded


def decode_record(
    value: bytes | None,
    headers: Headers | None,
    allowed_types: Collection[str] | None = None,
) -> Envelope[Message]:
    """Turn a Kafka record into an Envelope, or raise EventDecodeError saying why not."""
    if value is None:
        raise EventDecodeError("record has no value")
    if len(value) > MAX_EVENT_BYTES:
        raise EventDecodeError(f"record of {len(value)} bytes exceeds {MAX_EVENT_BYTES}")
    attrs = _header_map(headers)
    for required in ("ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "ce_subject"):
        if not attrs.get(required):
            raise EventDecodeError(f"missing CloudEvents header {required!r}")
    if attrs["ce_specversion"] != SPEC_VERSION:
        raise EventDecodeError(f"unsupported ce_specversion {attrs['ce_specversion']!r}")
    if attrs.get("content-type", CONTENT_TYPE) != CONTENT_TYPE:
        raise EventDecodeError(f"unsupported content-type {attrs['content-type']!r}")
    ce_type = attrs["ce_type"]
    if allowed_types is not None and ce_type not in allowed_types:
        raise EventDecodeError(f"event type {ce_type!r} is not allowed on this topic")
    cls = message_class(ce_type)
    if cls is None:
        raise EventDecodeError(f"unknown event type {ce_type!r}")
    try:
        message = cls.FromString(value)
    except DecodeError as exc:
        raise EventDecodeError(f"value is not a valid {ce_type}: {exc}") from exc
    try:
        moment = datetime.fromisoformat(attrs["ce_time"])
    except ValueError as exc:
        raise EventDecodeError(f"ce_time {attrs['ce_time']!r} is not RFC 3339") from exc
    if moment.tzinfo is None:
        raise EventDecodeError("ce_time has no UTC offset")
    return Envelope(
        message=message,
        source=attrs["ce_source"],
        subject=attrs["ce_subject"],
        id=attrs["ce_id"],
        time=moment.astimezone(UTC),
    )
