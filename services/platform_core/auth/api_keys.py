"""API keys: issued once, stored only as an HMAC with a secret pepper, looked up by key id.

A key reads ``prt_<key id>_<secret>``. The key id is not secret (it names the key in logs and
in the CLI); the secret is shown once at issue and never stored. Redis holds, per key id, the
HMAC-SHA256 of the secret and the principal it stands for.

A key may be issued to expire (``expires_at``), as credentials of government systems are
changed periodically; :meth:`ApiKeyStore.rotate` issues the successor of a key for the same
principal and lets the old one run on for an overlap, so a department's system can switch over
without an outage. An expired or revoked key is refused, saying which and since when.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import WatchError

from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.errors import PlatformError

KEYS_HASH = "prt:auth:api-keys"
PREFIX = "prt"
# Verified keys are remembered this long, so a request costs no Redis round trip; a revocation
# takes effect within this time.
CACHE_SECONDS = 5.0


class AuthenticationError(PlatformError):
    """No usable credentials; the message says what was wrong."""


@dataclass(frozen=True)
class IssuedKey:
    key: str  # the whole key, shown once
    principal: Principal


class ApiKeyStore:
    def __init__(self, redis: Redis, pepper: str) -> None:
        self._redis = redis
        self._pepper = pepper.encode()
        # key id -> (expiry on the monotonic clock, digest that matched, principal)
        self._cache: dict[str, tuple[float, str, Principal]] = {}

    def _digest(self, secret: str) -> str:
        return hmac.new(self._pepper, secret.encode(), hashlib.sha256).hexdigest()

    async def issue(
        self,
        kind: PrincipalKind,
        code: str,
        name: str,
        regions: frozenset[str] = frozenset(),
        may_backfill: bool = False,
        *,
        expires_at: datetime | None = None,
        replaces: str | None = None,
    ) -> IssuedKey:
        """A new key for the principal; ``expires_at`` (an aware instant) ends it, or it lasts
        until revoked. ``replaces`` names the key it succeeds (see :meth:`rotate`)."""
        if expires_at is not None and expires_at.tzinfo is None:
            raise ValueError("expires_at must be an aware instant (UTC)")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        principal = Principal(key_id, kind, code, name, regions, may_backfill)
        record = {
            "digest": self._digest(secret),
            "kind": kind.value,
            "code": code,
            "name": name,
            "regions": sorted(regions),
            "may_backfill": may_backfill,
            "created_at": datetime.now(UTC).isoformat(),
            "revoked_at": None,
            "expires_at": expires_at.astimezone(UTC).isoformat() if expires_at else None,
            "replaces": replaces,
        }
        await self._redis.hset(KEYS_HASH, key_id, json.dumps(record, ensure_ascii=False))
        return IssuedKey(f"{PREFIX}_{key_id}_{secret}", principal)

    async def revoke(self, key_id: str) -> bool:
        def revoked(record: dict[str, Any]) -> None:
            record["revoked_at"] = datetime.now(UTC).isoformat()

        changed = await self._change(key_id, revoked)
        self._cache.pop(key_id, None)
        return changed is not None

    async def rotate(
        self, key_id: str, *, overlap: timedelta, expires_at: datetime | None = None
    ) -> IssuedKey:
        """Issue the successor of key ``key_id`` for the same principal (kind, code, name,
        regions, backfill right), expiring at ``expires_at``, and end the old key ``overlap``
        from now (sooner if it would expire sooner), so its holder can switch keys meanwhile.
        Raises KeyError for an unknown key, AuthenticationError for one already unusable."""
        record = await self._record(key_id)
        if record is None:
            raise KeyError(key_id)
        old = _usable_principal(key_id, record)
        successor = await self.issue(
            old.kind,
            old.code,
            old.name,
            old.regions,
            old.may_backfill,
            expires_at=expires_at,
            replaces=key_id,
        )
        ends = datetime.now(UTC) + overlap

        def replaced(current: dict[str, Any]) -> None:
            _usable_principal(key_id, current)  # revoked or ended since it was read above
            current_end = _instant(current.get("expires_at"))
            current["expires_at"] = min(ends, current_end or ends).isoformat()
            current["replaced_by"] = successor.principal.key_id

        try:
            await self._change(key_id, replaced)
        except AuthenticationError:
            await self.revoke(successor.principal.key_id)  # no successor to an ended key
            raise
        finally:
            self._cache.pop(key_id, None)
        return successor

    async def _record(self, key_id: str) -> dict[str, Any] | None:
        raw = await self._redis.hget(KEYS_HASH, key_id)
        return None if raw is None else dict(json.loads(raw))

    async def _change(
        self, key_id: str, change: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any] | None:
        """Apply ``change`` to the key's record as it is now, in one optimistic transaction
        (WATCH, re-read, MULTI/EXEC; again if the hash moved meanwhile), so two operators'
        changes — a revocation and a rotation — never overwrite each other. None: no such key;
        an exception ``change`` raises leaves the record as it was."""
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(KEYS_HASH)
                    raw = await pipe.hget(KEYS_HASH, key_id)
                    if raw is None:
                        await pipe.unwatch()  # type: ignore[no-untyped-call]
                        return None
                    record = dict(json.loads(raw))
                    change(record)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.hset(KEYS_HASH, key_id, json.dumps(record, ensure_ascii=False))
                    await pipe.execute()
                    return record
                except WatchError:
                    continue

    async def describe(self, key_id: str) -> dict[str, Any] | None:
        """Key ``key_id``'s record as :meth:`list_keys` shows it (never the secret's HMAC)."""
        record = await self._record(key_id)
        return None if record is None else _listed(key_id, record, datetime.now(UTC))

    async def list_keys(self) -> list[dict[str, Any]]:
        raw: dict[Any, Any] = await self._redis.hgetall(KEYS_HASH)
        listed = []
        now = datetime.now(UTC)
        for key_id, value in sorted(raw.items()):
            listed.append(_listed(key_id.decode(), json.loads(value), now))
        return listed

    async def authenticate(self, presented: str) -> Principal:
        parts = presented.split("_", 2)
        if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
            raise AuthenticationError("malformed API key: expected prt_<key id>_<secret>")
        _, key_id, secret = parts
        digest = self._digest(secret)
        cached = self._cache.get(key_id)
        if cached and cached[0] > time.monotonic() and hmac.compare_digest(cached[1], digest):
            return cached[2]
        raw = await self._redis.hget(KEYS_HASH, key_id)
        if raw is None:
            raise AuthenticationError("unknown API key")
        record = json.loads(raw)
        if not hmac.compare_digest(record["digest"], digest):
            raise AuthenticationError("unknown API key")
        principal = _usable_principal(key_id, record)
        remember_s = CACHE_SECONDS
        expires_at = _instant(record.get("expires_at"))
        if expires_at is not None:  # never remembered past its end
            remember_s = min(remember_s, (expires_at - datetime.now(UTC)).total_seconds())
        self._cache[key_id] = (time.monotonic() + remember_s, digest, principal)
        return principal

    async def still_valid(self, key_id: str) -> Principal:
        """The principal of a key authenticated earlier (by whoever holds its key id, such as a
        stream ticket), read afresh: raises AuthenticationError once it is revoked or gone."""
        record = await self._record(key_id)
        if record is None:
            raise AuthenticationError(f"API key {key_id} no longer exists")
        return _usable_principal(key_id, record)


def keys_ending_between(
    listed: Iterable[Mapping[str, Any]], start: datetime, end: datetime
) -> list[Mapping[str, Any]]:
    """The keys of ``listed`` (as :meth:`ApiKeyStore.list_keys` gives them) that end between
    ``start`` and ``end`` and were not revoked, soonest first: those due for rotation (an end
    ahead) or cut off by their end (an end past)."""
    due = [
        (ends, entry)
        for entry in listed
        if not entry.get("revoked_at")
        and (ends := _instant(entry.get("expires_at"))) is not None
        and start <= ends <= end
    ]
    return [entry for _, entry in sorted(due, key=lambda pair: (pair[0], pair[1]["key_id"]))]


def _listed(key_id: str, record: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A key's record as it is shown: its id and status first, never the secret's HMAC."""
    record.pop("digest")
    return {"key_id": key_id, "status": _status(record, now), **record}


def _status(record: dict[str, Any], now: datetime) -> str:
    if record.get("revoked_at"):
        return "revoked"
    expires_at = _instant(record.get("expires_at"))
    return "expired" if expires_at is not None and expires_at <= now else "active"


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _usable_principal(key_id: str, record: dict[str, Any]) -> Principal:
    if record.get("revoked_at"):
        raise AuthenticationError(f"API key {key_id} was revoked at {record['revoked_at']}")
    expires_at = _instant(record.get("expires_at"))
    if expires_at is not None and expires_at <= datetime.now(UTC):
        successor = record.get("replaced_by")
        raise AuthenticationError(
            f"API key {key_id} expired at {record['expires_at']}"
            + (f"; it was replaced by key {successor}" if successor else "")
            + ": ask the platform's operators for a current key"
        )
    return Principal(
        key_id=key_id,
        kind=PrincipalKind(record["kind"]),
        code=record["code"],
        name=record["name"],
        regions=frozenset(record.get("regions", [])),
        may_backfill=bool(record.get("may_backfill", False)),
    )
