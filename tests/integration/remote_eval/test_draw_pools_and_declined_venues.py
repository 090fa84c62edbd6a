"""On the real broker and Redis (an in-process scheduler): many substitutes drawn on a large pool
keep the evaluation's state record small, each pool recorded once on the changelog and every
draw still proven by the audit; an outbox Kafka will not take is set aside instead of failing
every later decision; a substitute is told by when to confirm; after a failed re-plan nobody is
seated at the declined venue, and the venue accepting clears the failure."""

from __future__ import annotations

import base64
import json
import random
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from google.protobuf.message import Message
from prt.v1 import remote_eval_pb2
from redis.asyncio import Redis

from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.events.envelope import MAX_EVENT_BYTES, Envelope, encode_envelope
from services.platform_core.events.topics import (
    EVALUATION_STATES,
    EVALUATIONS,
    EXPERT_REGISTRY,
    VENUE_CAPACITY,
    TopicSpec,
    dead_letter_topic,
    partner_seat_requests_topic,
)
from services.platform_core.http.errors import ApiError
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
from services.remote_eval.http_api.audit import draw_proof
from services.remote_eval.http_api.dependencies import RemoteEvalContext
from services.remote_eval.rebuild import RebuildReport, _latest_states
from services.remote_eval.scheduler import Scheduler
from services.remote_eval.sealed_registry import (
    EXPERTS_KEY,
    IDENTITIES_KEY,
    VERSION_KEY,
    ExpertIdentity,
    ExpertRegistry,
    IdentitySeal,
)
from services.remote_eval.store import (
    OUTBOX_KEY,
    EvaluationState,
    RemoteEvalStore,
    draw_keeps_candidates,
    draw_pool_key,
)
from services.remote_eval.stream_worker import CONSUMER, partner_topics
from tests.integration.remote_eval.topic_reading import read_topic, read_topic_headers
from tests.integration.remote_eval.world import credit_code

pytestmark = pytest.mark.integration

HOST, MAIN_VENUE, PARTNER, PARTNER_VENUE = "370113", "JN-370113-1", "370300", "ZB-370300-1"
OPERATOR = Principal("test-operator", PrincipalKind.OPERATOR, "OP-TEST", "审计")


class RecordingPublisher(EventPublisher):
    def __init__(self, inner: EventPublisher) -> None:
        self._inner = inner
        self.sent: list[tuple[str, Envelope[Message], str]] = []

    async def publish(self, topic: TopicSpec, envelope: Envelope[Message], key: str) -> None:
        await self._inner.publish(topic, envelope, key)
        self.sent.append((topic.name, envelope, key))

    async def publish_all(self, events: Sequence[tuple[TopicSpec, Envelope[Message], str]]) -> None:
        await self._inner.publish_all(events)
        self.sent.extend((topic.name, envelope, key) for topic, envelope, key in events)


@dataclass
class Rig:
    scheduler: Scheduler
    store: RemoteEvalStore
    registry: ExpertRegistry
    published: RecordingPublisher
    redis: Redis
    settings: PlatformSettings
    added: list[str]

    async def state(self, evaluation_id: str) -> EvaluationState:
        state = await self.store.evaluation(evaluation_id)
        assert state is not None
        return state

    async def apply(self, message: Message) -> None:
        await self.scheduler.apply_evaluation_event(
            Envelope(message=message, source="test", subject="test", time=datetime.now(UTC))
        )


@pytest.fixture
async def rig(settings: PlatformSettings) -> AsyncIterator[Rig]:
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
    producer = create_producer(settings, client_id=f"test-pools-{uuid.uuid4().hex[:6]}")
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
    rig = Rig(scheduler, store, registry, published, redis, settings, [])
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


async def _pools(rig: Rig, sizes: dict[str, int]) -> str:
    """Technical experts of a fresh specialty, ``sizes`` by pool. Returns the specialty."""
    specialty = f"PL{uuid.uuid4().hex[:8].upper()}"
    base = random.randrange(10**8)
    for n, (pool, count) in enumerate(sizes.items()):
        for i in range(count):
            expert = Expert(
                f"X-{specialty}-{pool}-{i:04d}",
                pool,
                ExpertKind.TECHNICAL,
                frozenset({specialty}),
                credit_code(base + n * 100_000 + i),
            )
            await rig.registry.add(expert, ExpertIdentity(f"专家{i}", "13800000000", "X"))
            rig.added.append(expert.expert_id)
    return specialty


async def _scheduled(rig: Rig, specialty: str) -> EvaluationState:
    """Five technical experts: two at the host's main venue, three at partner 370300's."""
    slot = Slot(date(2060, 1, 1) + timedelta(days=random.randrange(12_000)), HalfDay.AM)
    request = EvaluationRequest(
        evaluation_id=f"EV-TEST-{uuid.uuid4()}",
        host_code=HOST,
        project_id=f"P-POOL-{uuid.uuid4().hex[:8]}",
        bid_section_code="001",
        slot=slot,
        committee_size=5,
        needs=(SpecialtyNeed(specialty, ExpertKind.TECHNICAL, 5),),
        main_venue_id=MAIN_VENUE,
        main_venue_experts=2,
    )
    await rig.apply(event_codec.evaluation_requested(request, datetime.now(UTC)))
    state = await rig.state(request.evaluation_id)
    assert state.status == "scheduled", state.failure
    assert {a.venue_id: a.seats for a in state.allocations} == {MAIN_VENUE: 2, PARTNER_VENUE: 3}
    return state


async def _decline(rig: Rig, evaluation_id: str, pseudonym: str) -> None:
    await rig.apply(
        remote_eval_pb2.ExpertDeclined(
            evaluation_id=evaluation_id, partner_code=PARTNER, expert_pseudonym=pseudonym
        )
    )


async def _venue_decision(rig: Rig, evaluation_id: str, decision: int) -> None:
    await rig.apply(
        remote_eval_pb2.PartnerVenueDecision(
            evaluation_id=evaluation_id,
            partner_code=PARTNER,
            venue_id=PARTNER_VENUE,
            decision=decision,  # type: ignore[arg-type]
        )
    )


async def test_many_substitutes_on_a_large_pool_keep_the_state_small_and_every_draw_proven(
    rig: Rig,
) -> None:
    specialty = await _pools(rig, {HOST: 2, PARTNER: 1_500})
    state = await _scheduled(rig, specialty)
    evaluation_id = state.request.evaluation_id
    substitutes = 8
    for _ in range(substitutes):
        refusing = next(m for m in state.members if m.assignment.venue_id == PARTNER_VENUE)
        await _decline(rig, evaluation_id, refusing.pseudonym)
        state = await rig.state(evaluation_id)
        assert state.failure is None
    assert len(state.draws) == 1 + substitutes
    assert not any(draw_keeps_candidates(d) for d in state.draws)

    # Every state record published stays far under what Kafka and consumers accept (with each
    # draw's ~1,500 candidates in it, the 5th substitute's passed 1 MB).
    states = [
        envelope
        for topic, envelope, _ in rig.published.sent
        if topic == EVALUATION_STATES.name
        and isinstance(envelope.message, remote_eval_pb2.EvaluationStateRecorded)
        and envelope.subject == evaluation_id
    ]
    assert len(states) == 1 + substitutes
    sizes = [len(encode_envelope(e)[0]) for e in states]
    assert max(sizes) < 30_000 < MAX_EVENT_BYTES, sizes
    assert await rig.redis.hget(OUTBOX_KEY, "anything") is None

    # Each pool is on the changelog once, keyed by its hash, with candidates of that hash:
    # what the rebuild stores back for the audit.
    on_log: dict[str, bytes] = {}
    for key, _, envelope in await read_topic(
        rig.settings.kafka_bootstrap_servers, EVALUATION_STATES.name
    ):
        if envelope is not None and isinstance(
            envelope.message, remote_eval_pb2.DrawCandidatePoolRecorded
        ):
            pool_sha256, raw = event_codec.candidate_pool_from(envelope.message)
            assert key == pool_sha256.encode()
            on_log[pool_sha256] = raw
    assert {d["candidate_pool_sha256"] for d in state.draws} <= set(on_log)

    # The audit re-runs every draw from the state and its pool: identical.
    context = RemoteEvalContext(
        publisher=rig.published,
        store=rig.store,
        registry=rig.registry,
        idempotency=IdempotencyStore(rig.redis),
        redis=rig.redis,
        settings=rig.settings,
    )

    async def every_draw_proven() -> None:
        for index in range(len(state.draws)):
            proof = await draw_proof(evaluation_id, index, OPERATOR, context)
            assert proof.identical, proof
            assert proof.recomputed_candidate_pool_sha256 == proof.recorded_candidate_pool_sha256
            assert proof.rerun_expert_ids == state.draws[index]["expert_ids"]

    await every_draw_proven()

    # Redis lost the pools: the proof says so (not a 500), and the rebuild's reading of the
    # changelog stores them back.
    pools = {d["candidate_pool_sha256"] for d in state.draws}
    await rig.redis.delete(*(draw_pool_key(p) for p in pools))
    with pytest.raises(ApiError) as missing:
        await draw_proof(evaluation_id, 0, OPERATOR, context)
    assert missing.value.status == 409 and missing.value.code == "candidate_pool_missing"
    report = RebuildReport()
    await _latest_states(rig.settings, rig.store, report)
    assert report.candidate_pools >= len(pools)
    await every_draw_proven()


async def test_a_substitute_is_told_by_when_to_confirm(rig: Rig) -> None:
    specialty = await _pools(rig, {HOST: 2, PARTNER: 10})
    state = await _scheduled(rig, specialty)
    evaluation_id = state.request.evaluation_id
    refusing = next(m for m in state.members if m.assignment.venue_id == PARTNER_VENUE)
    rig.published.sent.clear()
    await _decline(rig, evaluation_id, refusing.pseudonym)
    drawn = {
        topic: envelope.message
        for topic, envelope, _ in rig.published.sent
        if isinstance(envelope.message, remote_eval_pb2.SubstituteDrawn)
    }
    assert set(drawn) == {EVALUATIONS.name, partner_seat_requests_topic(PARTNER).name}
    state = await rig.state(evaluation_id)
    substitute = state.members[-1]
    [deadline] = [d for d in state.deadlines if d.subject == substitute.pseudonym]
    for message in drawn.values():
        assert isinstance(message, remote_eval_pb2.SubstituteDrawn)
        assert message.HasField("confirm_by")
        assert message.confirm_by.ToDatetime(tzinfo=UTC) == deadline.due


async def test_an_outbox_kafka_refuses_is_set_aside_and_the_next_decisions_go_on(
    rig: Rig,
) -> None:
    """A stored outbox whose state record is over the limit (as the states grew before): it
    is set aside with its reason, named on the dead-letter topic, and the next evaluation is
    decided and published."""
    evaluation_id = f"EV-TEST-{uuid.uuid4()}"
    oversized = Envelope(
        message=remote_eval_pb2.EvaluationStateRecorded(
            evaluation_id=evaluation_id, state_json="x" * (MAX_EVENT_BYTES + 10)
        ),
        source="test",
        subject=evaluation_id,
        time=datetime.now(UTC),
    )
    value, headers = encode_envelope(oversized)
    name = f"cause-{uuid.uuid4()}|{evaluation_id}"
    record = [
        EVALUATION_STATES.name,
        evaluation_id,
        base64.b64encode(value).decode(),
        [[h, base64.b64encode(raw).decode()] for h, raw in headers],
    ]
    await rig.redis.hset(OUTBOX_KEY, name, json.dumps([record]))

    specialty = await _pools(rig, {HOST: 2, PARTNER: 10})
    state = await _scheduled(rig, specialty)  # decided, and published, after the flush

    assert await rig.redis.hget(OUTBOX_KEY, name) is None
    set_aside = (await rig.store.set_aside_outboxes())[name]
    assert set_aside["records"] == [record]
    assert f"over the {MAX_EVENT_BYTES}" in set_aside["reason"]
    assert any(
        topic == EVALUATION_STATES.name and envelope.subject == state.request.evaluation_id
        for topic, envelope, _ in rig.published.sent
    )
    notes = [
        dict(headers)
        for _, _, headers in await read_topic_headers(
            rig.settings.kafka_bootstrap_servers, dead_letter_topic(CONSUMER).name
        )
    ]
    assert any(
        n.get("ce_id") == oversized.id.encode() and name.encode() in n.get("dlq-reason", b"")
        for n in notes
    )


async def test_after_a_failed_replan_nobody_is_seated_at_the_declined_venue(rig: Rig) -> None:
    """Only 370300's pool has the specialty: its venue declined, the re-plan fails and the
    experts stay there; one of them refusing is not replaced at the declined venue; the
    venue accepting after all ends the failure the re-plan left."""
    specialty = await _pools(rig, {HOST: 2, PARTNER: 10})
    state = await _scheduled(rig, specialty)
    evaluation_id = state.request.evaluation_id
    await _venue_decision(rig, evaluation_id, remote_eval_pb2.VENUE_DECISION_DECLINED)
    state = await rig.state(evaluation_id)
    assert state.failure is not None and state.status == "scheduled"
    at_declined = [m for m in state.members if m.assignment.venue_id == PARTNER_VENUE]
    assert len(at_declined) == 3

    await _decline(rig, evaluation_id, at_declined[0].pseudonym)
    state = await rig.state(evaluation_id)
    seated_there = [m for m in state.members if m.assignment.venue_id == PARTNER_VENUE]
    assert [m.pseudonym for m in seated_there] == [m.pseudonym for m in at_declined[1:]]
    assert {a.venue_id: a.seats for a in state.allocations}.get(PARTNER_VENUE, 0) <= 3
    assert state.failure is not None  # the seat could not move: nobody else has the specialty

    # A second evaluation, whose re-plan failed but whose committee is whole: the venue's
    # acceptance ends the failure.
    other = await _scheduled(rig, specialty)
    await _venue_decision(rig, other.request.evaluation_id, remote_eval_pb2.VENUE_DECISION_DECLINED)
    assert (await rig.state(other.request.evaluation_id)).failure is not None
    await _venue_decision(rig, other.request.evaluation_id, remote_eval_pb2.VENUE_DECISION_ACCEPTED)
    accepted = await rig.state(other.request.evaluation_id)
    assert accepted.venue_decisions[PARTNER_VENUE] == "ACCEPTED"
    assert accepted.failure is None
