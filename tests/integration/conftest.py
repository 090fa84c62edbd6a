"""What integration tests of several services share: the secured broker.

``kafka.sh start --secure`` on a port and runtime directory of its own (the test port + 500):
TLS with a CA of its own, SASL/SCRAM-SHA-512, the KRaft StandardAuthorizer, a user per
service and the operator with the ACLs of services/kafka_access_plan.py, and two partners with
their prefixed ACLs.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.kafka_access_plan import OPERATOR_USER, SERVICE_USERS
from tests.conftest import KAFKA_PORT
from tests.support.processes import REPO
from tests.support.secure_broker import SecureBroker

SECURE_PORT = os.environ.get("PRT_TEST_SECURE_KAFKA_PORT", str(int(KAFKA_PORT) + 500))
SECURE_RUNTIME = REPO / ".run" / f"test-secure-{SECURE_PORT}"
PARTNER_A, PARTNER_B = "370300", "370500"
BOOTSTRAP_SECURE = f"127.0.0.1:{SECURE_PORT}"


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
        ca_file = Path(_script("ca").stdout.strip())
        yield SecureBroker(BOOTSTRAP_SECURE, _read_credentials(credentials), ca_file)
    finally:
        _script("stop")


def secured_env(
    stack_env: dict[str, str], broker: SecureBroker, user: str, redis_db: int
) -> dict[str, str]:
    """A platform process's environment on the secured broker, as ``user``, with a Redis
    database of its own (so its state stays apart from the plain stack's)."""
    redis_url = stack_env["PRT_REDIS_URL"].rsplit("/", 1)[0]
    return {
        **stack_env,
        "PRT_KAFKA_BOOTSTRAP_SERVERS": BOOTSTRAP_SECURE,
        "PRT_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "PRT_KAFKA_SSL_CAFILE": str(broker.ca_file),
        "PRT_KAFKA_SASL_USERNAME": user,
        "PRT_KAFKA_SASL_PASSWORD": broker.passwords[user],
        "PRT_REDIS_URL": f"{redis_url}/{redis_db}",
        "PRT_FAUST_DATA_DIR": str(Path(stack_env["PRT_FAUST_DATA_DIR"]).parent / "faust-secure"),
    }
