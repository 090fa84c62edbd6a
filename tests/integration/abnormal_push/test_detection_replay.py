"""A rebuild replays the intake topic into emptied detection state, reading the projects'
partitions in another interleaving than they were lived. R024 judges each section against the
price gaps of every other project's sections, so the replay can find what the live judgement
did not: it must not file it (departments would get a new report, the bulletin would count it).
What live filed is re-found under the same report id and not filed again.

Detection runs in-process here, on the real broker and on a Redis database of its own: the
rebuild's wipe and replay boundary must not reach a worker other tests run."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import TopicPartition
from google.protobuf.message import Message
from prt.v1 import abnormal_push_pb2, common_pb2, intake_pb2
from redis.asyncio import Redis

from services.abnormal_push.detection import (
    REPLAY_BOUNDARY,
    DetectionState,
    Detector,
    LogPosition,
)
from services.abnormal_push.rebuild import (
    count_filed_reports,
    delete_projections,
    judged_offsets,
    record_replay_boundary,
)
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import ABNORMAL_REPORTS, EVALUATIONS, PROJECT_EVENTS
from services.platform_core.kafka.log_replay import ReplayCounts, commit_offsets, replay_topic
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from tests.integration.abnormal_push.fixtures import credit_code

pytestmark = pytest.mark.integration

DETECTION_DB = 7  # not the services' database: the test wipes it
T = datetime(2024, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
async def own_redis(settings: PlatformSettings) -> AsyncIterator[Redis]:
    base, _, _ = settings.redis_url.rpartition("/")
    client = Redis.from_url(f"{base}/{DETECTION_DB}")
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


def _org(code: str) -> common_pb2.OrganisationRef:
    return common_pb2.OrganisationRef(name="某公司", unified_social_credit_code=code)


def _publicised(project_id: str, at: datetime, winner: int, runner_up: int) -> Envelope[Message]:
    message = intake_pb2.CandidatesPublicised(
        project_id=project_id,
        occurred_at=to_timestamp(at),
        actor_department="JYZX",
        bid_section_code="S1",
        candidates=[
            intake_pb2.Candidate(rank=1, bidder=_org(credit_code()), bid_price_fen=winner),
            intake_pb2.Candidate(rank=2, bidder=_org(credit_code()), bid_price_fen=runner_up),
        ],
    )
    return Envelope(message=message, source="/tests/abnormal-push", subject=project_id)


def _registered(project_id: str) -> Envelope[Message]:
    message = intake_pb2.ProjectRegistered(
        project_id=project_id,
        occurred_at=to_timestamp(T - timedelta(days=30)),
        actor_department="JYZX",
        name="回放测试项目",
        category=common_pb2.PROJECT_CATEGORY_HOUSING,
    )
    return Envelope(message=message, source="/tests/abnormal-push", subject=project_id)


async def _reports_on_the_log(settings: PlatformSettings, project_ids: set[str]) -> list[str]:
    """The report ids abnormal.reports.v1 holds for the projects, one per record."""
    found = []
    async for envelope in replay_topic(
        settings, ABNORMAL_REPORTS, ReplayCounts(), client_id="detection-replay-test"
    ):
        message = envelope.message
        if (
            isinstance(message, abnormal_push_pb2.AbnormalReportFiled)
            and message.project_id in project_ids
        ):
            found.append(message.report_id)
    return found


async def test_a_replay_files_only_what_is_on_the_log(
    settings: PlatformSettings, publisher: EventPublisher, own_redis: Redis
) -> None:
    run = uuid.uuid4().hex[:8]
    topic = PROJECT_EVENTS.name
    # 19 sections of history, gaps 4 % to 6 %, publicised the day before: one short of the 20
    # R024 needs.
    history = [
        (
            LogPosition(topic, 2, n),
            _publicised(
                f"p-{run}-h{n}",
                T - timedelta(days=1, minutes=n),
                100_000_00,
                100_000_00 + (4_000_00 if n % 2 else 6_000_00) + n * 10_00,
            ),
        )
        for n in range(19)
    ]
    # X publicised first, Y after it, but Y's partition delivered first live: Y was judged
    # against 19 sections (not applied) and so was X (Y is not before it). Z came last and was
    # judged against all 21: its winner hugging the runner-up filed a report.
    x_id, y_id, z_id, w_id = (f"p-{run}-{name}" for name in "xyzw")
    x = (
        LogPosition(topic, 1, 0),
        _publicised(x_id, T + timedelta(hours=1), 100_000_00, 105_000_00),
    )
    y = (
        LogPosition(topic, 0, 0),
        _publicised(y_id, T + timedelta(hours=2), 200_000_00, 200_002_00),
    )
    z = (
        LogPosition(topic, 3, 0),
        _publicised(z_id, T + timedelta(hours=3), 300_000_00, 300_003_00),
    )
    registrations = [
        (LogPosition(topic, 4, n), _registered(pid)) for n, pid in enumerate((x_id, y_id, z_id))
    ]
    projects = {x_id, y_id, z_id, w_id}

    live = Detector(DetectionState(own_redis), publisher)
    for position, envelope in [*registrations, *history, y, x, z]:
        await live.apply(envelope, position)
    filed_live = await _reports_on_the_log(settings, projects)
    assert len(filed_live) == 1  # Z's
    (z_report,) = filed_live

    # The rebuild: the worker's group had judged all of it; the state is wiped and each rule's
    # reports are counted from the log.
    judged = {f"{topic}:{p}": offset for p, offset in ((0, 1), (1, 1), (2, 19), (3, 1), (4, 3))}
    await record_replay_boundary(own_redis, judged)
    await delete_projections(own_redis)
    await count_filed_reports(settings, own_redis)

    # The replay reads X's partition before Y's: Y is judged against 20 sections now, and its
    # winner hugging the runner-up is found - a finding the live judgement never made.
    replay_state = DetectionState(own_redis)
    replay = Detector(replay_state, publisher)
    for position, envelope in [*registrations, *history, x, y, z]:
        await replay.apply(envelope, position)
    assert await _reports_on_the_log(settings, projects) == [z_report]
    (not_filed,) = [
        entry
        for entry in await replay_state.recent_not_applied(limit=200)
        if entry["rule_id"] == "R024" and "not on the log" in entry["reason"]
    ]
    assert not_filed["event_id"] == y[1].id
    assert await replay_state.on_the_log("R024", [z_report]) == [True]

    # Past the boundary detection judges live again: a new section hugging its runner-up files.
    w = _publicised(w_id, T + timedelta(hours=4), 400_000_00, 400_004_00)
    await replay.apply(w, LogPosition(topic, 0, 1))
    after = await _reports_on_the_log(settings, projects)
    assert len(after) == 2 and z_report in after


async def test_the_replay_boundary_is_where_the_group_stood_and_survives_a_second_rebuild(
    settings: PlatformSettings, publisher: EventPublisher, own_redis: Redis
) -> None:
    group = f"detection-boundary-test-{uuid.uuid4().hex[:8]}"
    await commit_offsets(
        settings,
        group,
        {TopicPartition(PROJECT_EVENTS.name, 0): 12, TopicPartition(EVALUATIONS.name, 1): 3},
    )
    judged = await judged_offsets(settings, group)
    assert judged == {f"{PROJECT_EVENTS.name}:0": 12, f"{EVALUATIONS.name}:1": 3}

    assert await record_replay_boundary(own_redis, judged) == judged
    await delete_projections(own_redis)
    # Run again mid-replay: the group stands near the start, the first boundary holds.
    again = await record_replay_boundary(own_redis, {f"{PROJECT_EVENTS.name}:0": 4})
    assert again == judged
    assert await DetectionState(own_redis).replay_boundary() == judged
    assert await own_redis.exists(REPLAY_BOUNDARY)
