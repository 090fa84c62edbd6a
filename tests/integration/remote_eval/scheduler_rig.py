"""An in-process remote-evaluation scheduler on the real broker and Redis, for the integration
tests that drive it event by event (the ``rig`` fixture of this directory's conftest.py).

The scheduler is wired as the worker wires it — the real publisher (here remembering what it
sent), the real store and sealed registry, dead letters on the worker's topic — and the tests
apply the events it would read. Each test registers pools of a fresh specialty of its own (so
its draws are its own) at the host 370113, whose main venue is JN-370113-1, and partner 370300,
whose venue ZB-370300-1 takes the secondary seats; the experts leave the shared registry again
when the test ends."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from redis.asyncio import Redis

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import (
    EVALUATION_STATES,
    EVALUATIONS,
    EXPERT_REGISTRY,
    VENUE_CAPACITY,
    TopicSpec,
    dead_letter_topic,
)
from services.platform_core.http.idempotency import IdempotencyStore
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.dead_letters import DeadLetterPublisher
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings
from services.remote_eval import event_codec
from services.remote_eval.domain.model import (
    EvaluationRequest,
    Expert,
    ExpertKind,
    HalfDay,
    Slot,
    SpecialtyNeed,
)
from services.remote_eval.http_api.dependencies import RemoteEvalContext
from services.remote_eval.scheduler import Scheduler
from services.remote_eval.sealed_registry import (
    EXPERTS_KEY,
    IDENTITIES_KEY,
    VERSION_KEY,
    ExpertIdentity,
    ExpertRegistry,
    IdentitySeal,
)
from services.remote_eval.store import EvaluationState, Member, RemoteEvalStore
from services.remote_eval.stream_worker import CONSUMER, partner_topics
from tests.integration.remote_eval.world import credit_code

HOST, MAIN_VENUE = "370113", "JN-370113-1"
PARTNER, PARTNER_VENUE = "370300", "ZB-370300-1"


class RecordingPublisher(EventPublisher):
    """The real publisher, remembering what it sent as (topic name, envelope): the tests apply
    what the worker would read back from the log."""

    def __init__(self, inner: EventPublisher) -> None:
        self._inner = inner
        self.sent: list[tuple[str, Envelope[Message]]] = []

    async def publish(self, topic: TopicSpec, envelope: Envelope[Message], key: str) -> None:
        await self._inner.publish(topic, envelope, key)
        self.sent.append((topic.name, envelope))

    async def publish_all(self, events: Sequence[tuple[TopicSpec, Envelope[Message], str]]) -> None:
        await self._inner.publish_all(events)
        self.sent.extend((topic.name, envelope) for topic, envelope, _ in events)

    def of(
        self, evaluation_id: str, kind: type[Message], topic: str = EVALUATIONS.name
    ) -> list[Any]:
        """The messages of ``kind`` sent on ``topic`` (the evaluations log unless named) for
        ``evaluation_id``."""
        return [
            envelope.message
            for name, envelope in self.sent
            if name == topic
            and envelope.subject == evaluation_id
            and isinstance(envelope.message, kind)
        ]


def enveloped(
    message: Message, at: datetime | None = None, *, subject: str = "test"
) -> Envelope[Message]:
    """``message`` as a test's event, with ce_time ``at`` (now unless given)."""
    return Envelope(message=message, source="test", subject=subject, time=at or datetime.now(UTC))


def far_slot(half_day: HalfDay = HalfDay.AM) -> Slot:
    """A slot of its own, far from other tests' (their seats and recent draws)."""
    return Slot(date(2060, 1, 1) + timedelta(days=random.randrange(12_000)), half_day)


def evaluation_request(
    specialty: str,
    slot: Slot,
    *,
    evaluation_id: str | None = None,
    preferred_partner_codes: tuple[str, ...] = (),
) -> EvaluationRequest:
    """Five technical experts of ``specialty``, two of them at the host's main venue."""
    return EvaluationRequest(
        evaluation_id=evaluation_id or f"EV-TEST-{uuid.uuid4()}",
        host_code=HOST,
        project_id=f"P-RIG-{uuid.uuid4().hex[:8]}",
        bid_section_code="001",
        slot=slot,
        committee_size=5,
        needs=(SpecialtyNeed(specialty, ExpertKind.TECHNICAL, 5),),
        main_venue_id=MAIN_VENUE,
        main_venue_experts=2,
        preferred_partner_codes=preferred_partner_codes,
    )


def at_main_venue(state: EvaluationState) -> Member:
    """A member seated at the host's main venue (whose seat never moves)."""
    return next(m for m in state.members if m.assignment.venue_id == MAIN_VENUE)


@dataclass
class Rig:
    scheduler: Scheduler
    store: RemoteEvalStore
    registry: ExpertRegistry
    published: RecordingPublisher
    redis: Redis
    producer: AIOKafkaProducer
    settings: PlatformSettings
    context: RemoteEvalContext  # what the API's routes are given, on the same publisher
    added: list[str] = field(default_factory=list)  # expert ids, removed when the test ends
    # Employer credit codes of this rig's experts: distinct by pool and index, so a bidder
    # employing one expert (an avoidance) employs no other.
    credit_base: int = field(default_factory=lambda: random.randrange(10**8))

    async def state(self, evaluation_id: str) -> EvaluationState:
        state = await self.store.evaluation(evaluation_id)
        assert state is not None
        return state

    async def apply(self, message: Message, *, at: datetime | None = None) -> None:
        """``message`` applied as the worker applies an event it read from the log."""
        await self.scheduler.apply_evaluation_event(enveloped(message, at))

    async def add_experts(self, specialty: str, pool: str, count: int, *, first: int = 0) -> None:
        """``count`` technical experts of ``specialty`` in ``pool``, numbered from ``first``
        (expert ids ``X-{specialty}-{pool}-{number:02d}``)."""
        for i in range(first, first + count):
            expert = Expert(
                f"X-{specialty}-{pool}-{i:02d}",
                pool,
                ExpertKind.TECHNICAL,
                frozenset({specialty}),
                credit_code(self.credit_base + int(pool) * 100 + i),
            )
            identity = ExpertIdentity(
                f"专家{specialty}{pool}{i}", "13800000000", "11010519491231002X"
            )
            await self.registry.add(expert, identity)
            self.added.append(expert.expert_id)

    async def fresh_pools(self, sizes: Mapping[str, int]) -> str:
        """Technical experts of a fresh specialty, ``sizes`` by pool. Returns the specialty."""
        specialty = f"SR{uuid.uuid4().hex[:8].upper()}"
        for pool, count in sizes.items():
            await self.add_experts(specialty, pool, count)
        return specialty

    async def scheduled(
        self,
        specialty: str,
        slot: Slot,
        *,
        evaluation_id: str | None = None,
        preferred_partner_codes: tuple[str, ...] = (),
    ) -> EvaluationState:
        """An :func:`evaluation_request` applied: its state, which must be scheduled."""
        request = evaluation_request(
            specialty,
            slot,
            evaluation_id=evaluation_id,
            preferred_partner_codes=preferred_partner_codes,
        )
        await self.apply(event_codec.evaluation_requested(request, datetime.now(UTC)))
        state = await self.state(request.evaluation_id)
        assert state.status == "scheduled", state.failure
        return state


@asynccontextmanager
async def scheduler_rig(settings: PlatformSettings) -> AsyncIterator[Rig]:
    """A :class:`Rig` on the real broker and Redis; its experts removed when it ends."""
    # The scheduler's topics, created as the worker creates them (a fresh broker has none).
    await ensure_topics(
        settings,
        [
            EVALUATIONS,
            EVALUATION_STATES,
            EXPERT_REGISTRY,
            VENUE_CAPACITY,
            *partner_topics(),
            dead_letter_topic(CONSUMER),
        ],
    )
    redis = Redis.from_url(settings.redis_url)
    producer = create_producer(settings, client_id=f"test-scheduler-{uuid.uuid4().hex[:6]}")
    await producer.start()
    published = RecordingPublisher(EventPublisher(producer))
    registry = ExpertRegistry(redis, IdentitySeal(settings.remote_eval_identity_key))
    store = RemoteEvalStore(redis)
    scheduler = Scheduler(
        redis,
        store,
        registry,
        published,
        settings,
        dead_letters=DeadLetterPublisher(producer, CONSUMER),
    )
    context = RemoteEvalContext(
        publisher=published,
        store=store,
        registry=registry,
        idempotency=IdempotencyStore(redis),
        redis=redis,
        settings=settings,
    )
    rig = Rig(scheduler, store, registry, published, redis, producer, settings, context)
    try:
        yield rig
    finally:
        # The experts leave the shared registry again: other tests list whole pools (a page
        # of 500) and must not find 370300's filled with these.
        if rig.added:
            await redis.hdel(EXPERTS_KEY, *rig.added)
            await redis.hdel(IDENTITIES_KEY, *rig.added)
            await redis.incr(VERSION_KEY)
        await producer.stop()
        await redis.aclose()
