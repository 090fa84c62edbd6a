"""The synthetic event mix of bench/reporting_events.py, with some pushes routed on estimated
deadlines and given their real ones later by PushDeadlinesSet: the tests that compare figures
computed in different ways (live fold, batches, recompute) then cover the replaced deadlines
too, including verdicts on feedback already given that the real due turns either way."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

from prt.v1 import abnormal_push_pb2

from bench.reporting_events import Outgoing, synthetic_events
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import from_timestamp, to_timestamp
from services.platform_core.events.topics import ABNORMAL_PUSHES


def _deadlines_set(rng: random.Random, routed: abnormal_push_pb2.PushRouted) -> Outgoing:
    # The synthetic feedback comes 0-20 days after routing and the estimated due is 10 days
    # after it: real dues of 3-17 days turn some verdicts to late, others to on time.
    at = from_timestamp(routed.occurred_at)
    message = abnormal_push_pb2.PushDeadlinesSet(
        push_id=routed.push_id,
        occurred_at=to_timestamp(at + timedelta(hours=1)),
        sign_for_due=to_timestamp(at + timedelta(days=rng.randrange(1, 4))),
        feedback_due=to_timestamp(at + timedelta(days=rng.randrange(3, 18))),
    )
    envelope = Envelope(message=message, source="/tests/reporting", subject=routed.push_id)
    return Outgoing(ABNORMAL_PUSHES, envelope, routed.push_id)


def events_with_deadlines_set(count: int, seed: int = 7, tag: str = "syn") -> Iterator[Outgoing]:
    """About ``count`` synthetic events (a few more: the PushDeadlinesSet events). Half the
    pushes to handle are routed with estimated deadlines; their PushDeadlinesSet follows the
    routing at once (before any feedback) or after the push's last event (after it)."""
    rng = random.Random(seed)
    after_last: Outgoing | None = None  # sent once the push's events are all out
    for outgoing in synthetic_events(count, seed=seed, tag=tag):
        if after_last is not None and outgoing.key != after_last.key:
            yield after_last
            after_last = None
        routed = outgoing.envelope.message
        if (
            isinstance(routed, abnormal_push_pb2.PushRouted)
            and routed.HasField("feedback_due")
            and rng.random() < 0.5
        ):
            routed.deadlines_estimated = True  # before it is yielded: callers encode it at once
            yield outgoing
            deadlines_set = _deadlines_set(rng, routed)
            if rng.random() < 0.3:
                yield deadlines_set
            else:
                after_last = deadlines_set
        else:
            yield outgoing
    if after_last is not None:
        yield after_last
