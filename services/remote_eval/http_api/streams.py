"""Server-sent events: a partner's own stream for partners without a Kafka client.

The stream is the partner's seat-requests topic, read from the beginning (or after the
``Last-Event-ID`` the client sends back on reconnect), each event as JSON with its CloudEvents
id and type. A partner's key opens only its own stream.

A ``Last-Event-ID`` the topic does not hold (mistyped, from another stream, or aged out of the
log) is refused with 409 ``unknown_last_event_id`` before the stream opens: resuming "after" an
event never met would skip every event, new ones included, and the partner would miss its seat
requests while seeing only pings. The id is looked up in the topic as it stands when the client
connects (one partition, so "after" is an offset), and the stream starts at the next offset.

A record the gateway cannot decode is not dropped in silence: the partner gets an
``undecodable-record`` event naming the record's topic, partition and offset (something it can
report, and the platform can find), the API logs a warning with the same coordinates, and the
stream goes on. Neither carries the record's value.

The key that opened the stream is looked at again while it is open (every
``remote_eval_stream_key_recheck_s``, a minute by default, as the dashboard's stream does): once
it is revoked, or has ended after a rotation's overlap, the stream sends an ``unauthenticated``
event and ends, instead of going on sending seat requests to whoever still holds it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaTimeoutError
from fastapi import APIRouter, Header, Query, Request
from google.protobuf.json_format import MessageToDict
from sse_starlette.sse import EventSourceResponse

from services.platform_core.auth.dependencies import (
    CurrentPrincipal,
    api_key_store,
    require_kind,
)
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.auth.stream_keys import KeyRecheck
from services.platform_core.errors import EventDecodeError
from services.platform_core.events.envelope import decode_record
from services.platform_core.events.topics import TopicSpec, partner_seat_requests_topic
from services.platform_core.http.errors import ApiError, ErrorBody
from services.platform_core.kafka.clients import create_consumer
from services.remote_eval.http_api.dependencies import Context, RemoteEvalContext
from services.remote_eval.reference import partners

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/partners", tags=["partner streams"])

# Polls (of up to a second each) without progress before the search for a resume point gives up.
RESUME_SEARCH_STALLED_POLLS = 15

# The SSE event name of the notice; no event type of the registry (prt.v1.*) can take it.
UNDECODABLE_RECORD = "undecodable-record"
# The longest one fetch waits for records before the loop looks at the key's clock again.
MAX_FETCH_WAIT_S = 1.0


def undecodable_record_notice(record: ConsumerRecord[Any, Any]) -> dict[str, str]:
    """The partner's notice of a record it was not sent: where it is, never what it holds. No
    SSE ``id``: the client's Last-Event-ID stays the last event it was given."""
    where = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
    return {"event": UNDECODABLE_RECORD, "data": json.dumps(where)}


def unknown_last_event_id(partner_code: str, last_event_id: str) -> ApiError:
    return ApiError(
        409,
        "unknown_last_event_id",
        f"Last-Event-ID {last_event_id!r} is not an event of partner {partner_code}'s stream "
        "(mistyped, from another stream, or no longer held by the log), so there is no point "
        "to resume after. Reconnect without Last-Event-ID to replay the stream from its start "
        "(events are idempotent by id: drop the ones already processed), or with the id of an "
        "event this stream sent",
    )


def _event_id(record: ConsumerRecord[Any, Any]) -> str | None:
    """The record's CloudEvents id, from its headers only: finding the resume point needs no
    value decoded."""
    for name, value in record.headers or ():
        if name == "ce_id" and value is not None:
            return bytes(value).decode("utf-8", "replace")
    return None


def _partition(spec: TopicSpec) -> TopicPartition:
    # Partner topics have one partition (TopicSpec.partitions == 1): the stream's order and its
    # resume point are that partition's offsets.
    return TopicPartition(spec.name, 0)


async def offset_after(
    context: RemoteEvalContext, spec: TopicSpec, partner_code: str, last_event_id: str
) -> int:
    """The offset just after the event ``last_event_id`` in the partner's topic, searched up to
    the end of the topic at the time of the call; 409 ``unknown_last_event_id`` if it is not
    there (the stream would otherwise wait for it forever and send nothing)."""
    partition = _partition(spec)
    consumer: AIOKafkaConsumer = create_consumer(
        context.settings, group_id=None, client_id=f"sse-resume-{partner_code}"
    )
    await consumer.start()
    try:
        consumer.assign([partition])
        end = (await consumer.end_offsets([partition]))[partition]
        await consumer.seek_to_beginning(partition)
        stalled = 0
        while (position := await consumer.position(partition)) < end:
            batches = await consumer.getmany(partition, timeout_ms=1000)
            for record in batches.get(partition, []):
                if record.offset >= end:
                    break
                if _event_id(record) == last_event_id:
                    return int(record.offset) + 1
            # A broker that answers the offsets but then serves nothing must not hold the
            # request for ever: 503 (the KafkaError handler), and the client retries.
            stalled = stalled + 1 if await consumer.position(partition) == position else 0
            if stalled >= RESUME_SEARCH_STALLED_POLLS:
                raise KafkaTimeoutError(f"{spec.name} served nothing from offset {position}")
    finally:
        await consumer.stop()
    raise unknown_last_event_id(partner_code, last_event_id)


@router.get(
    "/{partner_code}/stream",
    summary="A partner's own events as server-sent events (for partners without Kafka)",
    responses={
        409: {
            "model": ErrorBody,
            "description": "unknown_last_event_id: the Last-Event-ID is not an event of this "
            "stream; reconnect without it (replay from the start) or with an id it sent",
        }
    },
)
async def partner_stream(
    request: Request,
    partner_code: str,
    *,
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
    place; the stream goes on.

    Without ``Last-Event-ID`` the stream starts at the beginning of the partner's topic. Send
    ``Last-Event-ID`` (the id of the last event received) to resume right after that event. An
    id the stream does not hold is refused before the stream opens: 409
    ``unknown_last_event_id``; reconnect without the header to replay from the start (events
    are idempotent by id), or with an id this stream sent.

    Should the key be revoked, or end (a rotation's overlap over), while the stream is open, an
    ``unauthenticated`` event (data ``{"message"}``: why) is the stream's last; the key is
    looked at again every minute (PRT_REMOTE_EVAL_STREAM_KEY_RECHECK_S)."""
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
    partition = _partition(spec)
    # An empty Last-Event-ID is what EventSource sends when it has no id yet: from the start.
    start = await offset_after(context, spec, partner_code, last_event_id) if last_event_id else 0

    keys = api_key_store(request)
    recheck_s = context.settings.remote_eval_stream_key_recheck_s

    async def events() -> AsyncIterator[dict[str, Any]]:
        consumer = create_consumer(context.settings, group_id=None, client_id=f"sse-{partner_code}")
        await consumer.start()
        sent = 0
        recheck = KeyRecheck(keys, principal.key_id, recheck_s)
        try:
            consumer.assign([partition])
            consumer.seek(partition, start)
            while True:
                # The key was good when the stream opened; one revoked (or ended by a rotation)
                # since must not keep receiving: looked at again every recheck_s, as the
                # dashboard's stream does, records or none.
                if (ended := await recheck.ended()) is not None:
                    yield ended
                    return
                wait_s = recheck.seconds_to_next()
                batches = await consumer.getmany(
                    partition, timeout_ms=int(min(wait_s, MAX_FETCH_WAIT_S) * 1000)
                )
                for record in batches.get(partition, []):
                    try:
                        envelope = decode_record(record.value, record.headers, spec.message_types)
                    except EventDecodeError as exc:
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
