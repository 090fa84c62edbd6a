"""Intake's worker folds the topic into the read model (idempotently by event id, refusing
out-of-order events to its dead-letter topic), and the 容缺 deadline watch breaches a deadline
that spans the 2023 National Day holiday on the right day — once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from prt.v1 import intake_pb2
from redis.asyncio import Redis

from services.intake.deadlines import DeadlineWatch
from services.intake.domain.registration import (
    BidSection,
    Category,
    Deficiency,
    Organisation,
    ProjectRegistration,
)
from services.intake.domain.working_days import add_working_days
from services.intake.event_codec import registration_to_event
from services.intake.read_model import ProjectReadModel
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.ids import new_event_id
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import PROJECT_EVENTS, dead_letter_topic
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from tests.integration.intake.conftest import events_of, raw_records
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

REGISTERED_AT = datetime(2023, 9, 27, 2, 0, tzinfo=UTC)  # Wednesday before 中秋/国庆 2023


def _registration(project_id: str) -> ProjectRegistration:
    return ProjectRegistration(
        project_id=project_id,
        unified_deal_code=f"JN-TEST-{project_id[-12:]}",
        name="济阳区黄河大堤加固工程",
        category=Category.WATER,
        region_code="370115",
        tenderer=Organisation("济南市济阳区水务局", "91110000600037341L"),
        budget_fen=880_000_000,
        registering_department="SWJ",
        registered_at=REGISTERED_AT,
        bid_sections=(BidSection("001", "堤防加固", 880_000_000),),
        deficiency=Deficiency(("水土保持方案批复",), add_working_days(REGISTERED_AT.date(), 5)),
        commitment_pledged=True,
    )


async def test_a_deadline_across_national_day_breaches_once_on_the_right_day(
    intake_worker: ServiceProcess,
    publisher: EventPublisher,
    redis: Redis,
    settings: PlatformSettings,
) -> None:
    project_id = new_event_id()
    registration = registration_to_event(_registration(project_id))
    envelope = Envelope(message=registration, source="/test", subject=project_id)
    await publisher.publish(PROJECT_EVENTS, envelope, key=project_id)
    # Delivered twice (a producer retry, a replay): applied once.
    await publisher.publish(PROJECT_EVENTS, envelope, key=project_id)
    read_model = ProjectReadModel(redis)
    view = await eventually(lambda: read_model.get(project_id), lambda v: v is not None)
    assert view is not None
    # 28 Sep, then 7 and 8 Oct (调休), 9 and 10 Oct: not 4 Oct, not 9 Oct.
    assert view.supplement_deadline == date(2023, 10, 10)

    watch = DeadlineWatch(read_model, publisher)
    # During the holiday and on the deadline day itself (23:59 in Jinan): nothing.
    assert project_id not in await watch.check(datetime(2023, 10, 5, 4, 0, tzinfo=UTC))
    assert project_id not in await watch.check(datetime(2023, 10, 10, 15, 59, tzinfo=UTC))
    # 00:00 on 11 Oct in Jinan.
    assert project_id in await watch.check(datetime(2023, 10, 10, 16, 0, tzinfo=UTC))
    assert project_id not in await watch.check(datetime(2023, 10, 11, 8, 0, tzinfo=UTC))

    events = await events_of(settings, PROJECT_EVENTS, project_id)
    breaches = [
        e.message for e in events if isinstance(e.message, intake_pb2.DeficiencyDeadlineBreached)
    ]
    assert len(breaches) == 1
    breach = breaches[0]
    assert (
        breach.supplement_deadline.year,
        breach.supplement_deadline.month,
        breach.supplement_deadline.day,
    ) == (2023, 10, 10)
    assert list(breach.outstanding_documents) == ["水土保持方案批复"]
    # Dated when the breach happened (00:00 on 11 Oct in Jinan), not when the watch noticed it.
    assert breach.occurred_at.ToDatetime(tzinfo=UTC) == datetime(2023, 10, 10, 16, 0, tzinfo=UTC)
    assert breach.tenderer.name == "济南市济阳区水务局"
    history = await read_model.history(project_id)
    assert [h.type for h in history] == [
        "prt.v1.ProjectRegistered",
        "prt.v1.DeficiencyDeadlineBreached",
    ]
    final = await read_model.get(project_id)
    assert final is not None and final.deadline_breached and final.version == 2


async def test_an_out_of_order_event_goes_to_the_dead_letter_topic(
    intake_worker: ServiceProcess,
    publisher: EventPublisher,
    redis: Redis,
    settings: PlatformSettings,
) -> None:
    project_id = new_event_id()
    registration = registration_to_event(_registration(project_id))
    await publisher.publish(
        PROJECT_EVENTS,
        Envelope(message=registration, source="/test", subject=project_id),
        key=project_id,
    )
    opened = intake_pb2.BidsOpened(
        project_id=project_id,
        occurred_at=to_timestamp(REGISTERED_AT),
        actor_department="JYZX",
        bid_section_code="001",
    )
    out_of_order = Envelope(message=opened, source="/test", subject=project_id)
    await publisher.publish(PROJECT_EVENTS, out_of_order, key=project_id)
    dead_letters = dead_letter_topic("intake.projector")

    async def reasons() -> list[str]:
        found = []
        for key, _, headers in await raw_records(settings, dead_letters):
            if key == project_id.encode():
                found.append(dict(headers)["dlq-reason"].decode())
        return found

    seen = await eventually(reasons, lambda r: len(r) == 1)
    assert "is REGISTERED; OPEN_BIDS is not allowed" in seen[0]
    view = await ProjectReadModel(redis).get(project_id)
    assert view is not None and view.state.value == "REGISTERED"
    assert uuid.UUID(view.project_id)
