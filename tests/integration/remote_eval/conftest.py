"""Remote evaluation's processes for integration tests, helpers reading real topics, and an
in-process scheduler driven event by event (scheduler_rig.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.platform_core.settings import PlatformSettings
from tests.conftest import IssueKey, _running
from tests.integration.remote_eval.scheduler_rig import Rig, scheduler_rig
from tests.integration.remote_eval.world import World, build_world
from tests.support.processes import ServiceProcess, api_process, worker_process


@pytest.fixture(scope="session")
def remote_eval_api(stack_env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    yield from _running(
        api_process("remote-eval-api", "services.remote_eval.http_api.app:app", stack_env, log_dir)
    )


@pytest.fixture(scope="session")
def remote_eval_worker(stack_env: dict[str, str], log_dir: Path) -> Iterator[ServiceProcess]:
    yield from _running(
        worker_process(
            "remote-eval-worker",
            "services.remote_eval.stream_worker",
            # Answer deadlines are checked every second, so a test can watch one pass.
            {**stack_env, "PRT_REMOTE_EVAL_TIMER_INTERVAL_S": "1"},
            log_dir,
        )
    )


@pytest.fixture(scope="module")
async def world(
    remote_eval_api: ServiceProcess, remote_eval_worker: ServiceProcess, issue_key: IssueKey
) -> World:
    """A world of its own for each test module: its pools, venues, hosts and partners."""
    return await build_world(remote_eval_api, remote_eval_worker, issue_key)


@pytest.fixture
async def rig(settings: PlatformSettings) -> AsyncIterator[Rig]:
    """An in-process scheduler on the real broker and Redis, driven event by event."""
    async with scheduler_rig(settings) as rig:
        yield rig
