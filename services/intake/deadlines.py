"""The 容缺 deadline watch: a supplement deadline passed with documents still missing emits
DeficiencyDeadlineBreached, once, dated 00:00 (China time) on the first day after the deadline —
the moment the breach happened, whenever the watch notices it. A watch that was down for a day,
or a project backfilled from an earlier year, therefore still counts in the right period.

``check(now)`` takes the time as an argument, so a test can stand on any day of any year; the
stream worker calls it from a timer with the real clock.

``settle_seconds``: a project found overdue is breached only when it is still overdue at a check
at least that long after it was first found so. A backfilled project registers with a deadline
long past and has its 补正 posted a moment later; without the wait a timer tick in between would
breach a deadline that was met.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from redis.asyncio import Redis

from services.intake.domain.lifecycle import LifecycleFact, Step
from services.intake.domain.working_days import CHINA, china_date, deadline_passed
from services.intake.event_codec import breach_event
from services.intake.read_model import PREFIX, ProjectReadModel
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.kafka.publisher import EventPublisher

log = logging.getLogger(__name__)

SOURCE = "/jinan-prt/intake/deadline-watch"
EMITTED_MARKER_SECONDS = 90 * 24 * 3600


def breach_moment(deadline: date) -> datetime:
    """00:00 in China on the day after the last day to supplement."""
    return datetime.combine(deadline + timedelta(days=1), clock_time(0), tzinfo=CHINA).astimezone(
        UTC
    )


class DeadlineWatch:
    def __init__(
        self,
        redis: Redis,
        read_model: ProjectReadModel,
        publisher: EventPublisher,
        settle_seconds: float = 0.0,
    ) -> None:
        self._redis = redis
        self._read_model = read_model
        self._publisher = publisher
        self._settle_seconds = settle_seconds
        # project id -> when (monotonic clock) a check first found its deadline passed
        self._first_found_due: dict[str, float] = {}

    async def check(self, now: datetime) -> list[str]:
        """Emit a breach for every project whose deadline passed by ``now``; their ids."""
        breached: list[str] = []
        due = await self._read_model.due_deadlines(china_date(now))
        found_at = time.monotonic()
        self._first_found_due = {
            project_id: self._first_found_due.get(project_id, found_at) for project_id in due
        }
        for project_id in due:
            if found_at - self._first_found_due[project_id] < self._settle_seconds:
                continue
            async with self._read_model.project_lock(project_id):
                view = await self._read_model.get(project_id)
                if (
                    view is None
                    or view.supplement_deadline is None
                    or view.deadline_breached
                    or not view.outstanding_documents
                    or not deadline_passed(view.supplement_deadline, now)
                ):
                    continue
                # A marker per project and deadline: a second watch (or a retry after a crash
                # between publishing and recording) does not emit the breach twice.
                marker = f"{PREFIX}breach-emitted:{project_id}:{view.supplement_deadline}"
                if not await self._redis.set(marker, "1", nx=True, ex=EMITTED_MARKER_SECONDS):
                    continue
                breached_at = breach_moment(view.supplement_deadline)
                envelope = Envelope(
                    message=breach_event(view, breached_at),
                    source=SOURCE,
                    subject=project_id,
                    time=breached_at,
                )
                try:
                    await self._publisher.publish(PROJECT_EVENTS, envelope, key=project_id)
                except BaseException:
                    await self._redis.delete(marker)
                    raise
                fact = LifecycleFact(project_id, Step.BREACH_DEADLINE, breached_at)
                await self._read_model.record_step(envelope.id, envelope.type, fact)
                log.info(
                    "容缺 deadline %s of project %s breached", view.supplement_deadline, project_id
                )
                breached.append(project_id)
        return breached
