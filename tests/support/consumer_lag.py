"""How far a consumer group is behind the log: lets a test start from a settled read model."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.platform_core.events.topics import TopicSpec
from services.platform_core.settings import PlatformSettings
from tests.support.polling import eventually


async def group_lag(settings: PlatformSettings, group_id: str, topics: Iterable[TopicSpec]) -> int:
    """Records on ``topics`` not yet committed by ``group_id`` (uncommitted partitions count
    from their beginning offset)."""
    names = [topic.name for topic in topics]
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    await consumer.start()
    try:
        described = await admin.describe_topics(names)
        partitions = [
            TopicPartition(topic["topic"], part["partition"])
            for topic in described
            for part in topic["partitions"]
        ]
        committed = await admin.list_consumer_group_offsets(group_id, partitions=partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        lag = 0
        for tp in partitions:
            position = committed.get(tp)
            done = position.offset if position is not None and position.offset >= 0 else starts[tp]
            lag += max(0, ends[tp] - done)
        return lag
    finally:
        await consumer.stop()
        await admin.close()


async def wait_until_caught_up(
    settings: PlatformSettings, group_id: str, topics: Iterable[TopicSpec], timeout_s: float = 180
) -> None:
    wanted = list(topics)
    await eventually(
        lambda: group_lag(settings, group_id, wanted), lambda lag: lag == 0, timeout_s=timeout_s
    )
