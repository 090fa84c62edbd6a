"""The deadline watch over pending 容缺 deadlines, on an in-memory read model, with a calendar
that has no 2027 until the test publishes it: no deadline and no breach while the calendar lacks
the year; DeficiencyDeadlineSet once it has it, once per project; a deadline set after it passed
is breached dated the day after it; a project supplemented or terminated while pending is never
given a deadline nor breached. (The same watch on the real Redis and broker:
tests/integration/intake/test_pending_deadline.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest
from google.protobuf.message import Message
from prt.v1 import intake_pb2

from services.intake.deadlines import (
    DeadlineWatch,
    breach_event_id,
    breach_moment,
    settle_wait,
)
from services.intake.domain.lifecycle import LifecycleFact, ProjectView, Step, evolve
from services.intake.domain.registration import Deficiency, ProjectRegistration, registered_view
from services.intake.event_codec import fact_from_envelope
from services.intake.read_model import ProjectBusy, ProjectReadModel
from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.topics import PROJECT_EVENTS, TopicSpec
from services.platform_core.kafka.publisher import EventPublisher
from tests.unit.intake import calendars
from tests.unit.intake.test_pending_deadlines import DEADLINE, MISSING, PENDING


class MemoryReadModel:
    """What the watch asks of ProjectReadModel, over a dict: views folded with evolve."""

    def __init__(self) -> None:
        self.views: dict[str, ProjectView] = {}
        self.applied: set[str] = set()
        self.busy: set[str] = set()  # projects another request holds

    def register(self, registration: ProjectRegistration) -> None:
        self.views[registration.project_id] = registered_view(registration)

    async def get(self, project_id: str) -> ProjectView | None:
        return self.views.get(project_id)

    async def record_step(self, event_id: str, event_type: str, fact: LifecycleFact) -> bool:
        if event_id in self.applied:
            return False
        self.applied.add(event_id)
        self.views[fact.project_id] = evolve(self.views[fact.project_id], fact)
        return True

    async def pending_deadlines(self) -> list[str]:
        return [pid for pid, view in self.views.items() if view.supplement_deadline_pending]

    async def due_deadlines(self, today: date) -> list[str]:
        return [
            pid
            for pid, view in self.views.items()
            if view.supplement_deadline is not None
            and not view.deadline_breached
            and view.supplement_deadline < today
        ]

    @asynccontextmanager
    async def project_lock(self, project_id: str) -> AsyncIterator[None]:
        if project_id in self.busy:
            raise ProjectBusy(f"project {project_id} is being changed by another request")
        yield


class Topic:
    """A publisher that keeps what it publishes, encoded and decoded as on the broker."""

    def __init__(self) -> None:
        self.events: list[Envelope[Any]] = []

    async def publish(self, topic: TopicSpec, envelope: Envelope[Message], key: str) -> None:
        assert topic is PROJECT_EVENTS and key == envelope.subject
        value, headers = encode_envelope(envelope)
        self.events.append(decode_record(value, headers, PROJECT_EVENTS.message_types))

    def of(self, kind: type[Message], project_id: str) -> list[Any]:
        return [
            e.message
            for e in self.events
            if isinstance(e.message, kind) and e.subject == project_id
        ]


@pytest.fixture
def calendar(monkeypatch: pytest.MonkeyPatch) -> calendars.Calendar:
    return calendars.install(monkeypatch, published_through=2026)


@pytest.fixture
def read_model() -> MemoryReadModel:
    return MemoryReadModel()


@pytest.fixture
def topic() -> Topic:
    return Topic()


def _watch(read_model: MemoryReadModel, topic: Topic) -> DeadlineWatch:
    return DeadlineWatch(cast(ProjectReadModel, read_model), cast(EventPublisher, topic))


def _at(year: int, month: int, day: int, hour: int = 2) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def _registered(read_model: MemoryReadModel, project_id: str = "p1") -> str:
    read_model.register(replace(PENDING, project_id=project_id))
    return project_id


def _deadline(message: Any) -> date:
    local = message.supplement_deadline
    return date(local.year, local.month, local.day)


async def test_no_deadline_and_no_breach_while_the_calendar_lacks_the_year(
    calendar: calendars.Calendar,
    read_model: MemoryReadModel,
    topic: Topic,
) -> None:
    project_id = _registered(read_model)
    watch = _watch(read_model, topic)
    # Months after any deadline the documents could have had: still nothing.
    for now in (_at(2026, 12, 29), _at(2027, 1, 6), _at(2027, 6, 30)):
        assert await watch.check(now) == []
        assert await watch.set_pending_deadlines(now) == []
    assert topic.events == []
    view = read_model.views[project_id]
    assert view.supplement_deadline is None and view.supplement_deadline_pending
    assert not view.deadline_breached


async def test_the_deadline_is_set_once_the_calendar_covers_it_and_only_once(
    calendar: calendars.Calendar,
    read_model: MemoryReadModel,
    topic: Topic,
) -> None:
    project_id = _registered(read_model)
    watch = _watch(read_model, topic)
    assert await watch.set_pending_deadlines(_at(2026, 12, 29)) == []
    calendar.publish(2027)
    now = _at(2026, 12, 30)
    assert await watch.set_pending_deadlines(now) == [project_id]
    set_events = topic.of(intake_pb2.DeficiencyDeadlineSet, project_id)
    assert len(set_events) == 1
    event = set_events[0]
    assert _deadline(event) == DEADLINE
    assert event.supplement_working_days == 5
    counted = event.counted_from
    assert (counted.year, counted.month, counted.day) == (2026, 12, 28)
    assert event.occurred_at.ToDatetime(tzinfo=UTC) == now
    assert topic.events[0].time == now
    view = read_model.views[project_id]
    assert (view.supplement_deadline, view.supplement_deadline_pending) == (DEADLINE, False)
    # Again: nothing more.
    assert await watch.check(_at(2026, 12, 31)) == []
    assert len(topic.of(intake_pb2.DeficiencyDeadlineSet, project_id)) == 1
    # A second watch that finds the deadline still pending (the first was killed between
    # publishing and recording) publishes it again under the same event id, which consumers
    # apply once.
    read_model.views[project_id] = replace(
        view, supplement_deadline=None, supplement_deadline_pending=True
    )
    assert await _watch(read_model, topic).set_pending_deadlines(_at(2027, 1, 2)) == [project_id]
    repeated = [
        e.id for e in topic.events if isinstance(e.message, intake_pb2.DeficiencyDeadlineSet)
    ]
    assert len(repeated) == 2 and repeated[0] == repeated[1]


async def test_a_deadline_set_in_time_is_breached_the_day_after_it_as_usual(
    calendar: calendars.Calendar,
    read_model: MemoryReadModel,
    topic: Topic,
) -> None:
    project_id = _registered(read_model)
    watch = _watch(read_model, topic)
    calendar.publish(2027)
    assert await watch.check(_at(2026, 12, 30)) == []
    # 23:59 in Jinan on 5 January 2027: not yet; 00:00 on the 6th: breached.
    assert await watch.check(datetime(2027, 1, 5, 15, 59, tzinfo=UTC)) == []
    assert await watch.check(datetime(2027, 1, 5, 16, 0, tzinfo=UTC)) == [project_id]
    breaches = topic.of(intake_pb2.DeficiencyDeadlineBreached, project_id)
    assert len(breaches) == 1
    assert _deadline(breaches[0]) == DEADLINE
    assert list(breaches[0].outstanding_documents) == list(MISSING)


async def test_a_breach_published_again_repeats_its_event_id(
    calendar: calendars.Calendar,
    read_model: MemoryReadModel,
    topic: Topic,
) -> None:
    """A watch killed between publishing a breach and recording it leaves the project due;
    the next check publishes the breach again under the same id, which consumers count once."""
    project_id = _registered(read_model)
    calendar.publish(2027)
    await _watch(read_model, topic).check(_at(2026, 12, 30))
    before = read_model.views[project_id]
    after_breach = _at(2027, 1, 6)
    assert await _watch(read_model, topic).check(after_breach) == [project_id]
    read_model.views[project_id] = before  # the record never happened
    assert await _watch(read_model, topic).check(after_breach) == [project_id]
    ids = [
        e.id for e in topic.events if isinstance(e.message, intake_pb2.DeficiencyDeadlineBreached)
    ]
    assert ids == [breach_event_id(project_id, DEADLINE)] * 2
    # Another deadline of the same project would be another breach.
    assert breach_event_id(project_id, date(2027, 1, 7)) != ids[0]


async def test_a_project_held_by_a_request_is_left_to_the_next_check_not_the_others(
    calendar: calendars.Calendar,
    read_model: MemoryReadModel,
    topic: Topic,
) -> None:
    held, free = _registered(read_model, "held"), _registered(read_model, "free")
    calendar.publish(2027)
    watch = _watch(read_model, topic)
    read_model.busy.add(held)
    assert await watch.set_pending_deadlines(_at(2026, 12, 30)) == [free]
    assert await watch.check(_at(2027, 1, 6)) == [free]
    read_model.busy.clear()
    assert await watch.set_pending_deadlines(_at(2027, 1, 6)) == [held]
    assert await watch.check(_at(2027, 1, 6)) == [held]


async def test_a_deadline_set_after_it_passed_is_breached_dated_the_day_after_it(
    calendar: calendars.Calendar,
    read_model: MemoryReadModel,
    topic: Topic,
) -> None:
    project_id = _registered(read_model)
    watch = _watch(read_model, topic)
    assert await watch.check(_at(2027, 1, 20)) == []  # 2027 still unpublished
    calendar.publish(2027)  # published late: the deadline (5 January) is already over
    now = _at(2027, 2, 1)
    assert await watch.check(now) == [project_id]
    assert [e.type for e in topic.events] == [
        "prt.v1.DeficiencyDeadlineSet",
        "prt.v1.DeficiencyDeadlineBreached",
    ]
    breach = topic.of(intake_pb2.DeficiencyDeadlineBreached, project_id)[0]
    assert _deadline(breach) == DEADLINE
    # 00:00 on 6 January 2027 in Jinan, not when the calendar arrived.
    assert breach.occurred_at.ToDatetime(tzinfo=UTC) == breach_moment(DEADLINE)
    assert breach_moment(DEADLINE) == datetime(2027, 1, 5, 16, 0, tzinfo=UTC)
    assert read_model.views[project_id].deadline_breached
    assert await watch.check(_at(2027, 2, 2)) == []
    assert len(topic.events) == 2


@pytest.mark.parametrize(
    "meanwhile",
    [
        LifecycleFact("p1", Step.SUPPLEMENT_DOCUMENTS, _at(2026, 12, 29), "ZJJ", MISSING),
        LifecycleFact("p1", Step.TERMINATE, _at(2026, 12, 29), "ZJJ"),
    ],
    ids=["supplemented", "terminated"],
)
async def test_a_project_supplemented_or_terminated_while_pending_never_breaches(
    calendar: calendars.Calendar,
    read_model: MemoryReadModel,
    topic: Topic,
    meanwhile: LifecycleFact,
) -> None:
    project_id = _registered(read_model)
    other = _registered(read_model, "p2")  # still pending: the check does run
    watch = _watch(read_model, topic)
    await read_model.record_step("e-meanwhile", "test", meanwhile)
    calendar.publish(2027)
    assert await watch.check(_at(2027, 3, 1)) == [other]
    assert topic.of(intake_pb2.DeficiencyDeadlineSet, project_id) == []
    assert topic.of(intake_pb2.DeficiencyDeadlineBreached, project_id) == []
    assert len(topic.of(intake_pb2.DeficiencyDeadlineBreached, other)) == 1
    view = read_model.views[project_id]
    assert view.supplement_deadline is None and not view.supplement_deadline_pending


async def test_a_project_partly_supplemented_while_pending_is_still_watched(
    calendar: calendars.Calendar,
    read_model: MemoryReadModel,
    topic: Topic,
) -> None:
    project_id = _registered(read_model)
    await read_model.record_step(
        "e-partly",
        "test",
        LifecycleFact(project_id, Step.SUPPLEMENT_DOCUMENTS, _at(2026, 12, 29), "ZJJ", MISSING[:1]),
    )
    calendar.publish(2027)
    assert await _watch(read_model, topic).check(_at(2027, 1, 7)) == [project_id]
    breach = topic.of(intake_pb2.DeficiencyDeadlineBreached, project_id)[0]
    assert list(breach.outstanding_documents) == list(MISSING[1:])


async def test_the_set_events_fold_into_the_view_the_watch_recorded(
    calendar: calendars.Calendar,
    read_model: MemoryReadModel,
    topic: Topic,
) -> None:
    """What the stream worker folds from the topic is what the watch recorded itself."""
    project_id = _registered(read_model)
    calendar.publish(2027)
    await _watch(read_model, topic).set_pending_deadlines(_at(2026, 12, 30))
    folded = registered_view(replace(PENDING, project_id=project_id))
    for envelope in topic.events:
        fact = fact_from_envelope(envelope)
        assert fact is not None
        folded = evolve(folded, fact)
    assert folded == read_model.views[project_id]


def test_a_registration_counted_at_once_is_not_pending() -> None:
    view = registered_view(replace(PENDING, deficiency=Deficiency(MISSING, DEADLINE, 5)))
    assert not view.supplement_deadline_pending


def test_history_being_entered_waits_the_backfill_settle() -> None:
    deadline = date(2023, 3, 8)  # breached at 00:00 on 9 March in Jinan (16:00 UTC the 8th)
    breached_at = breach_moment(deadline)
    # Found long after (a 2023 project registered today): the backfill wait.
    assert settle_wait(deadline, _at(2026, 12, 5), 15.0, 600.0) == 600.0
    # Found seconds after midnight, as a live deadline is: the short wait.
    assert settle_wait(deadline, breached_at + timedelta(seconds=20), 15.0, 600.0) == 15.0
    assert settle_wait(deadline, breached_at + timedelta(seconds=601), 15.0, 600.0) == 600.0


async def test_a_deadline_long_past_when_found_is_breached_only_after_the_backfill_settle(
    calendar: calendars.Calendar,
    read_model: MemoryReadModel,
    topic: Topic,
) -> None:
    """A deadline found as it passes waits the short settle; one found months after it passed
    (a clerk entering the project late, its 补正 to follow by minutes) waits the backfill
    settle (here 600 s of the watch's clock)."""
    calendar.publish(2027)
    clock = [1000.0]
    watch = DeadlineWatch(
        cast(ProjectReadModel, read_model),
        cast(EventPublisher, topic),
        settle_seconds=15.0,
        backfill_settle_seconds=600.0,
        monotonic=lambda: clock[0],
    )
    live = _registered(read_model, "live")
    await watch.set_pending_deadlines(_at(2026, 12, 30))
    just_passed = datetime(2027, 1, 5, 16, 0, 5, tzinfo=UTC)  # 00:00:05 on the 6th in Jinan
    assert await watch.check(just_passed) == []
    clock[0] += 16
    assert await watch.check(just_passed + timedelta(seconds=16)) == [live]

    entered_late = _registered(read_model, "entered-late")  # the same deadline, months later
    await watch.set_pending_deadlines(_at(2027, 6, 1))
    months_later = _at(2027, 6, 1)
    assert await watch.check(months_later) == []
    clock[0] += 300
    assert await watch.check(months_later) == []  # its 补正 may still come
    clock[0] += 301
    assert await watch.check(months_later) == [entered_late]
    assert len(topic.of(intake_pb2.DeficiencyDeadlineBreached, live)) == 1
    assert len(topic.of(intake_pb2.DeficiencyDeadlineBreached, entered_late)) == 1
