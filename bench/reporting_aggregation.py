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
   take batches like the worker's but apply nothing — what Faust's delivery alone costs;
   ``faust-noop:cython+one-agent`` and the like try Faust's settings, see that module);
3. the recompute (``services.reporting.recompute``'s fold), then its diff with each rebuilt
   model.

Run against a stack you may fill with benchmark events (e.g. your test stack)::

    PRT_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:39092 PRT_REDIS_URL=redis://127.0.0.1:36379/0 \\
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
from dataclasses import dataclass
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
from services.reporting.rebuild import delete_read_model
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


async def raw_consume_and_decode(settings: PlatformSettings) -> Run:
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
        cpu_started = time.process_time()
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
        cpu = time.process_time() - cpu_started
        return Run(records, time.perf_counter() - started, cpu * 1e6 / max(records, 1))
    finally:
        await consumer.stop()


async def aggregation(
    settings: PlatformSettings, events: int, consumer: str
) -> tuple[Run, MetricsReadModel | None, Redis, str]:
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
    if consumer.startswith("faust-noop"):
        module = "bench.reporting_faust_ceiling"
        # e.g. faust-noop:cython+one-agent (see bench/reporting_faust_ceiling.py)
        env["PRT_FAUST_CEILING_VARIANT"] = consumer.partition(":")[2].replace("+", ",")
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
        cpu_started, redis_started = process_cpu_s(worker.pid), await redis_cpu_s(redis)
        first = await model.version()
        while (applied := await model.version()) < events:  # noqa: ASYNC110 - polling Redis
            await asyncio.sleep(0.05)
        seconds = time.perf_counter() - started
        cpu, redis_cpu = process_cpu_s(worker.pid), await redis_cpu_s(redis)
        done = max(applied - first, 1)
        run_figures = Run(
            done,
            seconds,
            (cpu - cpu_started) * 1e6 / done,
            (redis_cpu - redis_started) * 1e6 / done,
        )
        applies = not consumer.startswith("faust-noop")
        return run_figures, (model if applies else None), redis, prefix
    finally:
        worker.terminate()
        worker.wait(timeout=30)


@dataclass(frozen=True)
class Run:
    """A measured run: events/s of wall-clock time, and the CPU it took per event."""

    events: int
    seconds: float
    cpu_us_per_event: float  # of the process doing the work
    redis_us_per_event: float = 0.0  # of Redis (the read model's script), when it writes

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def redis_cpu_s(redis: Redis) -> float:
    info = await redis.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _figures(run: Run) -> str:
    redis = f" + Redis {run.redis_us_per_event:5.1f}" if run.redis_us_per_event else ""
    return (
        f"{run.rate:8,.0f} events/s ({run.seconds:5.1f}s); "
        f"CPU {run.cpu_us_per_event:5.1f} µs/event{redis}"
    )


def load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


async def main(args: argparse.Namespace) -> None:
    settings = get_settings()
    await ensure_topics(settings, EVENT_TOPICS)
    if args.events:
        seconds = await publish(settings, args.events)
        print(f"published {args.events} synthetic events in {seconds:.1f}s")
    print(f"load average before: {load_average()}")
    recomputed = await recompute_from_log(settings)
    events = len(recomputed.ledger.applied)
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(f"log: {recomputed.records} records on {len(EVENT_TOPICS)} topics ({events} events)")
    print(
        "wall-clock rates depend on what else the machine runs; CPU per event does much less "
        "(Redis: its CPU while the worker writes, any client's)"
    )
    recompute_rate = recomputed.records / recomputed.seconds
    # The raw baseline is measured right before each worker, so each ratio compares runs a
    # few seconds apart.
    raw = await raw_consume_and_decode(settings)
    print(f"raw aiokafka consume+decode  : {_figures(raw)}")
    print(
        f"recompute (fold, in memory)  : {recompute_rate:8,.0f} records/s "
        f"({recomputed.seconds:.1f}s) = {recompute_rate / raw.rate:.3f} x raw"
    )
    for consumer in args.consumers.split(","):
        raw = await raw_consume_and_decode(settings)
        run, model, redis, prefix = await aggregation(settings, events, consumer)
        try:
            differences = (
                diff(await model.counters(), recomputed.ledger.figures()) if model else None
            )
        finally:
            await delete_read_model(redis, prefix)
            await redis.aclose()
        label = f"worker, {consumer} consumer"
        print(f"raw aiokafka consume+decode  : {_figures(raw)}")
        print(f"{label:29s}: {_figures(run)}  = {run.rate / raw.rate:.3f} x raw", end="")
        if differences is None:
            print("  (applies nothing)")
        else:
            print(f"; figures == recompute: {not differences} ({len(differences)} differ)")
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
