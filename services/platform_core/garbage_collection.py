"""Python's cyclic garbage collector, set for a long-running service.

A request or an event allocates a few dozen short-lived objects (request scopes, pydantic
models, envelopes, facts). With the default thresholds a young collection runs every 700
allocations, scanning and promoting objects that reference counting frees a moment later, and
every full collection walks everything start-up loaded (FastAPI's routes and schemas, protobuf
descriptors, Faust). Measured on the 2-CPU test machine:
- the intake API's registration: about 550 -> 500 µs of CPU per request;
- reporting's batch consumer: 39 -> 31 µs per event; the recompute: 38 -> 32 µs per record.
Cycles are still collected, only less often.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# A young collection every 50,000 allocations (default 700); the older generations as usual.
BULK_THRESHOLDS = (50_000, 20, 100)


def collect_less_often_for_good() -> None:
    """For a service process once it has started: what start-up loaded is moved out of the
    collector's sight (gc.freeze), and collections run less often from now on."""
    gc.freeze()
    gc.set_threshold(*BULK_THRESHOLDS)


@contextmanager
def collecting_less_often() -> Iterator[None]:
    """For a bulk step inside a process that does other things: the thresholds come back."""
    before = gc.get_threshold()
    gc.set_threshold(*BULK_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
