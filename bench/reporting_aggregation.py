"""Reporting's aggregation worker next to a raw aiokafka consume-and-decode loop, and the
recompute, over the same Kafka log in the same run.

Publishes ``--events`` synthetic events (every topic reporting reads), then over the WHOLE log
of the event topics:
1. baseline: one aiokafka consumer, no group, decoding every record (CloudEvents + protobuf);
2. the aggregation worker (a real ``services.reporting.stream_worker`` process, one worker)
   rebuilding a fresh read model (own key prefix and consumer group) until it has applied every
   event; the clock starts at its first applied event, so start-up is not counted. Once per
   consumer of ``--consumers``: ``faust`` (Faust agents), ``batch`` (the worker's batch
   consumer) and ``faust-noop`` (bench/reporting_faust_ceiling.py: Faust agents that decode and
   take batches like the worker's but apply nothing — what Faust's delivery alone costs);
3. the recompute (``services.reporting.recompute``'s fold), then its diff with each rebuilt
   model.

Run against a stack you may fill with benchmark events (e.g. your test stack)::

    PRT_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:29092 PRT_REDIS_URL=redis://127.0.0.1:26379/0 \\
        .venv/bin/python -m bench.reporting_aggregation --events 100000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import subprocess
import sys
import time
import uuid
from pathlib import Path

from redis.asyncio import Redis

from bench.reporting_events import synthetic_events
from services.platform_core.errors import EventDecodeError
from services.platform_core.events.envelope import decode_record, encode_envelope
from services.platform_core.events.topics import EVENT_TOPICS, topic_by_name
from services.platform_core.kafka.clients import create_consumer, create_producer
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings, get_settings
from services.reporting.domain.figures import diff
from services.reporting.read_model import MetricsReadModel
from services.reporting.recompute import _partitions, recompute_from_log

REPO = Path(__file__).resolve().parents[1]


async def publish(settings: PlatformSettings, count: int) -> float:
    producer = create_producer(settings, client_id="bench-reporting")
    await producer.start()
    started = time.perf_counter()
    try:
        pending = []
        for outgoing in synthetic_events(count, seed=int(time.time()), tag=uuid.uuid4().hex[:6]):
            value, headers = encode_envelope(outgoing.envelope)
            pending.append(
                await producer.send(
                    outgoing.topic.name, value=value, key=outgoing.key.encode(), headers=headers
                )
            )
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def raw_consume_and_decode(settings: PlatformSettings) -> tuple[int, float]:
    partitions = await _partitions(settings, EVENT_TOPICS)
    consumer = create_consumer(settings, group_id=None, client_id="bench-raw")
    await consumer.start()
    records = 0
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if end[tp] > 0}
        started = time.perf_counter()
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000, max_records=10_000)
            for tp, batch_records in batch.items():
                spec = topic_by_name(tp.topic)
                for record in batch_records:
                    if record.offset >= end[tp]:
                        break
                    records += 1
                    with contextlib.suppress(EventDecodeError):
                        decode_record(
                            record.value, record.headers, spec.message_types if spec else None
                        )
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
        return records, time.perf_counter() - started
    finally:
        await consumer.stop()


async def aggregation(
    settings: PlatformSettings, events: int, consumer: str
) -> tuple[float, MetricsReadModel | None, Redis, str]:
    """Events/s of one worker over the whole log, and the read model it rebuilt."""
    run = uuid.uuid4().hex[:8]
    prefix = f"prt:reporting-bench-{run}:"
    group = f"prt-reporting-bench-{run}"
    env = {
        **os.environ,
        "PRT_REPORTING_KEY_PREFIX": prefix,
        "PRT_REPORTING_CONSUMER_GROUP": group,
        "PRT_FAUST_DATA_DIR": str(REPO / ".run" / "bench-faust"),
        "PRT_FAUST_CEILING_GROUP": group,
        "PRT_FAUST_CEILING_KEY": f"{prefix}version",
    }
    if consumer == "faust-noop":
        module = "bench.reporting_faust_ceiling"
    else:
        module = "services.reporting.stream_worker"
        env["PRT_REPORTING_AGGREGATION_CONSUMER"] = consumer
    log = (REPO / ".run" / f"bench-reporting-worker-{run}.log").open("wb")
    worker = subprocess.Popen(  # noqa: ASYNC220 - started once, before the clock runs
        [sys.executable, "-m", module], cwd=REPO, env=env, stdout=log, stderr=log
    )
    redis = Redis.from_url(settings.redis_url)
    model = MetricsReadModel(redis, prefix)
    try:
        while await model.version() == 0:
            if worker.poll() is not None:
                raise RuntimeError(f"worker exited; see {log.name}")
            await asyncio.sleep(0.01)
        started = time.perf_counter()
        first = await model.version()
        while (applied := await model.version()) < events:  # noqa: ASYNC110 - polling Redis
            await asyncio.sleep(0.05)
        rate = (applied - first) / (time.perf_counter() - started)
        return rate, (None if consumer == "faust-noop" else model), redis, prefix
    finally:
        worker.terminate()
        worker.wait(timeout=30)


async def drop_read_model(redis: Redis, prefix: str) -> None:
    """Delete a bench run's read model, so that runs do not pile up in the stack's Redis."""
    batch: list[bytes] = []
    async for key in redis.scan_iter(match=f"{prefix}*", count=5000):
        batch.append(key)
        if len(batch) >= 5000:
            await redis.unlink(*batch)
            batch = []
    if batch:
        await redis.unlink(*batch)


def load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


async def main(args: argparse.Namespace) -> None:
    settings = get_settings()
    await ensure_topics(settings, EVENT_TOPICS)
    if args.events:
        seconds = await publish(settings, args.events)
        print(f"published {args.events} synthetic events in {seconds:.1f}s")
    print(f"load average before: {load_average()}")
    records, raw_seconds = await raw_consume_and_decode(settings)
    raw_rate = records / raw_seconds
    recomputed = await recompute_from_log(settings)
    events = len(recomputed.ledger.applied)
    recompute_rate = recomputed.records / recomputed.seconds
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(f"log: {records} records on {len(EVENT_TOPICS)} topics ({events} countable events)")
    print(f"raw aiokafka consume+decode : {raw_rate:10,.0f} records/s ({raw_seconds:.1f}s)")
    print(
        f"recompute (fold, in memory) : {recompute_rate:10,.0f} records/s "
        f"({recomputed.seconds:.1f}s) = {recompute_rate / raw_rate:.3f} x raw"
    )
    for consumer in args.consumers.split(","):
        rate, model, redis, prefix = await aggregation(settings, events, consumer)
        try:
            differences = (
                diff(await model.counters(), recomputed.ledger.figures()) if model else None
            )
        finally:
            await drop_read_model(redis, prefix)
            await redis.aclose()
        label = f"worker, {consumer} consumer"
        print(f"{label:28s}: {rate:10,.0f} events/s  = {rate / raw_rate:.3f} x raw", end="")
        if differences is None:
            print("  (applies nothing)")
        else:
            print(f"  figures == recompute: {not differences} ({len(differences)} differ)")
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000, help="synthetic events to add first")
    parser.add_argument(
        "--consumers",
        default="batch,faust,faust-noop",
        help="comma-separated: batch, faust, faust-noop (see above)",
    )
    asyncio.run(main(parser.parse_args()))
