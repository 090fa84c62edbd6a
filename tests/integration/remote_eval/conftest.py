"""Remote evaluation's processes for integration tests, and helpers reading real topics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _running
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
            "remote-eval-worker", "services.remote_eval.stream_worker", stack_env, log_dir
        )
    )
