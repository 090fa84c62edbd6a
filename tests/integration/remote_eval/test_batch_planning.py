"""Requests the live worker reads together are planned together: two requests that one at a
time would strand the seats the second needs both get seats, and each draw's proof reproduces.

The slot's seats: 济南 main venue 3, 淄博 4, 东营 3, every other venue 0 (10 in all). Request A
(host 济南) keeps 2 experts at home and sends 3 away, preferring 淄博; request B (host 淄博) needs
4 seats at home and 1 away. Scheduled alone, A's three would take 淄博's seats (preferred) and B
would find 1 of its 4; planned together, A's go to 东营, B's fourth-plus-one fit, 10 of 10."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import EVALUATIONS
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.reference_data import regions
from services.platform_core.settings import PlatformSettings
from services.remote_eval import event_codec
from services.remote_eval.domain.model import EvaluationRequest, ExpertKind, HalfDay, Slot
from services.remote_eval.domain.model import SpecialtyNeed as Need
from services.remote_eval.reference import venue_directory
from tests.conftest import IssueKey
from tests.integration.remote_eval.world import (
    MAIN_VENUE,
    World,
    auth_headers,
    post_headers,
    wait_decided,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

SEATS = {MAIN_VENUE: 3, "ZB-370300-1": 4, "DY-370500-1": 3}


def _request(w: World, host: str, main_venue: str, main_experts: int, slot: Slot) -> Any:
    return EvaluationRequest(
        evaluation_id=f"EV-BATCH-{uuid.uuid4()}",
        host_code=host,
        project_id=f"P-{w.marker}-{uuid.uuid4().hex[:6]}",
        bid_section_code="001",
        slot=slot,
        committee_size=5,
        needs=(Need(w.tech, ExpertKind.TECHNICAL, 3), Need(w.econ, ExpertKind.ECONOMIC, 2)),
        main_venue_id=main_venue,
        preferred_partner_codes=("370300",),
        main_venue_experts=main_experts,
    )


async def test_requests_read_together_are_seated_together(
    world: World,
    remote_eval_api: ServiceProcess,
    settings: PlatformSettings,
    issue_key: IssueKey,
) -> None:
    # Each venue's staff publish its seats: its partner, or at a host venue the trading centre.
    host_regions = frozenset(regions())
    centre = auth_headers(
        (
            await issue_key(PrincipalKind.DEPARTMENT, "JYZX", "济南公共资源交易中心", host_regions)
        ).key
    )

    owners = {e.venue.owner_code for e in venue_directory().values()} - host_regions
    partners = {
        code: auth_headers((await issue_key(PrincipalKind.PARTNER, code, f"partner {code}")).key)
        for code in sorted(owners)
    }

    def staff_of(venue_id: str) -> dict[str, str]:
        owner = venue_directory()[venue_id].venue.owner_code
        return centre if owner in host_regions else partners[owner]

    slot = Slot(date.today() + timedelta(days=1400 + uuid.uuid4().int % 300), HalfDay.AM)
    slot_body = {"date": slot.day.isoformat(), "half_day": "AM"}
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=10) as client:
        for venue_id in venue_directory():
            published = await client.post(
                f"/v1/venues/{venue_id}/capacity",
                headers=post_headers(staff_of(venue_id)),
                json={"slot": slot_body, "seats": SEATS.get(venue_id, 0), "fee_fen": 20_000},
            )
            assert published.status_code == 202, published.text

        async def offered() -> dict[str, int]:
            seats = {}
            for venue_id in venue_directory():
                got = await client.get(
                    f"/v1/venues/{venue_id}/capacity",
                    params={"date": slot.day.isoformat(), "half_day": "AM"},
                    headers=world.operator,
                )
                seats[venue_id] = got.json()["seats"]
            return seats

        await eventually(offered, lambda s: all(s[v] == SEATS.get(v, 0) for v in s))

        first = _request(world, "370100", MAIN_VENUE, 2, slot)
        second = _request(world, "370300", "ZB-370300-1", 4, slot)
        producer = create_producer(settings, client_id="test-batch")
        await producer.start()
        try:
            publisher = EventPublisher(producer)
            now = datetime.now(UTC)
            await asyncio.gather(
                *(
                    publisher.publish(
                        EVALUATIONS,
                        Envelope(
                            message=event_codec.evaluation_requested(r, now),
                            source="test",
                            subject=r.evaluation_id,
                        ),
                        key=r.evaluation_id,
                    )
                    for r in (first, second)
                )
            )
        finally:
            await producer.stop()
        views = [
            await wait_decided(client, world, r.evaluation_id, world.operator)
            for r in (first, second)
        ]
        assert [v["status"] for v in views] == ["scheduled", "scheduled"], views
        seats: dict[str, int] = {}
        for view in views:
            for allocation in view["allocations"]:
                seats[allocation["venue_id"]] = (
                    seats.get(allocation["venue_id"], 0) + allocation["seats"]
                )
        assert seats == SEATS  # every seat of the slot filled, none over
        for r in (first, second):
            proof = await client.get(
                f"/v1/evaluations/{r.evaluation_id}/draws/0/proof", headers=world.operator
            )
            assert proof.status_code == 200, proof.text
            assert proof.json()["identical"] is True
