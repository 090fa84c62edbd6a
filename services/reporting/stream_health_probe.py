"""Reads stream health from the broker: consumer groups' committed offsets, the log's beginning
and end offsets, the dead-letter topics; the figures themselves are domain/stream_health.py's.

Each reading opens its own admin client and offsets-only consumer and closes them: the reporting
API must start and serve figures while the broker is away, which long-lived clients started in
the app's lifespan would not allow. The dashboard polls, so a reading (or the failure to get
one) is kept for a few seconds and shared by every request meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from services.platform_core.errors import PlatformError
from services.platform_core.events.topics import is_dead_letter_topic
from services.platform_core.kafka.clients import security_options
from services.platform_core.settings import PlatformSettings
from services.reporting.domain.stream_health import (
    GroupCommitments,
    LogExtent,
    Partition,
    StreamHealth,
    reads_platform_topics,
    stream_health,
)

log = logging.getLogger(__name__)

CACHE_TTL_S = 5.0
# A reading that takes longer answers "unavailable" rather than keeping the dashboard waiting.
READ_TIMEOUT_S = 10.0
REQUEST_TIMEOUT_MS = 5_000
# Groups read at once: a test stack holds hundreds of finished groups, each two requests.
CONCURRENT_GROUP_READS = 16
CLIENT_ID = "prt-reporting-stream-health"


class StreamHealthUnavailable(PlatformError):
    """The broker could not be reached or did not answer in time."""


@dataclass(frozen=True)
class StreamHealthReading:
    health: StreamHealth
    observed_at: datetime


@dataclass(frozen=True)
class _Failure:
    reason: str


class StreamHealthProbe:
    def __init__(
        self,
        settings: PlatformSettings,
        *,
        cache_ttl_s: float = CACHE_TTL_S,
        read_timeout_s: float = READ_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
        read_broker: Callable[[PlatformSettings], Awaitable[StreamHealth]] | None = None,
    ) -> None:
        self._settings = settings
        self._read_broker = read_broker or read_stream_health
        self._cache_ttl_s = cache_ttl_s
        self._read_timeout_s = read_timeout_s
        self._clock = clock
        # One reading at a time: requests arriving meanwhile wait for it and share it.
        self._lock = asyncio.Lock()
        self._last: StreamHealthReading | _Failure | None = None
        self._last_at = 0.0

    async def read(self) -> StreamHealthReading:
        """The latest reading, at most ``cache_ttl_s`` old; raises
        :class:`StreamHealthUnavailable` when the broker cannot be read."""
        async with self._lock:
            if self._last is None or self._clock() - self._last_at >= self._cache_ttl_s:
                self._last = await self._read_or_failure()
                self._last_at = self._clock()
            if isinstance(self._last, _Failure):
                # A fresh exception each time: one raised again and again grows its traceback.
                raise StreamHealthUnavailable(self._last.reason)
            return self._last

    async def _read_or_failure(self) -> StreamHealthReading | _Failure:
        # The failure is kept like a reading, so a broker that is away costs one attempt per
        # cache period, not one per poll of every open dashboard.
        try:
            async with asyncio.timeout(self._read_timeout_s):
                health = await self._read_broker(self._settings)
        except (KafkaError, OSError, TimeoutError) as exc:
            log.warning("stream health unavailable: %r", exc)
            reason = type(exc).__name__
            return _Failure(f"the broker could not be read ({reason})")
        return StreamHealthReading(health, datetime.now(UTC))


async def read_stream_health(settings: PlatformSettings) -> StreamHealth:
    """One reading from the broker, on clients of its own."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "client_id": CLIENT_ID,
        "request_timeout_ms": REQUEST_TIMEOUT_MS,
        **security_options(settings),
    }
    admin = AIOKafkaAdminClient(**options)
    # No group: it only asks for the log's beginning and end offsets.
    offsets = AIOKafkaConsumer(**options)
    try:
        await admin.start()
        await offsets.start()
        topics: list[str] = await admin.list_topics()
        group_ids = sorted({str(group[0]) for group in await admin.list_consumer_groups()})
        groups = await _platform_groups(admin, group_ids)
        read = {topic for group in groups for topic in group.topics}
        dead_letter_topics = {topic for topic in topics if is_dead_letter_topic(topic)}
        extents = await _log_extents(admin, offsets, sorted(read | dead_letter_topics))
        return stream_health(groups, extents, topics)
    finally:
        await offsets.stop()
        await admin.close()


async def _platform_groups(
    admin: AIOKafkaAdminClient, group_ids: list[str]
) -> list[GroupCommitments]:
    limit = asyncio.Semaphore(CONCURRENT_GROUP_READS)

    async def read_group(group_id: str) -> GroupCommitments | None:
        async with limit:
            coordinator = await admin.find_coordinator(group_id)
            committed = await admin.list_consumer_group_offsets(group_id, coordinator)
            group = GroupCommitments(
                group_id,
                {Partition(tp.topic, tp.partition): at.offset for tp, at in committed.items()},
            )
            if not reads_platform_topics(group):
                return None
            # One group per request: aiokafka 0.14 parses a DescribeGroups v3 answer with the v2
            # schema, which ignores the trailing authorised-operations field of the one group
            # but garbles every group after the first.
            (answer,) = await admin.describe_consumer_groups([group_id], coordinator)
            described = answer.to_object()["groups"]
            if len(described) == 1 and not described[0]["error_code"]:
                state = str(described[0]["state"])
                members = len(described[0]["members"])
                return GroupCommitments(group_id, group.committed, state, members)
            return group

    # Every read is let finish (each is bounded by the request timeout) before the first
    # failure is raised, so none is left running on clients about to be closed.
    results = await asyncio.gather(*map(read_group, group_ids), return_exceptions=True)
    groups = []
    for result in results:
        if isinstance(result, BaseException):
            raise result
        if result is not None:
            groups.append(result)
    return groups


async def _log_extents(
    admin: AIOKafkaAdminClient, offsets: AIOKafkaConsumer, topics: list[str]
) -> dict[Partition, LogExtent]:
    if not topics:
        return {}
    # A topic deleted since a group committed on it describes with an error and no partitions.
    partitions = [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in await admin.describe_topics(topics)
        if not topic["error_code"]
        for partition in topic["partitions"]
    ]
    if not partitions:
        return {}
    beginnings = await offsets.beginning_offsets(partitions)
    ends = await offsets.end_offsets(partitions)
    return {
        Partition(tp.topic, tp.partition): LogExtent(int(beginnings[tp]), int(ends[tp]))
        for tp in partitions
    }
