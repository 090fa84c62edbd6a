"""Events on the wire: CloudEvents binary-mode envelope around protobuf messages."""

from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.ids import new_event_id
from services.platform_core.events.message_types import message_class, type_name

__all__ = [
    "Envelope",
    "decode_record",
    "encode_envelope",
    "message_class",
    "new_event_id",
    "type_name",
]
