"""Intake's Faust worker: folds intake.projects.v1 into the project read model, and watches 容缺
deadlines.

Run: python -m services.intake.stream_worker
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from services.intake.deadlines import DeadlineWatch
from services.intake.projection import Projector
from services.intake.read_model import ProjectReadModel
from services.platform_core.events.topics import PROJECT_EVENTS, dead_letter_topic
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.dead_letters import DeadLetterPublisher
from services.platform_core.kafka.faust_worker import (
    create_faust_app,
    faust_topic,
    handle_event,
    run_worker,
)
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.kafka.retrying import run_timer_round
from services.platform_core.settings import get_settings

log = logging.getLogger(__name__)

CONSUMER = "intake.projector"

settings = get_settings()
app = create_faust_app("prt-intake", settings)
project_events = faust_topic(app, PROJECT_EVENTS)


@asynccontextmanager
async def _resources() -> AsyncIterator[tuple[Redis, EventPublisher, DeadLetterPublisher]]:
    redis = Redis.from_url(settings.redis_url)
    producer = create_producer(settings, client_id=CONSUMER)
    await producer.start()
    try:
        yield redis, EventPublisher(producer), DeadLetterPublisher(producer, CONSUMER)
    finally:
        await producer.stop()
        await redis.aclose()


@app.agent(project_events, name="intake.project-state")
async def project_state(stream: Any) -> None:
    async with _resources() as (redis, _, dead_letters):
        projector = Projector(ProjectReadModel(redis))
        async for event in stream.events():
            await handle_event(event, projector.apply, dead_letters)


async def watch_deadlines() -> None:
    async with _resources() as (redis, publisher, _):
        watch = DeadlineWatch(
            ProjectReadModel(redis),
            publisher,
            settle_seconds=settings.intake_deadline_check_interval_s / 2,
            backfill_settle_seconds=settings.intake_backfill_settle_s,
        )

        async def check() -> None:
            breached = await watch.check(datetime.now(UTC))
            if breached:
                log.info("breached 容缺 deadlines: %s", ", ".join(breached))

        while True:
            await asyncio.sleep(settings.intake_deadline_check_interval_s)
            # A failed check (Redis or Kafka out, or anything else) must not end the watch for
            # good: each check starts afresh from the read model, and the watch's events have
            # ids derived from what they state, so the next check repeats nothing.
            await run_timer_round("容缺 deadline check", check)


app.task(watch_deadlines)


def main() -> None:
    run_worker(app, settings, [PROJECT_EVENTS, dead_letter_topic(CONSUMER)])


if __name__ == "__main__":
    main()
