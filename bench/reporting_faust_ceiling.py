"""What Faust itself costs per record: a Faust worker whose agents decode every record of the
event topics (the reporting worker's CloudEventSchema) and take them in batches, as the
reporting worker does, but apply nothing — they only count in Redis (one INCRBY a batch).

Run by bench/reporting_aggregation.py (``--consumers faust-noop``), with PRT_FAUST_CEILING_KEY
naming the Redis counter and PRT_FAUST_CEILING_GROUP the consumer group.
PRT_FAUST_CEILING_VARIANT (comma-separated, default none) tries Faust's own settings and
structures, to see what each buys (``--consumers faust-noop:cython+one-agent`` in the bench):
- ``cython``: ``cython_optimizations=True`` (faust-streaming >= 0.14: the stream iterator takes
  values already in its queue instead of awaiting the channel for each);
- ``no-monitor``: a sensor that records nothing instead of Faust's default Monitor (which times
  every message and event);
- ``one-agent``: one agent over all the event topics instead of one per topic;
- ``take``: ``stream.take`` (values) instead of ``take_events`` (events);
- ``no-wait-empty``: ``stream_wait_empty=False`` (rebalances do not wait for the buffers);
- ``big-fetch``: larger broker fetches (``consumer_max_fetch_size``, ``broker_max_poll_records``).
"""

from __future__ import annotations

import os
import sys
from typing import Any, ClassVar

from faust.sensors import Monitor
from redis.asyncio import Redis

from services.platform_core.errors import EventDecodeError
from services.platform_core.events.envelope import decode_record
from services.platform_core.events.topics import EVENT_TOPICS
from services.platform_core.kafka.faust_worker import (
    CloudEventSchema,
    Undecodable,
    create_faust_app,
    faust_topic,
    run_worker,
)
from services.platform_core.settings import get_settings
from services.reporting.settings import get_reporting_settings

# A helper process, not a bench of its own: said in one line when started by hand.
_UNSET = [
    name
    for name in ("PRT_FAUST_CEILING_GROUP", "PRT_FAUST_CEILING_KEY")
    if not os.environ.get(name)
]
if _UNSET:
    print(
        "bench.reporting_faust_ceiling is started by the aggregation bench, not by hand: run "
        "`python -m bench.reporting_aggregation --consumers faust-noop` "
        f"({', '.join(_UNSET)} not set)",
        file=sys.stderr,
    )
    sys.exit(2)

settings = get_settings()
reporting_settings = get_reporting_settings()
VARIANT = {name for name in os.environ.get("PRT_FAUST_CEILING_VARIANT", "").split(",") if name}
app = create_faust_app(os.environ["PRT_FAUST_CEILING_GROUP"], settings)
# The same stream buffer as the reporting worker.
app.conf.stream_buffer_maxsize = max(4096, 16 * reporting_settings.aggregation_batch_size)
if "cython" in VARIANT:
    app.conf.cython_optimizations = True
if "no-wait-empty" in VARIANT:
    app.conf.stream_wait_empty = False
if "big-fetch" in VARIANT:
    app.conf.consumer_max_fetch_size = 16 * 1024 * 1024
    app.conf.broker_max_poll_records = 10_000


class _QuietMonitor(Monitor):
    """Faust's Monitor without its per-message and per-event bookkeeping."""

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        pass

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> None:
        return None

    def on_stream_event_out(
        self, tp: Any, offset: int, stream: Any, event: Any, state: Any = None
    ) -> None:
        pass

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        pass


if "no-monitor" in VARIANT:
    app.monitor = _QuietMonitor()
COUNTER_KEY = os.environ["PRT_FAUST_CEILING_KEY"]


class _AnyEventTopicSchema(CloudEventSchema):
    """One schema for all the event topics: each record's types allowed by its own topic."""

    _ALLOWED: ClassVar[dict[str, Any]] = {
        spec.name: spec.message_types or None for spec in EVENT_TOPICS
    }

    def loads_value(
        self, app: Any, message: Any, *, loads: Any = None, serializer: Any = None
    ) -> Any:
        try:
            return decode_record(message.value, message.headers, self._ALLOWED[message.topic])
        except EventDecodeError as exc:
            return Undecodable(str(exc))


async def count_only(stream: Any) -> None:
    redis = Redis.from_url(settings.redis_url)
    take = stream.take if "take" in VARIANT else stream.take_events
    try:
        async for events in take(
            reporting_settings.aggregation_batch_size,
            within=reporting_settings.aggregation_batch_within_s,
        ):
            await redis.incrby(COUNTER_KEY, len(events))
    finally:
        await redis.aclose()


if "one-agent" in VARIANT:
    every_topic = app.topic(
        *(spec.name for spec in EVENT_TOPICS), schema=_AnyEventTopicSchema(EVENT_TOPICS[0])
    )
    app.agent(every_topic, name="bench.count.all")(count_only)
else:
    for spec in EVENT_TOPICS:
        app.agent(faust_topic(app, spec), name=f"bench.count.{spec.name}")(count_only)


if __name__ == "__main__":
    run_worker(app, settings, EVENT_TOPICS)
