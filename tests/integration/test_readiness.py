"""``/readyz`` on the four APIs: 200 while Redis (and, for the APIs that publish, the brokers)
answer; 503 naming the dependency that does not, while ``/healthz`` (liveness) stays 200. The
apps' own lifespans on the real test broker and Redis; a Redis that is down is a Redis URL on a
port nothing listens on. Also: abnormal push's API refuses to start in production with the
development webhook key, instead of answering 500 on the first webhook registration."""

from __future__ import annotations

import importlib
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from services.abnormal_push.service_config import get_push_settings
from services.platform_core.errors import SettingsError
from services.platform_core.http.readiness import ReadinessProbe, kafka_check
from services.platform_core.settings import get_settings
from services.reporting.settings import get_reporting_settings

pytestmark = pytest.mark.integration

SERVICES = ["intake", "abnormal_push", "remote_eval", "reporting"]
PUBLISHERS = {"intake", "abnormal_push", "remote_eval"}


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _clear_settings() -> None:
    get_settings.cache_clear()
    get_push_settings.cache_clear()
    get_reporting_settings.cache_clear()


@pytest.fixture
def environment(
    stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[pytest.MonkeyPatch]:
    for name, value in stack_env.items():
        monkeypatch.setenv(name, value)
    _clear_settings()
    yield monkeypatch
    _clear_settings()


@asynccontextmanager
async def _client(service: str) -> AsyncIterator[httpx.AsyncClient]:
    module = importlib.import_module(f"services.{service}.http_api.app")
    async with (
        module.lifespan(module.app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=module.app), base_url=f"http://{service}"
        ) as client,
    ):
        yield client


@pytest.mark.parametrize("service", SERVICES)
async def test_ready_while_redis_and_the_brokers_answer(
    service: str, environment: pytest.MonkeyPatch
) -> None:
    async with _client(service) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        expected = {"redis": "ok", **({"kafka": "ok"} if service in PUBLISHERS else {})}
        assert ready.json() == {"status": "ready", "checks": expected}
        assert (await client.get("/healthz")).status_code == 200


@pytest.mark.parametrize("service", SERVICES)
async def test_not_ready_while_redis_is_down_and_still_alive(
    service: str, environment: pytest.MonkeyPatch
) -> None:
    environment.setenv("PRT_REDIS_URL", f"redis://127.0.0.1:{_unused_port()}/0")
    _clear_settings()
    async with _client(service) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["redis"] == "unavailable"
        if service in PUBLISHERS:
            assert body["checks"]["kafka"] == "ok"
        assert "127.0.0.1" not in ready.text and "redis://" not in ready.text  # no address
        assert (await client.get("/healthz")).status_code == 200


async def test_the_kafka_check_fails_when_no_broker_answers() -> None:
    producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{_unused_port()}")
    probe = ReadinessProbe({"kafka": kafka_check(producer)}, timeout_s=1.0)
    try:
        readiness = await probe.readiness()
    finally:
        await producer.stop()
    assert not readiness.ready
    assert readiness.body() == {"status": "unavailable", "checks": {"kafka": "unavailable"}}


async def test_abnormal_push_api_refuses_the_development_webhook_key_in_production(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("PRT_ENVIRONMENT", "production")
    environment.setenv("PRT_API_KEY_PEPPER", "a-real-pepper-for-this-test-of-32-characters")
    environment.delenv("PRT_ABNORMAL_PUSH_WEBHOOK_KEY", raising=False)
    _clear_settings()
    with pytest.raises(SettingsError, match="PRT_ABNORMAL_PUSH_WEBHOOK_KEY still has its"):
        async with _client("abnormal_push"):
            pass
