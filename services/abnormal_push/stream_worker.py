"""Abnormal push's Faust worker: routing, projections, detection, deadlines, webhooks.

Run: python -m services.abnormal_push.stream_worker

Agents (concurrency 1, each hands off to :mod:`handlers` / :mod:`detection`):
- ``abnormal-push.route``   abnormal.reports.v1 → report projection + one PushRouted per department
- ``abnormal-push.project`` abnormal.pushes.v1  → push projection, transfers, webhook queue
- ``abnormal-push.detect``  intake.projects.v1  → detection rules → AbnormalReportFiled
- ``abnormal-push.watch-experts`` remote-eval.evaluations.v1 → experts' absences and unsealed
  committees → detection
- ``abnormal-push.webhooks`` abnormal.webhooks.v1 → webhook registrations projection
Timers: the deadline watch (PushOverdue / PushEscalated) and webhook delivery.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
from redis.asyncio import Redis

from services.abnormal_push.detection import DetectionState, Detector, LogPosition
from services.abnormal_push.handlers import (
    DeadlineWatch,
    PushProjector,
    ReportRouter,
    WebhookProjector,
)
from services.abnormal_push.read_model import PushReadModel
from services.abnormal_push.service_config import (
    get_push_settings,
    load_deadline_policy,
    load_routing_table,
)
from services.abnormal_push.webhooks import WebhookDeliverer, WebhookStore
from services.platform_core.events.topics import (
    ABNORMAL_PUSHES,
    ABNORMAL_REPORTS,
    ABNORMAL_WEBHOOKS,
    EVALUATIONS,
    PROJECT_EVENTS,
    dead_letter_topic,
)
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

ROUTER = "abnormal-push.router"
PROJECTOR = "abnormal-push.projector"
DETECTOR = "abnormal-push.detector"
WEBHOOK_REGISTRY = "abnormal-push.webhook-registry"
EXPERT_WATCH = "abnormal-push.expert-watch"
CONSUMERS = (ROUTER, PROJECTOR, DETECTOR, WEBHOOK_REGISTRY, EXPERT_WATCH)
CONSUMED_TOPICS = (
    ABNORMAL_REPORTS,
    ABNORMAL_PUSHES,
    PROJECT_EVENTS,
    ABNORMAL_WEBHOOKS,
    EVALUATIONS,
)

log = logging.getLogger(__name__)

settings = get_settings()
push_settings = get_push_settings()
APP_ID = "prt-abnormal-push"  # also the Kafka consumer group id
app = create_faust_app(APP_ID, settings)
reports_topic = faust_topic(app, ABNORMAL_REPORTS)
pushes_topic = faust_topic(app, ABNORMAL_PUSHES)
intake_topic = faust_topic(app, PROJECT_EVENTS)
webhooks_topic = faust_topic(app, ABNORMAL_WEBHOOKS)
evaluations_topic = faust_topic(app, EVALUATIONS)


@dataclass
class Resources:
    router: ReportRouter
    projector: PushProjector
    detector: Detector
    webhook_registry: WebhookProjector
    watch: DeadlineWatch
    deliverer: WebhookDeliverer
    dead_letters: dict[str, DeadLetterPublisher]


_resources: Resources | None = None
_lock = asyncio.Lock()


async def resources() -> Resources:
    """Clients shared by the agents and timers, created once inside the worker's loop."""
    global _resources  # noqa: PLW0603 - one set of clients per worker process
    async with _lock:
        if _resources is None:
            redis = Redis.from_url(settings.redis_url)
            producer = create_producer(settings, client_id="abnormal-push-worker")
            await producer.start()
            publisher = EventPublisher(producer)
            read_model = PushReadModel(redis)
            webhooks = WebhookStore(redis)
            deadlines = load_deadline_policy()
            _resources = Resources(
                router=ReportRouter(read_model, publisher, None, deadlines),
                projector=PushProjector(read_model, publisher, webhooks, deadlines),
                detector=Detector(DetectionState(redis), publisher),
                webhook_registry=WebhookProjector(webhooks),
                watch=DeadlineWatch(
                    read_model,
                    publisher,
                    load_routing_table(),
                    backfill_settle_s=push_settings.backfill_settle_s,
                    deadlines=deadlines,
                ),
                deliverer=WebhookDeliverer(
                    webhooks,
                    httpx.AsyncClient(timeout=push_settings.webhook_timeout_s),
                    push_settings.webhook_backoff_base_s,
                    push_settings.webhook_backoff_cap_s,
                    webhook_key=push_settings.webhook_key_bytes,
                    allowed_networks=push_settings.allowed_networks,
                ),
                dead_letters={name: DeadLetterPublisher(producer, name) for name in CONSUMERS},
            )
        return _resources


def _position(event: Any) -> LogPosition:
    return LogPosition(event.message.topic, event.message.partition, event.message.offset)


@app.agent(reports_topic, name="abnormal-push.route")
async def route_reports(stream: Any) -> None:
    held = await resources()
    async for event in stream.events():
        await handle_event(event, held.router.apply, held.dead_letters[ROUTER])


@app.agent(pushes_topic, name="abnormal-push.project")
async def project_pushes(stream: Any) -> None:
    held = await resources()
    async for event in stream.events():
        await handle_event(event, held.projector.apply, held.dead_letters[PROJECTOR])


@app.agent(intake_topic, name="abnormal-push.detect")
async def detect(stream: Any) -> None:
    held = await resources()
    async for event in stream.events():
        # Where the event sits tells detection whether it was judged before a rebuild.
        apply = partial(held.detector.apply, position=_position(event))
        await handle_event(event, apply, held.dead_letters[DETECTOR])


@app.agent(evaluations_topic, name="abnormal-push.watch-experts")
async def watch_experts(stream: Any) -> None:
    held = await resources()
    async for event in stream.events():
        apply = partial(held.detector.apply_evaluation_event, position=_position(event))
        await handle_event(event, apply, held.dead_letters[EXPERT_WATCH])


@app.agent(webhooks_topic, name="abnormal-push.webhooks")
async def project_webhooks(stream: Any) -> None:
    held = await resources()
    async for event in stream.events():
        await handle_event(event, held.webhook_registry.apply, held.dead_letters[WEBHOOK_REGISTRY])


@app.timer(interval=push_settings.deadline_check_interval_s)  # type: ignore[untyped-decorator]
async def watch_deadlines() -> None:
    async def tick() -> None:
        await (await resources()).watch.tick(datetime.now(UTC))

    # A failed round leaves the due index as it is: the next tick tries again.
    await run_timer_round("deadline watch", tick)


@app.timer(interval=push_settings.webhook_poll_interval_s)  # type: ignore[untyped-decorator]
async def deliver_webhooks() -> None:
    async def deliver() -> None:
        await (await resources()).deliverer.deliver_due()

    # A claimed delivery not attempted is claimed again when its lease runs out.
    await run_timer_round("webhook delivery", deliver)


def main() -> None:
    dead_letter_topics = [dead_letter_topic(name) for name in CONSUMERS]
    run_worker(app, settings, [*CONSUMED_TOPICS, *dead_letter_topics])


if __name__ == "__main__":
    main()
