"""Webhook delivery of pushes: registrations, the delivery queue and the delivery log (Redis).

Each routed push to a department with a webhook becomes one delivery, id = the PushRouted event
id, queued idempotently (a replayed event finds its delivery queued or done). The deliverer
claims due deliveries with a lease (a crashed worker's claim expires and another retries),
POSTs the signed push, and on anything but a 2xx reschedules with backoff. Every attempt is
logged; a delivery succeeds once and is never sent again after that. The pull inbox does not
depend on any of this.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from redis.asyncio import Redis

from services.abnormal_push.domain.webhook_delivery import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    retry_delay,
    signature,
)
from services.abnormal_push.read_model import PREFIX

log = logging.getLogger(__name__)

WEBHOOKS = PREFIX + "webhooks"
QUEUE = PREFIX + "webhook:queue"
JOBS = PREFIX + "webhook:jobs"
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


@dataclass(frozen=True)
class Webhook:
    department: str
    url: str
    secret: str
    registered_at: str


class WebhookStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._claim = redis.register_script(_CLAIM)

    async def register(self, department: str, url: str) -> Webhook:
        """(Re)register a department's webhook with a fresh secret, shown to it once."""
        hook = Webhook(department, url, secrets.token_urlsafe(32), datetime.now(UTC).isoformat())
        await self._redis.hset(WEBHOOKS, department, json.dumps(hook.__dict__))
        return hook

    async def get(self, department: str) -> Webhook | None:
        raw = await self._redis.hget(WEBHOOKS, department)
        return None if raw is None else Webhook(**json.loads(raw))

    async def enqueue(self, delivery_id: str, department: str, payload: dict[str, Any]) -> bool:
        """Queue a delivery unless it is queued or delivered already."""
        if await self._redis.sismember(DELIVERED, delivery_id):
            return False
        job = {"department": department, "payload": payload, "attempt": 0}
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
    ) -> None:
        self._store = store
        self._client = client
        self._base = backoff_base_s
        self._cap = backoff_cap_s

    async def deliver_due(self) -> int:
        """Attempt every due delivery once; the number attempted."""
        claimed = await self._store.claim_due()
        for delivery_id, job in claimed:
            await self._attempt(delivery_id, job)
        return len(claimed)

    async def _attempt(self, delivery_id: str, job: dict[str, Any]) -> None:
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
        body = json.dumps(job["payload"], ensure_ascii=False, sort_keys=True).encode()
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature(hook.secret, stamp, body),
            TIMESTAMP_HEADER: stamp,
            DELIVERY_HEADER: delivery_id,
        }
        entry["url"] = hook.url
        try:
            response = await self._client.post(hook.url, content=body, headers=headers)
            status: int | None = response.status_code
            error = "" if response.is_success else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"
        entry["status"] = status
        if not error:
            await self._store.succeeded(delivery_id, job, entry | {"outcome": "delivered"})
            return
        delay = retry_delay(job["attempt"], self._base, self._cap)
        entry |= {"outcome": "failed", "error": error, "retry_in_s": delay}
        log.warning(
            "webhook %s to %s failed (%s); retry in %.1fs", delivery_id, hook.url, error, delay
        )
        await self._store.failed(delivery_id, job, entry, time.time() + delay)
