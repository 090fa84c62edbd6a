"""The size check every API makes before it publishes a request's event.

An event larger than consumers accept (MAX_EVENT_BYTES) would be refused by the broker, or
accepted and then dead-lettered by every consumer: the caller would be told to retry a request
that can never succeed, or the API's view and the log's would differ for good. So it is the
request's fault, 413, said before anything is published. Each API's schemas bound their lists
and strings well below this; this is the backstop for what they miss.
"""

from __future__ import annotations

from typing import TypeVar

from google.protobuf.message import Message

from services.platform_core.events.envelope import MAX_EVENT_BYTES, Envelope
from services.platform_core.http.errors import ApiError, FieldProblem

MessageT = TypeVar("MessageT", bound=Message)


def publishable(envelope: Envelope[MessageT], items: str) -> Envelope[MessageT]:
    """The envelope, if its encoded event fits; else 413 ``event_too_large``, asking for fewer
    or shorter ``items`` (what the request repeats: "documents, sections, parties")."""
    size = envelope.message.ByteSize()
    if size > MAX_EVENT_BYTES:
        raise ApiError(
            413,
            "event_too_large",
            f"The request's event would be {size} bytes; an event may be at most "
            f"{MAX_EVENT_BYTES} bytes. Send fewer or shorter items ({items}) per request",
            [
                FieldProblem(
                    field="body", problem=f"{size} bytes encoded, at most {MAX_EVENT_BYTES}"
                )
            ],
        )
    return envelope
