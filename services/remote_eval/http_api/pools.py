"""Expert pools per region: the owner's view of its experts (never a name, phone or ID number)
and the owner's availability marks, recorded as events and projected by the worker."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.platform_core.auth.dependencies import CurrentPrincipal
from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import EVALUATIONS
from services.platform_core.http.business_time import business_time
from services.platform_core.http.errors import ApiError
from services.platform_core.http.idempotency import StoredResponse
from services.remote_eval import event_codec
from services.remote_eval.http_api.dependencies import Context, IdempotencyKey, require_owner
from services.remote_eval.http_api.schemas import (
    AvailabilityAccepted,
    AvailabilityCreate,
    PoolExpertPage,
    PoolExpertPublic,
    SlotBody,
)

router = APIRouter(prefix="/v1/pools", tags=["expert pools"])


def _require_reader(principal: Principal, pool_code: str) -> None:
    if principal.kind is not PrincipalKind.OPERATOR:
        require_owner(principal, pool_code, f"Expert pool {pool_code}")


@router.get(
    "/{pool_code}/experts",
    response_model=PoolExpertPage,
    summary="A regional expert pool by pseudonym, a page at a time",
)
async def list_pool(
    pool_code: str,
    principal: CurrentPrincipal,
    context: Context,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> PoolExpertPage:
    """The pool's experts in registry-id order, a page at a time: for the pool's owner (the
    region's department key or the partner) and operators."""
    _require_reader(principal, pool_code)
    availability = await context.store.availability()
    experts = sorted(
        (e for e in await context.registry.all_experts() if e.pool_code == pool_code),
        key=lambda e: e.expert_id,
    )
    page = experts[offset : offset + limit]
    return PoolExpertPage(
        pool_code=pool_code,
        total=len(experts),
        offset=offset,
        limit=limit,
        experts=[
            PoolExpertPublic(
                expert_id=e.expert_id,
                kind=e.kind,
                specialties=sorted(e.specialties),
                employer_code=e.employer_code,
                active=e.active,
                unavailable_slots=[SlotBody.of(s) for s in sorted(e.unavailable)],
                unavailable_dates=sorted(availability.get(e.expert_id, frozenset())),
            )
            for e in page
        ],
    )


@router.put(
    "/{pool_code}/experts/{expert_id}/availability",
    status_code=202,
    response_model=AvailabilityAccepted,
    summary="Set when an expert of the pool can or cannot be drawn",
)
async def set_availability(
    body: AvailabilityCreate,
    *,
    pool_code: str,
    expert_id: str,
    principal: CurrentPrincipal,
    context: Context,
    idempotency_key: IdempotencyKey = None,
) -> object:
    """The pool's owner sets the dates the expert cannot sit (the whole list). Recorded as
    ExpertAvailabilitySet; the scheduler draws no one on a date they marked."""
    require_owner(principal, pool_code, f"Expert pool {pool_code}")
    expert = await context.registry.get(expert_id)
    if expert is None or expert.pool_code != pool_code:
        raise ApiError(404, "expert_not_found", f"No expert {expert_id} in pool {pool_code}")
    at = business_time(principal, body.occurred_at)
    dates = sorted(set(body.unavailable_dates))

    async def publish() -> StoredResponse:
        envelope = Envelope(
            message=event_codec.availability_set(expert_id, pool_code, dates, at),
            source=f"prt/remote-eval/{principal.code}",
            subject=expert_id,
            time=at,
        )
        await context.publisher.publish(EVALUATIONS, envelope, key=expert_id)
        accepted = AvailabilityAccepted(
            expert_id=expert_id, pool_code=pool_code, unavailable_dates=dates
        )
        return StoredResponse(202, accepted.model_dump(mode="json"))

    return await context.idempotency.run(
        f"{principal.idempotency_owner}:availability:{expert_id}",
        idempotency_key,
        body.model_dump(mode="json"),
        publish,
    )
