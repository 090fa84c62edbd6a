"""What Faust itself costs per record: a Faust worker whose agents decode every record of the
event topics (the reporting worker's CloudEventSchema) and take them in batches, as the
reporting worker does, but apply nothing — they only count in Redis (one INCRBY a batch).

Run by bench/reporting_aggregation.py (``--consumers faust-noop``), with PRT_FAUST_CEILING_KEY
naming the Redis counter and PRT_FAUST_CEILING_GROUP the consumer group.
"""

from __future__ import annotations

import os
from typing import Any

from redis.asyncio import Redis

from services.platform_core.events.topics import EVENT_TOPICS
from services.platform_core.kafka.faust_worker import create_faust_app, faust_topic, run_worker
from services.platform_core.settings import get_settings
from services.reporting.settings import get_reporting_settings

settings = get_settings()
reporting_settings = get_reporting_settings()
app = create_faust_app(os.environ["PRT_FAUST_CEILING_GROUP"], settings)
# The same stream buffer as the reporting worker.
app.conf.stream_buffer_maxsize = max(4096, 16 * reporting_settings.aggregation_batch_size)
COUNTER_KEY = os.environ["PRT_FAUST_CEILING_KEY"]


async def count_only(stream: Any) -> None:
    redis = Redis.from_url(settings.redis_url)
    try:
        async for events in stream.take_events(
            reporting_settings.aggregation_batch_size,
            within=reporting_settings.aggregation_batch_within_s,
        ):
            await redis.incrby(COUNTER_KEY, len(events))
    finally:
        await redis.aclose()


for spec in EVENT_TOPICS:
    app.agent(faust_topic(app, spec), name=f"bench.count.{spec.name}")(count_only)


if __name__ == "__main__":
    run_worker(app, settings, EVENT_TOPICS)
