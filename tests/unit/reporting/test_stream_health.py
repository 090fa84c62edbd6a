"""Stream health: consumer lag and dead-letter counts from offsets (no Kafka), and the probe's
sharing of one reading, and of one failure, between polls."""

from __future__ import annotations

import asyncio

import pytest

from services.platform_core.events.topics import (
    ABNORMAL_PUSHES,
    EXPERT_REGISTRY,
    PROJECT_EVENTS,
    dead_letter_topic,
    partner_answers_topic,
)
from services.platform_core.settings import PlatformSettings
from services.reporting.domain.stream_health import (
    GroupCommitments,
    LogExtent,
    Partition,
    PartitionBehind,
    StreamHealth,
    TopicLag,
    group_health,
    is_platform_topic,
    partition_lag,
    stream_health,
)
from services.reporting.stream_health_probe import StreamHealthProbe, StreamHealthUnavailable

PROJECTS = PROJECT_EVENTS.name
PUSHES = ABNORMAL_PUSHES.name


def projects(partition: int) -> Partition:
    return Partition(PROJECTS, partition)


def pushes(partition: int) -> Partition:
    return Partition(PUSHES, partition)


def test_lag_is_the_end_offset_less_the_committed_offset() -> None:
    assert partition_lag(40, LogExtent(beginning=0, end=55)) == 15
    assert partition_lag(55, LogExtent(beginning=0, end=55)) == 0


@pytest.mark.parametrize("nothing_committed", [None, -1])
def test_a_partition_without_a_commitment_counts_from_its_beginning_not_from_zero(
    nothing_committed: int | None,
) -> None:
    # Retention has deleted the first 900 records: only 100 are left to read.
    assert partition_lag(nothing_committed, LogExtent(beginning=900, end=1000)) == 100


def test_a_commitment_behind_the_beginning_counts_only_what_is_kept() -> None:
    # The consumer resets to the earliest record kept; what retention deleted is not lag.
    assert partition_lag(100, LogExtent(beginning=900, end=1000)) == 100


def test_a_commitment_past_the_end_is_no_lag() -> None:
    # A topic deleted and created again under a group that had read further.
    assert partition_lag(70, LogExtent(beginning=0, end=5)) == 0


def test_a_groups_lag_sums_its_partitions_and_names_those_behind() -> None:
    log = {
        projects(0): LogExtent(0, 100),
        projects(1): LogExtent(0, 50),
        pushes(0): LogExtent(10, 30),
        pushes(1): LogExtent(0, 0),
    }
    group = GroupCommitments(
        "prt-reporting",
        {projects(0): 100, projects(1): 20, pushes(0): -1, pushes(1): 0},
        state="Stable",
        members=1,
    )

    health = group_health(group, log)

    assert health.lag == 30 + 20
    assert health.topics == (TopicLag(PROJECTS, 30), TopicLag(PUSHES, 20))
    assert health.behind == (
        PartitionBehind(PUSHES, 0, committed=None, end=30, lag=20),
        PartitionBehind(PROJECTS, 1, committed=20, end=50, lag=30),
    )
    assert (health.state, health.members) == ("Stable", 1)


def test_a_partition_of_a_topic_the_group_reads_but_never_committed_on_is_behind() -> None:
    # The group committed on partition 0 only; partition 1 has records it has still to read.
    log = {projects(0): LogExtent(0, 10), projects(1): LogExtent(3, 8)}
    health = group_health(GroupCommitments("g", {projects(0): 10}), log)
    assert health.lag == 5
    assert health.behind == (PartitionBehind(PROJECTS, 1, committed=None, end=8, lag=5),)


def test_topics_the_group_does_not_read_are_not_its_lag() -> None:
    log = {projects(0): LogExtent(0, 10), pushes(0): LogExtent(0, 1000)}
    health = group_health(GroupCommitments("g", {projects(0): 4}), log)
    assert health.lag == 6
    assert health.topics == (TopicLag(PROJECTS, 6),)


def test_a_partition_the_log_no_longer_has_has_no_lag() -> None:
    health = group_health(GroupCommitments("g", {projects(0): 4}), {})
    assert health.lag == 0
    assert health.topics == (TopicLag(PROJECTS, 0),)


def test_groups_come_most_behind_first_and_only_the_platforms() -> None:
    log = {projects(p): LogExtent(0, 100) for p in range(2)}
    groups = [
        GroupCommitments("caught-up", {projects(0): 100, projects(1): 100}),
        GroupCommitments("far-behind", {projects(0): 0, projects(1): 0}),
        GroupCommitments("a-little-behind", {projects(0): 90, projects(1): 100}),
        GroupCommitments("also-a-little", {projects(0): 100, projects(1): 90}),
        GroupCommitments("someone-elses", {Partition("orders", 0): 0}),
    ]

    health = stream_health(groups, log, topics=[PROJECTS])

    assert [(g.group_id, g.lag) for g in health.groups] == [
        ("far-behind", 200),
        ("a-little-behind", 10),  # equal lag: by name
        ("also-a-little", 10),
        ("caught-up", 0),
    ]
    assert health.total_lag == 220


def test_dead_letter_topics_count_what_they_hold_over_their_partitions() -> None:
    reporting = dead_letter_topic("reporting.aggregator").name
    intake = dead_letter_topic("intake.projector").name
    log = {
        Partition(reporting, 0): LogExtent(beginning=0, end=3),
        Partition(reporting, 1): LogExtent(beginning=5, end=9),  # 5 expired after 30 days
        Partition(intake, 0): LogExtent(beginning=12, end=12),
        projects(0): LogExtent(0, 500),
    }

    health = stream_health([], log, topics=[PROJECTS, intake, reporting, "__consumer_offsets"])

    assert [(d.topic, d.consumer, d.records) for d in health.dead_letters] == [
        (reporting, "reporting.aggregator", 3 + 4),
        (intake, "intake.projector", 0),
    ]
    assert health.dead_letter_records == 7


def test_a_dead_letter_topic_without_known_partitions_holds_nothing() -> None:
    topic = dead_letter_topic("remote_eval.scheduler").name
    assert stream_health([], {}, [topic]).dead_letters[0].records == 0


@pytest.mark.parametrize(
    ("topic", "platform"),
    [
        (PROJECTS, True),
        (EXPERT_REGISTRY.name, True),
        (partner_answers_topic("370300").name, True),
        (dead_letter_topic("intake.projector").name, True),
        (".dead-letters.v1", False),
        ("orders", False),
        ("__consumer_offsets", False),
    ],
)
def test_which_topics_are_the_platforms(topic: str, platform: bool) -> None:
    assert is_platform_topic(topic) is platform


class FakeBroker:
    """Answers readings in turn: a StreamHealth, or an exception to raise."""

    def __init__(self, *answers: StreamHealth | Exception) -> None:
        self.answers = list(answers)
        self.reads = 0

    async def __call__(self, _: PlatformSettings) -> StreamHealth:
        self.reads += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


EMPTY = StreamHealth(groups=(), dead_letters=())
BEHIND = StreamHealth(
    groups=(group_health(GroupCommitments("g", {projects(0): 1}), {projects(0): LogExtent(0, 2)}),),
    dead_letters=(),
)


async def test_the_probe_shares_a_reading_for_its_cache_period() -> None:
    broker, clock = FakeBroker(EMPTY, BEHIND), Clock()
    probe = StreamHealthProbe(PlatformSettings(), cache_ttl_s=5, clock=clock, read_broker=broker)

    first = await probe.read()
    clock.now += 4.9
    assert await probe.read() is first
    clock.now += 0.1
    assert (await probe.read()).health == BEHIND
    assert broker.reads == 2


async def test_the_probe_shares_a_failure_too_then_reads_again() -> None:
    broker, clock = FakeBroker(ConnectionRefusedError(), EMPTY), Clock()
    probe = StreamHealthProbe(PlatformSettings(), cache_ttl_s=5, clock=clock, read_broker=broker)

    for _ in range(3):
        with pytest.raises(StreamHealthUnavailable, match="ConnectionRefusedError"):
            await probe.read()
    assert broker.reads == 1
    clock.now += 5
    assert (await probe.read()).health == EMPTY


async def test_a_broker_that_does_not_answer_in_time_is_unavailable() -> None:
    async def hangs(_: PlatformSettings) -> StreamHealth:
        await asyncio.sleep(60)
        return EMPTY

    probe = StreamHealthProbe(PlatformSettings(), read_timeout_s=0.05, read_broker=hangs)
    with pytest.raises(StreamHealthUnavailable, match="TimeoutError"):
        await probe.read()


async def test_a_broker_nobody_listens_on_is_unavailable() -> None:
    # Port 1 refuses at once: aiokafka's bootstrap fails, no Kafka needed.
    probe = StreamHealthProbe(PlatformSettings(kafka_bootstrap_servers="127.0.0.1:1"))
    with pytest.raises(StreamHealthUnavailable, match="KafkaConnectionError"):
        await probe.read()
