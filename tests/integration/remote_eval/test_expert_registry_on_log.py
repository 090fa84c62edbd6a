"""The expert pools are on the log like everything else: a registration is an
ExpertRegistered event with the identity sealed, and a registry lost with Redis comes back from
the log through ``services.remote_eval.rebuild`` — the sealed identity still opens."""

from __future__ import annotations

import uuid

import httpx
import pytest
from prt.v1 import remote_eval_pb2
from redis.asyncio import Redis

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.credit_code import check_character
from services.platform_core.events.topics import EXPERT_REGISTRY
from services.platform_core.settings import PlatformSettings
from services.remote_eval.rebuild import rebuild
from services.remote_eval.sealed_registry import (
    EXPERTS_KEY,
    IDENTITIES_KEY,
    ExpertIdentity,
    ExpertRegistry,
    IdentitySeal,
)
from tests.conftest import IssueKey
from tests.integration.remote_eval.topic_reading import read_topic
from tests.integration.remote_eval.world import post_headers
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration


async def test_a_registry_lost_with_redis_comes_back_from_the_log(
    remote_eval_api: ServiceProcess,
    remote_eval_worker: ServiceProcess,
    issue_key: IssueKey,
    settings: PlatformSettings,
) -> None:
    operator = {"X-API-Key": (await issue_key(PrincipalKind.OPERATOR, "ops", "运维")).key}
    marker = uuid.uuid4().hex[:8].upper()
    body = f"913701{int(marker, 16) % 10**11:011d}"
    identity = ExpertIdentity(f"日志专家{marker}", "13912345678", "370102198001011234")
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=20) as client:
        added = await client.post(
            "/v1/experts",
            headers=post_headers(operator),
            json={
                "pool_code": "370113",
                "kind": "TECHNICAL",
                "specialties": [f"S{marker}"],
                "employer_code": body + check_character(body),
                "name": identity.name,
                "phone": identity.phone,
                "id_number": identity.id_number,
            },
        )
        assert added.status_code == 201, added.text
        expert_id = added.json()["expert_id"]

        records = await read_topic(settings.kafka_bootstrap_servers, EXPERT_REGISTRY.name)
        mine = [r for r in records if r[0] == expert_id.encode()]
        assert len(mine) == 1
        _, raw, envelope = mine[0]
        assert envelope is not None and raw is not None
        assert isinstance(envelope.message, remote_eval_pb2.ExpertRegistered)
        assert envelope.message.pool_code == "370113"
        for value in (identity.name, identity.phone, identity.id_number):
            assert value.encode() not in raw  # sealed on the log

        redis = Redis.from_url(settings.redis_url)
        try:
            await redis.delete(EXPERTS_KEY, IDENTITIES_KEY)  # Redis lost its data
            registry = ExpertRegistry(redis, IdentitySeal(settings.remote_eval_identity_key))
            assert await registry.get(expert_id) is None
            report = await rebuild(settings, wipe_first=False)
            assert report.experts >= 1
            restored = await registry.get(expert_id)
            assert restored is not None and restored.specialties == {f"S{marker}"}
            assert await registry.reveal([expert_id]) == {expert_id: identity}
        finally:
            await redis.aclose()

        listed = await client.get("/v1/pools/370113/experts?limit=500", headers=operator)
        assert listed.status_code == 200, listed.text
        assert expert_id in {e["expert_id"] for e in listed.json()["experts"]}
