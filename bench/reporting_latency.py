"""Event accepted (acknowledged by the broker) → figure visible in reporting's read model, at a
steady rate: p50/p90/p99 of the delay, next to the same run's publish → broker ack delay.

The intake API answers a write once the broker has acknowledged its event (acks=all, the
platform's producer, as here), so the broker ack is the moment the API accepts; the API's own
cost is measured by bench/intake_registration.py. For each consumer of ``--consumers``, a fresh
aggregation worker (own key prefix and consumer group) first catches up with the log; then
``--rate`` registrations/s are published for ``--seconds``; an event counts as visible once the
read model the metrics API serves has applied it (its ``applied:<event id>`` marker, written in
the same atomic step as its counters). At the end the registrations figure of the run's own
department must have grown by exactly the events published.

    PRT_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:39092 PRT_REDIS_URL=redis://127.0.0.1:36379/0 \\
        .venv/bin/python -m bench.reporting_latency --rate 1000 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from prt.v1 import common_pb2, intake_pb2
from redis.asyncio import Redis

from bench.reporting_aggregation import load_average
from services.platform_core.events.envelope import Envelope, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import EVENT_TOPICS, PROJECT_EVENTS
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings, get_settings
from services.reporting.domain.metrics import REGISTRATIONS, CounterKey
from services.reporting.read_model import MetricsReadModel
from services.reporting.rebuild import delete_read_model
from services.reporting.recompute import recompute_from_log

REPO = Path(__file__).resolve().parents[1]


def quantiles(delays: list[float]) -> str:
    cuts = statistics.quantiles(delays, n=100)
    p50, p90, p99 = (cuts[n] * 1000 for n in (49, 89, 98))
    return f"p50 {p50:7.1f} ms  p90 {p90:7.1f} ms  p99 {p99:7.1f} ms"


@dataclass
class Probe:
    """When each event was sent, acknowledged by the broker, and seen applied."""

    sent: dict[str, float] = field(default_factory=dict)
    acked: dict[str, float] = field(default_factory=dict)
    visible: dict[str, float] = field(default_factory=dict)
    unseen: dict[str, None] = field(default_factory=dict)  # acknowledged, not yet visible
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def _acknowledged(self, event_id: str) -> None:
        self.acked[event_id] = time.perf_counter()
        if event_id not in self.visible:
            self.unseen[event_id] = None

    async def publish(self, producer: AIOKafkaProducer, rate: int, seconds: int, run: str) -> None:
        interval = 1 / rate
        start = time.perf_counter()
        for n in range(rate * seconds):
            await asyncio.sleep(max(0.0, start + n * interval - time.perf_counter()))
            envelope = Envelope(
                message=intake_pb2.ProjectRegistered(
                    project_id=f"lat-{run}-{n}",
                    occurred_at=to_timestamp(datetime.now(UTC)),
                    actor_department=department(run),
                    category=common_pb2.PROJECT_CATEGORY_HOUSING,
                    region_code="370102",
                    budget_fen=100,
                ),
                source="/bench/latency",
                subject=f"lat-{run}-{n}",
            )
            value, headers = encode_envelope(envelope)
            self.sent[envelope.id] = time.perf_counter()
            future = await producer.send(
                PROJECT_EVENTS.name, value=value, key=envelope.subject.encode(), headers=headers
            )
            future.add_done_callback(lambda _, event_id=envelope.id: self._acknowledged(event_id))
        await producer.flush()
        self.done.set()

    async def watch(self, redis: Redis, prefix: str) -> None:
        while not self.done.is_set() or len(self.visible) < len(self.sent):
            # Only the events not seen yet (a few hundred at most), so the watcher's own cost
            # stays small and does not grow with the run.
            pending = list(self.unseen)
            if pending:
                pipe = redis.pipeline(transaction=False)
                for event_id in pending:
                    pipe.exists(f"{prefix}applied:{event_id}")
                found = await pipe.execute()
                now = time.perf_counter()
                for event_id, applied in zip(pending, found, strict=True):
                    if applied:
                        self.visible[event_id] = now
                        del self.unseen[event_id]
            await asyncio.sleep(0.005)


def department(run: str) -> str:
    """The run's own department: its registrations figure counts this run's events only."""
    return f"BENCH-{run}"


def start_worker(run: str, prefix: str, consumer: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PRT_REPORTING_AGGREGATION_CONSUMER": consumer,
        "PRT_REPORTING_KEY_PREFIX": prefix,
        "PRT_REPORTING_CONSUMER_GROUP": f"prt-reporting-latency-{run}",
        "PRT_FAUST_DATA_DIR": str(REPO / ".run" / "bench-faust"),
    }
    log = (REPO / ".run" / f"bench-latency-worker-{run}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "services.reporting.stream_worker"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=log,
    )


async def measure(settings: PlatformSettings, args: argparse.Namespace, consumer: str) -> None:
    run = uuid.uuid4().hex[:8]
    prefix = f"prt:reporting-latency-{run}:"
    worker = start_worker(run, prefix, consumer)
    redis = Redis.from_url(settings.redis_url)
    model = MetricsReadModel(redis, prefix)
    producer = create_producer(settings, client_id="bench-latency")
    await producer.start()
    try:
        backlog = len((await recompute_from_log(settings)).ledger.applied)
        while await model.version() < backlog:  # noqa: ASYNC110 - polling Redis
            await asyncio.sleep(0.5)
        print(
            f"{consumer} consumer: worker caught up with {backlog} events; "
            f"publishing {args.rate}/s for {args.seconds}s (load average {load_average()})"
        )
        probe = Probe()
        await asyncio.wait_for(
            asyncio.gather(
                probe.publish(producer, args.rate, args.seconds, run), probe.watch(redis, prefix)
            ),
            timeout=args.seconds + 120,
        )
        delays = [probe.visible[e] - probe.acked[e] for e in probe.visible if e in probe.acked]
        raw = [probe.acked[e] - probe.sent[e] for e in probe.acked]
        figure = (await model.counters(REGISTRATIONS)).get(
            CounterKey(REGISTRATIONS, (("department", department(run)),)), 0
        )
        print(f"  {len(delays)} events; load average after {load_average()}")
        print(f"  publish → broker ack       : {quantiles(raw)}")
        print(f"  broker ack → figure visible: {quantiles(delays)}")
        print(f"  registrations of {department(run)}: {figure} (published {len(probe.sent)})")
    finally:
        await producer.stop()
        worker.terminate()
        worker.wait(timeout=30)
        await delete_read_model(redis, prefix)
        await redis.aclose()


async def main(args: argparse.Namespace) -> None:
    settings = get_settings()
    await ensure_topics(settings, EVENT_TOPICS)
    print(f"machine: {platform.node()} {os.cpu_count()} CPUs, Python {platform.python_version()}")
    for consumer in args.consumers.split(","):
        await measure(settings, args, consumer)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=1000, help="events per second")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--consumers", default="batch,faust", help="comma-separated: batch, faust")
    asyncio.run(main(parser.parse_args()))
