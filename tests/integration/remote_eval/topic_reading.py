"""Reads a real topic from the beginning to its current end: what the broker holds."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from google.protobuf.message import Message

from services.platform_core.errors import EventDecodeError
from services.platform_core.events.envelope import Envelope, decode_record


async def read_topic(
    bootstrap: str, topic: str
) -> list[tuple[bytes | None, bytes | None, Envelope[Message] | None]]:
    """(key, raw value, decoded envelope or None) of every record now on the topic."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p)
            for p in sorted(
                consumer.partitions_for_topic(topic) or await _partitions(consumer, topic)
            )
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        found: list[tuple[bytes | None, bytes | None, Envelope[Message] | None]] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    try:
                        envelope: Envelope[Message] | None = decode_record(
                            record.value, record.headers
                        )
                    except EventDecodeError:
                        envelope = None
                    found.append((record.key, record.value, envelope))
        return found
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()
    return consumer.partitions_for_topic(topic) or set()


async def events_of(bootstrap: str, topic: str, evaluation_id: str) -> list[Envelope[Message]]:
    return [
        envelope
        for key, _, envelope in await read_topic(bootstrap, topic)
        if envelope is not None and key == evaluation_id.encode()
    ]


async def read_topic_headers(
    bootstrap: str, topic: str
) -> list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]]:
    """(key, raw value, headers) of every record now on the topic (e.g. a dead-letter topic)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(await _partitions(consumer, topic))]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        found: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]] = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                found += [(r.key, r.value, list(r.headers)) for r in records]
        return found
    finally:
        await consumer.stop()
