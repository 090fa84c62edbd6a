"""Waiting for an eventually-true condition, with a bounded wait and a useful failure."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    timeout_s: float = 60.0,
    interval_s: float = 0.25,
) -> T:
    deadline = time.monotonic() + timeout_s
    last: T = await probe()
    while not accept(last):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s; last value: {last!r}")
        await asyncio.sleep(interval_s)
        last = await probe()
    return last
