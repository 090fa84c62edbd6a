"""Reporting's Faust worker: every event in, counters out.

Run: python -m services.reporting.stream_worker
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from google.protobuf.message import Message
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import PROJECT_EVENTS, dead_letter_topic
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.dead_letters import DeadLetterPublisher
from services.platform_core.kafka.faust_worker import create_faust_app, faust_topic, handle_event
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import get_settings
from services.reporting.domain.metrics import increments_for
from services.reporting.event_codec import fact_from_envelope
from services.reporting.read_model import MetricsReadModel

CONSUMER = "reporting.aggregator"
CONSUMED_TOPICS = (PROJECT_EVENTS,)

settings = get_settings()
app = create_faust_app("prt-reporting", settings)
project_events = faust_topic(app, PROJECT_EVENTS)


class Aggregator:
    def __init__(self, read_model: MetricsReadModel) -> None:
        self._read_model = read_model

    async def apply(self, envelope: Envelope[Message]) -> None:
        fact = fact_from_envelope(envelope)
        if fact is not None:
            await self._read_model.apply(envelope.id, increments_for(fact))


@asynccontextmanager
async def _resources() -> AsyncIterator[tuple[Aggregator, DeadLetterPublisher]]:
    redis = Redis.from_url(settings.redis_url)
    producer = create_producer(settings, client_id=CONSUMER)
    await producer.start()
    try:
        yield Aggregator(MetricsReadModel(redis)), DeadLetterPublisher(producer, CONSUMER)
    finally:
        await producer.stop()
        await redis.aclose()


@app.agent(project_events, name="reporting.aggregate")
async def aggregate(stream: Any) -> None:
    async with _resources() as (aggregator, dead_letters):
        async for event in stream.events():
            await handle_event(
                event,
                aggregator.apply,
                dead_letters,
                transient_errors=(RedisConnectionError, RedisTimeoutError, OSError),
            )


def main() -> None:
    asyncio.run(ensure_topics(settings, [*CONSUMED_TOPICS, dead_letter_topic(CONSUMER)]))
    sys.argv = [sys.argv[0], "worker", "--loglevel", "info"]
    app.main()


if __name__ == "__main__":
    main()
