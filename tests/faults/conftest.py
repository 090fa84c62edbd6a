"""The fault suite's fixtures: every service's API as a real process on the test broker and
Redis, and real API keys for each kind of caller (one of them revoked)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.platform_core.auth.api_keys import ApiKeyStore
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.settings import PlatformSettings
from tests.conftest import IssueKey
from tests.integration.reporting.conftest import Namespace, fresh_namespace
from tests.support import fault_figures
from tests.support.api_load import HOST_CENTRE, Keys
from tests.support.faults import Caller, CallerKeys
from tests.support.processes import ServiceProcess, api_process
from tests.support.stream_workers import StreamWorkers, worker_specs

# The resources the suite creates live in 长清区; the other branch is 章丘区'S; the partner is 淄博.
HOME_REGION = "370113"
OTHER_REGION = "370114"
PARTNER_CITY = "370300"

API_MODULES = {
    "intake": "services.intake.http_api.app:app",
    "abnormal_push": "services.abnormal_push.http_api.app:app",
    "remote_eval": "services.remote_eval.http_api.app:app",
    "reporting": "services.reporting.http_api:app",
}
# The suite's webhook receivers listen on 127.0.0.1, which the SSRF guard refuses by default.
LOCAL_WEBHOOKS = {"PRT_ABNORMAL_PUSH_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"}


@pytest.fixture(scope="session")
def service_apis(stack_env: dict[str, str], log_dir: Path) -> Iterator[dict[str, ServiceProcess]]:
    """All four HTTP APIs, started side by side."""
    yield from running_apis(stack_env, log_dir)


def running_apis(
    stack_env: dict[str, str], log_dir: Path, *, name_suffix: str = "", log_level: str = "warning"
) -> Iterator[dict[str, ServiceProcess]]:
    """Starts the four APIs, yields them once healthy, stops them afterwards."""
    processes = {
        name: api_process(
            f"faults-{name}-api{name_suffix}",
            module,
            {**stack_env, **LOCAL_WEBHOOKS},
            log_dir,
            log_level=log_level,
        )
        for name, module in API_MODULES.items()
    }
    try:
        for process in processes.values():
            process.start()
        for process in processes.values():
            process.wait_healthy()
        yield processes
    finally:
        for process in processes.values():
            process.stop()


@pytest.fixture(scope="session")
async def caller_keys(issue_key: IssueKey, settings: PlatformSettings) -> CallerKeys:
    department = await issue_key(
        PrincipalKind.DEPARTMENT, "JYZX-CQ", "长清区公共资源交易中心", frozenset({HOME_REGION})
    )
    branch = await issue_key(
        PrincipalKind.DEPARTMENT, "ZJJ-ZQ", "章丘区住房和城乡建设局", frozenset({OTHER_REGION})
    )
    partner = await issue_key(PrincipalKind.PARTNER, PARTNER_CITY, "淄博市公共资源交易中心")
    operator = await issue_key(PrincipalKind.OPERATOR, "FGW-DUTY", "联席会议办公室值班员")
    revoked = await issue_key(PrincipalKind.OPERATOR, "FGW-LEFT", "已离岗值班员")
    redis = Redis.from_url(settings.redis_url)
    try:
        assert await ApiKeyStore(redis, settings.api_key_pepper).revoke(revoked.principal.key_id)
    finally:
        await redis.aclose()
    return CallerKeys(
        {
            Caller.DEPARTMENT: department.key,
            Caller.BRANCH_OTHER_REGION: branch.key,
            Caller.PARTNER: partner.key,
            Caller.OPERATOR: operator.key,
            Caller.NO_KEY: None,
            Caller.REVOKED: revoked.key,
        }
    )


@pytest.fixture(scope="session")
async def load_keys(issue_key: IssueKey) -> Keys:
    """The keys a run of writes through the APIs uses (tests/support/api_load.py)."""
    department = await issue_key(
        PrincipalKind.DEPARTMENT, "JYZX-CQ", "长清区公共资源交易中心", frozenset({HOME_REGION})
    )
    host = await issue_key(
        PrincipalKind.DEPARTMENT, "JYZX", "济南市公共资源交易中心", frozenset({HOST_CENTRE})
    )
    operator = await issue_key(PrincipalKind.OPERATOR, "FGW-DUTY", "联席会议办公室值班员")
    return Keys(department.key, host.key, operator.key)


@dataclass(frozen=True)
class Stack:
    """What a fault test drives: the four APIs, the four stream workers (reporting's on a
    read model of its own), the keys, and the test stack's settings and environment."""

    settings: PlatformSettings
    env: dict[str, str]
    apis: dict[str, ServiceProcess]
    workers: StreamWorkers
    keys: Keys
    reporting: Namespace


@pytest.fixture(scope="module")
def stack(
    request: pytest.FixtureRequest,
    settings: PlatformSettings,
    stack_env: dict[str, str],
    service_apis: dict[str, ServiceProcess],
    load_keys: Keys,
) -> Iterator[Stack]:
    """The four stream workers for one test module, on a reporting read model of their own;
    the module names their Faust data directory and logs (e.g. ``worker_failure``)."""
    label = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    namespace = fresh_namespace()
    env = {
        **namespace.env(stack_env),
        "PRT_INTAKE_DEADLINE_CHECK_INTERVAL_S": "86400",
        **LOCAL_WEBHOOKS,
        "PRT_FAUST_DATA_DIR": str(Path(stack_env["PRT_FAUST_DATA_DIR"]).parent / f"faust-{label}"),
    }
    log_dir = Path(stack_env["PRT_FAUST_DATA_DIR"]).parent / "logs"
    workers = StreamWorkers(worker_specs(namespace.consumer_group), env, log_dir, label)
    try:
        workers.start_all()
        yield Stack(settings, stack_env, service_apis, workers, load_keys, namespace)
    finally:
        workers.stop_all()


FIGURES_FILE = Path(__file__).resolve().parents[2] / ".run" / "faults" / "figures.tsv"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The suite's one table of figures, whichever of its tests ran (also in FIGURES_FILE)."""
    recorded = fault_figures.rows()
    if not recorded:
        return
    fault_figures.write_tsv(recorded, FIGURES_FILE)
    terminalreporter.section("fault suite figures")
    terminalreporter.write_line(fault_figures.render(recorded))
    failed = [row.part for row in recorded if not row.passed]
    terminalreporter.write_line(
        f"{len(recorded)} parts, {len(failed)} failed"
        + (f": {', '.join(failed)}" if failed else "")
        + f"; table in {FIGURES_FILE}"
    )
