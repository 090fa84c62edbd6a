"""The 容缺 deadline watch: a supplement deadline passed with documents still missing emits
DeficiencyDeadlineBreached, once, on the first day after the deadline (China time).

``check(now)`` takes the time as an argument, so a test can stand on any day of any year; the
stream worker calls it from a timer with the real clock.
"""

from __future__ import annotations

import logging
from datetime import datetime

from redis.asyncio import Redis

from services.intake.domain.lifecycle import LifecycleFact, Step
from services.intake.domain.working_days import china_date, deadline_passed
from services.intake.event_codec import breach_event
from services.intake.read_model import PREFIX, ProjectReadModel
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.kafka.publisher import EventPublisher

log = logging.getLogger(__name__)

SOURCE = "/jinan-prt/intake/deadline-watch"
EMITTED_MARKER_SECONDS = 90 * 24 * 3600


class DeadlineWatch:
    def __init__(
        self, redis: Redis, read_model: ProjectReadModel, publisher: EventPublisher
    ) -> None:
        self._redis = redis
        self._read_model = read_model
        self._publisher = publisher

    async def check(self, now: datetime) -> list[str]:
        """Emit a breach for every project whose deadline passed by ``now``; their ids."""
        breached: list[str] = []
        for project_id in await self._read_model.due_deadlines(china_date(now)):
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
                envelope = Envelope(
                    message=breach_event(view, now), source=SOURCE, subject=project_id, time=now
                )
                try:
                    await self._publisher.publish(PROJECT_EVENTS, envelope, key=project_id)
                except BaseException:
                    await self._redis.delete(marker)
                    raise
                fact = LifecycleFact(project_id, Step.BREACH_DEADLINE, now)
                await self._read_model.record_step(envelope.id, envelope.type, fact)
                log.info(
                    "容缺 deadline %s of project %s breached", view.supplement_deadline, project_id
                )
                breached.append(project_id)
        return breached
