"""A webhook delivery failing for a week is given up, on the real Redis: the one stuck live at
attempt 1024 (its backoff overflowed a float at attempt 1025, so the attempt was never saved
and the delivery failed every minute) ends with a ``gave_up`` entry in the department's
delivery log (what GET /v1/webhooks/deliveries returns) and leaves the queue for good."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from services.abnormal_push.domain.webhook_registrations import (
    WebhookRegistered,
    key_fingerprint,
)
from services.abnormal_push.domain.webhook_targets import parse_networks
from services.abnormal_push.service_config import DEVELOPMENT_WEBHOOK_KEY
from services.abnormal_push.webhooks import (
    DELIVERED,
    JOBS,
    QUEUE,
    WebhookDeliverer,
    WebhookStore,
)
from tests.support.polling import eventually
from tests.support.processes import free_port

pytestmark = pytest.mark.integration

# The test worker's key: whichever deliverer claims the delivery, it judges it the same way.
KEY = DEVELOPMENT_WEBHOOK_KEY.encode()


async def test_a_delivery_stuck_at_attempt_1024_is_given_up_and_logged(redis: Redis) -> None:
    store = WebhookStore(redis)
    department = f"T-{uuid.uuid4()}"  # a department of its own: its log is this test's
    url = f"http://127.0.0.1:{free_port()}/push"  # nothing listens there: every attempt fails
    registered = WebhookRegistered(
        f"wr-{uuid.uuid4()}",
        department,
        datetime.now(UTC) - timedelta(days=8),
        f"wh-{uuid.uuid4()}",
        url,
        key_fingerprint(KEY),
    )
    assert await store.apply(registered.event_id, registered)
    # Stored as the queue held it before deliveries kept their age.
    delivery_id = f"d-{uuid.uuid4()}"
    payload: dict[str, Any] = {"push_id": f"p-{uuid.uuid4()}"}
    job = {"department": department, "payload": payload, "attempt": 1024}
    await redis.hset(JOBS, delivery_id, json.dumps(job))
    await redis.zadd(QUEUE, {delivery_id: 0})  # due since long ago: claimed first

    async with httpx.AsyncClient(timeout=2) as client:
        deliverer = WebhookDeliverer(
            store,
            client,
            2.0,
            600.0,
            webhook_key=KEY,
            allowed_networks=parse_networks("127.0.0.0/8"),
        )

        async def delivery_log() -> list[dict[str, Any]]:
            await deliverer.deliver_due()
            return await store.delivery_log(department)

        (entry,) = await eventually(delivery_log, lambda entries: len(entries) > 0)

    assert entry["delivery_id"] == delivery_id
    assert entry["attempt"] == 1025
    assert entry["outcome"] == "gave_up"
    assert "1025 attempts failed" in entry["gave_up"]
    assert "the push stays in the pull inbox" in entry["gave_up"]
    assert entry["error"]  # the last attempt's own failure
    # Finished: out of the queue, never queued again.
    assert await redis.zscore(QUEUE, delivery_id) is None
    assert not await redis.hexists(JOBS, delivery_id)
    assert await redis.sismember(DELIVERED, delivery_id)
    assert not await store.enqueue(delivery_id, department, payload)
