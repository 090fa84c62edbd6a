"""The audit trail of identity reads: one entry for every check-in list shown.

Remote evaluation's expert data is to be "access-controlled and audited" (NDRC 807号): whoever
was shown experts' identities before the award — which key, for which evaluation and venue,
when and how many — is recorded, and operators read the trail (GET /v1/venues/check-in-reads).

The entry is written before the list is sent: a read that cannot be recorded is not served
(Redis down: 503, and nothing shown). The trail is a Redis stream kept with the platform's other
records that no replay could give back (the API keys; Redis runs with the append-only file), so
it is not among the projections a rebuild wipes (rebuild.PROJECTION_PATTERNS) and it is never
trimmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis

from services.platform_core.auth.principals import Principal

CHECK_IN_READS_KEY = "prt:remote_eval:check-in-reads"


@dataclass(frozen=True)
class CheckInRead:
    read_at: datetime
    principal_kind: str
    principal_code: str
    key_id: str
    evaluation_id: str
    venue_id: str
    identities: int  # how many experts' identities the list showed

    def fields(self) -> dict[str, str]:
        return {
            "read_at": self.read_at.isoformat(),
            "principal_kind": self.principal_kind,
            "principal_code": self.principal_code,
            "key_id": self.key_id,
            "evaluation_id": self.evaluation_id,
            "venue_id": self.venue_id,
            "identities": str(self.identities),
        }

    @classmethod
    def of(cls, fields: dict[str, str]) -> CheckInRead:
        return cls(
            read_at=datetime.fromisoformat(fields["read_at"]),
            principal_kind=fields["principal_kind"],
            principal_code=fields["principal_code"],
            key_id=fields["key_id"],
            evaluation_id=fields["evaluation_id"],
            venue_id=fields["venue_id"],
            identities=int(fields["identities"]),
        )


class CheckInReads:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def record(
        self, principal: Principal, *, evaluation_id: str, venue_id: str, identities: int
    ) -> CheckInRead:
        read = CheckInRead(
            read_at=datetime.now(UTC),
            principal_kind=principal.kind.value,
            principal_code=principal.code,
            key_id=principal.key_id,
            evaluation_id=evaluation_id,
            venue_id=venue_id,
            identities=identities,
        )
        await self._redis.xadd(CHECK_IN_READS_KEY, read.fields())  # type: ignore[arg-type]
        return read

    async def entries(
        self, *, evaluation_id: str | None = None, venue_id: str | None = None
    ) -> list[CheckInRead]:
        """Every recorded read, oldest first, of the evaluation and/or venue if named."""
        raw = await self._redis.xrange(CHECK_IN_READS_KEY) or []
        reads = [
            CheckInRead.of({_text(k): _text(v) for k, v in fields.items()})
            for _, fields in raw
            if fields
        ]
        return [
            r
            for r in reads
            if (evaluation_id is None or r.evaluation_id == evaluation_id)
            and (venue_id is None or r.venue_id == venue_id)
        ]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
