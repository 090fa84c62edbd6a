"""Reporting's Faust worker: every event topic in, figures out.

One agent per event topic (intake, large-amount records, abnormal reports and pushes, venues,
evaluations), each with concurrency 1, hands each event to the read model. Undecodable records
and events that cannot be counted go to ``reporting.aggregator.dead-letters.v1``.

Run: python -m services.reporting.stream_worker
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from google.protobuf.message import Message
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import EVENT_TOPICS, TopicSpec, dead_letter_topic
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.dead_letters import DeadLetterPublisher
from services.platform_core.kafka.faust_worker import create_faust_app, faust_topic, handle_event
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import get_settings
from services.reporting.event_codec import fact_from_envelope
from services.reporting.read_model import MetricsReadModel
from services.reporting.settings import DEFAULT_CONSUMER_GROUP, get_reporting_settings

CONSUMED_TOPICS: tuple[TopicSpec, ...] = EVENT_TOPICS

settings = get_settings()
reporting_settings = get_reporting_settings()
# A rebuild beside the live read model (another consumer group) is another consumer, with
# dead letters of its own, so the live consumer's dead-letter topic holds each record once.
CONSUMER = (
    "reporting.aggregator"
    if reporting_settings.consumer_group == DEFAULT_CONSUMER_GROUP
    else f"reporting.aggregator.{reporting_settings.consumer_group}"
)
app = create_faust_app(reporting_settings.consumer_group, settings)


class Aggregator:
    def __init__(self, read_model: MetricsReadModel) -> None:
        self._read_model = read_model

    async def apply(self, envelope: Envelope[Message]) -> None:
        fact = fact_from_envelope(envelope)  # EventRejected → dead letter
        if fact is not None:
            await self._read_model.apply_fact(fact)


@asynccontextmanager
async def _resources() -> AsyncIterator[tuple[Aggregator, DeadLetterPublisher]]:
    redis = Redis.from_url(settings.redis_url)
    producer = create_producer(settings, client_id=CONSUMER)
    await producer.start()
    try:
        read_model = MetricsReadModel(redis, reporting_settings.key_prefix)
        yield Aggregator(read_model), DeadLetterPublisher(producer, CONSUMER)
    finally:
        await producer.stop()
        await redis.aclose()


def _aggregate_agent(spec: TopicSpec) -> Callable[[Any], Awaitable[None]]:
    async def aggregate(stream: Any) -> None:
        async with _resources() as (aggregator, dead_letters):
            async for event in stream.events():
                await handle_event(
                    event,
                    aggregator.apply,
                    dead_letters,
                    transient_errors=(RedisConnectionError, RedisTimeoutError, OSError),
                )

    aggregate.__name__ = f"aggregate_{spec.name.replace('.', '_').replace('-', '_')}"
    return aggregate


AGENTS = [
    app.agent(faust_topic(app, spec), name=f"reporting.aggregate.{spec.name}")(
        _aggregate_agent(spec)
    )
    for spec in CONSUMED_TOPICS
]


def main() -> None:
    asyncio.run(ensure_topics(settings, [*CONSUMED_TOPICS, dead_letter_topic(CONSUMER)]))
    # --without-web: the CLI would otherwise start Faust's web server on port 6066, which the
    # next worker on the machine cannot bind.
    sys.argv = [sys.argv[0], "worker", "--without-web", "--loglevel", "info"]
    app.main()


if __name__ == "__main__":
    main()
