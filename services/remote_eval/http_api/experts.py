"""Expert pool administration: attributes in the clear, identities sealed on arrival."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from fastapi import APIRouter

from services.platform_core.auth.dependencies import CurrentPrincipal
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.ids import new_event_id
from services.platform_core.events.topics import EXPERT_REGISTRY
from services.platform_core.http.idempotency import StoredResponse
from services.remote_eval import event_codec
from services.remote_eval.domain.model import Expert
from services.remote_eval.http_api.dependencies import Context, IdempotencyKey, require_owner
from services.remote_eval.http_api.schemas import ExpertCreate, ExpertPublic
from services.remote_eval.sealed_registry import ExpertIdentity

router = APIRouter(prefix="/v1/experts", tags=["expert pools"])


def new_expert_id() -> str:
    """A new pseudonymous registry id, ``X-`` and 16 hex digits, made from :func:`new_event_id`:
    inside the Idempotency-Key store's run it is derived from the request's seed, so a retry
    after a crash (the first run's event on the log, its outcome not stored) registers the same
    expert again, which the registry and consumers take as the one already there, not a second
    expert with the same identity. Hashed rather than cut from the UUIDv7: its leading digits
    are the registration's millisecond (neither unique across processes nor worth showing)."""
    return "X-" + hashlib.blake2b(new_event_id().encode(), digest_size=8).hexdigest()


@router.post(
    "",
    status_code=201,
    response_model=ExpertPublic,
    summary="Add an expert to a regional pool (identity stored encrypted, shown by pseudonym)",
)
async def add_expert(
    body: ExpertCreate,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> object:
    """Adds an expert to a regional pool. The answer carries the pseudonymous registry id only;
    name, phone and ID number are sealed (AES-256-GCM) and never returned here."""
    if principal.kind is not PrincipalKind.OPERATOR:
        require_owner(principal, body.pool_code, f"Expert pool {body.pool_code}")

    async def add() -> StoredResponse:
        expert = Expert(
            expert_id=new_expert_id(),
            pool_code=body.pool_code,
            kind=body.kind,
            specialties=frozenset(body.specialties),
            employer_code=body.employer_code,
            unavailable=frozenset(s.to_slot() for s in body.unavailable_slots),
        )
        # On the log first (the registry is rebuilt from it), then in the read model at once.
        sealed = context.registry.seal(
            expert, ExpertIdentity(body.name, body.phone, body.id_number.upper())
        )
        at = datetime.now(UTC)
        envelope = Envelope(
            message=event_codec.expert_registered(expert, sealed, at),
            source=f"prt/remote-eval/{principal.code}",
            subject=expert.expert_id,
            time=at,
        )
        await context.publisher.publish(EXPERT_REGISTRY, envelope, key=expert.expert_id)
        await context.registry.add_sealed(expert, sealed)
        public = ExpertPublic(
            expert_id=expert.expert_id,
            pool_code=expert.pool_code,
            kind=expert.kind,
            specialties=sorted(expert.specialties),
        )
        return StoredResponse(201, public.model_dump(mode="json"))

    return await context.idempotency.run(
        f"{principal.idempotency_owner}:experts", idempotency_key, body.model_dump(mode="json"), add
    )
