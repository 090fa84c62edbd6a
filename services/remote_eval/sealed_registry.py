"""The sealed expert registry: pool attributes in the clear, identities encrypted.

Names, phones and ID-card numbers are sealed with AES-256-GCM under the key from the settings
(``PRT_REMOTE_EVAL_IDENTITY_KEY``), the expert id bound as associated data so a sealed record
cannot be moved to another expert. They are opened only for the venue checking the expert in on
the day, and for the committee list once the award is known; never for events or partners.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import Message
from redis.asyncio import Redis
from redis.exceptions import WatchError

from services.platform_core.errors import SettingsError
from services.platform_core.events.envelope import Envelope
from services.remote_eval.domain.model import Expert, ExpertKind, Slot

EXPERTS_KEY = "prt:remote_eval:experts"
IDENTITIES_KEY = "prt:remote_eval:identities"
VERSION_KEY = "prt:remote_eval:experts-version"
# Per expert, the version of the registration applied (see AppliedVersion). Kept with the
# registry, which a rebuild replays over rather than wipes.
REGISTRATION_VERSIONS_KEY = "prt:remote_eval:expert-registration-versions"


@dataclass(frozen=True, order=True)
class AppliedVersion:
    """Which of two events about one key is the later: its ce_time, then its id (an arbitrary
    but fixed tie-break, so every replay picks the same). A projection keeping the latest per
    key applies an event unless the one it applied is later; the same event again is applied
    again, to the same effect. So an older event read after a newer one — a dead letter
    re-driven after the key moved on — changes nothing, live or in a rebuild."""

    at: datetime
    event_id: str

    @classmethod
    def of(cls, envelope: Envelope[Message]) -> AppliedVersion:
        return cls(envelope.time.astimezone(UTC), envelope.id)

    def text(self) -> str:
        return json.dumps([self.at.isoformat(), self.event_id])

    @classmethod
    def parse(cls, raw: str | bytes) -> AppliedVersion:
        at, event_id = json.loads(raw)
        return cls(datetime.fromisoformat(at).astimezone(UTC), event_id)


@dataclass(frozen=True)
class ExpertIdentity:
    name: str
    phone: str
    id_number: str


class IdentitySeal:
    def __init__(self, key_base64: str) -> None:
        try:
            key = base64.b64decode(key_base64, validate=True)
        except ValueError as exc:
            raise SettingsError("PRT_REMOTE_EVAL_IDENTITY_KEY is not base64") from exc
        if len(key) != 32:
            raise SettingsError("PRT_REMOTE_EVAL_IDENTITY_KEY must be 32 bytes (AES-256)")
        self._aead = AESGCM(key)

    def seal(self, expert_id: str, identity: ExpertIdentity) -> str:
        nonce = os.urandom(12)
        plain = json.dumps(identity.__dict__, ensure_ascii=False).encode()
        sealed = self._aead.encrypt(nonce, plain, expert_id.encode())
        return base64.b64encode(nonce + sealed).decode()

    def open(self, expert_id: str, sealed: str) -> ExpertIdentity:
        raw = base64.b64decode(sealed)
        plain = self._aead.decrypt(raw[:12], raw[12:], expert_id.encode())
        return ExpertIdentity(**json.loads(plain))


def expert_to_json(expert: Expert) -> dict[str, Any]:
    return {
        "expert_id": expert.expert_id,
        "pool_code": expert.pool_code,
        "kind": expert.kind.value,
        "specialties": sorted(expert.specialties),
        "employer_code": expert.employer_code,
        "unavailable": sorted(slot.key() for slot in expert.unavailable),
        "active": expert.active,
    }


def expert_from_json(data: dict[str, Any]) -> Expert:
    return Expert(
        expert_id=data["expert_id"],
        pool_code=data["pool_code"],
        kind=ExpertKind(data["kind"]),
        specialties=frozenset(data["specialties"]),
        employer_code=data["employer_code"],
        unavailable=frozenset(Slot.parse(s) for s in data["unavailable"]),
        active=data["active"],
    )


class ExpertRegistry:
    def __init__(self, redis: Redis, seal: IdentitySeal) -> None:
        self._redis = redis
        self._seal = seal

    def seal(self, expert: Expert, identity: ExpertIdentity) -> str:
        return self._seal.seal(expert.expert_id, identity)

    async def add(self, expert: Expert, identity: ExpertIdentity) -> None:
        await self.add_sealed(expert, self.seal(expert, identity))

    async def add_sealed(
        self, expert: Expert, sealed: str, *, version: AppliedVersion | None = None
    ) -> bool:
        """Stores an expert as registered (ExpertRegistered); the same record twice is a no-op
        for the solver (the version moves, the directory is re-read). With the registration's
        ``version`` (from the log), nothing is stored if a later registration of the expert is
        (False): a re-driven older one must not overwrite it. Check and write are one
        transaction (WATCH), so two workers cannot interleave them. Without it (the API,
        storing the registration it has just put on the log) the record is stored as is."""
        while True:
            async with self._redis.pipeline(transaction=True) as pipe:
                try:
                    if version is not None:
                        await pipe.watch(REGISTRATION_VERSIONS_KEY)
                        stored = await pipe.hget(REGISTRATION_VERSIONS_KEY, expert.expert_id)
                        if stored is not None and AppliedVersion.parse(stored) > version:
                            await pipe.unwatch()  # type: ignore[no-untyped-call]
                            return False
                        pipe.multi()  # type: ignore[no-untyped-call]
                        pipe.hset(REGISTRATION_VERSIONS_KEY, expert.expert_id, version.text())
                    pipe.hset(EXPERTS_KEY, expert.expert_id, json.dumps(expert_to_json(expert)))
                    pipe.hset(IDENTITIES_KEY, expert.expert_id, sealed)
                    pipe.incr(VERSION_KEY)
                    await pipe.execute()
                    return True
                except WatchError:
                    continue  # another registration of the pool came in between: check again

    async def version(self) -> int:
        return int(await self._redis.get(VERSION_KEY) or 0)

    async def all_experts(self) -> list[Expert]:
        raw: dict[Any, Any] = await self._redis.hgetall(EXPERTS_KEY)
        return [expert_from_json(json.loads(value)) for value in raw.values()]

    async def get(self, expert_id: str) -> Expert | None:
        raw = await self._redis.hget(EXPERTS_KEY, expert_id)
        return expert_from_json(json.loads(raw)) if raw else None

    async def reveal(self, expert_ids: list[str]) -> dict[str, ExpertIdentity]:
        """Opens sealed identities: only for check-in on the day and the unsealed committee."""
        if not expert_ids:
            return {}
        sealed = await self._redis.hmget(IDENTITIES_KEY, expert_ids)
        return {
            expert_id: self._seal.open(
                expert_id, value if isinstance(value, str) else value.decode()
            )
            for expert_id, value in zip(expert_ids, sealed, strict=True)
            if value is not None
        }
