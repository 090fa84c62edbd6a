"""docker-compose.yml runs what `make up` runs: the same processes (deploy/local/services.sh is
the list), one environment for all of them, and the Kafka release of the local jars.

No Docker engine is needed: the files are read as data. A compose file that lost a stream
worker ran without routing reports or scheduling evaluations, and nothing said so.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

# PyYAML comes with the dev dependencies (schemathesis needs it); it ships no type stubs.
import yaml  # type: ignore[import-untyped]

from services.kafka_access_plan import SERVICE_USERS

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
SERVICES_SH = REPO / "deploy" / "local" / "services.sh"
KAFKA_POM = REPO / "deploy" / "local" / "kafka" / "pom.xml"


def local_processes(script: str) -> dict[str, str]:
    """services.sh's SERVICES entries ("name|port|python -m arguments"): name -> what runs."""
    block = re.search(r"^SERVICES=\((.*?)^\)", script, re.MULTILINE | re.DOTALL)
    assert block is not None, "services.sh has no SERVICES=( ... ) list"
    processes: dict[str, str] = {}
    for entry in re.findall(r'"([^"]*)"', block.group(1)):
        name, _port, arguments = entry.split("|")
        processes[name] = arguments
    return processes


def compose_processes(compose: dict[str, Any]) -> dict[str, str]:
    """The platform's containers (those built from the project's image): name -> what runs,
    in services.sh's words ("uvicorn <app>" or the module of ``python -m``)."""
    processes: dict[str, str] = {}
    for name, service in compose["services"].items():
        if "build" not in service:
            continue  # Kafka and Redis: started by kafka.sh and redis.sh locally
        command = service["command"]
        if command[0] == "uvicorn":
            processes[name] = f"uvicorn {command[1]}"
        else:
            assert command[:2] == ["python", "-m"], f"{name}: unexpected command {command}"
            processes[name] = command[2]
    return processes


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def test_compose_runs_every_process_services_sh_starts(compose: dict[str, Any]) -> None:
    local = local_processes(SERVICES_SH.read_text(encoding="utf-8"))
    # The parser read the list, not nothing: four APIs and four stream workers.
    assert len(local) == 8 and sum(a.startswith("uvicorn ") for a in local.values()) == 4
    assert compose_processes(compose) == local


def test_every_platform_container_has_the_same_environment(compose: dict[str, Any]) -> None:
    services = {name: s for name, s in compose["services"].items() if "build" in s}
    environments = {name: s.get("environment") for name, s in services.items()}
    shared = compose["x-service"]["environment"]
    assert {"PRT_KAFKA_BOOTSTRAP_SERVERS", "PRT_REDIS_URL", "PRT_ENVIRONMENT"} <= set(shared)
    assert environments == dict.fromkeys(services, shared)


def test_compose_kafka_is_the_release_the_local_stack_runs(compose: dict[str, Any]) -> None:
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = ET.parse(KAFKA_POM).findtext("m:properties/m:kafka.version", namespaces=namespace)
    assert version, "no kafka.version in the pom"
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{version}"


def test_the_services_sh_parser_reads_entries_as_the_script_does() -> None:
    script = 'X=1\nSERVICES=(\n  "a-api|${P:-1}|uvicorn m.app:app"\n  "a-worker||m.worker"\n)\n'
    assert local_processes(script) == {"a-api": "uvicorn m.app:app", "a-worker": "m.worker"}


def test_every_test_module_is_in_a_suite_of_the_full_run() -> None:
    """deploy/test.sh (what CI runs) lists its suites' paths; a test module under none of them
    would never run in CI (tests/integration/test_publisher.py went unrun for a session)."""
    script = (REPO / "deploy" / "test.sh").read_text()
    block = re.search(r"^SUITES=\((.*?)^\)", script, re.MULTILINE | re.DOTALL)
    assert block is not None, "deploy/test.sh has no SUITES=( ... ) list"
    paths = [
        REPO / path
        for entry in re.findall(r'"[a-z_]+\|([^"]+)"', block.group(1))
        for path in entry.split()
    ]
    missing = [p for p in paths if not p.exists()]
    assert missing == [], f"suites name paths that do not exist: {missing}"
    modules = sorted((REPO / "tests").rglob("test_*.py"))
    unrun = [
        str(module.relative_to(REPO))
        for module in modules
        if not any(module == path or path in module.parents for path in paths)
    ]
    assert unrun == [], f"in no suite of deploy/test.sh: {unrun}"


def test_on_a_secured_broker_every_local_process_has_a_user_in_the_acl_plan() -> None:
    """services.sh runs each process as the user its name gives (intake-api -> intake, by the
    script's own rule); each must be a service user of services/kafka_access_plan.py."""
    script = SERVICES_SH.read_text()
    assert 'local user="${1%-api}"; echo "${user%-worker}"' in script
    users = {name.removesuffix("-api").removesuffix("-worker") for name in local_processes(script)}
    assert users == set(SERVICE_USERS)


def test_compose_keeps_kafkas_log_and_redis_data_in_their_volumes(compose: dict[str, Any]) -> None:
    """Both stores outlive `docker compose down`, or neither would be consistent: a Redis that
    kept read models, API keys and idempotency records beside a Kafka that lost its topics
    (the apache/kafka image logs to /tmp/kraft-combined-logs unless told otherwise)."""
    kafka = compose["services"]["kafka"]
    mounts = dict(volume.split(":", 1) for volume in kafka["volumes"])
    log_dirs = str(kafka["environment"]["KAFKA_LOG_DIRS"]).split(",")
    assert log_dirs and all(
        any(Path(d) == Path(m) or Path(m) in Path(d).parents for m in mounts.values())
        for d in log_dirs
    ), (log_dirs, mounts)
    assert mounts["kafka-data"] in log_dirs  # the named volume compose declares
    assert kafka["environment"].get("CLUSTER_ID")  # pinned: the kept log keeps matching
    redis = compose["services"]["redis"]
    assert "redis-data:/data" in redis["volumes"] and "--appendonly" in redis["command"]
    assert {"kafka-data", "redis-data"} <= set(compose["volumes"])
