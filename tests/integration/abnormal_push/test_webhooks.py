"""A webhook receiver that fails twice and then succeeds gets the push, signed, and the log
shows exactly one successful delivery; a push sent with estimated deadlines is sent again with
the real ones. The receiver is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiohttp import web
from prt.v1 import common_pb2

from services.abnormal_push.domain.reports import Severity
from services.abnormal_push.domain.webhook_delivery import verify
from services.abnormal_push.handlers import DeadlineWatch, ReportRouter
from services.abnormal_push.read_model import PushReadModel
from services.abnormal_push.service_config import load_deadline_policy, load_routing_table
from services.platform_core.events.envelope import Envelope
from services.platform_core.kafka.publisher import EventPublisher
from tests.integration.abnormal_push.fixtures import (
    Keys,
    StandInCalendar,
    auth,
    report_body,
    report_event,
    wait_for_pushes,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess, free_port

pytestmark = pytest.mark.integration

FAILURES_BEFORE_SUCCESS = 2


class Receiver:
    """Fails the first two attempts of every delivery with a 503, then acknowledges."""

    def __init__(self) -> None:
        self.attempts: Counter[str] = Counter()
        self.accepted: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        delivery = request.headers.get("X-PRT-Delivery", "")
        self.attempts[delivery] += 1
        if self.attempts[delivery] <= FAILURES_BEFORE_SUCCESS:
            return web.Response(status=503, text="busy")
        self.accepted.append((dict(request.headers), await request.read()))
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    handler = Receiver()
    app = web.Application()
    app.router.add_post("/push", handler.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield handler, f"http://127.0.0.1:{port}/push"
    finally:
        await runner.cleanup()


async def _register(client: httpx.AsyncClient, api: ServiceProcess, key: str, url: str) -> str:
    """Registers the department's webhook and waits until it is in force; its secret."""
    registered = await client.post(
        f"{api.base_url}/v1/webhooks", json={"url": url}, headers=auth(key, str(uuid.uuid4()))
    )
    assert registered.status_code == 201, registered.text
    # The registration is an event; pushes routed once it is projected are delivered.
    await eventually(
        lambda: client.get(f"{api.base_url}/v1/webhooks", headers=auth(key)),
        lambda r: (
            r.status_code == 200 and r.json()["webhook_id"] == registered.json()["webhook_id"]
        ),
    )
    secret: str = registered.json()["secret"]
    return secret


async def test_a_receiver_failing_twice_gets_the_push_once_signed(
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    receiver: tuple[Receiver, str],
) -> None:
    handler, url = receiver
    async with httpx.AsyncClient(timeout=10) as client:
        secret = await _register(client, push_api, keys["YLJ"], url)

        filed = await client.post(
            f"{push_api.base_url}/v1/reports",
            json=report_body("LANDSCAPING"),
            headers=auth(keys["JYZX"], str(uuid.uuid4())),
        )
        report_id = filed.json()["report_id"]
        # The pull inbox has it regardless of the webhook.
        (push,) = await wait_for_pushes(client, push_api, keys["YLJ"], report_id)

        def mine() -> list[tuple[dict[str, str], bytes]]:
            return [
                (headers, body)
                for headers, body in handler.accepted
                if json.loads(body)["push_id"] == push["push_id"]
            ]

        async def accepted() -> list[tuple[dict[str, str], bytes]]:
            return mine()

        await eventually(accepted, lambda found: len(found) == 1, timeout_s=20)
        await asyncio.sleep(1.5)  # longer than the next backoff: nothing more may arrive

        async def log_entries() -> list[dict[str, Any]]:
            response = await client.get(
                f"{push_api.base_url}/v1/webhooks/deliveries", headers=auth(keys["YLJ"])
            )
            return [e for e in response.json() if e["push_id"] == push["push_id"]]

        entries = await eventually(log_entries, lambda found: len(found) >= 3)

    ((headers, body),) = mine()
    assert verify(secret, headers["X-PRT-Timestamp"], body, headers["X-PRT-Signature"])
    assert not verify(
        "another secret", headers["X-PRT-Timestamp"], body, headers["X-PRT-Signature"]
    )
    payload = json.loads(body)
    assert payload["department"] == "YLJ" and payload["report"]["report_id"] == report_id
    assert handler.attempts[headers["X-PRT-Delivery"]] == 3
    outcomes = [e["outcome"] for e in reversed(entries)]
    assert outcomes == ["failed", "failed", "delivered"]
    assert [e["attempt"] for e in reversed(entries)] == [1, 2, 3]


@pytest.mark.usefixtures("push_worker")
async def test_a_push_sent_with_estimated_deadlines_is_sent_again_with_the_real_ones(
    push_api: ServiceProcess,
    keys: Keys,
    publisher: EventPublisher,
    read_model: PushReadModel,
    receiver: tuple[Receiver, str],
) -> None:
    handler, url = receiver
    async with httpx.AsyncClient(timeout=10) as client:
        await _register(client, push_api, keys["GZW"], url)
        # Routed by a worker whose holiday calendar lacks this year: estimated deadlines.
        now = datetime.now(UTC)  # after the registration: pushes routed before it are not sent
        calendar = StandInCalendar(unpublished_from=now.year)
        policy = replace(load_deadline_policy(), calendar=calendar)
        report_id = f"r-{uuid.uuid4()}"
        report = report_event(report_id, now, common_pb2.PROJECT_CATEGORY_SOE_PROPERTY_RIGHTS)
        router = ReportRouter(read_model, publisher, None, policy)
        await router.apply(Envelope(message=report, source="test", subject=report_id))
        (push,) = await wait_for_pushes(client, push_api, keys["GZW"], report_id)

        def sent() -> list[dict[str, Any]]:
            found = [json.loads(body) for _, body in handler.accepted]
            return [p for p in found if p["push_id"] == push["push_id"]]

        async def deliveries() -> list[dict[str, Any]]:
            return sent()

        (first,) = await eventually(deliveries, lambda found: len(found) == 1, timeout_s=30)
        assert first["deadlines_estimated"] is True

        calendar.published = True  # a release covers the year
        watch = DeadlineWatch(read_model, publisher, load_routing_table(), deadlines=policy)
        assert push["push_id"] in await watch.state_real_deadlines(now)
        first, second = await eventually(deliveries, lambda found: len(found) == 2, timeout_s=30)

    assert second["deadlines_estimated"] is False
    assert second["steps"][-1]["kind"] == "DEADLINES_SET"
    real = policy.published_due_times(Severity.MEDIUM, now)
    assert real is not None
    assert datetime.fromisoformat(second["sign_for_due"]) == real.sign_for_due
    assert datetime.fromisoformat(second["feedback_due"]) == real.feedback_due
