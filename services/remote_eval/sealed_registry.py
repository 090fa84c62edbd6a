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
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from redis.asyncio import Redis

from services.platform_core.errors import SettingsError
from services.remote_eval.domain.model import Expert, ExpertKind, Slot

EXPERTS_KEY = "prt:remote_eval:experts"
IDENTITIES_KEY = "prt:remote_eval:identities"
VERSION_KEY = "prt:remote_eval:experts-version"


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

    async def add_sealed(self, expert: Expert, sealed: str) -> None:
        """Stores an expert as registered (ExpertRegistered); the same record twice is a no-op
        for the solver (the version moves, the directory is re-read)."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(EXPERTS_KEY, expert.expert_id, json.dumps(expert_to_json(expert)))
            pipe.hset(IDENTITIES_KEY, expert.expert_id, sealed)
            pipe.incr(VERSION_KEY)
            await pipe.execute()

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
