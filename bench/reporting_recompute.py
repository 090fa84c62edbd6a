"""The recompute over a log of a million events, next to a raw aiokafka consume-and-decode loop
over the same log in the same run.

Tops the event topics up with synthetic events (every topic reporting reads) until the log
holds at least ``--log-records`` records, then times, over the WHOLE log:
1. baseline: one aiokafka consumer, no group, decoding every record (CloudEvents + protobuf);
2. the recompute's fold (``services.reporting.recompute.recompute_from_log``: the same reading
   plus the domain functions into an in-memory ledger) — what ``python -m
   services.reporting.recompute`` does before it diffs with the live figures.
Target (issue 7): a million events in at most 60 s.

What is published stays on the topics: run it on a stack of its own (see the README), last,
as every later worker on that stack replays a million events.

    PRT_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:39092 PRT_REDIS_URL=redis://127.0.0.1:36379/0 \\
        .venv/bin/python -m bench.reporting_recompute --log-records 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time

from bench.reporting_aggregation import load_average, publish, raw_consume_and_decode
from services.platform_core.events.topics import EVENT_TOPICS
from services.platform_core.kafka.clients import create_consumer
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings, get_settings
from services.reporting.recompute import _partitions, recompute_from_log

TARGET_S_PER_MILLION = 60.0


async def log_records(settings: PlatformSettings) -> int:
    """Records now on the event topics (end offsets; the topics are never compacted)."""
    partitions = await _partitions(settings, EVENT_TOPICS)
    consumer = create_consumer(settings, group_id=None, client_id="bench-recompute")
    await consumer.start()
    try:
        return sum((await consumer.end_offsets(partitions)).values()) if partitions else 0
    finally:
        await consumer.stop()


async def main(args: argparse.Namespace) -> None:
    settings = get_settings()
    await ensure_topics(settings, EVENT_TOPICS)
    missing = args.log_records - await log_records(settings)
    if missing > 0:
        seconds = await publish(settings, missing)
        print(f"published {missing} synthetic events in {seconds:.1f}s")
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; load average before: {load_average()}"
    )
    raw = await raw_consume_and_decode(settings)
    cpu_started = time.process_time()
    result = await recompute_from_log(settings)
    cpu_us = (time.process_time() - cpu_started) * 1e6 / max(result.records, 1)
    rate = result.records / result.seconds
    print(f"log: {raw.events} records on {len(EVENT_TOPICS)} topics")
    print(
        f"raw aiokafka consume+decode : {raw.rate:10,.0f} records/s ({raw.seconds:.1f}s); "
        f"CPU {raw.cpu_us_per_event:.1f} µs/record"
    )
    print(
        f"recompute (fold, in memory) : {rate:10,.0f} records/s ({result.seconds:.1f}s) "
        f"= {rate / raw.rate:.3f} x raw; CPU {cpu_us:.1f} µs/record; "
        f"{len(result.ledger.applied)} events, {len(result.ledger.groups)} counter groups"
    )
    per_million = 1_000_000 / rate
    verdict = "meets" if per_million <= TARGET_S_PER_MILLION else "misses"
    print(
        f"recompute of 1,000,000 events: {per_million:.1f}s at this rate, "
        f"{cpu_us:.1f}s of CPU ({verdict} the {TARGET_S_PER_MILLION:.0f}s target); "
        f"load average after: {load_average()}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--log-records",
        type=int,
        default=1_000_000,
        help="publish synthetic events until the log holds at least this many records",
    )
    asyncio.run(main(parser.parse_args()))
