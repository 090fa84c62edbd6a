"""A partner's open SSE stream ends once its key is no longer good, as the dashboard's does: the
security review revoked a partner key with its stream open, and the stream went on receiving
SeatRequestSent and ExpertDrawn minutes later. Now the key is looked at again every
PRT_REMOTE_EVAL_STREAM_KEY_RECHECK_S (a minute; a second for the API started here), and a
revoked key, or one whose rotation overlap is over, gets an ``unauthenticated`` event, last."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prt.v1 import remote_eval_pb2

from services.platform_core.auth.api_keys import ApiKeyStore
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.auth.stream_keys import UNAUTHENTICATED
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import partner_seat_requests_topic
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from tests.conftest import IssueKey, _running
from tests.support.processes import ServiceProcess, api_process

pytestmark = pytest.mark.integration

# 滨州: a partner whose whole stream no other test reads.
PARTNER = "371600"
SPEC = partner_seat_requests_topic(PARTNER)
# Only a guard against a stream that never ends (the defect); the events decide the outcome.
NEVER_ENDING_S = 60


@pytest.fixture(scope="module")
def rechecking_api(stack_env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    yield from _running(
        api_process(
            "remote-eval-api-key-recheck",
            "services.remote_eval.http_api.app:app",
            {**stack_env, "PRT_REMOTE_EVAL_STREAM_KEY_RECHECK_S": "1"},
            log_dir,
        )
    )


def _seat_request(evaluation_id: str) -> Envelope[remote_eval_pb2.SeatRequestSent]:
    message = remote_eval_pb2.SeatRequestSent(
        evaluation_id=evaluation_id,
        occurred_at=to_timestamp(datetime.now(UTC)),
        partner_code=PARTNER,
        venue_id="BZ-371600-1",
        seats=1,
    )
    return Envelope(message=message, source="remote_eval/test", subject=evaluation_id)


async def _two_seat_requests(settings: PlatformSettings) -> tuple[str, str]:
    """Two records on the partner's topic: the stream is opened after the first, so the second
    is its first event, whatever the topic held before."""
    evaluation_id = f"EV-recheck-{uuid.uuid4().hex[:8]}"
    before, first = _seat_request(evaluation_id), _seat_request(evaluation_id)
    producer = create_producer(settings, client_id="test-stream-key-recheck")
    await producer.start()
    try:
        publisher = EventPublisher(producer)
        await publisher.publish(SPEC, before, key=evaluation_id)
        await publisher.publish(SPEC, first, key=evaluation_id)
    finally:
        await producer.stop()
    return before.id, first.id


async def _events_until_the_end(
    api: ServiceProcess, key: str, last_event_id: str, on_first: Callable[[], Awaitable[None]]
) -> list[tuple[str, str]]:
    """The stream's (event, data) until the server ends it; ``on_first`` runs once the first
    event has come (the stream is then open and serving)."""
    events: list[tuple[str, str]] = []
    fields: dict[str, str] = {}
    async with (
        asyncio.timeout(NEVER_ENDING_S),
        httpx.AsyncClient(base_url=api.base_url, timeout=NEVER_ENDING_S) as client,
        client.stream(
            "GET",
            f"/v1/partners/{PARTNER}/stream",
            headers={"X-API-Key": key, "Last-Event-ID": last_event_id},
        ) as response,
    ):
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if line:
                name, _, value = line.partition(":")
                if name:  # ":" starts a comment (the pings)
                    fields[name] = value.removeprefix(" ")
                continue
            if "event" in fields:
                events.append((fields["event"], fields.get("data", "")))
                if len(events) == 1:
                    await on_first()
            fields = {}
    return events


async def test_a_revoked_keys_open_stream_ends_with_unauthenticated(
    rechecking_api: ServiceProcess,
    issue_key: IssueKey,
    key_store: ApiKeyStore,
    settings: PlatformSettings,
) -> None:
    partner = await issue_key(PrincipalKind.PARTNER, PARTNER, "滨州市公共资源交易中心")
    before, _ = await _two_seat_requests(settings)

    async def revoke() -> None:
        assert await key_store.revoke(partner.principal.key_id)

    events = await _events_until_the_end(rechecking_api, partner.key, before, revoke)
    # The loop ended because the server ended the stream, not on the guard's timeout.
    assert events[0][0] == "prt.v1.SeatRequestSent"
    assert events[-1][0] == UNAUTHENTICATED
    assert "revoked" in json.loads(events[-1][1])["message"]


async def test_a_rotated_keys_open_stream_ends_when_the_overlap_is_over(
    rechecking_api: ServiceProcess,
    issue_key: IssueKey,
    key_store: ApiKeyStore,
    settings: PlatformSettings,
) -> None:
    partner = await issue_key(PrincipalKind.PARTNER, PARTNER, "滨州市公共资源交易中心")
    before, _ = await _two_seat_requests(settings)
    successor: list[str] = []

    async def rotate() -> None:
        issued = await key_store.rotate(partner.principal.key_id, overlap=timedelta(seconds=1))
        successor.append(issued.principal.key_id)

    events = await _events_until_the_end(rechecking_api, partner.key, before, rotate)
    assert events[0][0] == "prt.v1.SeatRequestSent"
    assert events[-1][0] == UNAUTHENTICATED
    message = json.loads(events[-1][1])["message"]
    assert "expired" in message and successor[0] in message
