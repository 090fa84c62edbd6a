"""Webhook registrations are events and their secrets are nowhere in clear; URLs that lead
into the platform's own network are refused at registration and again at delivery.

Against the real API, worker, broker and Redis; the delivery-time check runs a deliverer on the
real Redis with a resolver that answers like a rebinding DNS server, towards a real receiver.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from aiohttp import web
from aiokafka import AIOKafkaConsumer
from redis.asyncio import Redis

from services.abnormal_push.domain.webhook_delivery import verify
from services.abnormal_push.domain.webhook_registrations import (
    WebhookRegistered,
    derive_secret,
    key_fingerprint,
)
from services.abnormal_push.domain.webhook_targets import IPAddress, parse_networks
from services.abnormal_push.service_config import DEVELOPMENT_WEBHOOK_KEY
from services.abnormal_push.webhooks import (
    JOBS,
    LOG,
    QUEUE,
    WEBHOOKS,
    WebhookDeliverer,
    WebhookStore,
)
from services.platform_core.events.envelope import decode_record
from services.platform_core.events.topics import ABNORMAL_WEBHOOKS
from services.platform_core.settings import PlatformSettings
from tests.integration.abnormal_push.fixtures import Keys, auth
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess, free_port

pytestmark = pytest.mark.integration


def _raw(value: bytes | str | None) -> bytes:
    return value.encode() if isinstance(value, str) else value or b""


async def _register(
    client: httpx.AsyncClient, api: ServiceProcess, key: str, url: str, idem: str | None = None
) -> httpx.Response:
    return await client.post(
        f"{api.base_url}/v1/webhooks",
        json={"url": url},
        headers=auth(key, idem or str(uuid.uuid4())),
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://10.0.0.1/push", "10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]:8080/push", "loopback"),  # not on the tests' allow-list (127.0.0.0/8)
        ("http://224.0.0.1/push", "multicast"),
        ("http://240.0.0.1/push", "reserved"),
        ("http://alice:pw@127.0.0.1:9/push", "credentials"),
        ("http://no-such-host.invalid/push", "does not resolve"),
    ],
)
async def test_urls_into_the_platforms_network_are_refused_with_the_reason(
    push_api: ServiceProcess, keys: Keys, url: str, reason: str
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await _register(client, push_api, keys["SWJ"], url)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["code"] == "webhook_url_refused" and reason in error["message"]
    assert error["details"][0]["field"] == "url"


async def test_a_non_http_scheme_is_refused(push_api: ServiceProcess, keys: Keys) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await _register(client, push_api, keys["SWJ"], "ftp://127.0.0.1/push")
    assert response.status_code == 422
    assert response.json()["details"][0]["field"].endswith("url")


async def _registration_events(settings: PlatformSettings, event_ids: set[str]) -> dict[str, bytes]:
    consumer = AIOKafkaConsumer(
        ABNORMAL_WEBHOOKS.name,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: dict[str, bytes] = {}
    try:
        while not event_ids <= found.keys():
            batches = await consumer.getmany(timeout_ms=2000)
            if not batches:
                break
            for records in batches.values():
                for record in records:
                    envelope = decode_record(record.value, record.headers)
                    if envelope.id in event_ids:
                        found[envelope.id] = record.value or b""
    finally:
        await consumer.stop()
    return found


async def test_registering_replacing_and_removing_are_events_without_the_secret(
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    redis: Redis,
    settings: PlatformSettings,
) -> None:
    base, key = push_api.base_url, keys["CGJ"]
    async with httpx.AsyncClient(timeout=10) as client:
        idem = str(uuid.uuid4())
        first = await _register(client, push_api, key, "http://127.0.0.1:9/first", idem)
        assert first.status_code == 201, first.text
        retried = await _register(client, push_api, key, "http://127.0.0.1:9/first", idem)
        current = await eventually(
            lambda: client.get(f"{base}/v1/webhooks", headers=auth(key)),
            lambda r: r.status_code == 200 and r.json()["webhook_id"] == first.json()["webhook_id"],
        )
        projected = _raw(await redis.hget(WEBHOOKS, "CGJ"))
        second = await _register(client, push_api, key, "http://127.0.0.1:9/second")
        replaced = await eventually(
            lambda: client.get(f"{base}/v1/webhooks", headers=auth(key)),
            lambda r: r.json()["webhook_id"] == second.json()["webhook_id"],
        )
        removed = await client.delete(f"{base}/v1/webhooks", headers=auth(key))
        assert removed.status_code == 202, removed.text
        gone = await eventually(
            lambda: client.get(f"{base}/v1/webhooks", headers=auth(key)),
            lambda r: r.status_code == 404,
        )
        again = await client.delete(f"{base}/v1/webhooks", headers=auth(key))

    secret = first.json()["secret"]
    # A retry with the same Idempotency-Key gets the same registration and secret, derived anew.
    assert retried.status_code == 201 and retried.headers.get("Idempotent-Replayed") == "true"
    assert retried.json() == first.json()
    assert secret == derive_secret(DEVELOPMENT_WEBHOOK_KEY.encode(), first.json()["webhook_id"])
    assert second.json()["secret"] != secret
    assert "secret" not in current.json() and current.json()["url"] == "http://127.0.0.1:9/first"
    assert replaced.json()["url"] == "http://127.0.0.1:9/second"
    assert gone.json()["code"] == "no_webhook" and again.status_code == 404

    event_ids = {first.json()["event_id"], second.json()["event_id"], removed.json()["event_id"]}
    events = await _registration_events(settings, event_ids)
    assert events.keys() == event_ids
    for value in events.values():
        assert secret.encode() not in value and second.json()["secret"].encode() not in value

    # Nothing in Redis holds a secret in clear: not the projection, not the idempotency record.
    assert first.json()["webhook_id"].encode() in projected
    stored: list[bytes] = [projected]
    async for name in redis.scan_iter(match="prt:idempotency:*register_webhook*", count=1000):
        stored.append(_raw(await redis.get(name)))
    assert any(first.json()["webhook_id"].encode() in value for value in stored[1:])
    for value in stored:
        assert secret.encode() not in value and second.json()["secret"].encode() not in value


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, int]]:
    handler = Receiver()
    app = web.Application()
    app.router.add_post("/push", handler.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield handler, port
    finally:
        await runner.cleanup()


class RebindingDns:
    """Answers with the queued addresses in turn, the last one from then on."""

    def __init__(self, *answers: str) -> None:
        self.answers = [ipaddress.ip_address(a) for a in answers]

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        return [self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]]


async def test_a_delivery_to_a_name_rebound_to_a_private_address_is_refused(
    redis: Redis, receiver: tuple[Receiver, int]
) -> None:
    handler, port = receiver
    department = f"T{uuid.uuid4().hex[:8]}"  # routed nothing: the worker never queues for it
    key = DEVELOPMENT_WEBHOOK_KEY.encode()
    store = WebhookStore(redis)
    webhook_id = str(uuid.uuid4())
    await store.apply(
        str(uuid.uuid4()),
        WebhookRegistered(
            str(uuid.uuid4()),
            department,
            datetime.now(UTC),
            webhook_id,
            f"http://hooks.example.cn:{port}/push",
            key_fingerprint(key),
        ),
    )
    # First the name points into the intranet, then back at the (allow-listed) receiver.
    dns = RebindingDns("10.0.0.7", "127.0.0.1")
    async with httpx.AsyncClient(timeout=5) as client:
        deliverer = WebhookDeliverer(
            store,
            client,
            backoff_base_s=60,  # the worker's deliverer must not pick the retry up meanwhile
            backoff_cap_s=60,
            webhook_key=key,
            allowed_networks=parse_networks("127.0.0.0/8"),
            resolve=dns,
        )
        delivery_id = str(uuid.uuid4())
        job = {"department": department, "payload": {"push_id": "p-rebind"}, "attempt": 0}
        try:
            await deliverer.attempt(delivery_id, job)
            refused_requests = len(handler.requests)
            await deliverer.attempt(delivery_id, job)
        finally:
            await redis.zrem(QUEUE, delivery_id)
            await redis.hdel(JOBS, delivery_id)
            await redis.hdel(WEBHOOKS, department)
    log = await store.delivery_log(department)
    await redis.delete(LOG + department)

    assert refused_requests == 0
    refused, delivered = reversed(log)
    assert refused["outcome"] == "failed"
    assert refused["error"] == "refused: hooks.example.cn is refused: 10.0.0.7 is a private address"
    assert delivered["outcome"] == "delivered" and delivered["status"] == 204
    ((headers, body),) = handler.requests
    # Connected to the checked address, with the registered name as Host.
    assert headers["Host"] == f"hooks.example.cn:{port}"
    secret = derive_secret(key, webhook_id)
    assert verify(secret, headers["X-PRT-Timestamp"], body, headers["X-PRT-Signature"])
    assert secret not in str(log)
