"""The dashboard's push board through reporting's API process (real Redis): a department's key
is sent only the open pushes addressed to it — by the snapshot and by the event stream — and an
operator's key every one; ``open_pushes`` counts them beyond the board's 100 rows.

The read model is one of the test's own (a fresh key prefix, its API beside the session's),
filled with the pushes the test needs, so what each key is sent is known exactly."""

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
from services.reporting.dashboard import BOARD_LIMIT
from services.reporting.read_model import MetricsReadModel
from tests.conftest import IssueKey
from tests.integration.reporting.conftest import fresh_namespace
from tests.support.processes import ServiceProcess, api_process
from tests.unit.reporting.factories import routed

pytestmark = pytest.mark.integration

# Department codes of this test's own, so no other test's key or push is among them.
RUN = uuid.uuid4().hex[:6].upper()
MANY, FEW, NONE = f"ZJJ-{RUN}", f"JTJ-{RUN}", f"CZJ-{RUN}"
OPEN = {MANY: BOARD_LIMIT + 5, FEW: 3}


@pytest.fixture(scope="module")
def namespace_of_this_test() -> Any:
    return fresh_namespace()


@pytest.fixture(scope="module")
def board_api(
    namespace_of_this_test: Any, stack_env: dict[str, str], log_dir: Path
) -> Iterator[ServiceProcess]:
    process = api_process(
        f"reporting-api-board-{RUN}",
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
                routed(f"push-{department}-{n}", "2023-03-01 09:00", department=department)
                for department, count in OPEN.items()
                for n in range(count)
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


async def test_each_key_is_sent_only_the_pushes_it_may_see(
    pushes_open: None, board_api: ServiceProcess, issue_key: IssueKey
) -> None:
    operator = await issue_key(PrincipalKind.OPERATOR, f"op-board-{RUN}", "联席办值班员")
    many = await issue_key(PrincipalKind.DEPARTMENT, MANY, "市住房城乡建设局", frozenset())
    few = await issue_key(PrincipalKind.DEPARTMENT, FEW, "市交通运输局", frozenset())
    none = await issue_key(PrincipalKind.DEPARTMENT, NONE, "市财政局", frozenset())
    expected = {
        operator.key: (None, sum(OPEN.values()), BOARD_LIMIT),
        many.key: (MANY, OPEN[MANY], BOARD_LIMIT),
        few.key: (FEW, OPEN[FEW], OPEN[FEW]),
        none.key: (NONE, 0, 0),
    }
    async with httpx.AsyncClient(base_url=board_api.base_url, timeout=20) as client:
        for key, (department, open_pushes, rows) in expected.items():
            answer = await client.get("/v1/dashboard/snapshot", headers={"X-API-Key": key})
            assert answer.status_code == 200, answer.text
            for data in (answer.json(), await _first_snapshot(client, key)):
                assert data["open_pushes"] == open_pushes
                assert len(data["push_board"]) == rows
                departments = {entry["department"] for entry in data["push_board"]}
                if department is None:  # an operator: every department's
                    assert departments <= set(OPEN)
                else:
                    assert departments <= {department}
