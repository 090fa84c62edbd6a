"""Conversions the services' codecs share between protobuf values and plain Python values."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from google.protobuf.descriptor import EnumDescriptor
from google.protobuf.timestamp_pb2 import Timestamp

from services.platform_core.errors import ImpossibleEventValue


def to_timestamp(moment: datetime) -> Timestamp:
    if moment.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


def from_timestamp(stamp: Timestamp) -> datetime:
    """The instant of an event's timestamp; ImpossibleEventValue outside years 1-9999."""
    try:
        return stamp.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError) as exc:
        raise ImpossibleEventValue(f"timestamp {stamp.seconds}s is not an instant: {exc}") from exc


@cache
def _prefix(enum: EnumDescriptor) -> str:
    # buf's ENUM_VALUE_PREFIX rule: values are prefixed with the enum name in UPPER_SNAKE_CASE.
    upper = "".join(f"_{char}" if char.isupper() else char.upper() for char in enum.name)
    return upper.lstrip("_") + "_"


def enum_member(enum: EnumDescriptor, number: int) -> str:
    """The value's name without the enum prefix: PROJECT_CATEGORY_HOUSING -> HOUSING."""
    value = enum.values_by_number.get(number)
    if value is None:
        raise ImpossibleEventValue(f"{number} is not a value of {enum.full_name}")
    return value.name.removeprefix(_prefix(enum))


def enum_number(enum: EnumDescriptor, member: str) -> int:
    """The number for a member named without the enum prefix: HOUSING -> 1."""
    value = enum.values_by_name.get(_prefix(enum) + member)
    if value is None:
        raise ValueError(f"{member!r} is not a value of {enum.full_name}")
    return value.number
