"""A record the partner SSE gateway cannot decode is announced, not skipped in silence: the
partner gets an ``undecodable-record`` event with the record's topic, partition and offset in
its place, the API logs a warning with the same, the stream goes on, and neither holds the
record's bytes. A reconnect resuming after the record does not announce it again."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from prt.v1 import remote_eval_pb2

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import partner_seat_requests_topic
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from services.remote_eval.http_api.streams import UNDECODABLE_RECORD
from tests.conftest import IssueKey
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

# 菏泽: a partner no other test reads the whole stream of (the flow tests count 370300's
# records, and a partner's Kafka client there decodes every one of them).
PARTNER = "371700"
SPEC = partner_seat_requests_topic(PARTNER)


@dataclass(frozen=True)
class SseEvent:
    event: str
    id: str | None
    data: str


async def _read_until(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], last_id: str
) -> tuple[list[SseEvent], str]:
    """The stream's events up to the one with id ``last_id``, and the raw text read."""
    events: list[SseEvent] = []
    raw: list[str] = []
    fields: dict[str, str] = {}
    async with asyncio.timeout(30), client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            raw.append(line)
            if line:
                name, _, value = line.partition(":")
                if name:  # ":" starts a comment (the pings)
                    fields[name] = value.removeprefix(" ")
                continue
            if "event" in fields or "data" in fields:
                event = SseEvent(fields.get("event", "message"), fields.get("id"), fields["data"])
                events.append(event)
                if event.id == last_id:
                    return events, "\n".join(raw)
            fields = {}
    raise AssertionError(f"the stream ended before event {last_id}: {raw}")


def _seat_request(evaluation_id: str) -> Envelope[remote_eval_pb2.SeatRequestSent]:
    message = remote_eval_pb2.SeatRequestSent(
        evaluation_id=evaluation_id,
        occurred_at=to_timestamp(datetime.now(UTC)),
        partner_code=PARTNER,
        venue_id=f"V-{PARTNER}",
        seats=1,
    )
    return Envelope(message=message, source="remote_eval/test", subject=evaluation_id)


async def test_an_undecodable_record_is_announced_and_the_stream_goes_on(
    remote_eval_api: ServiceProcess, issue_key: IssueKey, settings: PlatformSettings
) -> None:
    partner = await issue_key(PrincipalKind.PARTNER, PARTNER, "菏泽市公共资源交易中心")
    headers = {"X-API-Key": partner.key}
    evaluation_id = f"EV-undecodable-{uuid.uuid4().hex[:8]}"
    # The payload must reach neither the partner nor the log.
    payload = f"NOT-PROTOBUF-{uuid.uuid4().hex}".encode()
    before, after, later = (_seat_request(evaluation_id) for _ in range(3))

    producer = create_producer(settings, client_id="test-undecodable")
    await producer.start()
    try:
        publisher = EventPublisher(producer)
        # The API creates the partner topics at start; the records go to partition 0 in order.
        await publisher.publish(SPEC, before, key=evaluation_id)
        poison = await producer.send_and_wait(
            SPEC.name, value=payload, key=evaluation_id.encode(), headers=[]
        )
        await publisher.publish(SPEC, after, key=evaluation_id)
        await publisher.publish(SPEC, later, key=evaluation_id)
    finally:
        await producer.stop()
    where = {"topic": SPEC.name, "partition": poison.partition, "offset": poison.offset}

    url = f"{remote_eval_api.base_url}/v1/partners/{PARTNER}/stream"
    async with httpx.AsyncClient(timeout=30) as client:
        events, text = await _read_until(
            client, url, {**headers, "Last-Event-ID": before.id}, after.id
        )
        # Resuming after the announced record: not announced again.
        resumed, _ = await _read_until(
            client, url, {**headers, "Last-Event-ID": after.id}, later.id
        )

    notices = [e for e in events if e.event == UNDECODABLE_RECORD]
    assert [json.loads(n.data) for n in notices] == [where]
    assert notices[0].id is None, "a notice must not move the client's Last-Event-ID"
    # In the poison's place: the events after it still come, in order.
    assert [e.id for e in events if e.event != UNDECODABLE_RECORD][-1] == after.id
    assert events.index(notices[0]) < len(events) - 1
    assert payload.decode() not in text
    assert all(json.loads(e.data) != where for e in resumed if e.event == UNDECODABLE_RECORD)
    assert [e.id for e in resumed][-1] == later.id

    coordinates = f"{SPEC.name}[{poison.partition}]@{poison.offset}"
    log = await eventually(
        lambda: asyncio.to_thread(remote_eval_api.log_path.read_text, errors="replace"),
        lambda text: coordinates in text,
    )
    warning = next(line for line in log.splitlines() if coordinates in line)
    assert "undecodable" in warning and PARTNER in warning
    assert payload.decode() not in log
