"""A worker asked to stop while Redis is away is gone within its grace period, having committed
nothing it did not apply; with Redis there, it stops cleanly. Both aggregation consumers (batch
and Faust; the Faust worker class is the one every service's worker uses).

Before, a worker stopping waited for the event in hand, which was being retried until Redis
came back: the fault runs found workers alive 40 minutes after SIGTERM
(services/platform_core/kafka/stop_deadline.py).

The worker is pointed at a port where no Redis listens: Redis is away for it alone, and the
stack's Redis stays up for every other test.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from services.platform_core.events.topics import EVENT_TOPICS
from services.platform_core.kafka.stop_deadline import EXIT_NOT_STOPPED_IN_TIME
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings
from tests.integration.reporting.conftest import READY, fresh_namespace, publish_synthetic
from tests.support.processes import ServiceProcess, free_port, worker_process

pytestmark = pytest.mark.integration

GRACE_S = 3.0
# What each kind of worker logs when a step that needs Redis failed and is retried.
RETRYING = ("applying a batch failed", "reading states failed")


async def _committed(settings: PlatformSettings, group_id: str) -> dict[str, int]:
    """The offsets ``group_id`` has committed on the event topics, by partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    topics = {topic.name for topic in EVENT_TOPICS}
    return {
        f"{tp.topic}[{tp.partition}]": meta.offset
        for tp, meta in offsets.items()
        if tp.topic in topics and meta.offset >= 0
    }


def _terminate(worker: ServiceProcess, within_s: float) -> tuple[int, float]:
    """SIGTERM, then the exit status and how long it took (fails if it took over ``within_s``)."""
    assert worker.process is not None
    started = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)
    try:
        status = worker.process.wait(timeout=within_s)
    except subprocess.TimeoutExpired:
        worker.kill()
        pytest.fail(f"{worker.name} was still running {within_s:.0f} s after SIGTERM")
    return status, time.monotonic() - started


@pytest.mark.parametrize("consumer", ["batch", "faust"])
async def test_a_worker_waiting_for_redis_stops_within_its_grace_and_commits_nothing(
    consumer: str, settings: PlatformSettings, stack_env: dict[str, str], log_dir: Path
) -> None:
    await ensure_topics(settings, EVENT_TOPICS)
    await publish_synthetic(settings, f"stop-deadline-{consumer}", 50)
    namespace = fresh_namespace(consumer)
    env = {
        **namespace.env(stack_env),
        "PRT_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        "PRT_WORKER_STOP_GRACE_S": str(GRACE_S),
    }
    worker = worker_process(
        f"reporting-stop-deadline-{consumer}", "services.reporting.stream_worker", env, log_dir
    )
    worker.start()
    try:
        worker.wait_for_log(READY[consumer], timeout_s=90)
        worker.wait_for_log(RETRYING, timeout_s=60)

        status, took_s = _terminate(worker, within_s=GRACE_S + 15)

        assert status == EXIT_NOT_STOPPED_IN_TIME, worker.log_path.read_text()[-3000:]
        assert took_s >= GRACE_S * 0.9, f"exited after {took_s:.1f} s, before its grace"
        assert "did not stop within" in worker.log_path.read_text()
        # Nothing was applied (Redis was never there), so nothing may have been committed:
        # an offset committed here would be an event skipped for good.
        assert await _committed(settings, namespace.consumer_group) == {}
    finally:
        worker.stop()


@pytest.mark.parametrize("consumer", ["batch", "faust"])
async def test_a_worker_with_redis_there_stops_cleanly(
    consumer: str, settings: PlatformSettings, stack_env: dict[str, str], log_dir: Path
) -> None:
    namespace = fresh_namespace(consumer)
    worker = worker_process(
        f"reporting-clean-stop-{consumer}",
        "services.reporting.stream_worker",
        namespace.env(stack_env),
        log_dir,
    )
    worker.start()
    try:
        worker.wait_for_log(READY[consumer], timeout_s=90)
        status, _ = _terminate(worker, within_s=settings.worker_stop_grace_s + 15)

        assert status == 0, worker.log_path.read_text()[-3000:]
        assert "did not stop within" not in worker.log_path.read_text()
    finally:
        worker.stop()
