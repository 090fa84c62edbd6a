"""Routes for a department's webhook: register it (the HMAC secret is shown once) and read
the delivery log. The pull inbox works with or without a webhook."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, status

from services.abnormal_push.http_api.dependencies import ActingDepartment, Idempotency, Webhooks
from services.abnormal_push.http_api.schemas import WebhookCreate, WebhookPublic
from services.platform_core.http.errors import ErrorBody
from services.platform_core.http.idempotency import StoredResponse

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookPublic,
    responses={400: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    summary="Register (or replace) the calling department's webhook; returns its secret once",
)
async def register_webhook(
    body: WebhookCreate,
    department: ActingDepartment,
    webhooks: Webhooks,
    idempotency: Idempotency,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> object:
    async def action() -> StoredResponse:
        hook = await webhooks.register(department.code, str(body.url))
        return StoredResponse(201, WebhookPublic(**hook.__dict__).model_dump())

    return await idempotency.run(
        f"abnormal_push:{department.key_id}:register_webhook",
        idempotency_key,
        body.model_dump(mode="json"),
        action,
    )


@router.get(
    "/deliveries",
    summary="The calling department's webhook delivery log, newest first",
)
async def delivery_log(
    department: ActingDepartment,
    webhooks: Webhooks,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return await webhooks.delivery_log(department.code, limit)
