"""Time-ordered event ids (UUIDv7): sortable by creation time, unique without coordination."""

from __future__ import annotations

import uuid6


def new_event_id() -> str:
    return str(uuid6.uuid7())
