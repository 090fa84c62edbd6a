"""Remote evaluation's Faust worker: the scheduler agent and the projections it needs.

Agents (each a few lines, handing off to :class:`Scheduler`):
- evaluations: requests are scheduled (those read together, planned together), declined or
  unanswered venues re-planned, refusals, no-shows and unconfirmed experts replaced by
  substitutes (补抽), pool owners' availability projected;
- a timer: answer deadlines passed become timeout events on the evaluations log;
- venues: owners' seat publications;
- partner answers: answers partners write on their own topics, validated onto the log;
- projects: ContractAwarded unseals the committee (招标投标法 art. 37); ProjectTerminated (no
  award will come) cancels an evaluation of a later day and unseals one held already; the
  trade's parties are avoided (回避).

Run: python -m services.remote_eval.stream_worker
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from services.platform_core.events.topics import (
    EVALUATION_STATES,
    EVALUATIONS,
    EXPERT_REGISTRY,
    PROJECT_EVENTS,
    VENUE_CAPACITY,
    TopicSpec,
    dead_letter_topic,
    partner_answers_topic,
    partner_seat_requests_topic,
)
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.dead_letters import DeadLetterPublisher
from services.platform_core.kafka.faust_worker import (
    Undecodable,
    create_faust_app,
    faust_topic,
    handle_event,
    run_worker,
)
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.kafka.retrying import TRANSIENT_INFRASTRUCTURE_ERRORS, run_timer_round
from services.platform_core.settings import get_settings
from services.remote_eval.reference import partners
from services.remote_eval.scheduler import SCHEDULER_CONSUMER, Scheduler
from services.remote_eval.sealed_registry import ExpertRegistry, IdentitySeal
from services.remote_eval.store import RemoteEvalStore

CONSUMER = SCHEDULER_CONSUMER
log = logging.getLogger(__name__)

settings = get_settings()
app = create_faust_app("prt-remote-eval", settings)
evaluations = faust_topic(app, EVALUATIONS)
venues = faust_topic(app, VENUE_CAPACITY)
experts = faust_topic(app, EXPERT_REGISTRY)
projects = faust_topic(app, PROJECT_EVENTS)
_answer_specs = [partner_answers_topic(code) for code in sorted(partners())]
answers = app.topic(
    *(s.name for s in _answer_specs), schema=faust_topic(app, _answer_specs[0]).schema
)


def partner_topics() -> list[TopicSpec]:
    codes = sorted(partners())
    return [*(partner_seat_requests_topic(c) for c in codes), *_answer_specs]


class _Shared:
    """One scheduler, producer and Redis client for all agents, made on first use."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.value: tuple[Scheduler, DeadLetterPublisher] | None = None
        self._closers: list[Any] = []

    async def get(self) -> tuple[Scheduler, DeadLetterPublisher]:
        async with self._lock:
            if self.value is None:
                redis = Redis.from_url(settings.redis_url)
                producer = create_producer(settings, client_id=CONSUMER)
                await producer.start()
                registry = ExpertRegistry(
                    redis, IdentitySeal(settings.secret("remote_eval_identity_key"))
                )
                store = RemoteEvalStore(redis)
                moved = await store.migrate_legacy_draw_days()
                if moved:
                    log.info("draw days of %d experts moved to the per-day sets", moved)
                dead_letters = DeadLetterPublisher(producer, CONSUMER)
                scheduler = Scheduler(
                    redis,
                    store,
                    registry,
                    EventPublisher(producer),
                    settings,
                    dead_letters=dead_letters,
                )
                self.value = (scheduler, dead_letters)
                self._closers = [producer.stop, redis.aclose]
            return self.value

    async def close(self) -> None:
        for close in self._closers:
            await close()
        self._closers = []


shared = _Shared()


@app.on_before_shutdown.connect  # type: ignore[arg-type]
async def _close_shared(app: Any, **kwargs: Any) -> None:
    await shared.close()


@app.agent(evaluations, name="remote_eval.schedule")
async def schedule_evaluations(stream: Any) -> None:
    scheduler, dead_letters = await shared.get()
    async for events in stream.take_events(
        settings.remote_eval_batch_size, within=settings.remote_eval_batch_within_s
    ):
        # Requests read together are planned together; then each event is applied in order.
        # Planning is an optimisation: if Redis fails it now, or one request of the batch
        # breaks the plan, each request is decided alone by handle_event, which retries until
        # Redis is back and dead-letters what its handler cannot decide. An exception let out
        # here would end the agent with the batch taken and never decided.
        try:
            await scheduler.plan_requests(
                [e.value for e in events if not isinstance(e.value, Undecodable)]
            )
        except TRANSIENT_INFRASTRUCTURE_ERRORS as exc:
            log.warning(
                "planning %d events together failed (%s); deciding each alone", len(events), exc
            )
        except Exception:
            log.exception("planning %d events together failed; deciding each alone", len(events))
        for event in events:
            await handle_event(event, scheduler.apply_evaluation_event, dead_letters)


@app.timer(interval=settings.remote_eval_timer_interval_s)  # type: ignore[untyped-decorator]
async def fire_answer_deadlines() -> None:
    """Seat requests and confirmations not answered in time become timeout events."""

    async def fire() -> None:
        scheduler, _ = await shared.get()
        # A decision stored while the broker was away has its events waiting in the outbox:
        # they go out here once it is back, even if no other decision comes to flush them.
        await scheduler.publish_waiting_outboxes()
        await scheduler.fire_due_timers(datetime.now(UTC))

    # The next tick retries: deadlines stay until their timeouts are handled, and a timeout
    # published twice has one id (derived from its deadline).
    await run_timer_round("answer deadlines", fire)


@app.agent(venues, name="remote_eval.venues")
async def project_venues(stream: Any) -> None:
    scheduler, dead_letters = await shared.get()
    async for event in stream.events():
        await handle_event(event, scheduler.apply_venue_event, dead_letters)


@app.agent(experts, name="remote_eval.experts")
async def project_experts(stream: Any) -> None:
    scheduler, dead_letters = await shared.get()
    async for event in stream.events():
        await handle_event(event, scheduler.apply_expert_event, dead_letters)


@app.agent(answers, name="remote_eval.partner_answers")
async def record_partner_answers(stream: Any) -> None:
    scheduler, dead_letters = await shared.get()
    async for event in stream.events():
        topic = event.message.topic

        async def apply(envelope: Any, topic: str = topic) -> None:
            await scheduler.apply_partner_answer(envelope, topic)

        await handle_event(event, apply, dead_letters)


@app.agent(projects, name="remote_eval.awards")
async def unseal_on_award(stream: Any) -> None:
    scheduler, dead_letters = await shared.get()
    async for event in stream.events():
        await handle_event(event, scheduler.apply_project_event, dead_letters)


def main() -> None:
    # The worker unseals identities and draws experts: refuse development secrets at start, not
    # at the first event.
    settings.secret("remote_eval_identity_key")
    settings.secret("remote_eval_draw_secret")
    topics = [
        EVALUATIONS,
        EVALUATION_STATES,
        EXPERT_REGISTRY,
        VENUE_CAPACITY,
        PROJECT_EVENTS,
        *partner_topics(),
    ]
    run_worker(app, settings, [*topics, dead_letter_topic(CONSUMER)])


if __name__ == "__main__":
    main()
