"""Rebuild reporting's read model from the log: ``python -m services.reporting.rebuild --yes``.

Run with the reporting worker stopped. Deletes every key of the read model (all of it is
derived from the log: counters, evidence, aggregates' states, indexes, applied-event markers)
under ``PRT_REPORTING_KEY_PREFIX`` and rewinds the worker's consumer group
(``PRT_REPORTING_CONSUMER_GROUP``) to the beginning of every event topic; the worker, started
again, replays them all and counts every event once. For a read model made by an earlier
version that did not keep something a newer one shows (e.g. the push board's kind of
behaviour, kept since 2026-12-04), or one ``python -m services.reporting.recompute`` found
differing; that command then checks the rebuilt one. The API keeps serving meanwhile, from a
read model that fills up as the worker replays. Without ``--yes`` it deletes and rewinds nothing:
both are irreversible, so an operator states that they mean it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from redis.asyncio import Redis

from services.platform_core.events.topics import EVENT_TOPICS
from services.platform_core.kafka.log_replay import GroupStillConsuming, rewind_consumer_group
from services.platform_core.settings import PlatformSettings, get_settings
from services.reporting.settings import get_reporting_settings

log = logging.getLogger(__name__)


async def delete_read_model(redis: Redis, prefix: str) -> int:
    deleted = 0
    batch: list[bytes] = []
    async for key in redis.scan_iter(match=f"{prefix}*", count=5000):
        batch.append(key)
        if len(batch) >= 5000:
            deleted += await redis.unlink(*batch)
            batch = []
    if batch:
        deleted += await redis.unlink(*batch)
    return deleted


async def rebuild(settings: PlatformSettings, prefix: str, consumer_group: str) -> int:
    """Deletes the read model under ``prefix`` and rewinds ``consumer_group``; returns how many
    keys were deleted."""
    if not prefix.endswith(":") or len(prefix) < 3:
        raise ValueError(f"refusing to delete under {prefix!r}: a read model's prefix ends in ':'")
    await rewind_consumer_group(settings, consumer_group, EVENT_TOPICS)
    redis = Redis.from_url(settings.redis_url)
    try:
        deleted = await delete_read_model(redis, prefix)
    finally:
        await redis.aclose()
    log.info("deleted %d read-model keys under %s and rewound %s", deleted, prefix, consumer_group)
    return deleted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.reporting.rebuild",
        description=(
            "Delete reporting's read model and rewind the reporting worker's consumer group to "
            "the beginning of every event topic; the worker, started again, replays them. Stop "
            "the reporting worker first (the rewind is refused while it runs)."
        ),
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="really delete the read model and rewind the group (without it nothing is done)",
    )
    args = parser.parse_args(argv)
    reporting = get_reporting_settings()
    if not args.yes:
        print(
            f"nothing deleted: this deletes every key under {reporting.key_prefix} and rewinds "
            f"the consumer group {reporting.consumer_group}; run again with --yes to do it",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=logging.INFO)
    try:
        deleted = asyncio.run(
            rebuild(get_settings(), reporting.key_prefix, reporting.consumer_group)
        )
    except GroupStillConsuming as exc:
        print(f"nothing deleted: {exc} (the reporting worker)", file=sys.stderr)
        return 2
    print(
        f"deleted {deleted} keys under {reporting.key_prefix}; start the reporting worker to "
        "replay the event topics, then check with python -m services.reporting.recompute",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
