"""回避 learned from intake's events, on the real broker and Redis: parties known before a
request are avoided by its draw although the host did not list them; a drawn expert whose
employer bids afterwards is replaced (补抽, reason CONFLICT_OF_INTEREST), the substitute working
for none of the parties; and the parties are rebuilt from the log like any projection."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from prt.v1 import common_pb2, intake_pb2, remote_eval_pb2
from redis.asyncio import Redis

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from services.remote_eval.domain.model import Expert
from services.remote_eval.sealed_registry import ExpertRegistry, IdentitySeal
from services.remote_eval.store import EvaluationState, RemoteEvalStore
from tests.integration.remote_eval.world import (
    World,
    logged_events,
    post_headers,
    request_body,
    wait_decided,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration


@pytest.fixture
async def redis(settings: PlatformSettings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def intake_log(settings: PlatformSettings) -> AsyncIterator[EventPublisher]:
    """Publishes to intake's topic as intake does."""
    producer = create_producer(settings, client_id="remote-eval-conflict-tests")
    await producer.start()
    yield EventPublisher(producer)
    await producer.stop()


def _day(band_start: int) -> date:
    """A day in a band of this module's own, far (beyond the 7-day recent-draw window) from
    the other tests' bands and from each other, so no test's draws screen out another's."""
    return date.today() + timedelta(days=band_start + random.randrange(200))


async def _publish(publisher: EventPublisher, message: Any, project_id: str) -> None:
    envelope: Envelope[Any] = Envelope(message=message, source="/intake", subject=project_id)
    await publisher.publish(PROJECT_EVENTS, envelope, key=project_id)


def _org(code: str) -> common_pb2.OrganisationRef:
    return common_pb2.OrganisationRef(name="某建设有限公司", unified_social_credit_code=code)


async def _experts(redis: Redis, settings: PlatformSettings) -> dict[str, Expert]:
    registry = ExpertRegistry(redis, IdentitySeal(settings.remote_eval_identity_key))
    return {e.expert_id: e for e in await registry.all_experts()}


async def _state(redis: Redis, evaluation_id: str) -> EvaluationState:
    state = await RemoteEvalStore(redis).evaluation(evaluation_id)
    assert state is not None
    return state


async def _request(
    client: httpx.AsyncClient, w: World, project_id: str, day: date
) -> dict[str, Any]:
    body = request_body(w, day, project_id=project_id, avoided_unit_codes=[])
    accepted = await client.post("/v1/evaluations", headers=post_headers(w.host), json=body)
    assert accepted.status_code == 202, accepted.text
    view = await wait_decided(client, w, accepted.json()["evaluation_id"])
    assert view["status"] == "scheduled", view
    return view


async def test_parties_known_before_the_request_are_avoided_unlisted(
    world: World,
    remote_eval_api: ServiceProcess,
    settings: PlatformSettings,
    redis: Redis,
    intake_log: EventPublisher,
) -> None:
    experts = await _experts(redis, settings)
    # Three of the host pool's five technical experts work for the trade's parties.
    home_tech = sorted(
        (e for e in experts.values() if e.pool_code == "370100" and world.tech in e.specialties),
        key=lambda e: e.expert_id,
    )
    tenderer, agency, bidder = (e.employer_code for e in home_tech[:3])
    project_id = f"P-{world.marker}-{uuid.uuid4().hex[:6]}"
    await _publish(
        intake_log,
        intake_pb2.ProjectRegistered(
            project_id=project_id, tenderer=_org(tenderer), agency=_org(agency)
        ),
        project_id,
    )
    await _publish(
        intake_log,
        intake_pb2.BidSubmitted(project_id=project_id, bid_section_code="001", bidder=_org(bidder)),
        project_id,
    )
    store = RemoteEvalStore(redis)
    await eventually(
        lambda: store.parties(project_id, "001"), lambda known: len(known) == 3, timeout_s=30
    )

    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=10) as client:
        view = await _request(client, world, project_id, _day(1800))

    state = await _state(redis, view["evaluation_id"])
    assert {tenderer, agency, bidder} <= state.request.avoided_unit_codes
    employers = {experts[m.assignment.expert_id].employer_code for m in state.members}
    assert not employers & {tenderer, agency, bidder}


async def test_a_drawn_expert_whose_employer_then_bids_is_replaced(
    world: World,
    remote_eval_api: ServiceProcess,
    settings: PlatformSettings,
    redis: Redis,
    intake_log: EventPublisher,
) -> None:
    project_id = f"P-{world.marker}-{uuid.uuid4().hex[:6]}"
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=10) as client:
        view = await _request(client, world, project_id, _day(2200))
    evaluation_id = view["evaluation_id"]
    experts = await _experts(redis, settings)
    drawn = (await _state(redis, evaluation_id)).members[0]
    employer = experts[drawn.assignment.expert_id].employer_code

    # The expert's employer bids on the section.
    await _publish(
        intake_log,
        intake_pb2.BidSubmitted(
            project_id=project_id, bid_section_code="001", bidder=_org(employer)
        ),
        project_id,
    )

    async def replaced() -> list[Any]:
        return [
            e.message
            for e in await logged_events(settings, evaluation_id)
            if isinstance(e.message, remote_eval_pb2.SubstituteDrawn)
        ]

    (substituted,) = await eventually(replaced, bool, timeout_s=30)
    assert substituted.reason == remote_eval_pb2.SUBSTITUTION_REASON_CONFLICT_OF_INTEREST
    assert substituted.replaced_expert_pseudonym == drawn.pseudonym
    state = await _state(redis, evaluation_id)
    assert employer in state.request.avoided_unit_codes
    assert drawn.assignment.expert_id not in {m.assignment.expert_id for m in state.members}
    assert [m.status for m in state.former] == ["avoided"]
    assert len(state.members) == len(view["committee"])
    employers = {experts[m.assignment.expert_id].employer_code for m in state.members}
    assert employer not in employers

    # The same bid again changes nothing: one substitution. (A bid of an unrelated bidder
    # behind it, on the same partition, shows when the worker has read past it.)
    store = RemoteEvalStore(redis)
    for bidder in (employer, "91370100MA3CX0000Y"):
        await _publish(
            intake_log,
            intake_pb2.BidSubmitted(
                project_id=project_id, bid_section_code="001", bidder=_org(bidder)
            ),
            project_id,
        )
    await eventually(
        lambda: store.parties(project_id, "001"),
        lambda known: "91370100MA3CX0000Y" in known,
        timeout_s=30,
    )
    assert len(await replaced()) == 1
