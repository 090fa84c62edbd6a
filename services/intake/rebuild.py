"""Rebuild intake's read model from the event log: ``python -m services.intake.rebuild --wipe``.

Deletes the project views, histories, indexes, due and pending deadlines (``--wipe``), then replays
intake.projects.v1 from its first record through the same Projector the worker uses. Without
``--wipe`` a replay changes nothing (every event id is already applied). Stop the intake API and
worker while rebuilding with ``--wipe``: a request checked against a half-rebuilt view could be
refused. Unified deal-code claims are kept (the replay re-records the codes).

The set of large-amount deal codes already imported (the bulk import's deduplication) is
rebuilt too, from intake.large-amount-records.v1: ``--wipe`` deletes it first; without it the
codes on the topic are added to what the set holds. Lost with Redis and not rebuilt, a
re-import would publish every record again under new event ids. No import may run meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from dataclasses import dataclass, field

from prt.v1 import intake_pb2
from redis.asyncio import Redis

from services.intake.bulk_import import IMPORTED_CODES
from services.intake.projection import Projector
from services.intake.read_model import (
    DEADLINES,
    PENDING_DEADLINES,
    PREFIX,
    PROJECTS_INDEX,
    ProjectReadModel,
)
from services.platform_core.events.topics import LARGE_AMOUNT_RECORDS, PROJECT_EVENTS
from services.platform_core.kafka.faust_worker import EventRejected
from services.platform_core.kafka.log_replay import ReplayCounts, replay_topic
from services.platform_core.settings import PlatformSettings, get_settings

log = logging.getLogger(__name__)


# Codes added to the imported set per Redis call while the large-amount topic is read.
CODES_PER_CALL = 5_000


@dataclass
class RebuildReport(ReplayCounts):
    rejected: int = 0
    wiped_keys: int = 0
    # The large-amount topic: its records (and those undecodable), and the codes they carry
    # that the imported set did not hold (all of them after --wipe).
    large_amount: ReplayCounts = field(default_factory=ReplayCounts)
    imported_codes_restored: int = 0


async def wipe(redis: Redis) -> int:
    deleted = 0
    async for key in redis.scan_iter(match=f"{PREFIX}project:*", count=1000):
        deleted += await redis.unlink(key)
    deleted += await redis.unlink(PROJECTS_INDEX, DEADLINES, PENDING_DEADLINES)
    return deleted


async def rebuild_imported_codes(
    settings: PlatformSettings, redis: Redis, report: RebuildReport, *, wipe_first: bool
) -> None:
    """The bulk import's set of imported deal codes, from every record on the large-amount
    topic (the import publishes a record only once its code is in the set, and takes the code
    back out if publishing fails: the topic's codes are the set's)."""
    if wipe_first:
        report.wiped_keys += await redis.unlink(IMPORTED_CODES)
    codes: list[str] = []
    async for envelope in replay_topic(
        settings, LARGE_AMOUNT_RECORDS, report.large_amount, client_id="intake-rebuild"
    ):
        message = envelope.message
        if isinstance(message, intake_pb2.LargeAmountRecordImported) and message.unified_deal_code:
            codes.append(message.unified_deal_code)
        if len(codes) >= CODES_PER_CALL:
            report.imported_codes_restored += await redis.sadd(IMPORTED_CODES, *codes)
            codes = []
    if codes:
        report.imported_codes_restored += await redis.sadd(IMPORTED_CODES, *codes)


async def rebuild(settings: PlatformSettings, *, wipe_first: bool) -> RebuildReport:
    report = RebuildReport()
    redis = Redis.from_url(settings.redis_url)
    try:
        await rebuild_imported_codes(settings, redis, report, wipe_first=wipe_first)
        if wipe_first:
            report.wiped_keys += await wipe(redis)
        projector = Projector(ProjectReadModel(redis))
        async for envelope in replay_topic(
            settings, PROJECT_EVENTS, report, client_id="intake-rebuild"
        ):
            try:
                await projector.apply(envelope)
            except EventRejected as exc:
                report.rejected += 1
                log.warning("%s: %s", envelope.id, exc)
        return report
    finally:
        await redis.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wipe", action="store_true", help="delete the read model first")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    report = asyncio.run(rebuild(get_settings(), wipe_first=args.wipe))
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
