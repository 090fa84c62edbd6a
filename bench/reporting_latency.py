"""Event acknowledged by the broker → figure visible in reporting's read model, at a steady
rate: p50/p90/p99 of the delay, next to the same run's raw aiokafka publish→consume delay.

A fresh aggregation worker (own key prefix and consumer group) first catches up with the log;
then ``--rate`` events/s of registrations are published for ``--seconds``; an event counts as
visible once the read model has applied it (its ``applied:<event id>`` marker, written in the
same atomic step as its counters). The events are published with the platform's producer
(acks=all) — the intake API's own cost is measured by bench/intake_registration.py.

    PRT_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:29092 PRT_REDIS_URL=redis://127.0.0.1:26379/0 \\
        .venv/bin/python -m bench.reporting_latency --rate 1000 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
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

from services.platform_core.events.envelope import Envelope, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import EVENT_TOPICS, PROJECT_EVENTS
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import get_settings
from services.reporting.read_model import MetricsReadModel
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
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def publish(self, producer: AIOKafkaProducer, rate: int, seconds: int, run: str) -> None:
        interval = 1 / rate
        start = time.perf_counter()
        for n in range(rate * seconds):
            await asyncio.sleep(max(0.0, start + n * interval - time.perf_counter()))
            envelope = Envelope(
                message=intake_pb2.ProjectRegistered(
                    project_id=f"lat-{run}-{n}",
                    occurred_at=to_timestamp(datetime.now(UTC)),
                    actor_department="BENCH",
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
            future.add_done_callback(
                lambda _, event_id=envelope.id: self.acked.__setitem__(
                    event_id, time.perf_counter()
                )
            )
        await producer.flush()
        self.done.set()

    async def watch(self, redis: Redis, prefix: str) -> None:
        while not self.done.is_set() or len(self.visible) < len(self.sent):
            pending = [event_id for event_id in self.sent if event_id not in self.visible]
            if pending:
                pipe = redis.pipeline(transaction=False)
                for event_id in pending:
                    pipe.exists(f"{prefix}applied:{event_id}")
                now = time.perf_counter()
                for event_id, found in zip(pending, await pipe.execute(), strict=True):
                    if found:
                        self.visible[event_id] = now
            await asyncio.sleep(0.005)


def start_worker(run: str, prefix: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
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


async def main(args: argparse.Namespace) -> None:
    settings = get_settings()
    await ensure_topics(settings, EVENT_TOPICS)
    run = uuid.uuid4().hex[:8]
    prefix = f"prt:reporting-latency-{run}:"
    worker = start_worker(run, prefix)
    redis = Redis.from_url(settings.redis_url)
    model = MetricsReadModel(redis, prefix)
    producer = create_producer(settings, client_id="bench-latency")
    await producer.start()
    try:
        backlog = len((await recompute_from_log(settings)).ledger.applied)
        while await model.version() < backlog:  # noqa: ASYNC110 - polling Redis
            await asyncio.sleep(0.5)
        print(
            f"worker caught up with {backlog} events; publishing {args.rate}/s for {args.seconds}s"
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
        print(f"machine: {os.cpu_count()} CPUs; {len(delays)} events")
        print(f"publish → broker ack      : {quantiles(raw)}")
        print(f"broker ack → figure visible: {quantiles(delays)}")
    finally:
        await producer.stop()
        await redis.aclose()
        worker.terminate()
        worker.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=1000, help="events per second")
    parser.add_argument("--seconds", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
