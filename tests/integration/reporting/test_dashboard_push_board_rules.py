"""The dashboard's push board through reporting's API process (real Redis), by abnormal push's
rules of who reads a push: a district branch its own, its city department the branch's too
(分级监管), a department a push was escalated to that push (升级督办, the target kept in the
push's state in Redis), an operator all — by the snapshot and by the event stream.

The read model is one of the test's own (a fresh key prefix, its API beside the session's), so
the pushes on it are exactly the test's; the department codes are the real ones of
departments.json, whose branches the API reads."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.settings import PlatformSettings
from services.reporting.domain import facts
from services.reporting.read_model import MetricsReadModel
from tests.conftest import IssueKey
from tests.integration.reporting.conftest import fresh_namespace
from tests.support.processes import ServiceProcess, api_process
from tests.unit.reporting.factories import at, event_id, routed

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6]
BRANCH_PUSH, CITY_PUSH, OTHER_PUSH = (f"{name}-{RUN}" for name in ("zjj-lx", "zjj", "jtj"))


@pytest.fixture(scope="module")
def namespace_of_this_test() -> Any:
    return fresh_namespace()


@pytest.fixture(scope="module")
def rules_api(
    namespace_of_this_test: Any, stack_env: dict[str, str], log_dir: Path
) -> Iterator[ServiceProcess]:
    process = api_process(
        f"reporting-api-board-rules-{RUN}",
        "services.reporting.http_api:app",
        namespace_of_this_test.env(stack_env),
        log_dir,
    )
    process.start()
    try:
        process.wait_healthy()
        yield process
    finally:
        process.stop()


@pytest.fixture
async def pushes_open(
    settings: PlatformSettings, namespace_of_this_test: Any
) -> AsyncIterator[None]:
    redis = Redis.from_url(settings.redis_url)
    try:
        model = MetricsReadModel(redis, namespace_of_this_test.prefix)
        await model.apply_facts(
            [
                # 历下区住建局's push, late, escalated to 住建局 (level 1) and 联席办 (level 2).
                routed(BRANCH_PUSH, "2023-03-01 09:00", department="ZJJ-LX"),
                facts.PushOverdueFact(
                    event_id(), BRANCH_PUSH, at("2023-03-04 09:00"), "SIGN_FOR", "ZJJ-LX"
                ),
                facts.PushEscalatedFact(
                    event_id(), BRANCH_PUSH, at("2023-03-05 09:00"), "SIGN_FOR", "ZJJ", 1
                ),
                facts.PushEscalatedFact(
                    event_id(), BRANCH_PUSH, at("2023-03-06 09:00"), "SIGN_FOR", "FGW", 2
                ),
                routed(CITY_PUSH, "2023-03-01 09:00", department="ZJJ"),
                routed(OTHER_PUSH, "2023-03-01 09:00", department="JTJ"),
            ]
        )
        yield
    finally:
        await redis.aclose()


async def _first_snapshot(client: httpx.AsyncClient, key: str) -> dict[str, Any]:
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


async def test_each_key_sees_the_pushes_abnormal_push_lets_it_read(
    pushes_open: None, rules_api: ServiceProcess, issue_key: IssueKey
) -> None:
    readers = {
        (PrincipalKind.OPERATOR, f"op-rules-{RUN}"): {BRANCH_PUSH, CITY_PUSH, OTHER_PUSH},
        (PrincipalKind.DEPARTMENT, "ZJJ-LX"): {BRANCH_PUSH},
        # Its own, and its branch's (which was also escalated to it).
        (PrincipalKind.DEPARTMENT, "ZJJ"): {BRANCH_PUSH, CITY_PUSH},
        # 联席办 as a department: what was escalated to it, not every push.
        (PrincipalKind.DEPARTMENT, "FGW"): {BRANCH_PUSH},
        (PrincipalKind.DEPARTMENT, "JTJ"): {OTHER_PUSH},
        (PrincipalKind.DEPARTMENT, "JTJ-LX"): set(),
        (PrincipalKind.DEPARTMENT, "JYZX"): set(),
    }
    async with httpx.AsyncClient(base_url=rules_api.base_url, timeout=20) as client:
        for (kind, code), expected in readers.items():
            issued = await issue_key(kind, code, code, frozenset())
            answer = await client.get("/v1/dashboard/snapshot", headers={"X-API-Key": issued.key})
            assert answer.status_code == 200, answer.text
            for data in (answer.json(), await _first_snapshot(client, issued.key)):
                assert {entry["push_id"] for entry in data["push_board"]} == expected, code
                assert data["open_pushes"] == len(expected), code
                assert not any(name.startswith("_") for name in data), code
