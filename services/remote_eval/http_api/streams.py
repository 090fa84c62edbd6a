"""Server-sent events: a partner's own stream for partners without a Kafka client.

The stream is the partner's seat-requests topic, read from the beginning (or after the
``Last-Event-ID`` the client sends back on reconnect), each event as JSON with its CloudEvents
id and type. A partner's key opens only its own stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from google.protobuf.json_format import MessageToDict
from sse_starlette.sse import EventSourceResponse

from services.platform_core.auth.dependencies import CurrentPrincipal, require_kind
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.errors import EventDecodeError
from services.platform_core.events.envelope import decode_record
from services.platform_core.events.topics import partner_seat_requests_topic
from services.platform_core.http.errors import ApiError
from services.platform_core.kafka.clients import create_consumer
from services.remote_eval.http_api.dependencies import Context
from services.remote_eval.reference import partners

router = APIRouter(prefix="/v1/partners", tags=["partner streams"])


@router.get("/{partner_code}/stream")
async def partner_stream(
    partner_code: str,
    principal: CurrentPrincipal,
    context: Context,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    max_events: Annotated[int | None, Query(ge=1, description="end after this many")] = None,
) -> EventSourceResponse:
    require_kind(principal, PrincipalKind.PARTNER)
    if principal.code != partner_code:
        raise ApiError(
            403,
            "forbidden_partner",
            f"Partner {principal.code} may read only its own stream, not {partner_code}'s",
        )
    if partner_code not in partners():
        raise ApiError(404, "partner_not_found", f"No partner {partner_code}")
    spec = partner_seat_requests_topic(partner_code)

    async def events() -> AsyncIterator[dict[str, Any]]:
        consumer = create_consumer(
            context.settings, spec.name, group_id=None, client_id=f"sse-{partner_code}"
        )
        await consumer.start()
        sent = 0
        skipping = last_event_id is not None
        try:
            async for record in consumer:
                try:
                    envelope = decode_record(record.value, record.headers, spec.message_types)
                except EventDecodeError:
                    continue
                if skipping:
                    skipping = envelope.id != last_event_id
                    continue
                body = {
                    "type": envelope.type,
                    "time": envelope.time.isoformat(),
                    "data": MessageToDict(envelope.message, preserving_proto_field_name=True),
                }
                yield {"id": envelope.id, "event": envelope.type, "data": json.dumps(body)}
                sent += 1
                if max_events is not None and sent >= max_events:
                    return
        finally:
            await consumer.stop()

    return EventSourceResponse(events(), ping=10)
