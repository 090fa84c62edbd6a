"""Webhook delivery of pushes: registrations, the delivery queue and the delivery log (Redis).

Registrations are a projection of abnormal.webhooks.v1 (WebhookRegistered / WebhookRemoved),
rebuilt like the others; they hold no secret — the deliverer derives each registration's
signing secret from its id and the webhook key when it signs, and never logs it. Every
delivery attempt re-checks the URL against SSRF (:mod:`webhook_addresses`) and connects to the
address it checked.

Each routed push to a department with a webhook becomes one delivery, id = the PushRouted event
id, queued idempotently (a replayed event finds its delivery queued or done). The deliverer
claims due deliveries with a lease (a crashed worker's claim expires and another retries),
POSTs the signed push, and on anything but a 2xx reschedules with backoff. Every attempt is
logged; a delivery succeeds once and is never sent again after that. One still failing a week
after it was queued (or after 1000 attempts: domain.webhook_delivery) is given up: its last
attempt is logged with outcome ``gave_up`` (GET /v1/webhooks/deliveries) and it is never sent
again, like a delivered one. The pull inbox does not depend on any of this: the push stays in
it either way.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import httpx
from redis.asyncio import Redis

from services.abnormal_push.domain.webhook_delivery import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    GiveUpPolicy,
    retry_delay,
    signature,
)
from services.abnormal_push.domain.webhook_registrations import (
    Webhook,
    WebhookEvent,
    apply_webhook_event,
    derive_secret,
    key_fingerprint,
)
from services.abnormal_push.domain.webhook_targets import IPNetwork
from services.abnormal_push.read_model import APPLIED, PREFIX
from services.abnormal_push.webhook_addresses import (
    Resolver,
    WebhookUrlRefused,
    checked_target,
    resolve_host,
)

log = logging.getLogger(__name__)

WEBHOOKS = PREFIX + "webhooks"
QUEUE = PREFIX + "webhook:queue"
JOBS = PREFIX + "webhook:jobs"
# Deliveries finished: delivered, or given up (never queued again, not even by a replay).
DELIVERED = PREFIX + "webhook:delivered"
LOG = PREFIX + "webhook:log:"
LOG_LENGTH = 1000
LEASE_S = 60.0

# Claim a due delivery: push its score past the lease, only if it is still due.
_CLAIM = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) <= tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0
"""


def _webhook_json(hook: Webhook) -> str:
    return json.dumps(
        {
            "department": hook.department,
            "webhook_id": hook.webhook_id,
            "url": hook.url,
            "secret_key_id": hook.secret_key_id,
            "registered_at": hook.registered_at.astimezone(UTC).isoformat(),
        }
    )


def _webhook_from(raw: bytes | str) -> Webhook | None:
    data = json.loads(raw)
    if "webhook_id" not in data:
        return None  # a registration from before they were events (its secret in clear): gone
    return Webhook(
        data["department"],
        data["webhook_id"],
        data["url"],
        data["secret_key_id"],
        datetime.fromisoformat(data["registered_at"]),
    )


class WebhookStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._claim = redis.register_script(_CLAIM)

    async def apply(self, event_id: str, event: WebhookEvent) -> bool:
        """Fold a registration event into the projection; False when it was applied already.
        One writer per department (its partition, one agent), so read-then-write is safe."""
        if await self._redis.exists(APPLIED + event_id):
            return False
        after = apply_webhook_event(await self.get(event.department), event)
        async with self._redis.pipeline(transaction=True) as pipe:
            if after is None:
                pipe.hdel(WEBHOOKS, event.department)
            else:
                pipe.hset(WEBHOOKS, event.department, _webhook_json(after))
            pipe.set(APPLIED + event_id, "1")
            await pipe.execute()
        return True

    async def get(self, department: str) -> Webhook | None:
        raw = await self._redis.hget(WEBHOOKS, department)
        return None if raw is None else _webhook_from(raw)

    async def enqueue(self, delivery_id: str, department: str, payload: dict[str, Any]) -> bool:
        """Queue a delivery unless it is queued or delivered already."""
        if await self._redis.sismember(DELIVERED, delivery_id):
            return False
        job = {"department": department, "payload": payload, "attempt": 0, "queued_at": time.time()}
        if not await self._redis.hsetnx(JOBS, delivery_id, json.dumps(job, ensure_ascii=False)):
            return False
        await self._redis.zadd(QUEUE, {delivery_id: time.time()}, nx=True)
        return True

    async def claim_due(self, limit: int = 20) -> list[tuple[str, dict[str, Any]]]:
        now = time.time()
        due = await self._redis.zrangebyscore(QUEUE, "-inf", now, start=0, num=limit)
        claimed = []
        for raw_id in due:
            delivery_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            if await self._claim(keys=[QUEUE], args=[delivery_id, now, now + LEASE_S]):
                raw_job = await self._redis.hget(JOBS, delivery_id)
                if raw_job is None:
                    await self._redis.zrem(QUEUE, delivery_id)
                    continue
                claimed.append((delivery_id, json.loads(raw_job)))
        return claimed

    async def succeeded(self, delivery_id: str, job: dict[str, Any], entry: dict[str, Any]) -> None:
        await self._finish(delivery_id, job, entry)

    async def gave_up(self, delivery_id: str, job: dict[str, Any], entry: dict[str, Any]) -> None:
        """The delivery is abandoned: its last attempt logged, never sent again."""
        await self._finish(delivery_id, job, entry)

    async def _finish(self, delivery_id: str, job: dict[str, Any], entry: dict[str, Any]) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.sadd(DELIVERED, delivery_id)
            pipe.zrem(QUEUE, delivery_id)
            pipe.hdel(JOBS, delivery_id)
            pipe.lpush(LOG + job["department"], json.dumps(entry))
            pipe.ltrim(LOG + job["department"], 0, LOG_LENGTH - 1)
            await pipe.execute()

    async def failed(
        self, delivery_id: str, job: dict[str, Any], entry: dict[str, Any], retry_at: float
    ) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(JOBS, delivery_id, json.dumps(job, ensure_ascii=False))
            pipe.zadd(QUEUE, {delivery_id: retry_at})
            pipe.lpush(LOG + job["department"], json.dumps(entry))
            pipe.ltrim(LOG + job["department"], 0, LOG_LENGTH - 1)
            await pipe.execute()

    async def delivery_log(self, department: str, limit: int = 100) -> list[dict[str, Any]]:
        raw = await self._redis.lrange(LOG + department, 0, limit - 1)
        return [json.loads(entry) for entry in raw]


class WebhookDeliverer:
    def __init__(
        self,
        store: WebhookStore,
        client: httpx.AsyncClient,
        backoff_base_s: float,
        backoff_cap_s: float,
        *,
        webhook_key: bytes,
        allowed_networks: Iterable[IPNetwork] = (),
        resolve: Resolver = resolve_host,
        give_up: GiveUpPolicy | None = None,
    ) -> None:
        self._store = store
        self._client = client
        self._base = backoff_base_s
        self._cap = backoff_cap_s
        self._key = webhook_key
        self._key_id = key_fingerprint(webhook_key)
        self._allowed = tuple(allowed_networks)
        self._resolve = resolve
        self._give_up = give_up or GiveUpPolicy()

    async def deliver_due(self) -> int:
        """Attempt every due delivery once; the number attempted."""
        claimed = await self._store.claim_due()
        for delivery_id, job in claimed:
            try:
                await self.attempt(delivery_id, job)
            except Exception:
                # One delivery's fault must not hold up the others claimed with it; this one
                # is claimed again when its lease runs out.
                log.exception("webhook %s: attempt not completed", delivery_id)
        return len(claimed)

    async def attempt(self, delivery_id: str, job: dict[str, Any]) -> None:
        """One attempt of a claimed delivery: delivered, or logged and rescheduled."""
        job["attempt"] += 1
        department = job["department"]
        entry: dict[str, Any] = {
            "delivery_id": delivery_id,
            "push_id": job["payload"]["push_id"],
            "attempt": job["attempt"],
            "at": datetime.now(UTC).isoformat(),
        }
        hook = await self._store.get(department)
        if hook is None:
            entry |= {"outcome": "no_webhook", "error": "the department has no webhook now"}
            await self._store.succeeded(delivery_id, job, entry)
            return
        entry["url"] = hook.url
        status: int | None = None
        if hook.secret_key_id != self._key_id:
            # Signing with the current key would give a secret the department never saw.
            error = "registered under another webhook key; the department must register again"
        else:
            try:
                status, error = await self._post(delivery_id, hook, job["payload"])
            except WebhookUrlRefused as refused:
                error = f"refused: {refused}"
        entry["status"] = status
        if not error:
            await self._store.succeeded(delivery_id, job, entry | {"outcome": "delivered"})
            return
        gave_up = self._give_up.gives_up(job["attempt"], job.get("queued_at"), time.time())
        if gave_up:
            entry |= {
                "outcome": "gave_up",
                "error": error,
                "gave_up": f"{gave_up}; not sent again, the push stays in the pull inbox",
            }
            log.warning("webhook %s to %s given up: %s (%s)", delivery_id, hook.url, gave_up, error)
            await self._store.gave_up(delivery_id, job, entry)
            return
        delay = retry_delay(job["attempt"], self._base, self._cap)
        entry |= {"outcome": "failed", "error": error, "retry_in_s": delay}
        log.warning(
            "webhook %s to %s failed (%s); retry in %.1fs", delivery_id, hook.url, error, delay
        )
        await self._store.failed(delivery_id, job, entry, time.time() + delay)

    async def _post(
        self, delivery_id: str, hook: Webhook, payload: dict[str, Any]
    ) -> tuple[int | None, str]:
        """(HTTP status, error or ""); the URL is checked again, then the checked address used."""
        target = await checked_target(hook.url, self._allowed, self._resolve)
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
        stamp = str(int(time.time()))
        headers = {
            **target.headers,
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(derive_secret(self._key, hook.webhook_id), stamp, body),
            TIMESTAMP_HEADER: stamp,
            DELIVERY_HEADER: delivery_id,
        }
        try:
            response = await self._client.post(
                target.url, content=body, headers=headers, extensions=target.extensions
            )
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, "" if response.is_success else f"HTTP {response.status_code}"
