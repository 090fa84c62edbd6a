"""API keys against the real Redis: issued once, stored hashed, revocable, expiring, rotated."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from services.platform_core.auth.api_keys import (
    KEYS_HASH,
    ApiKeyStore,
    AuthenticationError,
    IssuedKey,
)
from services.platform_core.auth.principals import Principal, PrincipalKind
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


async def test_a_key_expires_on_its_own(settings: PlatformSettings) -> None:
    redis = Redis.from_url(settings.redis_url)
    store = ApiKeyStore(redis, settings.api_key_pepper)
    try:
        issued = await store.issue(
            PrincipalKind.OPERATOR,
            "op-expiring",
            "联席办值班员",
            expires_at=datetime.now(UTC) + timedelta(seconds=1),
        )
        # Verified now, and remembered — but never past the key's end.
        assert await store.authenticate(issued.key) == issued.principal
        await asyncio.sleep(1.2)
        with pytest.raises(AuthenticationError, match=r"expired at .*ask the platform"):
            await store.authenticate(issued.key)
        with pytest.raises(AuthenticationError, match="expired"):
            await store.still_valid(issued.principal.key_id)
        with pytest.raises(ValueError, match="aware"):
            await store.issue(
                PrincipalKind.OPERATOR, "op", "值班员", expires_at=datetime(2030, 1, 1)
            )
    finally:
        await redis.aclose()


async def test_rotation_gives_the_same_principal_a_new_key_and_ends_the_old_one_later(
    settings: PlatformSettings,
) -> None:
    redis = Redis.from_url(settings.redis_url)
    store = ApiKeyStore(redis, settings.api_key_pepper)
    try:
        old = await store.issue(
            PrincipalKind.DEPARTMENT, "SWJ", "市水务局", frozenset({"370112", "370113"}), True
        )
        assert await store.authenticate(old.key) == old.principal
        new = await store.rotate(old.principal.key_id, overlap=timedelta(seconds=1))
        assert new.key != old.key
        assert new.principal.key_id != old.principal.key_id
        same = ("kind", "code", "name", "regions", "may_backfill")
        assert [getattr(new.principal, f) for f in same] == [
            getattr(old.principal, f) for f in same
        ]
        # During the overlap both work; afterwards only the successor, and the old key's
        # refusal names it.
        assert await store.authenticate(old.key) == old.principal
        assert await store.authenticate(new.key) == new.principal
        await asyncio.sleep(1.2)
        with pytest.raises(AuthenticationError, match=f"replaced by key {new.principal.key_id}"):
            await store.authenticate(old.key)
        assert await store.authenticate(new.key) == new.principal
        listed = {entry["key_id"]: entry for entry in await store.list_keys()}
        assert listed[new.principal.key_id]["replaces"] == old.principal.key_id
        assert listed[old.principal.key_id]["replaced_by"] == new.principal.key_id

        # A key that already ends sooner than the overlap keeps its own end.
        soon = datetime.now(UTC) + timedelta(seconds=30)
        short = await store.issue(PrincipalKind.OPERATOR, "op-short", "值班员", expires_at=soon)
        await store.rotate(short.principal.key_id, overlap=timedelta(days=7))
        listed = {entry["key_id"]: entry for entry in await store.list_keys()}
        assert listed[short.principal.key_id]["expires_at"] == soon.isoformat()

        with pytest.raises(KeyError):
            await store.rotate("000000000000", overlap=timedelta(hours=1))
        assert await store.revoke(new.principal.key_id)
        with pytest.raises(AuthenticationError, match="revoked"):
            await store.rotate(new.principal.key_id, overlap=timedelta(hours=1))
    finally:
        await redis.aclose()


def test_the_cli_rotates_a_key_and_prints_only_the_successor(
    settings: PlatformSettings, stack_env: dict[str, str]
) -> None:
    issued = asyncio.run(_issue(settings))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "services.platform_core.auth.cli", *args],
            env={**os.environ, **stack_env},
            capture_output=True,
            text=True,
            check=False,
        )

    rotated = cli("rotate", issued.principal.key_id, "--overlap-hours", "2")
    assert rotated.returncode == 0, rotated.stderr
    successor = rotated.stdout.strip()
    assert successor.startswith("prt_") and issued.key not in rotated.stdout
    assert f"to replace {issued.principal.key_id}" in rotated.stderr
    assert "ends in 2 h" in rotated.stderr
    assert asyncio.run(_principal_of(settings, successor)).code == "CZJ"
    # The old key ends within a day (in 2 h): listed among those to rotate; its successor,
    # which has no end, is not.
    ending = [
        json.loads(line) for line in cli("list", "--ending-within-days", "1").stdout.splitlines()
    ]
    ending_ids = {entry["key_id"] for entry in ending}
    successor_id = successor.split("_", 2)[1]
    assert issued.principal.key_id in ending_ids and successor_id not in ending_ids
    assert all(entry["status"] == "active" for entry in ending)
    unknown = cli("rotate", "000000000000")
    assert unknown.returncode == 1 and "no key 000000000000" in unknown.stderr
    refused = cli(
        "issue", "--kind", "operator", "--code", "x", "--name", "x", "--expires-in-days", "0"
    )
    assert refused.returncode == 2 and "must be more than 0" in refused.stderr


async def _issue(settings: PlatformSettings) -> IssuedKey:
    redis = Redis.from_url(settings.redis_url)
    try:
        return await ApiKeyStore(redis, settings.api_key_pepper).issue(
            PrincipalKind.DEPARTMENT, "CZJ", "市财政局", frozenset({"370100"})
        )
    finally:
        await redis.aclose()


async def _principal_of(settings: PlatformSettings, key: str) -> Principal:
    redis = Redis.from_url(settings.redis_url)
    try:
        return await ApiKeyStore(redis, settings.api_key_pepper).authenticate(key)
    finally:
        await redis.aclose()


async def test_a_revocation_racing_a_rotation_is_never_lost(settings: PlatformSettings) -> None:
    """Both change the key's record; each re-reads and writes it in one transaction, so neither
    writes back a copy that misses the other's change."""
    redis = Redis.from_url(settings.redis_url)
    store = ApiKeyStore(redis, settings.api_key_pepper)
    try:
        for _ in range(5):
            issued = await store.issue(PrincipalKind.OPERATOR, "op-race", "值班员")
            key_id = issued.principal.key_id
            outcomes = await asyncio.gather(
                store.rotate(key_id, overlap=timedelta(hours=1)),
                store.revoke(key_id),
                return_exceptions=True,
            )
            record = json.loads(await redis.hget(KEYS_HASH, key_id) or b"{}")
            assert record["revoked_at"], outcomes
            successor = outcomes[0]
            if isinstance(successor, IssuedKey):  # rotated first: the successor stands
                assert record["replaced_by"] == successor.principal.key_id
            else:  # revoked first: no successor was left behind
                assert isinstance(successor, AuthenticationError), outcomes
                listed = await store.list_keys()
                assert not [
                    k for k in listed if k.get("replaces") == key_id and not k["revoked_at"]
                ]
    finally:
        await redis.aclose()
