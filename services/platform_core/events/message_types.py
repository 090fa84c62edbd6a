"""Maps the ``ce_type`` of an event to its generated protobuf class.

The ``ce_type`` is the protobuf full name (``prt.v1.ProjectRegistered``), so the contract in
``proto/`` is the only list of event types: a new message there is known here without code.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

import prt.v1
from google.protobuf.message import Message

MessageClass = type[Message]


@lru_cache(maxsize=1)
def _registry() -> dict[str, MessageClass]:
    found: dict[str, MessageClass] = {}
    for module_info in pkgutil.iter_modules(prt.v1.__path__):
        if not module_info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(f"prt.v1.{module_info.name}")
        for name in module.DESCRIPTOR.message_types_by_name:
            cls: MessageClass = getattr(module, name)
            found[cls.DESCRIPTOR.full_name] = cls
    return found


def message_class(ce_type: str) -> MessageClass | None:
    """The class for an event type, or None when the contract has no such message."""
    return _registry().get(ce_type)


def type_name(message: Message | MessageClass) -> str:
    return message.DESCRIPTOR.full_name
