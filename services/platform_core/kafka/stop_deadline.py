"""A stream worker asked to stop is gone within its grace period: cleanly, or as if killed.

Why: stopping, a worker first finishes the event in hand (Faust's "Wait for streams"; the batch
consumer's batch), and while Kafka or Redis is away that event is being retried until they come
back (:mod:`services.platform_core.kafka.retrying`) - so the stop waits with it. Found in the
fault runs: workers still alive 40 minutes after SIGTERM, which then joined the next stack
started on the same ports. An orchestrator's SIGKILL after its grace period bounds this in
production; a local stack, a test harness or an operator's ``kill`` has nothing that does.

Exiting without committing is exactly what a SIGKILL does, and the platform is built for it: the
event in hand was not acknowledged, so its partition's next reader reads it again, and every
handler is idempotent by event id (tests/faults/test_worker_failure.py kills workers mid-stream
and finds nothing lost or counted twice).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from typing import Any

import faust

log = logging.getLogger(__name__)

#: The exit status of a worker that did not stop in time (EX_TEMPFAIL: try again later).
EXIT_NOT_STOPPED_IN_TIME = 75

_armed = threading.Lock()


def exit_unless_stopped_within(grace_s: float, worker: str) -> None:
    """From now on, the process has ``grace_s`` seconds to end by itself; then it exits with
    :data:`EXIT_NOT_STOPPED_IN_TIME`. Armed once per process (a second signal changes nothing).

    A thread, not an event-loop timer: it fires even if the loop is stuck."""
    if not _armed.acquire(blocking=False):
        return
    timer = threading.Timer(grace_s, _exit_now, args=(grace_s, worker))
    timer.daemon = True  # a worker that stops in time exits without waiting for it
    timer.name = "stop-deadline"
    timer.start()


def _exit_now(grace_s: float, worker: str) -> None:
    log.error(
        "%s did not stop within %.0f s of being asked to (the event in hand is waiting for "
        "Kafka or Redis to come back); exiting now without committing it: its partition's next "
        "reader reads it again",
        worker,
        grace_s,
    )
    for stream in (sys.stdout, sys.stderr):
        # A closed or broken stream: nothing more can be said anyway.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(EXIT_NOT_STOPPED_IN_TIME)


class WorkerStoppingInTime(faust.Worker):
    """Faust's worker, with the stop deadline armed as the stop begins, whatever asked for it
    (SIGTERM, SIGINT, a crash). Named in the app's ``Worker`` setting."""

    stop_grace_s: float = 10.0

    async def stop(self) -> Any:
        exit_unless_stopped_within(self.stop_grace_s, self.app.conf.id)
        return await super().stop()
