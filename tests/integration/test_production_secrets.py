"""With PRT_ENVIRONMENT=production a process refuses a development secret it uses, and only
those: intake's API starts with its API-key pepper and nothing of remote_eval's; remote_eval's
worker, given no real identity key, exits at start saying which variable to set. Real processes
on the test broker and Redis."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.processes import ServiceProcess, api_process, worker_process

PRODUCTION = {
    "PRT_ENVIRONMENT": "production",
    "PRT_API_KEY_PEPPER": "a-real-pepper-for-this-test-of-32-characters",
}


def _exited(process: ServiceProcess, timeout_s: float = 60.0) -> int:
    assert process.process is not None
    deadline = time.monotonic() + timeout_s
    while (code := process.process.poll()) is None:
        assert time.monotonic() < deadline, f"{process.name} still runs; see {process.log_path}"
        time.sleep(0.2)
    return code


def test_intake_starts_without_remote_evals_secrets(
    stack_env: dict[str, str], log_dir: Path
) -> None:
    api = api_process(
        "intake-api-production",
        "services.intake.http_api.app:app",
        {**stack_env, **PRODUCTION},
        log_dir,
    )
    api.start()
    try:
        api.wait_healthy()
    finally:
        api.stop()


def test_remote_evals_worker_refuses_the_development_identity_key_at_start(
    stack_env: dict[str, str], log_dir: Path
) -> None:
    worker = worker_process(
        "remote-eval-worker-production",
        "services.remote_eval.stream_worker",
        {**stack_env, **PRODUCTION},
        log_dir,
    )
    worker.start()
    try:
        assert _exited(worker) != 0
    finally:
        worker.stop()
    log = worker.log_path.read_text(errors="replace")
    assert "PRT_REMOTE_EVAL_IDENTITY_KEY still has its development default" in log
