"""Server-sent events: a partner's own stream for partners without a Kafka client.

The stream is the partner's seat-requests topic, read from the beginning (or after the
``Last-Event-ID`` the client sends back on reconnect), each event as JSON with its CloudEvents
id and type. A partner's key opens only its own stream.

A record the gateway cannot decode is not dropped in silence: the partner gets an
``undecodable-record`` event naming the record's topic, partition and offset (something it can
report, and the platform can find), the API logs a warning with the same coordinates, and the
stream goes on. Neither carries the record's value.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from aiokafka import ConsumerRecord
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

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/partners", tags=["partner streams"])

# The SSE event name of the notice; no event type of the registry (prt.v1.*) can take it.
UNDECODABLE_RECORD = "undecodable-record"


def undecodable_record_notice(record: ConsumerRecord[Any, Any]) -> dict[str, str]:
    """The partner's notice of a record it was not sent: where it is, never what it holds. No
    SSE ``id``: the client's Last-Event-ID stays the last event it was given."""
    where = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
    return {"event": UNDECODABLE_RECORD, "data": json.dumps(where)}


@router.get(
    "/{partner_code}/stream",
    summary="A partner's own events as server-sent events (for partners without Kafka)",
)
async def partner_stream(
    partner_code: str,
    principal: CurrentPrincipal,
    context: Context,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    max_events: Annotated[
        int | None,
        Query(ge=1, description="end after this many events (undecodable-record notices aside)"),
    ] = None,
) -> EventSourceResponse:
    """The partner's seat requests, expert draws and substitutes as server-sent events: the
    event name is the CloudEvents type (``prt.v1.SeatRequestSent`` ...), the id its event id,
    the data ``{"type", "time", "data"}``. A record that cannot be decoded is announced by an
    ``undecodable-record`` event (data ``{"topic", "partition", "offset"}``, no id) in its
    place; the stream goes on. Send ``Last-Event-ID`` to resume after an event."""
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
                except EventDecodeError as exc:
                    # Before the resume point the partner was told on its earlier connection.
                    if not skipping:
                        log.warning(
                            "partner stream %s: undecodable record %s[%d]@%d not sent: %s",
                            partner_code,
                            record.topic,
                            record.partition,
                            record.offset,
                            exc,
                        )
                        yield undecodable_record_notice(record)
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
