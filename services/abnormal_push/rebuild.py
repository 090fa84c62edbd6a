"""Rebuild abnormal push's Redis projections by replaying its topics.

Run with the stream worker stopped: ``python -m services.abnormal_push.rebuild``, then start
the worker; it replays abnormal.reports.v1, abnormal.pushes.v1, abnormal.webhooks.v1,
intake.projects.v1 and remote-eval.evaluations.v1 from the beginning and the inboxes, list
indexes, records, due times, webhook registrations and detection state come back as they were.

Webhook registrations come back from abnormal.webhooks.v1 like the rest. Kept on purpose: API
keys and idempotency records (not projections), the webhook delivery queue, log and delivered
set (so nothing is delivered twice), and the set of reports already routed (so a replay does
not re-emit PushRouted; the push events themselves are in the topic).
Detection re-files the reports it finds again under the same report and event ids, which the
projections recognise.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from redis.asyncio import Redis

from services.abnormal_push import detection, read_model, webhooks
from services.abnormal_push.stream_worker import APP_ID, CONSUMED_TOPICS
from services.platform_core.kafka.log_replay import GroupStillConsuming, rewind_consumer_group
from services.platform_core.settings import PlatformSettings, get_settings

log = logging.getLogger(__name__)

PATTERNS = (
    *(p for p in read_model.PROJECTION_PATTERNS if p != read_model.ROUTED_REPORTS),
    detection.DETECTION + "*",
    webhooks.WEBHOOKS,
)


async def delete_projections(redis: Redis) -> int:
    deleted = 0
    for pattern in PATTERNS:
        batch = [key async for key in redis.scan_iter(match=pattern, count=1000)]
        for start in range(0, len(batch), 500):
            deleted += await redis.delete(*batch[start : start + 500])
    return deleted


async def rebuild(settings: PlatformSettings) -> int:
    # The rewind first: while the worker runs the broker refuses it, and nothing is deleted.
    await rewind_consumer_group(settings, APP_ID, CONSUMED_TOPICS)
    redis = Redis.from_url(settings.redis_url)
    try:
        deleted = await delete_projections(redis)
    finally:
        await redis.aclose()
    log.info("deleted %d projection keys and rewound %s", deleted, APP_ID)
    return deleted


def main() -> int:
    logging.basicConfig(level=logging.INFO)
    try:
        deleted = asyncio.run(rebuild(get_settings()))
    except GroupStillConsuming as exc:
        print(f"nothing deleted: {exc} (abnormal push's stream worker)", file=sys.stderr)
        return 2
    print(f"deleted {deleted} keys; start the worker to replay the topics", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
