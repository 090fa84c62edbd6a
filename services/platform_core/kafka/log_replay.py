"""Reading a topic from its first record to its end *now*, for the rebuild commands that
restore a service's Redis projections from its event log; and rewinding a worker's consumer
group, for those whose worker replays the log itself.

No consumer group (nothing is committed, the workers' groups are untouched), committed
transactions only, every partition of the topic as the registry declares it, records in log
order per partition. A record that cannot be decoded is counted and logged, never fatal: the
worker dead-lettered it when it first arrived, and the rebuild must get past it as the worker
did.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from google.protobuf.message import Message

from services.platform_core.errors import EventDecodeError
from services.platform_core.events.envelope import Envelope, decode_record
from services.platform_core.events.topics import TopicSpec
from services.platform_core.kafka.clients import security_options
from services.platform_core.settings import PlatformSettings

log = logging.getLogger(__name__)


@dataclass
class ReplayCounts:
    """What a replay read: every record, and those that could not be decoded."""

    records: int = 0
    undecodable: int = 0


async def replay_topic(
    settings: PlatformSettings, spec: TopicSpec, counts: ReplayCounts, *, client_id: str
) -> AsyncIterator[Envelope[Message]]:
    """Every decodable record of ``spec``'s topic from its beginning to its end as it is when
    the replay starts; ``counts`` is kept up to date as records are read."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=None,
        isolation_level="read_committed",
        enable_auto_commit=False,
        client_id=client_id,
        **security_options(settings),
    )
    await consumer.start()
    try:
        count = spec.partitions or settings.topic_partitions
        partitions = [TopicPartition(spec.name, p) for p in range(count)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=5000)
            for messages in batches.values():
                for message in messages:
                    counts.records += 1
                    try:
                        yield decode_record(
                            message.value, list(message.headers), spec.message_types
                        )
                    except EventDecodeError as exc:
                        counts.undecodable += 1
                        log.warning("%s offset %s: %s", spec.name, message.offset, exc)
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()


class GroupStillConsuming(Exception):
    """A consumer group's offsets cannot be set from outside while its workers run."""


async def commit_offsets(
    settings: PlatformSettings, group_id: str, offsets: Mapping[TopicPartition, int]
) -> None:
    """Commit ``offsets`` for ``group_id`` from outside the group. The group must be empty
    (its workers stopped): the broker refuses a commit from outside a group with members, and
    :class:`GroupStillConsuming` says so."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        **security_options(settings),
    )
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        try:
            await consumer.commit(dict(offsets))
        except KafkaError as exc:
            raise GroupStillConsuming(
                f"consumer group {group_id} refused the offsets ({type(exc).__name__}): "
                "stop its workers first"
            ) from exc
    finally:
        await consumer.stop()


async def rewind_consumer_group(
    settings: PlatformSettings, group_id: str, topics: Sequence[TopicSpec]
) -> None:
    """Offset 0 for every partition of ``topics`` in ``group_id``, so that the group's next
    worker replays them from the beginning (its workers stopped, see :func:`commit_offsets`)."""
    # The registry's partition counts are the topics' (ensure_topics refuses a mismatch).
    partitions = [
        TopicPartition(spec.name, partition)
        for spec in topics
        for partition in range(spec.partitions or settings.topic_partitions)
    ]
    await commit_offsets(settings, group_id, dict.fromkeys(partitions, 0))
