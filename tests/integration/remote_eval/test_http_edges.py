"""Remote evaluation's HTTP edge on the real broker and Redis, as review found it: a cancelled
committee's identities on the check-in list, input out of range answered 500 (or accepted and
failed in the worker), a crash-retried registration making a second expert, and no-shows taken
for an expert who never confirmed, or answered to a stranger with where the expert sits."""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
from redis.asyncio import Redis

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.ids import new_event_id
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.http.idempotency import KEY_PREFIX, body_fingerprint
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from services.remote_eval.http_api.schemas import ExpertCreate
from services.remote_eval.sealed_registry import EXPERTS_KEY
from tests.integration.remote_eval.world import (
    MAIN_VENUE,
    PARTNERS,
    VENUES,
    World,
    credit_code,
    post_headers,
    publish_spare_seats,
    scheduled_evaluation,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess
from tests.support.project_events import tender_failed

pytestmark = pytest.mark.integration

RANGE = "slot dates run from 2015-01-01 to 2100-12-31"


async def test_a_cancelled_evaluations_committee_is_not_on_the_check_in_list(
    world: World, remote_eval_api: ServiceProcess, settings: PlatformSettings
) -> None:
    """Terminated before its day, the evaluation is cancelled and its committee stays sealed:
    on the day, its venue's check-in list refuses, saying why, and names no one."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        await publish_spare_seats(client, world, today, spare=40)
        view = await scheduled_evaluation(client, world, today)
        evaluation_id = view["evaluation_id"]
        # The termination happened yesterday (recorded late): before the evaluation's day.
        yesterday = datetime.now(UTC) - timedelta(days=1)
        terminated = tender_failed(view["project_id"], "001")
        terminated.occurred_at.CopyFrom(to_timestamp(yesterday))
        producer = create_producer(settings, client_id="test-check-in-termination")
        await producer.start()
        try:
            await EventPublisher(producer).publish(
                PROJECT_EVENTS,
                Envelope(
                    message=terminated,
                    source="test",
                    subject=view["project_id"],
                    time=yesterday,
                ),
                key=view["project_id"],
            )
        finally:
            await producer.stop()

        async def status() -> str:
            r = await client.get(f"/v1/evaluations/{evaluation_id}", headers=world.host)
            return str(r.json()["status"])

        assert await eventually(status, lambda s: s != "scheduled") == "cancelled"
        check_in = await client.get(
            f"/v1/venues/{MAIN_VENUE}/check-in",
            params={"evaluation_id": evaluation_id},
            headers=world.host,
        )
        assert check_in.status_code == 409, check_in.text
        assert check_in.json()["code"] == "not_scheduled"
        assert "cancelled" in check_in.json()["message"]
        assert not [p for p in world.planted if p in check_in.text]


async def test_input_out_of_range_is_refused_naming_the_range(
    world: World, remote_eval_api: ServiceProcess
) -> None:
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        for day in ("9999-12-31", "0001-01-01"):
            capacity = await client.get(
                f"/v1/venues/{VENUES['370300']}/capacity",
                params={"date": day, "half_day": "PM"},
                headers=world.host,
            )
            assert capacity.status_code == 422, capacity.text
            assert capacity.json()["code"] == "invalid_request"
            assert RANGE in capacity.json()["message"]
            assert capacity.json()["details"][0]["field"] == "query.date"

        fee = await client.post(
            f"/v1/venues/{MAIN_VENUE}/capacity",
            headers=post_headers(world.host),
            json={"slot": {"date": "2031-03-04", "half_day": "AM"}, "seats": 1, "fee_fen": 2**63},
        )
        assert fee.status_code == 422, fee.text
        assert "less than or equal to 1000000000000000" in fee.json()["message"]

        body: dict[str, Any] = {
            "project_id": f"P-{world.marker}-range",
            "bid_section_code": "001",
            "slot": {"date": "0001-01-01", "half_day": "AM"},
            "committee_size": 5,
            "specialties": [{"specialty_code": world.tech, "kind": "TECHNICAL", "count": 5}],
            "main_venue_id": MAIN_VENUE,
        }
        requested = await client.post(
            "/v1/evaluations", headers=post_headers(world.host), json=body
        )
        assert requested.status_code == 422, requested.text
        assert f"{RANGE}, not 0001-01-01" in requested.json()["message"]


async def test_a_registration_retried_after_a_crash_is_the_same_expert(
    world: World, remote_eval_api: ServiceProcess, settings: PlatformSettings
) -> None:
    """The first run published the registration and died before its outcome was stored: each
    retry with the same Idempotency-Key runs again under the first run's seed, and registers
    the same expert, not one more."""
    specialty = f"D{uuid.uuid4().hex[:8].upper()}"
    body = {
        "pool_code": "370100",
        "kind": "TECHNICAL",
        "specialties": [specialty],
        "employer_code": credit_code(random.randrange(10**8)),
        "name": "重试专家",
        "phone": "13800000000",
        "id_number": "11010519491231002X",
    }
    key = str(uuid.uuid4())
    # The route's scope: the operator of the world's key ("audit"), its expert registrations.
    redis_key = f"{KEY_PREFIX}operator:audit:experts:{key}"
    fingerprint = body_fingerprint(ExpertCreate.model_validate(body).model_dump(mode="json"))
    stale = orjson.dumps(
        {
            "state": "in_flight",
            "fingerprint": fingerprint,
            "seed": new_event_id(),
            "until": time.time() - 1,  # its process stopped renewing it: it died
        }
    )
    redis = Redis.from_url(settings.redis_url)
    registered: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
            for _ in range(2):
                await redis.set(redis_key, stale, ex=3600)
                added = await client.post(
                    "/v1/experts",
                    headers={**world.operator, "Idempotency-Key": key},
                    json=body,
                )
                assert added.status_code == 201, added.text
                assert added.headers.get("Idempotent-Replayed") != "true"  # it ran again
                registered.append(added.json()["expert_id"])
        assert registered[0] == registered[1]
        mine = [
            expert_id.decode() if isinstance(expert_id, bytes) else expert_id
            for expert_id, raw in (await redis.hgetall(EXPERTS_KEY)).items()
            if specialty in json.loads(raw)["specialties"]
        ]
        assert mine == registered[:1]
    finally:
        await redis.aclose()


async def test_a_no_show_is_for_a_confirmed_expert_reported_by_their_venue(
    world: World, remote_eval_api: ServiceProcess
) -> None:
    slot_day = date(2061, 1, 1) + timedelta(days=random.randrange(1000))  # no other draws near
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        view = await scheduled_evaluation(client, world, slot_day)
        evaluation_id = view["evaluation_id"]
        at_main = next(m for m in view["committee"] if m["venue_id"] == MAIN_VENUE)
        pseudonym = at_main["expert_pseudonym"]
        path = f"/v1/evaluations/{evaluation_id}/experts/{pseudonym}/no-show"
        assert at_main["status"] == "drawn"

        # A partner with no venue in this evaluation learns nothing of its committee.
        taking_part = {a["partner_code"] for a in view["allocations"]}
        stranger = next(code for code in PARTNERS if code not in taking_part)
        for venue, code in ((VENUES[stranger], "venue_not_in_evaluation"),
                            (MAIN_VENUE, "forbidden_owner")):  # fmt: skip
            refused = await client.post(
                path,
                headers=post_headers(world.partner_keys[stranger]),
                json={"venue_id": venue},
            )
            assert refused.status_code == 403, refused.text
            assert refused.json()["code"] == code
            assert pseudonym not in refused.text
        unknown = await client.post(
            path, headers=post_headers(world.host), json={"venue_id": "NO-SUCH-VENUE"}
        )
        assert unknown.status_code == 404 and unknown.json()["code"] == "venue_not_found"

        # A partner of the evaluation reporting at its own venue an expert seated elsewhere is
        # refused without being told where.
        secondary = next(a for a in view["allocations"] if a["role"] == "SECONDARY")
        elsewhere = await client.post(
            path,
            headers=post_headers(world.partner_keys[secondary["partner_code"]]),
            json={"venue_id": secondary["venue_id"]},
        )
        assert elsewhere.status_code == 409, elsewhere.text
        assert elsewhere.json()["code"] == "wrong_venue"
        assert MAIN_VENUE not in elsewhere.text

        # The host's own venue, but the expert never confirmed: not a no-show.
        unconfirmed = await client.post(
            path, headers=post_headers(world.host), json={"venue_id": MAIN_VENUE}
        )
        assert unconfirmed.status_code == 409, unconfirmed.text
        assert unconfirmed.json()["code"] == "not_confirmed"
        assert "status drawn" in unconfirmed.json()["message"]
