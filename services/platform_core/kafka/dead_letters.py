"""Dead-letter topics: where a consumer puts a record it cannot decode or apply, and goes on.

The record is kept byte for byte with its original headers, plus ``dlq-*`` headers naming the
source topic, partition, offset, consumer and reason, so an operator can inspect, fix and replay.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from services.platform_core.events.envelope import Headers
from services.platform_core.events.topics import TopicSpec, dead_letter_topic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceRecord:
    """A record as it was read from Kafka."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers


class DeadLetterPublisher:
    def __init__(self, producer: AIOKafkaProducer, consumer: str) -> None:
        self._producer = producer
        self.consumer = consumer
        self.topic: TopicSpec = dead_letter_topic(consumer)

    async def send(self, record: SourceRecord, reason: str) -> None:
        log.warning(
            "dead-lettering %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason
        )
        headers = [
            *[(name, value) for name, value in record.headers if not name.startswith("dlq-")],
            ("dlq-reason", reason.encode()),
            ("dlq-topic", record.topic.encode()),
            ("dlq-partition", str(record.partition).encode()),
            ("dlq-offset", str(record.offset).encode()),
            ("dlq-consumer", self.consumer.encode()),
            ("dlq-time", datetime.now(UTC).isoformat().encode()),
        ]
        await self._producer.send_and_wait(
            self.topic.name, value=record.value, key=record.key, headers=headers
        )
