"""``GET /v1/operations/api-keys/due``: the keys to rotate before their holders are cut off, and
those that ended lately — for operators only, never with a secret (reporting's own API process,
real Redis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.platform_core.auth.api_keys import ApiKeyStore
from services.platform_core.auth.principals import PrincipalKind
from tests.conftest import IssueKey
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

DUE = "/v1/operations/api-keys/due"


async def test_operators_see_the_keys_to_rotate_and_those_cut_off(
    own_api: ServiceProcess, key_store: ApiKeyStore, issue_key: IssueKey
) -> None:
    now = datetime.now(UTC)
    operator = await issue_key(PrincipalKind.OPERATOR, "op-keys", "联席办值班员")

    async def department(code: str, ends: datetime | None) -> str:
        issued = await key_store.issue(
            PrincipalKind.DEPARTMENT, code, f"{code} 部门", frozenset({"370102"}), expires_at=ends
        )
        return issued.principal.key_id

    soon = await department("DUE-SOON", now + timedelta(days=10))
    ended = await department("DUE-ENDED", now - timedelta(days=2))
    far = await department("DUE-FAR", now + timedelta(days=200))
    endless = await department("DUE-ENDLESS", None)
    revoked = await department("DUE-REVOKED", now + timedelta(days=5))
    assert await key_store.revoke(revoked)
    rotated = await department("DUE-ROTATED", now + timedelta(days=20))
    successor = await key_store.rotate(rotated, overlap=timedelta(days=3))

    async with httpx.AsyncClient(base_url=own_api.base_url, timeout=10) as client:
        answer = await client.get(DUE, headers={"X-API-Key": operator.key})
        assert answer.status_code == 200, answer.text
        listed = {k["key_id"]: k for k in answer.json()["keys"]}
        assert answer.json()["within_days"] == 30
        assert listed[soon]["status"] == "active" and listed[soon]["replaced_by"] is None
        assert listed[ended]["status"] == "expired"
        assert listed[rotated]["replaced_by"] == successor.principal.key_id
        assert not {far, endless, revoked, successor.principal.key_id} & set(listed)
        ends = [datetime.fromisoformat(k["expires_at"]) for k in answer.json()["keys"]]
        assert ends == sorted(ends)
        assert "digest" not in answer.text

        wider = await client.get(
            DUE, params={"within_days": 366}, headers={"X-API-Key": operator.key}
        )
        assert far in {k["key_id"] for k in wider.json()["keys"]}

        department_key = await issue_key(
            PrincipalKind.DEPARTMENT, "ZJJ", "市住房城乡建设局", frozenset({"370102"})
        )
        refused = await client.get(DUE, headers={"X-API-Key": department_key.key})
        assert refused.status_code == 403
        bad_window = await client.get(
            DUE, params={"within_days": 0}, headers={"X-API-Key": operator.key}
        )
        assert bad_window.status_code == 422
