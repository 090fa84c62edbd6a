"""Publishes events to registry topics, waiting for the broker's acknowledgement."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from services.platform_core.errors import TopicContractError
from services.platform_core.events.envelope import Envelope, encode_envelope
from services.platform_core.events.topics import TopicSpec


class EventPublisher:
    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def publish(self, topic: TopicSpec, envelope: Envelope[Message], key: str) -> None:
        """Send one event and return once all in-sync replicas have it (acks=all)."""
        if envelope.type not in topic.message_types:
            raise TopicContractError(f"{envelope.type} is not an event of topic {topic.name}")
        value, headers = encode_envelope(envelope)
        await self._producer.send_and_wait(
            topic.name, value=value, key=key.encode(), headers=headers
        )
