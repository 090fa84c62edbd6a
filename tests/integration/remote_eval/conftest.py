"""Remote evaluation's processes for integration tests, and helpers reading real topics."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from services.kafka_access_plan import OPERATOR_USER, SERVICE_USERS
from tests.conftest import KAFKA_PORT, IssueKey, _running
from tests.integration.remote_eval.world import World, build_world
from tests.support.processes import REPO, ServiceProcess, api_process, worker_process


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


SECURE_PORT = os.environ.get("PRT_TEST_SECURE_KAFKA_PORT", str(int(KAFKA_PORT) + 500))
SECURE_RUNTIME = REPO / ".run" / f"test-secure-{SECURE_PORT}"
PARTNER_A, PARTNER_B = "370300", "370500"
BOOTSTRAP_SECURE = f"127.0.0.1:{SECURE_PORT}"


# The secured broker (`kafka.sh start --secure`) runs on a runtime directory and port of its own.
@dataclass(frozen=True)
class SecureBroker:
    passwords: dict[str, str]

    def sasl(self, user: str) -> dict[str, Any]:
        return {
            "bootstrap_servers": BOOTSTRAP_SECURE,
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": user,
            "sasl_plain_password": self.passwords[user],
        }


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PRT_RUNTIME_DIR": str(SECURE_RUNTIME),
        "PRT_KAFKA_PORT": SECURE_PORT,
        "PRT_KAFKA_PARTNERS": f"{PARTNER_A} {PARTNER_B}",
    }
    return subprocess.run(
        ["bash", str(REPO / "deploy" / "local" / "kafka.sh"), *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


def _read_credentials(path: Path) -> dict[str, str]:
    values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    passwords = {"platform": values["PLATFORM_PASSWORD"]}
    for user in (*SERVICE_USERS, OPERATOR_USER):
        passwords[user] = values[f"{user.upper().replace('-', '_')}_PASSWORD"]
    for code in (PARTNER_A, PARTNER_B):
        passwords[f"partner-{code}"] = values[f"PARTNER_{code}_PASSWORD"]
    return passwords


@pytest.fixture(scope="session")
def secure_broker() -> Iterator[SecureBroker]:
    _script("start", "--secure")
    try:
        credentials = Path(_script("credentials").stdout.strip())
        assert credentials.stat().st_mode & 0o077 == 0, "credentials must be private (0600)"
        yield SecureBroker(_read_credentials(credentials))
    finally:
        _script("stop")
