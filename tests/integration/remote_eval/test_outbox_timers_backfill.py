"""On the real broker and Redis: a decision is stored with its outbox before it is published (a
crash in between republishes the same event ids), unanswered seat requests and unconfirmed
experts time out into a re-plan and substitutes, backfill keys record 2023 evaluations and
answers with their stated times, and pool owners see their pool and mark availability."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from google.protobuf.message import Message
from prt.v1 import remote_eval_pb2
from redis.asyncio import Redis

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import from_timestamp
from services.platform_core.events.topics import EVALUATIONS, TopicSpec
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from services.remote_eval import event_codec
from services.remote_eval.domain.model import EvaluationRequest, ExpertKind, HalfDay, Slot
from services.remote_eval.domain.model import SpecialtyNeed as Need
from services.remote_eval.scheduler import Scheduler
from services.remote_eval.sealed_registry import ExpertRegistry, IdentitySeal
from services.remote_eval.store import RemoteEvalStore
from tests.conftest import IssueKey
from tests.integration.remote_eval.topic_reading import events_of, read_topic
from tests.integration.remote_eval.world import (
    MAIN_VENUE,
    World,
    auth_headers,
    logged_events,
    post_headers,
    request_body,
    wait_decided,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

ANSWERS = (remote_eval_pb2.ExpertConfirmed, remote_eval_pb2.PartnerVenueDecision)
TIMEOUTS = (remote_eval_pb2.SeatRequestTimedOut, remote_eval_pb2.ExpertConfirmationTimedOut)


class SimulatedCrash(Exception):
    """The process dies: raised by the publisher after a number of acknowledged sends."""


class CrashingPublisher(EventPublisher):
    """The real publisher (real broker), whose process 'dies' after ``survive`` sends."""

    def __init__(self, inner: EventPublisher, survive: int) -> None:
        self._inner, self._left = inner, survive

    async def publish(self, topic: TopicSpec, envelope: Envelope[Message], key: str) -> None:
        if self._left == 0:
            raise SimulatedCrash
        self._left -= 1
        await self._inner.publish(topic, envelope, key)

    async def publish_all(self, events: Sequence[tuple[TopicSpec, Envelope[Message], str]]) -> None:
        """The first ``survive`` of the lot reach the broker; then the process dies."""
        for topic, envelope, key in events:
            await self.publish(topic, envelope, key)


def _request(w: World, slot: Slot) -> EvaluationRequest:
    return EvaluationRequest(
        evaluation_id=f"EV-TEST-{uuid.uuid4()}",
        host_code="370100",
        project_id=f"P-{w.marker}-{uuid.uuid4().hex[:6]}",
        bid_section_code="001",
        slot=slot,
        committee_size=5,
        needs=(Need(w.tech, ExpertKind.TECHNICAL, 3), Need(w.econ, ExpertKind.ECONOMIC, 2)),
        main_venue_id=MAIN_VENUE,
        preferred_partner_codes=("370300",),
        main_venue_experts=2,
    )


def _future_slot(first_day: int) -> Slot:
    """A slot 20-odd weeks from ``first_day`` days ahead. Each test draws from the module's one
    small pool in a band of its own, far more than the recent-draw window (7 days) from the
    others': an expert drawn by one test must not be screened out of another's draws."""
    return Slot(date.today() + timedelta(days=first_day + random.randrange(150)), HalfDay.PM)


async def _in_process_scheduler(
    settings: PlatformSettings, survive: int | None = None, **overrides: Any
) -> tuple[Scheduler, Any, Redis]:
    redis = Redis.from_url(settings.redis_url)
    producer = create_producer(settings, client_id=f"test-{uuid.uuid4().hex[:6]}")
    await producer.start()
    publisher = EventPublisher(producer)
    if survive is not None:
        publisher = CrashingPublisher(publisher, survive)
    registry = ExpertRegistry(redis, IdentitySeal(settings.remote_eval_identity_key))
    scheduler = Scheduler(
        redis, RemoteEvalStore(redis), registry, publisher, settings.model_copy(update=overrides)
    )
    return scheduler, producer, redis


async def test_two_scheduler_processes_take_turns_and_never_book_an_expert_twice(
    world: World, settings: PlatformSettings
) -> None:
    """Two workers started by mistake (two schedulers, each with its own Redis client and
    producer, so no lock is shared in-process) decide requests for one half-day at the same
    time: the decision lease makes them take turns, so no expert sits in two committees and
    every decision passes the independent checker's view of the bookings."""
    slot = _future_slot(1200)  # clear of the other tests' bands (and their 7-day draw window)
    requests = [_request(world, slot) for _ in range(6)]
    causes = [
        Envelope(
            message=event_codec.evaluation_requested(request, datetime.now(UTC)),
            source="test",
            subject=request.evaluation_id,
        )
        for request in requests
    ]
    first, first_producer, first_redis = await _in_process_scheduler(settings)
    second, second_producer, second_redis = await _in_process_scheduler(settings)
    try:
        await asyncio.gather(
            *(
                scheduler.apply_evaluation_event(cause)
                for scheduler, cause in zip([first, second] * 3, causes, strict=True)
            )
        )
    finally:
        await first_producer.stop()
        await second_producer.stop()
        await second_redis.aclose()
    store = RemoteEvalStore(first_redis)
    states = [await store.evaluation(request.evaluation_id) for request in requests]
    scheduled = [state for state in states if state is not None and state.status == "scheduled"]
    assert len(scheduled) >= 2, [state.status if state else None for state in states]
    seated = [member.assignment.expert_id for state in scheduled for member in state.members]
    assert len(seated) == len(set(seated)), "an expert was booked into two committees"
    busy = await store.history([slot], recent_draw_days=7)
    assert set(busy.busy[slot]) == set(seated)  # the busy marks agree with the committees
    await first_redis.aclose()


async def test_a_crash_after_storing_republishes_the_same_event_ids(
    world: World, settings: PlatformSettings
) -> None:
    request = _request(world, _future_slot(200))
    cause = Envelope(
        message=event_codec.evaluation_requested(request, datetime.now(UTC)),
        source="test",
        subject=request.evaluation_id,
    )
    crashing, producer, redis = await _in_process_scheduler(settings, survive=2)
    try:
        with pytest.raises(SimulatedCrash):
            await crashing.apply_evaluation_event(cause)
    finally:
        await producer.stop()
    state = await RemoteEvalStore(redis).evaluation(request.evaluation_id)
    assert state is not None and state.status == "scheduled"  # stored before publishing
    expected = 1 + 1 + request.expert_count  # scheduled, one seat request, one per expert

    # The redelivered request: the decision is not taken again; the stored outbox goes out.
    again, producer, redis = await _in_process_scheduler(settings)
    try:
        await again.apply_evaluation_event(cause)
        await again.apply_evaluation_event(cause)  # a second redelivery changes nothing
    finally:
        await producer.stop()
        await redis.aclose()

    events = await events_of(
        settings.kafka_bootstrap_servers, EVALUATIONS.name, request.evaluation_id
    )
    by_id: dict[str, list[bytes]] = {}
    for envelope in events:
        by_id.setdefault(envelope.id, []).append(envelope.message.SerializeToString())
    assert len(by_id) == expected, [e.type for e in events]
    assert len(events) >= expected + 2  # the two sent before the crash went out twice ...
    assert all(len(set(copies)) == 1 for copies in by_id.values())  # ... as the same events
    types = sorted({e.type.removeprefix("prt.v1.") for e in events})
    assert types == ["EvaluationScheduled", "ExpertDrawn", "SeatRequestSent"]


async def test_unanswered_seat_request_and_unconfirmed_experts_time_out(
    world: World, settings: PlatformSettings, remote_eval_api: ServiceProcess
) -> None:
    """The request is decided in-process with 2-second answer windows; the worker's timer
    (every second) fires the timeouts, and the worker re-plans and draws substitutes. The
    confirmations time out first (their deadlines sort first): in this world's small pools the
    partner venue's own pool often runs out of substitutes, and the seat moves to another
    partner before the venue's own timeout moves the rest."""
    request = _request(world, _future_slot(400))
    cause = Envelope(
        message=event_codec.evaluation_requested(request, datetime.now(UTC)),
        source="test",
        subject=request.evaluation_id,
    )
    scheduler, producer, redis = await _in_process_scheduler(
        settings, remote_eval_seat_request_answer_s=2.0, remote_eval_expert_confirm_s=2.0
    )
    try:
        await scheduler.apply_evaluation_event(cause)
    finally:
        await producer.stop()
        await redis.aclose()

    async def outcome() -> tuple[list[str], set[str]]:
        found = await logged_events(settings, request.evaluation_id)
        reasons = {
            remote_eval_pb2.SubstitutionReason.Name(e.message.reason)
            for e in found
            if isinstance(e.message, remote_eval_pb2.SubstituteDrawn)
        }
        return [e.type.removeprefix("prt.v1.") for e in found], reasons

    # The timeouts go out; unconfirmed experts are replaced, and the unanswered venue's
    # experts move elsewhere (re-plan) — in whichever order the worker handles the timeouts.
    await eventually(
        outcome,
        lambda o: (
            (
                "SeatRequestTimedOut" in o[0]
                and "ExpertConfirmationTimedOut" in o[0]
                and o[1]
                >= {"SUBSTITUTION_REASON_NOT_CONFIRMED", "SUBSTITUTION_REASON_VENUE_DECLINED"}
            )
            or "SchedulingFailed" in o[0]
        ),
        timeout_s=60,
    )
    events = await logged_events(settings, request.evaluation_id)
    assert not [e for e in events if isinstance(e.message, remote_eval_pb2.SchedulingFailed)]
    timed_out = next(
        e.message for e in events if isinstance(e.message, remote_eval_pb2.SeatRequestTimedOut)
    )
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=10) as client:
        view = (
            await client.get(f"/v1/evaluations/{request.evaluation_id}", headers=world.operator)
        ).json()
    assert timed_out.venue_id not in {a["venue_id"] for a in view["allocations"]}
    # Each partner venue the experts moved to (after the decline, or because a partner had no
    # substitute left) was asked for its seats.
    asked = {
        e.message.venue_id for e in events if isinstance(e.message, remote_eval_pb2.SeatRequestSent)
    }
    assert {a["venue_id"] for a in view["allocations"] if a["role"] == "SECONDARY"} <= asked
    assert len(view["committee"]) == request.expert_count and view["failure"] is None


async def test_backfilled_2023_evaluation_is_scheduled_answered_and_never_timed_out(
    world: World, settings: PlatformSettings, remote_eval_api: ServiceProcess, issue_key: IssueKey
) -> None:
    host = auth_headers(
        (
            await issue_key(
                PrincipalKind.DEPARTMENT,
                "JYZX-BF",
                "济南公共资源交易中心 (迁移)",
                frozenset({"370100"}),
                backfill=True,
            )
        ).key
    )
    partner = auth_headers(
        (await issue_key(PrincipalKind.PARTNER, "370300", "淄博 (迁移)", backfill=True)).key
    )
    slot_day = date(2023, 3, 1) + timedelta(days=random.randrange(0, 120))
    requested_at = datetime(slot_day.year, slot_day.month, slot_day.day, tzinfo=UTC) - timedelta(
        days=5
    )
    body = request_body(world, slot_day, occurred_at=requested_at.isoformat())
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=10) as client:
        refused = await client.post("/v1/evaluations", headers=post_headers(world.host), json=body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "backfill_not_permitted"
        response = await client.post("/v1/evaluations", headers=post_headers(host), json=body)
        assert response.status_code == 202, response.text
        evaluation_id = response.json()["evaluation_id"]
        view = await wait_decided(client, world, evaluation_id)
        assert view["status"] == "scheduled", view
        secondary = next(a for a in view["allocations"] if a["role"] == "SECONDARY")
        answered_at = requested_at + timedelta(hours=3)
        decision = await client.post(
            f"/v1/evaluations/{evaluation_id}/venue-decisions",
            headers=post_headers(partner),
            json={
                "venue_id": secondary["venue_id"],
                "decision": "ACCEPTED",
                "occurred_at": answered_at.isoformat(),
            },
        )
        if secondary["partner_code"] == "370300":
            assert decision.status_code == 202, decision.text
        pooled = [m for m in view["committee"] if m["pool_partner_code"] == "370300"]
        for member in pooled:
            confirmed = await client.post(
                f"/v1/evaluations/{evaluation_id}/experts/{member['expert_pseudonym']}/answer",
                headers=post_headers(partner),
                json={"confirmed": True, "occurred_at": answered_at.isoformat()},
            )
            assert confirmed.status_code == 202, confirmed.text

        async def statuses() -> dict[str, Any]:
            got = await client.get(f"/v1/evaluations/{evaluation_id}", headers=host)
            return got.json()  # type: ignore[no-any-return]

        final = await eventually(
            statuses,
            lambda v: all(
                m["status"] == "confirmed"
                for m in v["committee"]
                if m["pool_partner_code"] == "370300"
            ),
        )
    events = await logged_events(settings, evaluation_id)
    for envelope in events:
        message: Any = envelope.message
        if isinstance(message, remote_eval_pb2.EvaluationRequested):
            assert message.backfilled
            assert from_timestamp(message.occurred_at) == requested_at
        if isinstance(message, remote_eval_pb2.EvaluationScheduled | remote_eval_pb2.ExpertDrawn):
            assert from_timestamp(message.occurred_at) == requested_at  # the cause's time
        if isinstance(message, remote_eval_pb2.SeatRequestSent):
            assert not message.HasField("respond_by")  # no deadline for a historical record
        if isinstance(message, remote_eval_pb2.ExpertDrawn):
            assert not message.HasField("confirm_by")
        if isinstance(
            message, remote_eval_pb2.ExpertConfirmed | remote_eval_pb2.PartnerVenueDecision
        ):
            assert from_timestamp(message.occurred_at) == answered_at
        assert not isinstance(
            message,
            remote_eval_pb2.SeatRequestTimedOut | remote_eval_pb2.ExpertConfirmationTimedOut,
        )
    assert final["status"] == "scheduled"


async def test_a_pool_owner_pages_its_pool_and_marks_an_expert_unavailable(
    world: World, remote_eval_api: ServiceProcess, settings: PlatformSettings
) -> None:
    owner, other = world.partner_keys["370300"], world.partner_keys["370500"]
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=10) as client:
        first = await client.get("/v1/pools/370300/experts?limit=2", headers=owner)
        assert first.status_code == 200, first.text
        page = first.json()
        assert page["total"] >= 9 and len(page["experts"]) == 2
        second = (
            await client.get("/v1/pools/370300/experts?offset=2&limit=2", headers=owner)
        ).json()
        ids = [e["expert_id"] for e in page["experts"] + second["experts"]]
        assert len(set(ids)) == 4 and ids == sorted(ids)
        assert set(page["experts"][0]) == {
            "expert_id",
            "kind",
            "specialties",
            "employer_code",
            "active",
            "unavailable_slots",
            "unavailable_dates",
        }
        everything = (
            await client.get("/v1/pools/370300/experts?limit=500", headers=world.operator)
        ).text
        assert not [p for p in world.planted if p in everything]
        forbidden = await client.get("/v1/pools/370300/experts", headers=other)
        assert forbidden.status_code == 403
        assert forbidden.json()["code"] == "forbidden_owner"

        # Every technical expert of the world's specialty in 370300 is away on one day.
        listing = (await client.get("/v1/pools/370300/experts?limit=500", headers=owner)).json()[
            "experts"
        ]
        away = [e["expert_id"] for e in listing if world.tech in e["specialties"]]
        day = date.today() + timedelta(days=random.randrange(700, 900))
        for expert_id in away:
            marked = await client.put(
                f"/v1/pools/370300/experts/{expert_id}/availability",
                headers=post_headers(owner),
                json={"unavailable_dates": [day.isoformat()]},
            )
            assert marked.status_code == 202, marked.text
        refused = await client.put(
            f"/v1/pools/370300/experts/{away[0]}/availability",
            headers=post_headers(other),
            json={"unavailable_dates": [day.isoformat()]},
        )
        assert refused.status_code == 403

        async def projected() -> list[Any]:
            got = await client.get("/v1/pools/370300/experts?limit=500", headers=owner)
            return [e for e in got.json()["experts"] if e["expert_id"] in away]

        await eventually(
            projected, lambda es: all(e["unavailable_dates"] == [day.isoformat()] for e in es)
        )
        response = await client.post(
            "/v1/evaluations",
            headers=post_headers(world.host),
            json=request_body(world, day, required_partner_codes=[]),
        )
        evaluation_id = response.json()["evaluation_id"]
        view = await wait_decided(client, world, evaluation_id)
    assert view["status"] == "scheduled", view
    drawn_here = [
        m
        for m in view["committee"]
        if m["pool_partner_code"] == "370300" and m["kind"] == "TECHNICAL"
    ]
    assert drawn_here == []  # nobody marked away on the day is drawn
    records = await read_topic(settings.kafka_bootstrap_servers, EVALUATIONS.name)
    marks = [
        e
        for _, _, e in records
        if e is not None and isinstance(e.message, remote_eval_pb2.ExpertAvailabilitySet)
    ]
    assert {m.message.expert_id for m in marks} >= set(away)  # type: ignore[attr-defined]
