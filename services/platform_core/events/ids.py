"""Time-ordered event ids (UUIDv7, RFC 9562): sortable by creation time, unique without
coordination.

Inside :func:`ids_from_seed` (the Idempotency-Key store runs each request's action there), the
ids are derived from the request's seed instead: the n-th id the action makes is the same on
every run of it, so a retry of a request whose first run died after the broker acknowledged its
events writes the same ids again, and every consumer drops the copies by event id. A derived id
keeps the seed's millisecond (the first run's) and counts the ids in the 12 bits after it, so
one request's ids still sort in the order it made them.

48 bits of Unix milliseconds, then 12 bits that count up within a millisecond (RFC 9562's
"fixed bit-length dedicated counter", method 1), so the ids one process makes sort in the order
it made them even within a millisecond, then 62 random bits from the OS. Written out here
rather than taken from the ``uuid6`` package: the ids are made on every write, and this costs
about half its time (1.7 against 3.2 µs)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0b10 << 62
_SEQUENCE_LIMIT = 1 << 12

_last_millisecond = 0
_sequence = 0


@dataclass
class _Seeded:
    millisecond: int
    secret: bytes
    made: int = field(default=0)


_seeded: ContextVar[_Seeded | None] = ContextVar("prt_event_id_seed", default=None)


@contextmanager
def ids_from_seed(seed: str) -> Iterator[None]:
    """Within the block (and tasks it starts), :func:`new_event_id` derives its ids from
    ``seed`` (an id made by :func:`new_event_id`): the same seed gives the same ids in the same
    order. Ids made by tasks running side by side come in whatever order they run."""
    value = int(seed.replace("-", ""), 16)
    token = _seeded.set(_Seeded(value >> 80, seed.encode()))
    try:
        yield
    finally:
        _seeded.reset(token)


def _format(value: int) -> str:
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _derived(seeded: _Seeded) -> str:
    n = seeded.made
    seeded.made += 1
    # Past 4,096 ids, the next millisecond: the order holds (as new_event_id does).
    millisecond = seeded.millisecond + (n >> 12)
    digest = hashlib.blake2b(n.to_bytes(8), key=seeded.secret[:64], digest_size=8).digest()
    random_bits = int.from_bytes(digest) >> 2
    sequence = n & (_SEQUENCE_LIMIT - 1)
    return _format((millisecond << 80) | _VERSION_7 | (sequence << 64) | _VARIANT_RFC | random_bits)


def new_event_id() -> str:
    global _last_millisecond, _sequence  # noqa: PLW0603 - the process's own clock position
    if (seeded := _seeded.get()) is not None:
        return _derived(seeded)
    millisecond = time.time_ns() // 1_000_000
    if millisecond > _last_millisecond:
        _last_millisecond, _sequence = millisecond, 0
    else:
        # The same millisecond (or the clock stepped back): count on; past 4,096 ids in one
        # millisecond, borrow the next one, so the order still holds.
        _sequence += 1
        if _sequence == _SEQUENCE_LIMIT:
            _last_millisecond, _sequence = _last_millisecond + 1, 0
    random_bits = int.from_bytes(os.urandom(8)) >> 2
    value = (_last_millisecond << 80) | _VERSION_7 | (_sequence << 64) | _VARIANT_RFC | random_bits
    return _format(value)
