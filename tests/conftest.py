"""Fixtures: the real Kafka and Redis of the local stack, and the services as real processes.

Integration and end-to-end tests never fake Kafka or Redis. The stack is started by the
project's own scripts (idempotent: a running broker is reused), on test ports of its own so a
developer's running demo stack is not disturbed.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.platform_core.auth.api_keys import ApiKeyStore, IssuedKey
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.settings import PlatformSettings
from tests.support.processes import REPO, ServiceProcess, api_process, worker_process

KAFKA_PORT = os.environ.get("PRT_TEST_KAFKA_PORT", "29092")
REDIS_PORT = os.environ.get("PRT_TEST_REDIS_PORT", "26379")
# One runtime directory per test broker port, so several test stacks can run side by side.
TEST_RUNTIME = REPO / ".run" / f"test-{KAFKA_PORT}"


def _stack_env() -> dict[str, str]:
    return {
        "PRT_ENVIRONMENT": "test",
        "PRT_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{KAFKA_PORT}",
        "PRT_REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "PRT_FAUST_DATA_DIR": str(TEST_RUNTIME / "faust"),
        "PRT_BROKER_SESSION_TIMEOUT_S": "6",
    }


@pytest.fixture(scope="session")
def stack_env() -> dict[str, str]:
    """Starts (or reuses) the test broker and Redis; returns the env services need."""
    script_env = {
        **os.environ,
        "PRT_RUNTIME_DIR": str(TEST_RUNTIME),
        "PRT_KAFKA_PORT": KAFKA_PORT,
        "PRT_REDIS_PORT": REDIS_PORT,
    }
    for script in ("redis.sh", "kafka.sh"):
        subprocess.run(
            ["bash", str(REPO / "deploy" / "local" / script), "start"],
            env=script_env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return _stack_env()


@pytest.fixture(scope="session")
def settings(stack_env: dict[str, str]) -> PlatformSettings:
    return PlatformSettings(
        environment="test",
        kafka_bootstrap_servers=stack_env["PRT_KAFKA_BOOTSTRAP_SERVERS"],
        redis_url=stack_env["PRT_REDIS_URL"],
    )


IssueKey = Callable[..., Awaitable[IssuedKey]]


@pytest.fixture(scope="session")
async def issue_key(settings: PlatformSettings) -> AsyncIterator[IssueKey]:
    """Issues real API keys in the test Redis: ``await issue_key(kind, code, name, regions)``;
    ``backfill=True`` gives the key the right to state ``occurred_at``."""
    redis = Redis.from_url(settings.redis_url)
    store = ApiKeyStore(redis, settings.api_key_pepper)

    async def issue(
        kind: PrincipalKind,
        code: str,
        name: str,
        regions: frozenset[str] = frozenset(),
        backfill: bool = False,
    ) -> IssuedKey:
        return await store.issue(kind, code, name, regions, backfill)

    yield issue
    await redis.aclose()


@pytest.fixture
async def key_store(settings: PlatformSettings) -> AsyncIterator[ApiKeyStore]:
    """The API key store on the test Redis: to revoke, rotate or issue keys with an end."""
    redis = Redis.from_url(settings.redis_url)
    yield ApiKeyStore(redis, settings.api_key_pepper)
    await redis.aclose()


@pytest.fixture(scope="session")
def log_dir() -> Path:
    path = TEST_RUNTIME / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


# A stream worker is ready: Faust logs the first once the worker has started all its services,
# agents included; reporting's batch aggregator (its default consumer) logs the second once it
# has joined its group (services.reporting.stream_worker.BATCH_CONSUMER_READY; not imported, as
# importing the worker module builds its Faust app).
WORKER_READY = ("[^Worker]: Ready", "Ready: batch consumer of group")


def _running(process: ServiceProcess) -> Iterator[ServiceProcess]:
    process.start()
    try:
        if process.port is not None:
            process.wait_healthy()
        else:
            process.wait_for_log(WORKER_READY)
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def intake_api(stack_env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    yield from _running(
        api_process("intake-api", "services.intake.http_api.app:app", stack_env, log_dir)
    )


@pytest.fixture(scope="session")
def reporting_api(stack_env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    yield from _running(
        api_process("reporting-api", "services.reporting.http_api:app", stack_env, log_dir)
    )


@pytest.fixture(scope="session")
def reporting_worker(stack_env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    process = worker_process(
        "reporting-worker", "services.reporting.stream_worker", stack_env, log_dir
    )
    yield from _running(process)


@pytest.fixture
async def redis(settings: PlatformSettings) -> AsyncIterator[Redis]:
    """A Redis client of the test's own on the test stack (a suite may override it)."""
    client = Redis.from_url(settings.redis_url)
    try:
        yield client
    finally:
        await client.aclose()
