"""Reporting's fixtures: a worker and an API on a read model of their own.

A test session gets a fresh Redis key prefix and a fresh consumer group, so its worker rebuilds
every figure by replaying the whole log from the beginning, beside (not on top of) any other
read model on the same stack; the recompute must then agree with it exactly. The kill test
takes a namespace of its own; a module that fills a read model with exactly the facts it needs
takes one of its own, with an API on it (``namespace_of_this_module``, ``api_of_this_module``).
The worker reads with the consumer PRT_TEST_REPORTING_CONSUMER
names (``batch``, the default, or ``faust``); the kill and poison tests run both.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import encode_envelope
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from services.reporting.domain.facts import Fact
from services.reporting.read_model import MetricsReadModel
from services.reporting.recompute import recompute_from_log
from tests.conftest import WORKER_READY, IssueKey, _running
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess, api_process, worker_process
from tests.unit.reporting.event_mix import events_with_deadlines_set

CONSUMER = os.environ.get("PRT_TEST_REPORTING_CONSUMER", "batch")
# What each kind of worker logs once it consumes.
READY = {"faust": WORKER_READY[0], "batch": WORKER_READY[1]}


@dataclass(frozen=True)
class Namespace:
    prefix: str
    consumer_group: str
    consumer: str = CONSUMER

    def env(self, stack_env: dict[str, str]) -> dict[str, str]:
        return {
            **stack_env,
            "PRT_REPORTING_KEY_PREFIX": self.prefix,
            "PRT_REPORTING_CONSUMER_GROUP": self.consumer_group,
            "PRT_REPORTING_AGGREGATION_CONSUMER": self.consumer,
        }


def fresh_namespace(consumer: str = CONSUMER) -> Namespace:
    run = uuid.uuid4().hex[:8]
    return Namespace(f"prt:reporting-test-{run}:", f"prt-reporting-test-{run}", consumer)


@pytest.fixture(scope="session")
def namespace() -> Namespace:
    """One rebuilt read model per test session, shared by reporting's integration and e2e."""
    return fresh_namespace()


async def wait_caught_up(settings: PlatformSettings, model: MetricsReadModel) -> int:
    """Wait until the worker has applied every event now on the log; returns how many."""
    events = len((await recompute_from_log(settings)).ledger.applied)
    await eventually(model.version, lambda applied: applied >= events, timeout_s=300)
    return events


async def publish_synthetic(
    settings: PlatformSettings,
    tag: str,
    events: int,
    *,
    seed: int = 0,
    batch: int = 2000,
    pause_s: float = 0.0,
    until: asyncio.Event | None = None,
) -> int:
    """About ``events`` synthetic events (bench/reporting_events.py, with estimated push
    deadlines replaced: tests/unit/reporting/event_mix.py), ``batch`` at a time and
    ``pause_s`` apart, so a run spreads over what a test does meanwhile; with ``until``, more
    rounds of as many (next seed and tag) until it is set. Returns how many were sent."""
    producer = create_producer(settings, client_id="reporting-tests-publisher")
    await producer.start()
    sent = round_ = 0
    try:
        while True:
            pending = []
            for outgoing in events_with_deadlines_set(
                events, seed=seed + round_, tag=f"{tag}{round_}"
            ):
                value, headers = encode_envelope(outgoing.envelope)
                pending.append(
                    await producer.send(
                        outgoing.topic.name, value=value, key=outgoing.key.encode(), headers=headers
                    )
                )
                if len(pending) >= batch:
                    await asyncio.gather(*pending)
                    sent += len(pending)
                    pending = []
                    await asyncio.sleep(pause_s)
            await asyncio.gather(*pending)
            sent += len(pending)
            if until is None or until.is_set():
                return sent
            round_ += 1
    finally:
        await producer.stop()


def start_worker(namespace: Namespace, stack_env: dict[str, str], log_dir: Path) -> ServiceProcess:
    process = worker_process(
        f"reporting-worker-{namespace.consumer_group}",
        "services.reporting.stream_worker",
        namespace.env(stack_env),
        log_dir,
    )
    process.start()
    process.wait_for_log(READY[namespace.consumer], timeout_s=90)
    return process


@pytest.fixture(scope="session")
def own_worker(
    namespace: Namespace, stack_env: dict[str, str], log_dir: Path
) -> Iterator[ServiceProcess]:
    process = start_worker(namespace, stack_env, log_dir)
    try:
        yield process
    finally:
        process.stop()


def _api_on(namespace: Namespace, env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    """Reporting's API on ``namespace``'s read model (``env``: the stack's with the namespace's
    settings), running until the fixture ends."""
    yield from _running(
        api_process(
            f"reporting-api-{namespace.consumer_group}",
            "services.reporting.http_api:app",
            env,
            log_dir,
        )
    )


@pytest.fixture(scope="session")
def own_api(
    namespace: Namespace, stack_env: dict[str, str], log_dir: Path
) -> Iterator[ServiceProcess]:
    yield from _api_on(
        namespace,
        # Open dashboard streams check their key every second (not every minute), so a test
        # sees a revocation end one.
        {**namespace.env(stack_env), "PRT_REPORTING_DASHBOARD_KEY_RECHECK_S": "1"},
        log_dir,
    )


@pytest.fixture(scope="module")
def namespace_of_this_module() -> Namespace:
    """A read model of the test module's own (a fresh key prefix), so what is on it is exactly
    what the module puts there."""
    return fresh_namespace()


@pytest.fixture(scope="module")
def api_of_this_module(
    namespace_of_this_module: Namespace, stack_env: dict[str, str], log_dir: Path
) -> Iterator[ServiceProcess]:
    """Reporting's API on the module's own read model, beside the session's."""
    yield from _api_on(namespace_of_this_module, namespace_of_this_module.env(stack_env), log_dir)


async def apply_to_read_model(
    settings: PlatformSettings, namespace: Namespace, facts: Sequence[Fact]
) -> None:
    """``facts`` applied to ``namespace``'s read model, as its worker would apply them."""
    redis = Redis.from_url(settings.redis_url)
    try:
        await MetricsReadModel(redis, namespace.prefix).apply_facts(facts)
    finally:
        await redis.aclose()


async def first_dashboard_snapshot(client: httpx.AsyncClient, key: str) -> dict[str, Any]:
    """The snapshot the dashboard's event stream sends ``key`` first."""
    async with client.stream("GET", "/v1/dashboard/stream", headers={"X-API-Key": key}) as stream:
        assert stream.status_code == 200
        event = ""
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "snapshot":
                data: dict[str, Any] = json.loads(line.removeprefix("data: "))
                return data
    raise AssertionError("the stream ended before a snapshot")


@pytest.fixture
async def read_model(
    settings: PlatformSettings, namespace: Namespace
) -> AsyncIterator[MetricsReadModel]:
    redis = Redis.from_url(settings.redis_url)
    try:
        yield MetricsReadModel(redis, namespace.prefix)
    finally:
        await redis.aclose()


@pytest.fixture
async def model(settings: PlatformSettings) -> AsyncIterator[MetricsReadModel]:
    """An empty read model of the test's own (a fresh key prefix, deleted afterwards), for a
    test that applies facts to it directly, without a worker."""
    redis = Redis.from_url(settings.redis_url)
    prefix = f"prt:reporting-test-{uuid.uuid4().hex[:8]}:"
    try:
        yield MetricsReadModel(redis, prefix)
    finally:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await redis.unlink(*keys)
        await redis.aclose()


@pytest.fixture
async def publisher(settings: PlatformSettings) -> AsyncIterator[EventPublisher]:
    producer = create_producer(settings, client_id="reporting-tests")
    await producer.start()
    try:
        yield EventPublisher(producer)
    finally:
        await producer.stop()


@pytest.fixture
async def operator_headers(issue_key: IssueKey) -> dict[str, str]:
    issued = await issue_key(PrincipalKind.OPERATOR, "op-reporting", "联席办值班员")
    return {"Authorization": f"Bearer {issued.key}"}
