"""``GET /v1/me``, on every API: the key a caller presents, as the platform sees it.

For the people who wire a department's or a partner's system to the platform: whether the key
works, whom it stands for, the regions it may act for, whether it may backfill, and when it ends
(and which key replaces it, once rotated) — before a 403 or an expiry tells them the hard way.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from services.platform_core.auth.dependencies import CurrentPrincipal, api_key_store
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.http.errors import ApiError, ErrorBody

router = APIRouter(tags=["caller"])


class CallerPublic(BaseModel):
    key_id: str = Field(examples=["3f9c1a7b2d40"])
    kind: PrincipalKind
    code: str = Field(description="department, partner region or operator code", examples=["ZJJ"])
    name: str = Field(examples=["市住房城乡建设局"])
    regions: list[str] = Field(
        description="the regions a department acts for", examples=[["370102", "370113"]]
    )
    may_backfill: bool = Field(description="may state occurred_at for historical records")
    created_at: datetime | None
    expires_at: datetime | None = Field(description="null: until revoked")
    replaced_by: str | None = Field(
        default=None, description="the key that succeeds this one, once it has been rotated"
    )


@router.get(
    "/v1/me",
    response_model=CallerPublic,
    responses={401: {"model": ErrorBody}},
    summary="The calling key: whom it stands for, its regions and rights, when it ends",
)
async def read_caller(principal: CurrentPrincipal, request: Request) -> CallerPublic:
    record = await api_key_store(request).describe(principal.key_id)
    if record is None:  # removed from the store since it was verified
        raise ApiError(401, "unauthenticated", f"API key {principal.key_id} no longer exists")
    return CallerPublic(
        key_id=principal.key_id,
        kind=principal.kind,
        code=principal.code,
        name=principal.name,
        regions=sorted(principal.regions),
        may_backfill=principal.may_backfill,
        created_at=record.get("created_at"),
        expires_at=record.get("expires_at"),
        replaced_by=record.get("replaced_by"),
    )
