"""Remote evaluation's HTTP edge on the real broker and Redis, as review found it: a venue's
seats cut below what evaluations had booked (202, overbooked, no one told), a partner stream
given an unknown Last-Event-ID sending nothing for ever, an evaluation request too large for
the log answered 503 "retry later", and the AsyncAPI document and the partner cities open to
callers without a key."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from prt.v1 import intake_pb2, remote_eval_pb2
from redis.asyncio import Redis

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import PROJECT_EVENTS, partner_seat_requests_topic
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from services.remote_eval.http_api.schemas import MAX_AVOIDED_UNITS
from services.remote_eval.store import RemoteEvalStore
from tests.conftest import IssueKey
from tests.integration.remote_eval.world import (
    MAIN_VENUE,
    VENUES,
    World,
    credit_code,
    post_headers,
    publish_spare_seats,
    request_body,
    scheduled_evaluation,
    wait_decided,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

# 滨州: a partner no other test streams or schedules with, so its topic holds only what this
# module writes to it (and earlier runs of it).
STREAM_PARTNER = "371600"


async def _capacity(
    client: httpx.AsyncClient, venue_id: str, slot: dict[str, str], key: dict[str, str]
) -> dict[str, Any]:
    response = await client.get(f"/v1/venues/{venue_id}/capacity", params=slot, headers=key)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_seats_cannot_be_cut_below_what_evaluations_have_booked(
    world: World, remote_eval_api: ServiceProcess
) -> None:
    """The host cuts its main venue, and a partner that has a seat request cuts its own venue,
    below the seats booked: 409 seats_booked, naming the count and the evaluation; nothing is
    published, the evaluation stays scheduled. Offering exactly what is booked is accepted."""
    slot_day = date(2071, 1, 1) + timedelta(days=random.randrange(1000))  # no other bookings
    slot = {"date": slot_day.isoformat(), "half_day": "AM"}
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        await publish_spare_seats(client, world, slot_day, spare=40)
        view = await scheduled_evaluation(client, world, slot_day)
        evaluation_id = view["evaluation_id"]
        owners = {MAIN_VENUE: world.host}
        owners |= {venue: world.partner_keys[code] for code, venue in VENUES.items()}
        booked_venues = {a["venue_id"]: a["seats"] for a in view["allocations"] if a["seats"]}
        secondary = [a["venue_id"] for a in view["allocations"] if a["role"] == "SECONDARY"]
        assert MAIN_VENUE in booked_venues and secondary, view

        for venue_id in (MAIN_VENUE, secondary[0]):
            owner = owners[venue_id]
            before = await _capacity(client, venue_id, slot, owner)
            booked = before["booked"]
            assert booked >= booked_venues[venue_id] > 0

            cut = await client.post(
                f"/v1/venues/{venue_id}/capacity",
                headers=post_headers(owner),
                json={"slot": slot, "seats": 0, "fee_fen": 20_000},
            )
            assert cut.status_code == 409, cut.text
            refusal = cut.json()
            assert refusal["code"] == "seats_booked"
            assert f"{booked} seats booked" in refusal["message"]
            # The host and the partner sent the seat request may both know the evaluation.
            assert evaluation_id in refusal["message"]
            problem = f"0 offered, {booked} booked"
            assert refusal["details"] == [{"field": "seats", "problem": problem}]

            exactly = await client.post(
                f"/v1/venues/{venue_id}/capacity",
                headers=post_headers(owner),
                json={"slot": slot, "seats": booked, "fee_fen": 20_000},
            )
            assert exactly.status_code == 202, exactly.text

        # Neither the refused cut nor an offer of exactly what is booked re-plans or fails it.
        after = await wait_decided(client, world, evaluation_id)
        assert after["status"] == "scheduled" and after["failure"] is None
        assert [a["venue_id"] for a in after["allocations"]] == [
            a["venue_id"] for a in view["allocations"]
        ]


async def _seat_requests(settings: PlatformSettings, count: int) -> list[Envelope[Any]]:
    spec = partner_seat_requests_topic(STREAM_PARTNER)
    published: list[Envelope[Any]] = []
    producer = create_producer(settings, client_id="test-stream-resume")
    await producer.start()
    try:
        publisher = EventPublisher(producer)
        for _ in range(count):
            evaluation_id = f"EV-resume-{uuid.uuid4().hex[:8]}"
            message = remote_eval_pb2.SeatRequestSent(
                evaluation_id=evaluation_id,
                occurred_at=to_timestamp(datetime.now(UTC)),
                partner_code=STREAM_PARTNER,
                venue_id="BZ-371600-1",
                seats=1,
            )
            envelope = Envelope(message=message, source="remote_eval/test", subject=evaluation_id)
            await publisher.publish(spec, envelope, key=evaluation_id)
            published.append(envelope)
    finally:
        await producer.stop()
    return published


async def _first_event_id(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> str:
    async with (
        asyncio.timeout(30),
        client.stream("GET", url, params={"max_events": 1}, headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if line.startswith("id:"):
                return line.removeprefix("id:").strip()
    raise AssertionError("the stream ended without an event")


async def test_an_unknown_last_event_id_is_refused_not_left_waiting_for_ever(
    remote_eval_api: ServiceProcess, issue_key: IssueKey, settings: PlatformSettings
) -> None:
    """Resuming after an id the stream never sent was 200 and pings only, new events included:
    now 409 unknown_last_event_id saying how to resume. A known id resumes right after it."""
    partner = await issue_key(PrincipalKind.PARTNER, STREAM_PARTNER, "滨州市公共资源交易中心")
    key = {"X-API-Key": partner.key}
    first, second = await _seat_requests(settings, 2)
    url = f"{remote_eval_api.base_url}/v1/partners/{STREAM_PARTNER}/stream"
    async with httpx.AsyncClient(timeout=30) as client:
        for unknown in ("00000000-0000-0000-0000-000000000000", str(uuid.uuid4())):
            refused = await client.get(
                url, params={"max_events": 1}, headers={**key, "Last-Event-ID": unknown}
            )
            assert refused.status_code == 409, refused.text
            body = refused.json()
            assert body["code"] == "unknown_last_event_id"
            assert unknown in body["message"] and "without Last-Event-ID" in body["message"]

        assert await _first_event_id(client, url, {**key, "Last-Event-ID": first.id}) == second.id
        # A new event after the last one sent arrives (the resume point is the topic's end).
        resumed = asyncio.create_task(
            _first_event_id(client, url, {**key, "Last-Event-ID": second.id})
        )
        (third,) = await _seat_requests(settings, 1)
        assert await resumed == third.id
        # No header (or an empty one, as EventSource sends before its first id): from the start.
        assert await _first_event_id(client, url, key) == await _first_event_id(
            client, url, {**key, "Last-Event-ID": ""}
        )


async def test_an_oversized_evaluation_request_is_refused_not_told_to_retry(
    world: World, remote_eval_api: ServiceProcess
) -> None:
    """70,000 avoided units (1.3 MB) were answered 503 event_log_unavailable "retry later with
    the same Idempotency-Key", which no retry could pass: now a 422 naming the field and bound."""
    body = request_body(world, date(2031, 6, 16), avoided_unit_codes=[credit_code(1)] * 70_000)
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=60) as client:
        response = await client.post("/v1/evaluations", headers=post_headers(world.host), json=body)
    assert response.status_code == 422, response.text[:500]
    refusal = response.json()
    assert refusal["code"] == "invalid_request"
    assert [d["field"] for d in refusal["details"]] == ["avoided_unit_codes"]
    assert f"at most {MAX_AVOIDED_UNITS} items" in refusal["details"][0]["problem"]


@pytest.mark.parametrize("path", ["/v1/asyncapi.json", "/v1/partner-cities"])
async def test_reference_documents_need_a_key(
    world: World, remote_eval_api: ServiceProcess, path: str
) -> None:
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=10) as client:
        anonymous = await client.get(path)
        assert anonymous.status_code == 401, anonymous.text
        partner = await client.get(path, headers=world.partner_keys["370500"])
        assert partner.status_code == 200, partner.text
        document = partner.json()
        assert document["asyncapi"] == "3.0.0" if path.endswith(".json") else document
        # Public as before: health and the API's own description.
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/openapi.json")).status_code == 200


async def test_an_evaluation_for_a_trade_already_ended_is_refused(
    world: World,
    remote_eval_api: ServiceProcess,
    settings: PlatformSettings,
    redis: Redis,
) -> None:
    """The award reached remote evaluation before the host asked for the evaluation: 409
    trade_ended, naming how it ended, and nothing is published (the races review saw such a
    request booked and drawn, its committee sealed for good)."""
    body = request_body(world, date(2093, 3, 2))
    award = intake_pb2.ContractAwarded(
        project_id=body["project_id"],
        bid_section_code="001",
        occurred_at=to_timestamp(datetime.now(UTC)),
    )
    producer = create_producer(settings, client_id="test-trade-ended")
    await producer.start()
    try:
        envelope = Envelope(message=award, source="test", subject=body["project_id"])
        await EventPublisher(producer).publish(PROJECT_EVENTS, envelope, key=body["project_id"])
    finally:
        await producer.stop()
    store = RemoteEvalStore(redis)
    slot_day = date(2093, 3, 2)
    await eventually(lambda: store.trade_ended(body["project_id"], "001", before=slot_day), bool)
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        refused = await client.post("/v1/evaluations", headers=post_headers(world.host), json=body)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "trade_ended"
    assert "已定标" in refused.json()["message"]
