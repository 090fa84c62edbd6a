"""Partner agreements on the live stack. A partner region serves only the hosts it signed with
(venues.json ``partner_of``): a request naming one for another host is refused at the API
(422 ``no_partner_agreement``, nothing published); 长清区 requiring 肥城, its partner, is
scheduled with 肥城's venue and pool; and a request that reaches the worker past the API (on the
log) fails REQUIRED_PARTNER in words that say whom the partner serves."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import EVALUATIONS
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from services.remote_eval import event_codec
from services.remote_eval.domain.model import EvaluationRequest, ExpertKind, HalfDay, Slot
from services.remote_eval.domain.model import SpecialtyNeed as Need
from tests.conftest import IssueKey
from tests.integration.remote_eval.world import (
    CHECK_DIGITS,
    World,
    auth_headers,
    credit_code,
    post_headers,
    request_body,
    wait_decided,
)
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

CHANGQING, JIYANG, FEICHENG, ZOUPING = "370113", "370115", "370983", "371626"


def _far_day() -> date:
    return date(2045, 1, 1) + timedelta(days=random.randrange(2000))  # no other draws near


async def test_a_partner_region_named_for_a_host_it_has_no_agreement_with_is_refused(
    world: World, remote_eval_api: ServiceProcess
) -> None:
    # The world's host is the city centre (370100): neither 肥城 nor 邹平 signed with it.
    body = request_body(
        world,
        _far_day(),
        required_partner_codes=[FEICHENG],
        preferred_partner_codes=["370300", ZOUPING],
    )
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=10) as client:
        response = await client.post("/v1/evaluations", headers=post_headers(world.host), json=body)
    assert response.status_code == 422, response.text
    refusal = response.json()
    assert refusal["code"] == "no_partner_agreement"
    assert "hosted by 370100 (main venue JN-370100-1)" in refusal["message"]
    assert refusal["details"] == [
        {
            "field": "required_partner_codes",
            "problem": "partner region 370983 肥城市公共资源交易中心 has no remote-evaluation "
            "agreement with host 370100 济南市公共资源交易中心; it serves 370113 "
            "长清区公共资源交易中心 only",
        },
        {
            "field": "preferred_partner_codes",
            "problem": "partner region 371626 邹平市公共资源交易中心 has no remote-evaluation "
            "agreement with host 370100 济南市公共资源交易中心; it serves 370115 "
            "济阳区公共资源交易中心 only",
        },
    ]


async def test_a_partner_region_serves_the_host_it_signed_with(
    world: World, remote_eval_api: ServiceProcess, issue_key: IssueKey
) -> None:
    changqing = auth_headers(
        (
            await issue_key(
                PrincipalKind.DEPARTMENT, "CQZX", "长清区公共资源交易中心", frozenset({CHANGQING})
            )
        ).key
    )
    rng = random.Random(f"{world.marker}-agreements")
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=10) as client:
        n = rng.randrange(10**8)
        for pool in (CHANGQING, FEICHENG):
            for kind, specialty, count in (
                ("TECHNICAL", world.tech, 3),
                ("ECONOMIC", world.econ, 2),
            ):
                for _ in range(count):
                    n += 1
                    name = f"专家{world.marker}{n}"
                    registered = await client.post(
                        "/v1/experts",
                        headers=post_headers(world.operator),
                        json={
                            "pool_code": pool,
                            "kind": kind,
                            "specialties": [specialty],
                            "employer_code": credit_code(n),
                            "name": name,
                            "phone": f"139{n % 10**8:08d}",
                            "id_number": f"370102{19700101 + n % 20:08d}{n % 1000:03d}"
                            f"{CHECK_DIGITS[n % 11]}",
                        },
                    )
                    assert registered.status_code == 201, registered.text
        created = await client.post(
            "/v1/evaluations",
            headers=post_headers(changqing),
            json=request_body(
                world,
                _far_day(),
                main_venue_id="JN-370113-1",
                required_partner_codes=[FEICHENG],
            ),
        )
        assert created.status_code == 202, created.text
        view = await wait_decided(client, world, created.json()["evaluation_id"], changqing)
    assert view["status"] == "scheduled", view
    assert FEICHENG in {a["partner_code"] for a in view["allocations"]}
    assert FEICHENG in {m["pool_partner_code"] for m in view["committee"]}


async def test_a_request_past_the_api_fails_saying_whom_the_partner_serves(
    world: World, remote_eval_api: ServiceProcess, settings: PlatformSettings
) -> None:
    # Written on the log directly (as an event from before the API refused it would be):
    # 济阳 requiring 肥城, which signed with 长清 only.
    request = EvaluationRequest(
        evaluation_id=f"EV-AGREEMENT-{uuid.uuid4()}",
        host_code=JIYANG,
        project_id=f"P-{world.marker}-{uuid.uuid4().hex[:6]}",
        bid_section_code="001",
        slot=Slot(_far_day(), HalfDay.AM),
        committee_size=5,
        needs=(Need(world.tech, ExpertKind.TECHNICAL, 3), Need(world.econ, ExpertKind.ECONOMIC, 2)),
        main_venue_id="JN-370115-1",
        required_partner_codes=(FEICHENG,),
        main_venue_experts=2,
    )
    producer = create_producer(settings, client_id="test-agreements")
    await producer.start()
    try:
        envelope = Envelope(
            message=event_codec.evaluation_requested(request, datetime.now(UTC)),
            source="test",
            subject=request.evaluation_id,
        )
        await EventPublisher(producer).publish(EVALUATIONS, envelope, key=request.evaluation_id)
    finally:
        await producer.stop()
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=10) as client:
        view = await wait_decided(client, world, request.evaluation_id, world.operator)
    assert view["status"] == "failed", view
    assert view["failure"]["constraint"] == "REQUIRED_PARTNER"
    assert view["failure"]["detail"] == (
        "required partner 370983 may not serve this evaluation: partner region 370983 "
        "肥城市公共资源交易中心 has no remote-evaluation agreement with host 370115 "
        "济阳区公共资源交易中心; it serves 370113 长清区公共资源交易中心 only"
    )
