"""A stream handler whose Kafka write fails with aiokafka's own error is retried, not skipped.

On the real broker: a handler publishes a derived event to a topic whose partition has no
known leader yet (the topic does not exist; the broker runs with auto-create off). aiokafka's
idempotent producer gives up after its request timeout with UnknownTopicOrPartitionError, a
retriable error - what a producer also raises when a broker is out or a leader moves while the
topic's metadata is being fetched. handle_event must keep the event and apply it again; once
the topic exists, the event is applied, its output is on the topic once, and nothing is
dead-lettered. (Before, the error escaped the agent, and Faust acknowledged the event unapplied.)
"""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import UnknownTopicOrPartitionError

from services.platform_core.events.topics import TopicSpec
from services.platform_core.kafka.clients import PRODUCER_SETTINGS, security_options
from services.platform_core.kafka.dead_letters import DeadLetterPublisher
from services.platform_core.kafka.faust_worker import handle_event
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings
from tests.support.polling import eventually

pytestmark = pytest.mark.integration

# The producer's request timeout, short so the first attempt fails within seconds (the
# platform's producers wait 15 s; the error is the same).
REQUEST_TIMEOUT_MS = 1_500


async def _records(settings: PlatformSettings, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of a one-partition topic."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_auto_commit=False,
        **security_options(settings),
    )
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        end = (await consumer.end_offsets([partition]))[partition]
        found: list[ConsumerRecord[bytes, bytes]] = []
        while await consumer.position(partition) < end:
            batch = await consumer.getmany(partition, timeout_ms=1_000)
            found.extend(batch.get(partition, []))
        return found
    finally:
        await consumer.stop()


async def test_a_publish_kafka_refuses_for_now_is_retried_until_the_event_is_applied(
    settings: PlatformSettings,
) -> None:
    marker = uuid.uuid4().hex[:12]
    output = TopicSpec(
        name=f"test.stream-retry-{marker}.v1",
        key="the causing event's id",
        message_types=frozenset(),
        partitions=1,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"test-stream-retry-{marker}",
        **{**PRODUCER_SETTINGS, "request_timeout_ms": REQUEST_TIMEOUT_MS},
        **security_options(settings),
    )
    dead_letters = DeadLetterPublisher(producer, f"test.stream-retry-{marker}")
    # The dead-letter topic exists, so an event wrongly dead-lettered would be seen there.
    await ensure_topics(settings, [dead_letters.topic])
    await producer.start()
    try:
        event_id = f"event-{marker}"
        failures: list[BaseException] = []

        async def apply(envelope: Any) -> None:
            """A handler deriving one event from the one it applies (id fixed by the cause)."""
            try:
                await producer.send_and_wait(
                    output.name, value=b"derived", key=envelope.id.encode()
                )
            except Exception as exc:
                failures.append(exc)
                raise

        record = SimpleNamespace(
            topic="test.stream-retry-input.v1",
            partition=0,
            offset=17,
            key=b"aggregate-1",
            value=b"\x0a\x01x",
            headers=[],
        )
        event = SimpleNamespace(value=SimpleNamespace(id=event_id), message=record)
        handling = asyncio.create_task(handle_event(event, apply, dead_letters))

        async def failed() -> int:
            if handling.done():
                handling.result()  # raises what escaped, if anything did
            return len(failures)

        await eventually(failed, lambda n: n >= 1, timeout_s=30)
        assert isinstance(failures[0], UnknownTopicOrPartitionError)
        await ensure_topics(settings, [output])  # the partition gets its leader
        await asyncio.wait_for(handling, timeout=60)

        assert [r.key for r in await _records(settings, output.name)] == [event_id.encode()]
        assert await _records(settings, dead_letters.topic.name) == []
    finally:
        await producer.stop()
