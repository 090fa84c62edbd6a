"""API keys against the real Redis: issued once, stored hashed, revocable."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from services.platform_core.auth.api_keys import KEYS_HASH, ApiKeyStore, AuthenticationError
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.settings import PlatformSettings

pytestmark = pytest.mark.integration


async def test_issue_authenticate_revoke(settings: PlatformSettings) -> None:
    redis = Redis.from_url(settings.redis_url)
    store = ApiKeyStore(redis, settings.api_key_pepper)
    try:
        issued = await store.issue(
            PrincipalKind.DEPARTMENT, "ZJJ", "市住房城乡建设局", frozenset({"370113"})
        )
        principal = await store.authenticate(issued.key)
        assert principal == issued.principal
        assert principal.may_act_for_region("370113")
        assert not principal.may_act_for_region("370102")

        stored = await redis.hget(KEYS_HASH, principal.key_id)
        secret = issued.key.split("_", 2)[2]
        assert stored is not None and secret.encode() not in stored

        with pytest.raises(AuthenticationError, match="unknown API key"):
            await store.authenticate(issued.key[:-1] + ("A" if issued.key[-1] != "A" else "B"))
        with pytest.raises(AuthenticationError, match="malformed"):
            await store.authenticate("not-a-key")

        assert await store.revoke(principal.key_id)
        with pytest.raises(AuthenticationError, match="revoked"):
            # A fresh store: no cached verification from this process.
            await ApiKeyStore(redis, settings.api_key_pepper).authenticate(issued.key)
        with pytest.raises(AuthenticationError, match="revoked"):
            await store.authenticate(issued.key)
    finally:
        await redis.aclose()
