"""Stream health for operators: how far each consumer group is behind the log, and how many
records each dead-letter topic holds. Pure: the offsets come in, the figures go out.

A group's lag on a partition is what it has still to read: the log's end offset less where the
group resumes. A group resumes at its committed offset, or - with nothing committed (Kafka
answers -1) - at the partition's beginning offset, which is 0 only until retention deletes the
first segment; counting from 0 would then report records that no longer exist. A dead-letter
topic holds ``end - beginning`` records (summed over its partitions): what retention has
deleted is no longer there to inspect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.platform_core.events.topics import (
    ABNORMAL_WEBHOOKS,
    DEAD_LETTER_SUFFIX,
    EVALUATION_STATES,
    EXPERT_REGISTRY,
    PARTNER_TOPIC_PREFIX,
    is_dead_letter_topic,
    topic_by_name,
)

# Registry topics outside EVENT_TOPICS (topic_by_name knows only those): each is read by one
# service's worker, whose lag counts as much as any other's.
_SERVICE_OWN_TOPICS = frozenset(
    spec.name for spec in (ABNORMAL_WEBHOOKS, EXPERT_REGISTRY, EVALUATION_STATES)
)


@dataclass(frozen=True, order=True)
class Partition:
    topic: str
    partition: int


@dataclass(frozen=True)
class LogExtent:
    """A partition's offsets: the first record still kept and the next one to be written."""

    beginning: int
    end: int

    @property
    def records(self) -> int:
        return max(self.end - self.beginning, 0)


@dataclass(frozen=True)
class GroupCommitments:
    """What one consumer group has committed, as the broker answers it. ``None`` or a negative
    offset: nothing committed on that partition. ``state`` and ``members`` are the broker's
    description of the group (``Stable``, ``Empty``, ...), when known."""

    group_id: str
    committed: Mapping[Partition, int | None]
    state: str | None = None
    members: int | None = None

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(partition.topic for partition in self.committed)


@dataclass(frozen=True)
class PartitionBehind:
    topic: str
    partition: int
    committed: int | None  # None: nothing committed, the group starts at the beginning
    end: int
    lag: int


@dataclass(frozen=True)
class TopicLag:
    topic: str
    lag: int


@dataclass(frozen=True)
class GroupHealth:
    group_id: str
    state: str | None
    members: int | None
    lag: int
    topics: tuple[TopicLag, ...]  # every topic the group reads, most behind first
    behind: tuple[PartitionBehind, ...]  # only the partitions with records left to read


@dataclass(frozen=True)
class DeadLetterCount:
    topic: str
    consumer: str  # whose dead letters: the topic's name without DEAD_LETTER_SUFFIX
    records: int


@dataclass(frozen=True)
class StreamHealth:
    groups: tuple[GroupHealth, ...]  # most behind first
    dead_letters: tuple[DeadLetterCount, ...]  # fullest first

    @property
    def total_lag(self) -> int:
        return sum(group.lag for group in self.groups)

    @property
    def dead_letter_records(self) -> int:
        return sum(topic.records for topic in self.dead_letters)


def is_platform_topic(name: str) -> bool:
    """A topic of this platform: the registry's, a partner stream, or a dead-letter topic.
    Groups reading none of them (tools, other tenants of the broker) are not the platform's."""
    return (
        topic_by_name(name) is not None
        or name in _SERVICE_OWN_TOPICS
        or name.startswith(PARTNER_TOPIC_PREFIX)
        or is_dead_letter_topic(name)
    )


def reads_platform_topics(group: GroupCommitments) -> bool:
    return any(is_platform_topic(topic) for topic in group.topics)


def partition_lag(committed: int | None, extent: LogExtent) -> int:
    """Records of one partition a group has still to read."""
    if committed is None or committed < 0:
        resumes_at = extent.beginning
    else:
        # Committed before records retention has deleted since: the group's consumer resets to
        # the beginning (auto_offset_reset=earliest), so only what is kept is left to read.
        resumes_at = max(committed, extent.beginning)
    # A committed offset past the end (a topic recreated under the group) leaves nothing to read.
    return max(extent.end - resumes_at, 0)


def group_health(group: GroupCommitments, log: Mapping[Partition, LogExtent]) -> GroupHealth:
    """The group's lag over every partition of every topic it has committed on: a partition of
    such a topic without a commitment of its own still has to be read from its beginning.
    Partitions the log does not know (a topic deleted since) have no lag to speak of."""
    topics = group.topics
    lag_by_topic = dict.fromkeys(sorted(topics), 0)
    behind = []
    for partition in sorted(p for p in log if p.topic in topics):
        extent = log[partition]
        committed = group.committed.get(partition)
        if committed is not None and committed < 0:
            committed = None
        lag = partition_lag(committed, extent)
        lag_by_topic[partition.topic] += lag
        if lag:
            behind.append(
                PartitionBehind(partition.topic, partition.partition, committed, extent.end, lag)
            )
    topic_lags = sorted(
        (TopicLag(topic, lag) for topic, lag in lag_by_topic.items()),
        key=lambda topic: (-topic.lag, topic.topic),
    )
    return GroupHealth(
        group_id=group.group_id,
        state=group.state,
        members=group.members,
        lag=sum(lag_by_topic.values()),
        topics=tuple(topic_lags),
        behind=tuple(behind),
    )


def dead_letter_counts(
    topics: Iterable[str], log: Mapping[Partition, LogExtent]
) -> tuple[DeadLetterCount, ...]:
    """Records held by each dead-letter topic among ``topics``, fullest first."""
    held = {name: 0 for name in topics if is_dead_letter_topic(name)}
    for partition, extent in log.items():
        if partition.topic in held:
            held[partition.topic] += extent.records
    counts = (
        DeadLetterCount(name, name.removesuffix(DEAD_LETTER_SUFFIX), records)
        for name, records in held.items()
    )
    return tuple(sorted(counts, key=lambda count: (-count.records, count.topic)))


def stream_health(
    groups: Iterable[GroupCommitments],
    log: Mapping[Partition, LogExtent],
    topics: Iterable[str],
) -> StreamHealth:
    """The platform's groups (those reading at least one platform topic), most behind first,
    and the dead-letter topics among ``topics`` (every topic on the broker)."""
    healths = (group_health(group, log) for group in groups if reads_platform_topics(group))
    return StreamHealth(
        groups=tuple(sorted(healths, key=lambda group: (-group.lag, group.group_id))),
        dead_letters=dead_letter_counts(topics, log),
    )
