"""Routes for a department's webhook: register or replace it (the HMAC secret is shown once),
read the registration in force, remove it, and read the delivery log. The pull inbox works
with or without a webhook.

Registering and removing emit events on abnormal.webhooks.v1; the registration in force is
their projection, so ``GET`` shows a new registration a moment after the 201. The secret is
derived from the registration id (see ``domain/webhook_registrations.py``) and exists only in
the answer: the Idempotency-Key record stores the answer without it, and a retry with the same
key gets it derived again.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from services.abnormal_push.domain.webhook_registrations import (
    WebhookRegistered,
    WebhookRemoved,
    derive_secret,
    key_fingerprint,
)
from services.abnormal_push.http_api.dependencies import (
    ActingDepartment,
    Idempotency,
    Publisher,
    PushSettings,
    Webhooks,
)
from services.abnormal_push.http_api.schemas import (
    WebhookCreate,
    WebhookPublic,
    WebhookRegistrationPublic,
    WebhookRemovedPublic,
    fingerprint_body,
)
from services.abnormal_push.publishing import publish_webhook_event
from services.abnormal_push.webhook_addresses import WebhookUrlRefused, checked_target
from services.platform_core.events.ids import new_event_id
from services.platform_core.http.business_time import business_time
from services.platform_core.http.errors import ApiError, ErrorBody, FieldProblem
from services.platform_core.http.idempotency import IdempotencyKey, StoredResponse

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 403, 404, 422, 503)
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookPublic,
    responses=_ERRORS,
    summary="Register (or replace) the calling department's webhook; returns its secret once",
)
async def register_webhook(
    body: WebhookCreate,
    *,
    department: ActingDepartment,
    publisher: Publisher,
    idempotency: Idempotency,
    push_settings: PushSettings,
    idempotency_key: IdempotencyKey = None,
) -> object:
    at = business_time(department, body.occurred_at)
    url = str(body.url)
    key = push_settings.webhook_key_bytes

    async def action() -> StoredResponse:
        # Inside the action: a retry with the same key gets the first outcome, whatever the
        # name resolves to by then.
        try:
            await checked_target(url, push_settings.allowed_networks)
        except WebhookUrlRefused as refused:
            raise ApiError(
                422,
                "webhook_url_refused",
                f"The webhook URL is refused: {refused}",
                [FieldProblem(field="url", problem=str(refused))],
            ) from refused
        event = WebhookRegistered(
            event_id=new_event_id(),
            department=department.code,
            at=at,
            webhook_id=new_event_id(),
            url=url,
            secret_key_id=key_fingerprint(key),
        )
        await publish_webhook_event(publisher, event)
        answer = {
            "department": event.department,
            "url": url,
            "registered_at": at.isoformat(),
            "webhook_id": event.webhook_id,
            "event_id": event.event_id,
        }
        return StoredResponse(201, answer)  # no secret: this is what Redis keeps

    stored = await idempotency.run(
        f"abnormal_push:{department.idempotency_owner}:register_webhook",
        idempotency_key,
        fingerprint_body(body),
        action,
    )
    if stored.status_code != status.HTTP_201_CREATED:
        return stored
    answer = json.loads(bytes(stored.body))
    answer["secret"] = derive_secret(key, answer["webhook_id"])
    replayed = {k: v for k, v in stored.headers.items() if k.lower() == "idempotent-replayed"}
    return JSONResponse(WebhookPublic(**answer).model_dump(), status_code=201, headers=replayed)


@router.get(
    "",
    response_model=WebhookRegistrationPublic,
    responses=_ERRORS,
    summary="The calling department's webhook registration in force (never its secret)",
)
async def current_webhook(
    *, department: ActingDepartment, webhooks: Webhooks
) -> WebhookRegistrationPublic:
    hook = await webhooks.get(department.code)
    if hook is None:
        raise ApiError(404, "no_webhook", f"{department.code} has no webhook registered")
    return WebhookRegistrationPublic(
        department=hook.department,
        webhook_id=hook.webhook_id,
        url=hook.url,
        registered_at=hook.registered_at,
    )


@router.delete(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WebhookRemovedPublic,
    responses=_ERRORS,
    summary="Remove the calling department's webhook; pushes stay in the pull inbox",
)
async def remove_webhook(
    *, department: ActingDepartment, webhooks: Webhooks, publisher: Publisher
) -> WebhookRemovedPublic:
    hook = await webhooks.get(department.code)
    if hook is None:
        raise ApiError(404, "no_webhook", f"{department.code} has no webhook registered")
    # Removing names the registration: repeating it, or racing a new registration, removes
    # nothing else.
    event = WebhookRemoved(
        new_event_id(), department.code, business_time(department, None), hook.webhook_id
    )
    await publish_webhook_event(publisher, event)
    return WebhookRemovedPublic(
        department=department.code, webhook_id=hook.webhook_id, event_id=event.event_id
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
