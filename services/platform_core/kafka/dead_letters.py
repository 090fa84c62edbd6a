"""Dead-letter topics: where a consumer puts a record it cannot decode or apply, and goes on.

The record is kept byte for byte with its original headers, plus ``dlq-*`` headers naming the
source topic, partition, offset, consumer and reason, so an operator can inspect, fix and replay.

Sending it is retried until the broker has it: a dead letter is the last place a record can
go, and giving up (or raising into a Faust agent, which then acknowledges the record) would
drop it. A send retried after a timeout may reach the topic twice; the copies name the same
source offset in their ``dlq-*`` headers.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from services.platform_core.events.envelope import Headers
from services.platform_core.events.topics import TopicSpec, dead_letter_topic
from services.platform_core.kafka.retrying import TRANSIENT_INFRASTRUCTURE_ERRORS, retry_delay

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
        attempt = 0
        while True:
            try:
                await self._producer.send_and_wait(
                    self.topic.name, value=record.value, key=record.key, headers=headers
                )
                return
            except TRANSIENT_INFRASTRUCTURE_ERRORS as exc:
                delay = retry_delay(attempt)
                log.warning(
                    "dead-lettering %s[%d]@%d failed (%s); retry %d in %.1fs",
                    record.topic,
                    record.partition,
                    record.offset,
                    exc,
                    attempt + 1,
                    delay,
                )
            except KafkaError as exc:
                # Not marked retriable (the dead-letter topic's authorisation, a fenced
                # producer ...): there is nowhere else to put the record, so it is kept and
                # tried again, loudly, until an operator fixes the cause - never dropped.
                delay = retry_delay(attempt)
                log.error(
                    "dead-lettering %s[%d]@%d failed on Kafka (%r), an error not marked "
                    "retriable; retry %d in %.1fs - the consumer waits until it is fixed",
                    record.topic,
                    record.partition,
                    record.offset,
                    exc,
                    attempt + 1,
                    delay,
                )
            attempt += 1
            await asyncio.sleep(delay)
