"""``GET /v1/me`` (platform_core.auth.caller_api, on every API): the calling key as the platform
sees it — whom it stands for, its regions and rights, when it ends and, once rotated, its
successor — and a clear 401 for a key that no longer works (intake's API process, real Redis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.platform_core.auth.api_keys import ApiKeyStore
from services.platform_core.auth.principals import PrincipalKind
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration


async def test_a_key_reads_what_it_stands_for_and_when_it_ends(
    intake_api: ServiceProcess, key_store: ApiKeyStore
) -> None:
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(days=90)
    issued = await key_store.issue(
        PrincipalKind.DEPARTMENT,
        "ZJJ-CQ",
        "长清区住房和城乡建设局",
        frozenset({"370113"}),
        expires_at=ends,
    )
    async with httpx.AsyncClient(base_url=intake_api.base_url, timeout=10) as client:
        me = await client.get("/v1/me", headers={"X-API-Key": issued.key})
        assert me.status_code == 200, me.text
        body = me.json()
        assert {k: body[k] for k in ("key_id", "kind", "code", "name", "regions")} == {
            "key_id": issued.principal.key_id,
            "kind": "department",
            "code": "ZJJ-CQ",
            "name": "长清区住房和城乡建设局",
            "regions": ["370113"],
        }
        assert body["may_backfill"] is False
        assert datetime.fromisoformat(body["expires_at"]) == ends
        assert body["replaced_by"] is None
        assert issued.key.split("_", 2)[2] not in me.text  # never the secret, nor its HMAC
        assert "digest" not in body

        successor = await key_store.rotate(issued.principal.key_id, overlap=timedelta(hours=1))
        rotated = (await client.get("/v1/me", headers={"X-API-Key": issued.key})).json()
        assert rotated["replaced_by"] == successor.principal.key_id
        assert datetime.fromisoformat(rotated["expires_at"]) < ends

        assert await key_store.revoke(successor.principal.key_id)
        refused = await client.get("/v1/me", headers={"X-API-Key": successor.key})
        assert refused.status_code == 401
        assert "revoked" in refused.json()["message"]
        assert (await client.get("/v1/me")).status_code == 401
