"""Rebuild abnormal push's Redis projections by replaying its topics.

Run with the stream worker stopped: ``python -m services.abnormal_push.rebuild --yes``, then start
the worker; it replays abnormal.reports.v1, abnormal.pushes.v1, abnormal.webhooks.v1,
intake.projects.v1 and remote-eval.evaluations.v1 from the beginning and the inboxes, list
indexes, records, due times, webhook registrations and detection state come back as they were.

Webhook registrations come back from abnormal.webhooks.v1 like the rest. Kept on purpose: API
keys and idempotency records (not projections), the webhook delivery queue, log and delivered
set (so nothing is delivered twice), and the set of reports already routed (so a replay does
not re-emit PushRouted; the push events themselves are in the topic).
Detection files no report while it replays: the rebuild records where the worker's consumer
group stood in intake.projects.v1 and remote-eval.evaluations.v1 (the replay boundary, kept
across rebuilds) and counts each rule's reports from abnormal.reports.v1; an event before the
boundary was judged before, and what it filed is on the log. A finding the replay makes that
is not on the log (the shared price-gap history or an expert's no-shows read in another order)
is listed as not applied, not filed: a rebuild never sends departments a new report.
Without ``--yes`` nothing is deleted or rewound.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from aiokafka import AIOKafkaConsumer, TopicPartition
from google.protobuf.message import Message
from prt.v1 import abnormal_push_pb2
from redis.asyncio import Redis

from services.abnormal_push import detection, read_model, webhooks
from services.abnormal_push.event_codec import report_from_event
from services.abnormal_push.stream_worker import APP_ID, CONSUMED_TOPICS
from services.platform_core.errors import EventDecodeError
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import ABNORMAL_REPORTS, EVALUATIONS, PROJECT_EVENTS
from services.platform_core.kafka.clients import security_options
from services.platform_core.kafka.log_replay import (
    GroupStillConsuming,
    ReplayCounts,
    replay_topic,
    rewind_consumer_group,
)
from services.platform_core.settings import PlatformSettings, get_settings

log = logging.getLogger(__name__)

PATTERNS = (
    *(p for p in read_model.PROJECTION_PATTERNS if p != read_model.ROUTED_REPORTS),
    detection.DETECTION + "*",
    webhooks.WEBHOOKS,
)


# The topics detection judges events of, whose replay must file nothing new.
DETECTION_TOPICS = (PROJECT_EVENTS, EVALUATIONS)


async def delete_projections(redis: Redis) -> int:
    deleted = 0
    for pattern in PATTERNS:
        batch = [
            key
            async for key in redis.scan_iter(match=pattern, count=1000)
            # Kept: a rebuild run again before the replay got through still knows where the
            # first one's replay ends (the group's position is back at the start by then).
            if key not in (detection.REPLAY_BOUNDARY, detection.REPLAY_BOUNDARY.encode())
        ]
        for start in range(0, len(batch), 500):
            deleted += await redis.delete(*batch[start : start + 500])
    return deleted


async def judged_offsets(settings: PlatformSettings, group_id: str) -> dict[str, int]:
    """The consumer group's committed offset in each partition of the detection topics
    ("topic:partition" -> offset; a partition it never committed is left out): the events
    before it were judged, and their reports filed."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        **security_options(settings),
    )
    await consumer.start()
    try:
        offsets: dict[str, int] = {}
        for spec in DETECTION_TOPICS:
            for partition in range(spec.partitions or settings.topic_partitions):
                committed = await consumer.committed(TopicPartition(spec.name, partition))
                if committed is not None and committed > 0:
                    offsets[f"{spec.name}:{partition}"] = committed
        return offsets
    finally:
        await consumer.stop()


async def record_replay_boundary(redis: Redis, judged: dict[str, int]) -> dict[str, int]:
    """Merge the offsets judged into the boundary stored: the furthest of either, so that a
    rebuild run again mid-replay (the group then stands before the first boundary) keeps it."""
    stored = await detection.DetectionState(redis).replay_boundary()
    boundary = {
        key: max(judged.get(key, 0), stored.get(key, 0)) for key in sorted({*judged, *stored})
    }
    if boundary:
        fields = [item for key, offset in boundary.items() for item in (key, offset)]
        await redis.hset(detection.REPLAY_BOUNDARY, items=fields)
    return boundary


async def count_filed_reports(settings: PlatformSettings, redis: Redis) -> int:
    """Each rule's filed reports as the reports topic has them: replayed events file nothing,
    so detection's count of the reports each rule filed comes from the log."""
    counts = ReplayCounts()
    filed = 0
    async for envelope in replay_topic(
        settings, ABNORMAL_REPORTS, counts, client_id="abnormal-push-rebuild"
    ):
        rule_id, report_id = _detected_report(envelope)
        if rule_id:
            async with redis.pipeline(transaction=True) as pipe:
                pipe.sadd(detection.FILED_REPORTS + rule_id, report_id)
                pipe.sadd(detection.FILING_RULES, rule_id)
                await pipe.execute()
            filed += 1
    return filed


def _detected_report(envelope: Envelope[Message]) -> tuple[str, str]:
    """The rule and report id of a report detection filed; ("", "") for any other record."""
    if not isinstance(envelope.message, abnormal_push_pb2.AbnormalReportFiled):
        return "", ""
    try:
        report = report_from_event(envelope.message)
    except EventDecodeError as exc:  # the router dead-lettered it: it was never a report
        log.warning("%s: %s", envelope.id, exc)
        return "", ""
    if report.detection is None:
        return "", ""
    return report.detection.rule_id, report.report_id


async def rebuild(settings: PlatformSettings) -> int:
    # Where the worker got to, read before the rewind moves the group back to the start.
    judged = await judged_offsets(settings, APP_ID)
    # The rewind first: while the worker runs the broker refuses it, and nothing is deleted.
    await rewind_consumer_group(settings, APP_ID, CONSUMED_TOPICS)
    redis = Redis.from_url(settings.redis_url)
    try:
        boundary = await record_replay_boundary(redis, judged)
        deleted = await delete_projections(redis)
        filed = await count_filed_reports(settings, redis)
    finally:
        await redis.aclose()
    log.info(
        "deleted %d projection keys and rewound %s; detection files nothing before %s; "
        "%d detected reports on the log",
        deleted,
        APP_ID,
        boundary,
        filed,
    )
    return deleted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.abnormal_push.rebuild",
        description=(
            "Delete abnormal push's Redis projections and rewind its stream worker's consumer "
            "group to the beginning of the topics it reads; the worker, started again, replays "
            "them. Stop the worker first (the rewind is refused while it runs)."
        ),
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="really delete the projections and rewind the group (without it nothing is done)",
    )
    args = parser.parse_args(argv)
    if not args.yes:
        print(
            "nothing deleted: this deletes abnormal push's projections (inboxes, records, "
            f"detection state, webhook registrations) and rewinds the consumer group {APP_ID}; "
            "run again with --yes to do it",
            file=sys.stderr,
        )
        return 2
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
