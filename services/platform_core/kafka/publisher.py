"""Publishes events to registry topics, waiting for the broker's acknowledgement."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from services.platform_core.errors import TopicContractError
from services.platform_core.events.envelope import Envelope, encode_envelope
from services.platform_core.events.topics import TopicSpec


def _checked(
    topic: TopicSpec, envelope: Envelope[Message]
) -> tuple[bytes, list[tuple[str, bytes]]]:
    """The event's value and headers, if the topic's contract admits it."""
    if envelope.type not in topic.message_types:
        raise TopicContractError(f"{envelope.type} is not an event of topic {topic.name}")
    return encode_envelope(envelope)


class EventPublisher:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def publish(self, topic: TopicSpec, envelope: Envelope[Message], key: str) -> None:
        """Send one event and return once all in-sync replicas have it (acks=all)."""
        value, headers = _checked(topic, envelope)
        await self._producer.send_and_wait(
            topic.name, value=value, key=key.encode(), headers=headers
        )

    async def publish_all(self, events: Sequence[tuple[TopicSpec, Envelope[Message], str]]) -> None:
        """Send every event (topic, envelope, key), then return once all are acknowledged.

        One wait for the lot instead of one round trip each: a decision's dozen events cost
        about what one does. Their order within a partition is kept: the producer appends to
        each partition's batch in the order sent and has one batch of a partition in flight at
        a time (aiokafka's sender mutes the partition until it is acknowledged). If any fails,
        this raises once every send has settled; the caller sends the lot again, and the ones
        already stored come twice with their ids, which consumers skip.
        """
        checked = [(topic, _checked(topic, envelope), key) for topic, envelope, key in events]
        sent = [
            await self._producer.send(topic.name, value=value, key=key.encode(), headers=headers)
            for topic, (value, headers), key in checked
        ]
        outcomes = await asyncio.gather(*sent, return_exceptions=True)
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        if failures:
            raise failures[0]
