"""How far a consumer group is behind the log: lets a test start from a settled read model."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.platform_core.events.topics import TopicSpec
from services.platform_core.settings import PlatformSettings
from tests.support.polling import eventually


async def lag_by_partition(
    settings: PlatformSettings, group_id: str, topics: Iterable[TopicSpec]
) -> dict[str, int]:
    """Records on ``topics`` not yet committed by ``group_id``, per partition that is behind,
    keyed ``"topic[partition] committed/end"`` (an uncommitted partition counts from its
    beginning offset)."""
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
        behind: dict[str, int] = {}
        for tp in partitions:
            position = committed.get(tp)
            done = position.offset if position is not None and position.offset >= 0 else starts[tp]
            if ends[tp] > done:
                behind[f"{tp.topic}[{tp.partition}] {done}/{ends[tp]}"] = ends[tp] - done
        return behind
    finally:
        await consumer.stop()
        await admin.close()


async def wait_until_caught_up(
    settings: PlatformSettings,
    group_id: str,
    topics: Iterable[TopicSpec],
    timeout_s: float = 180,
    consumers_alive: Callable[[], None] = lambda: None,
) -> None:
    """Waits until ``group_id`` has committed every record on ``topics``; on timeout the
    failure names the group and each partition still behind (committed/end offsets).
    ``consumers_alive`` raises if the group's consumers have died: no point waiting then."""
    wanted = list(topics)

    async def behind() -> dict[str, int]:
        consumers_alive()
        return await lag_by_partition(settings, group_id, wanted)

    try:
        await eventually(
            behind,
            lambda behind: not behind,
            timeout_s=timeout_s,
        )
    except AssertionError as exc:
        raise AssertionError(f"consumer group {group_id} still behind: {exc}") from None
