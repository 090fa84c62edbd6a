"""The 容缺 deadline watch.

Pending deadlines first: a 容缺 registration accepted while the working-day calendar did not
cover its deadline (see domain.deficiency) has the deadline counted at every check, and once the
calendar covers it (a chinese_calendar release with the new year, installed and the worker
restarted) DeficiencyDeadlineSet states it — once per project (its event id is derived from the
project, see WATCH_EVENT_NAMESPACE), never for a project whose documents were all supplied or
that was terminated meanwhile.

Then breaches: a supplement deadline passed with documents still missing emits
DeficiencyDeadlineBreached, once, dated 00:00 (China time) on the first day after the deadline —
the moment the breach happened, whenever the watch notices it. A watch that was down for a day,
or a project backfilled from an earlier year, therefore still counts in the right period; so does
a deadline set late because the calendar came late (it is breached at the same check that sets it
if it has passed, dated the day after it).

``check(now)`` takes the time as an argument, so a test can stand on any day of any year, and
the working-day count is the watch's ``count`` parameter, so a test can stand in a calendar that
does or does not cover a year; the stream worker calls it from a timer with the real clock and
the real calendar.

A breach is a fact of the calendar, not of the watch's timer: a 补正 dated after the deadline, or
a step that ends the project (award, 成交, termination) dated after it, finds the deadline passed
with documents outstanding whether or not the watch has run (a backfilled story, or the seconds
after midnight before its tick). The API then publishes the breach first (``overdue_breach``,
under the project's lock, with the watch's event id, so the two never record it twice) and the
step after it. A project in a final state (awarded, completed, terminated) can no longer supply
anything (补正 is refused): its deadline is no longer watched (the read model drops it).

``settle_seconds``: a project found overdue is breached only when it is still overdue at a check
at least that long after it was first found so (a 补正 posted in the last seconds of the day may
still be on its way). ``backfill_settle_seconds`` is the wait for a project whose deadline had
passed long before the watch first found it so — longer than that wait itself: history being
entered (a migration, or a clerk typing an old project in by hand), whose 补正 may follow its
registration by minutes. Without it a tick in between would breach a deadline that was met, and
detection would file a commitment-breach report against a tenderer who kept the commitment. A
watch that was down for a while waits the same; its breaches are dated when they happened all
the same.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from prt.v1 import intake_pb2

from services.intake.domain.deficiency import counted_from, pending_deadline
from services.intake.domain.lifecycle import FINAL_STATES, LifecycleFact, ProjectView, Step
from services.intake.domain.working_days import (
    CHINA,
    CalendarUnavailable,
    WorkingDays,
    add_working_days,
    china_date,
    deadline_passed,
)
from services.intake.event_codec import breach_event, deadline_set_event
from services.intake.read_model import ProjectBusy, ProjectReadModel
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.kafka.publisher import EventPublisher

log = logging.getLogger(__name__)

SOURCE = "/jinan-prt/intake/deadline-watch"
# The watch's events have ids derived from what they state (a project's deadline set, a
# project's deadline breached), so publishing one again - a second watch, or a watch killed
# between publishing and recording - repeats the same event id, which every consumer applies
# once. Nothing has to be remembered before publishing, and nothing is lost if a watch dies.
WATCH_EVENT_NAMESPACE = uuid.UUID("a9c2a99d-8347-46b6-8896-462e005d15b8")


def deadline_set_event_id(project_id: str) -> str:
    return str(uuid.uuid5(WATCH_EVENT_NAMESPACE, f"deficiency-deadline-set/{project_id}"))


def breach_event_id(project_id: str, deadline: date) -> str:
    return str(
        uuid.uuid5(WATCH_EVENT_NAMESPACE, f"deficiency-breach/{project_id}/{deadline.isoformat()}")
    )


def breach_moment(deadline: date) -> datetime:
    """00:00 in China on the day after the last day to supplement."""
    return datetime.combine(deadline + timedelta(days=1), clock_time(0), tzinfo=CHINA).astimezone(
        UTC
    )


@dataclass(frozen=True)
class Breach:
    """A breach to publish: its event, and the fact the read model folds."""

    envelope: Envelope[intake_pb2.DeficiencyDeadlineBreached]
    fact: LifecycleFact


def settle_wait(
    deadline: date, found_at: datetime, settle_seconds: float, backfill_settle_seconds: float
) -> float:
    """How long a project whose ``deadline`` was found passed at ``found_at`` waits before it is
    breached: ``backfill_settle_seconds`` if the deadline had passed longer than that (history
    being entered), else ``settle_seconds`` (see the module's docstring)."""
    late_by = (found_at - breach_moment(deadline)).total_seconds()
    return backfill_settle_seconds if late_by > backfill_settle_seconds else settle_seconds


def overdue_breach(view: ProjectView, now: datetime) -> Breach | None:
    """The breach of the project's 容缺 deadline if, by ``now``, the deadline passed with
    documents outstanding while the project was open and no breach is recorded; else None.
    Dated 00:00 China time on the day after the deadline, with an id derived from the project
    and the deadline: whoever notices it (the watch, or the API receiving a late step) publishes
    the same event."""
    deadline = view.supplement_deadline
    if (
        deadline is None
        or view.deadline_breached
        or not view.outstanding_documents
        or view.state in FINAL_STATES
        or not deadline_passed(deadline, now)
    ):
        return None
    breached_at = breach_moment(deadline)
    envelope = Envelope(
        message=breach_event(view, breached_at),
        source=SOURCE,
        subject=view.project_id,
        id=breach_event_id(view.project_id, deadline),
        time=breached_at,
    )
    return Breach(envelope, LifecycleFact(view.project_id, Step.BREACH_DEADLINE, breached_at))


def _remembered(count: WorkingDays) -> WorkingDays:
    """``count`` answering each (start, working days) once: a check counts for every pending
    project, and those registered on one day with the same working days share the answer."""
    answers: dict[tuple[date, int], date | int] = {}  # the deadline, or the missing year

    def remembered(start: date, working_days: int) -> date:
        key = (start, working_days)
        if key not in answers:
            try:
                answers[key] = count(start, working_days)
            except CalendarUnavailable as unavailable:
                answers[key] = unavailable.year
        answer = answers[key]
        if isinstance(answer, int):
            raise CalendarUnavailable(answer)
        return answer

    return remembered


class DeadlineWatch:
    def __init__(
        self,
        read_model: ProjectReadModel,
        publisher: EventPublisher,
        settle_seconds: float = 0.0,
        count: WorkingDays = add_working_days,
        *,
        backfill_settle_seconds: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read_model = read_model
        self._publisher = publisher
        self._settle_seconds = settle_seconds
        self._backfill_settle_seconds = max(backfill_settle_seconds, settle_seconds)
        self._count = count
        self._monotonic = monotonic
        # project id -> when (monotonic clock) a check first found its deadline passed, and how
        # long it waits from then (settle_wait)
        self._first_found_due: dict[str, tuple[float, float]] = {}

    async def check(self, now: datetime) -> list[str]:
        """Set the pending deadlines the calendar covers now, then emit a breach for every
        project whose deadline passed by ``now``; the ids of the projects breached."""
        await self.set_pending_deadlines(now)
        return await self.breach_due_deadlines(now)

    async def set_pending_deadlines(self, now: datetime) -> list[str]:
        """Emit DeficiencyDeadlineSet for every pending deadline the calendar covers now (dated
        ``now``); the ids of the projects whose deadline was set."""
        set_for: list[str] = []
        count = _remembered(self._count)
        for project_id in await self._read_model.pending_deadlines():
            # Counted without the lock first: while the calendar lacks the year (every check
            # for days or weeks) no project is locked.
            view = await self._read_model.get(project_id)
            if view is None or pending_deadline(view, count) is None:
                continue
            if await self._unless_busy(project_id, self._set_deadline(project_id, count, now)):
                set_for.append(project_id)
        return set_for

    async def breach_due_deadlines(self, now: datetime) -> list[str]:
        """Emit a breach for every project whose deadline passed by ``now``; their ids."""
        breached: list[str] = []
        due = await self._read_model.due_deadlines(china_date(now))
        found_at = self._monotonic()
        first_found: dict[str, tuple[float, float]] = {}
        for project_id in due:
            known = self._first_found_due.get(project_id)
            first_found[project_id] = known or (found_at, await self._wait_for(project_id, now))
        self._first_found_due = first_found
        for project_id in due:
            since, wait = first_found[project_id]
            if found_at - since < wait:
                continue
            if await self._unless_busy(project_id, self._breach(project_id, now)):
                breached.append(project_id)
        return breached

    async def _wait_for(self, project_id: str, now: datetime) -> float:
        view = await self._read_model.get(project_id)
        if view is None or view.supplement_deadline is None:
            return self._settle_seconds  # gone meanwhile: _breach finds nothing to do
        return settle_wait(
            view.supplement_deadline, now, self._settle_seconds, self._backfill_settle_seconds
        )

    @staticmethod
    async def _unless_busy(project_id: str, step: Coroutine[Any, Any, bool]) -> bool:
        """A project another request holds is left to the next check, not the end of this one."""
        try:
            return await step
        except ProjectBusy as exc:
            log.info("project %s left to the next check: %s", project_id, exc)
            return False

    async def _set_deadline(self, project_id: str, count: WorkingDays, now: datetime) -> bool:
        async with self._read_model.project_lock(project_id):
            view = await self._read_model.get(project_id)
            deadline = pending_deadline(view, count) if view is not None else None
            if view is None or deadline is None:
                return False  # supplemented or terminated meanwhile
            envelope = Envelope(
                message=deadline_set_event(view, deadline, counted_from(view), now),
                source=SOURCE,
                subject=project_id,
                id=deadline_set_event_id(project_id),
                time=now,
            )
            await self._publisher.publish(PROJECT_EVENTS, envelope, key=project_id)
            fact = LifecycleFact(project_id, Step.SET_DEADLINE, now, supplement_deadline=deadline)
            await self._read_model.record_step(envelope.id, envelope.type, fact)
        log.info("容缺 deadline of project %s set to %s", project_id, deadline)
        return True

    async def _breach(self, project_id: str, now: datetime) -> bool:
        async with self._read_model.project_lock(project_id):
            view = await self._read_model.get(project_id)
            if view is not None and view.state in FINAL_STATES:
                await self._read_model.forget_deadline(project_id)  # watched before it ended
                return False
            breach = overdue_breach(view, now) if view is not None else None
            if breach is None:
                return False  # supplemented, breached, or ended (a final state) meanwhile
            envelope = breach.envelope
            await self._publisher.publish(PROJECT_EVENTS, envelope, key=project_id)
            await self._read_model.record_step(envelope.id, envelope.type, breach.fact)
        log.info("容缺 deadline of project %s breached", project_id)
        return True
