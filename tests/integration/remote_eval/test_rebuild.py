"""``python -m services.remote_eval.rebuild --wipe`` on the real broker and Redis: after a flow
through the live worker (schedule, a declined venue re-planned, a confirmation, a refusal
replaced, availability marked, seats published, the award unsealing the committee), the
projections rebuilt from the log equal the live ones, key by key."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from prt.v1 import intake_pb2, remote_eval_pb2
from redis.asyncio import Redis

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import EVALUATION_STATES, PROJECT_EVENTS
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from services.remote_eval.rebuild import projection_keys, rebuild
from services.remote_eval.store import OUTBOX_KEY
from tests.integration.remote_eval.topic_reading import read_topic
from tests.integration.remote_eval.world import (
    World,
    post_headers,
    request_body,
    wait_decided,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration


async def snapshot(redis: Redis) -> dict[bytes, Any]:
    """Every projection key and its value, whatever the Redis type."""
    found: dict[bytes, Any] = {}
    for key in await projection_keys(redis):
        raw_kind = await redis.type(key)
        kind = raw_kind.decode() if isinstance(raw_kind, bytes) else raw_kind
        if kind == "string":
            found[key] = await redis.get(key)
        elif kind == "hash":
            found[key] = await redis.hgetall(key)
        elif kind == "set":
            found[key] = await redis.smembers(key)
        elif kind == "zset":
            found[key] = await redis.zrange(key, 0, -1, withscores=True)
        else:
            found[key] = kind
    return found


async def quiet(redis: Redis) -> dict[bytes, Any]:
    """The projections once the worker has nothing left to publish and nothing changes for
    two seconds."""
    previous: dict[bytes, Any] | None = None
    for _ in range(60):
        if not await redis.hlen(OUTBOX_KEY):
            current = await snapshot(redis)
            if current == previous:
                return current
            previous = current
        await asyncio.sleep(1)
    raise AssertionError("the remote_eval projections did not settle")


async def test_rebuilt_projections_equal_the_live_ones(
    world: World, remote_eval_api: ServiceProcess, settings: PlatformSettings
) -> None:
    redis = Redis.from_url(settings.redis_url)
    try:
        # A baseline from the log: states stored before the changelog existed (older runs on
        # a reused test stack) are not on it.
        await quiet(redis)
        await rebuild(settings, wipe_first=True)
        await _flow(world, remote_eval_api, settings)
        live = await quiet(redis)
        await _unreadable_state(settings)  # counted and skipped, not the end of the rebuild
        report = await rebuild(settings, wipe_first=True)
        rebuilt = await snapshot(redis)
    finally:
        await redis.aclose()
    assert report.wiped_keys > 0 and report.evaluations >= 1 and report.undecodable == 0
    assert report.rejected >= 1
    assert set(rebuilt) == set(live)
    assert [k for k in live if live[k] != rebuilt[k]] == []
    assert any(k.startswith(b"prt:remote_eval:committee-lists:") for k in live)
    assert b"prt:remote_eval:availability" in live and b"prt:remote_eval:offers" in live
    assert any(k.startswith(b"prt:remote_eval:drawn-on:") for k in live)  # the draw days
    # The changelog holds registry ids, never a name, phone or ID number.
    texts = [
        (raw or b"").decode("utf-8", "replace")
        for _, raw, _ in await read_topic(settings.kafka_bootstrap_servers, EVALUATION_STATES.name)
    ]
    assert texts and not [p for p in world.planted for t in texts if p in t]


async def _unreadable_state(settings: PlatformSettings) -> None:
    evaluation_id = f"EV-UNREADABLE-{uuid.uuid4()}"
    producer = create_producer(settings, client_id="test-unreadable-state")
    await producer.start()
    try:
        await EventPublisher(producer).publish(
            EVALUATION_STATES,
            Envelope(
                message=remote_eval_pb2.EvaluationStateRecorded(
                    evaluation_id=evaluation_id,
                    occurred_at=to_timestamp(datetime.now(UTC)),
                    state_json='{"status": "scheduled"}',
                ),
                source="test",
                subject=evaluation_id,
            ),
            key=evaluation_id,
        )
    finally:
        await producer.stop()


async def _flow(world: World, api: ServiceProcess, settings: PlatformSettings) -> None:
    slot_day = date.today() + timedelta(days=1000 + uuid.uuid4().int % 300)
    async with httpx.AsyncClient(base_url=api.base_url, timeout=10) as client:
        published = await client.post(
            "/v1/venues/ZB-370300-1/capacity",
            headers=post_headers(world.partner_keys["370300"]),
            json={
                "slot": {"date": slot_day.isoformat(), "half_day": "AM"},
                "seats": 9,
                "fee_fen": 26_000,
            },
        )
        assert published.status_code == 202, published.text
        pool = (
            await client.get("/v1/pools/370500/experts?limit=1", headers=world.operator)
        ).json()["experts"]
        marked = await client.put(
            f"/v1/pools/370500/experts/{pool[0]['expert_id']}/availability",
            headers=post_headers(world.partner_keys["370500"]),
            json={"unavailable_dates": [slot_day.isoformat()]},
        )
        assert marked.status_code == 202, marked.text
        created = await client.post(
            "/v1/evaluations", headers=post_headers(world.host), json=request_body(world, slot_day)
        )
        evaluation_id = created.json()["evaluation_id"]
        view = await wait_decided(client, world, evaluation_id)
        assert view["status"] == "scheduled", view
        secondary = next(a for a in view["allocations"] if a["role"] == "SECONDARY")
        declined = await client.post(
            f"/v1/evaluations/{evaluation_id}/venue-decisions",
            headers=post_headers(world.partner_keys[secondary["partner_code"]]),
            json={"venue_id": secondary["venue_id"], "decision": "DECLINED", "reason": "维修"},
        )
        assert declined.status_code == 202, declined.text

        async def current() -> dict[str, Any]:
            got = await client.get(f"/v1/evaluations/{evaluation_id}", headers=world.host)
            return dict(got.json())

        view = await eventually(current, lambda v: v["draws"] == 2)
        away = [m for m in view["committee"] if m["pool_partner_code"] != "370100"]
        confirmed = await client.post(
            f"/v1/evaluations/{evaluation_id}/experts/{away[0]['expert_pseudonym']}/answer",
            headers=post_headers(world.partner_keys[away[0]["pool_partner_code"]]),
            json={"confirmed": True},
        )
        assert confirmed.status_code == 202, confirmed.text
        home = next(m for m in view["committee"] if m["pool_partner_code"] == "370100")
        refused = await client.post(
            f"/v1/evaluations/{evaluation_id}/experts/{home['expert_pseudonym']}/answer",
            headers=post_headers(world.host),
            json={"confirmed": False, "reason": "UNAVAILABLE"},
        )
        assert refused.status_code == 202, refused.text
        view = await eventually(current, lambda v: v["draws"] == 3)
        producer = create_producer(settings, client_id="test-rebuild-award")
        await producer.start()
        try:
            award = intake_pb2.ContractAwarded(
                project_id=view["project_id"],
                occurred_at=to_timestamp(datetime.now(UTC)),
                actor_department="JYZX",
                bid_section_code="001",
                amount_fen=1_000_000,
            )
            await EventPublisher(producer).publish(
                PROJECT_EVENTS,
                Envelope(message=award, source="test", subject=view["project_id"]),
                key=view["project_id"],
            )
        finally:
            await producer.stop()
        await eventually(current, lambda v: v["unsealed"])
