"""Recompute every figure from the Kafka log and diff it with the live read model.

An independent path: a plain aiokafka consumer (no consumer group, no Faust) reads every
partition of every event topic from the beginning up to the end offsets seen at start, folds the
events with the same pure domain functions into an in-memory ledger, and compares its counters
with the live ones in Redis. Exit status 0 when they agree exactly, 1 when any figure differs.

Run: python -m services.reporting.recompute [--wait-s 30] [--show 50]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from redis.asyncio import Redis

from services.platform_core.errors import EventDecodeError
from services.platform_core.events.envelope import decode_record
from services.platform_core.events.topics import EVENT_TOPICS, TopicSpec, topic_by_name
from services.platform_core.garbage_collection import collecting_less_often
from services.platform_core.kafka.clients import create_consumer, security_options
from services.platform_core.kafka.faust_worker import EventRejected
from services.platform_core.settings import PlatformSettings, get_settings
from services.reporting.domain.figures import diff
from services.reporting.domain.ledger import Ledger
from services.reporting.event_codec import fact_from_envelope
from services.reporting.read_model import MetricsReadModel
from services.reporting.settings import get_reporting_settings


@dataclass
class RecomputeResult:
    ledger: Ledger
    records: int = 0
    undecodable: int = 0
    rejected: int = 0
    seconds: float = 0.0


async def recompute_from_log(
    settings: PlatformSettings, topics: Sequence[TopicSpec] = EVENT_TOPICS
) -> RecomputeResult:
    """Fold every event on ``topics`` (up to the end offsets at start) into a fresh ledger."""
    started = time.perf_counter()
    result = RecomputeResult(Ledger())
    partitions = await _partitions(settings, topics)
    consumer = create_consumer(settings, group_id=None, client_id="prt-reporting-recompute")
    await consumer.start()
    try:
        if not partitions:
            return result
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if end[tp] > 0}
        with collecting_less_often():
            await _fold_until(consumer, remaining, end, result)
    finally:
        await consumer.stop()
    result.seconds = time.perf_counter() - started
    return result


async def _fold_until(
    consumer: AIOKafkaConsumer,
    remaining: set[TopicPartition],
    end: dict[TopicPartition, int],
    result: RecomputeResult,
) -> None:
    """Fold the partitions' records into the result until each is read up to its end."""
    while remaining:
        batch = await consumer.getmany(*remaining, timeout_ms=1000, max_records=10_000)
        for tp, records in batch.items():
            spec = topic_by_name(tp.topic)
            allowed = spec.message_types if spec else None
            for record in records:
                if record.offset >= end[tp]:
                    break
                result.records += 1
                _fold(result, record.value, record.headers, allowed)
        for tp in list(remaining):
            if await consumer.position(tp) >= end[tp]:
                remaining.discard(tp)


async def _partitions(
    settings: PlatformSettings, topics: Sequence[TopicSpec]
) -> list[TopicPartition]:
    """Every partition of those of ``topics`` that exist, as the broker describes them."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id="prt-reporting-recompute",
        **security_options(settings),
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        names = [spec.name for spec in topics if spec.name in existing]
        described = await admin.describe_topics(names) if names else []
    finally:
        await admin.close()
    return [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        for partition in sorted(topic["partitions"], key=lambda p: p["partition"])
    ]


def _fold(
    result: RecomputeResult,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    allowed: frozenset[str] | None,
) -> None:
    try:
        envelope = decode_record(value, headers, allowed or None)
    except EventDecodeError:
        result.undecodable += 1  # the worker dead-letters it; it counts nowhere
        return
    try:
        fact = fact_from_envelope(envelope)
    except EventRejected:
        result.rejected += 1
        return
    if fact is not None:
        result.ledger.apply(fact)


async def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    prefix = args.prefix or get_reporting_settings().key_prefix
    result = await recompute_from_log(settings)
    recomputed = result.ledger.figures()
    print(
        f"recomputed {len(recomputed)} counters from {result.records} records "
        f"({len(result.ledger.applied)} events, {result.undecodable} undecodable, "
        f"{result.rejected} rejected) in {result.seconds:.2f}s"
    )
    redis = Redis.from_url(settings.redis_url)
    try:
        model = MetricsReadModel(redis, prefix)
        deadline = time.monotonic() + args.wait_s
        while True:
            differences = diff(await model.counters(), recomputed)
            if not differences or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.5)  # the live worker may still be catching up
    finally:
        await redis.aclose()
    if not differences:
        print(f"live figures ({prefix}counters) equal the recompute: {len(recomputed)} counters")
        return 0
    print(f"{len(differences)} counters differ (counter: live != recomputed):")
    for key, live, again in differences[: args.show]:
        print(f"  {key}: {live} != {again}")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--wait-s", type=float, default=0.0, help="retry the diff this long")
    parser.add_argument("--show", type=int, default=50, help="differences to print")
    parser.add_argument("--prefix", help="Redis key prefix of the live read model")
    return asyncio.run(_run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
