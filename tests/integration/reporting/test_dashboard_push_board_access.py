"""The dashboard's push board through reporting's API process (real Redis): a department's key
is sent only the open pushes addressed to it — by the snapshot and by the event stream — and an
operator's key every one; ``open_pushes`` counts them beyond the board's 100 rows.

The read model is one of the test's own (a fresh key prefix, its API beside the session's),
filled with the pushes the test needs, so what each key is sent is known exactly."""

from __future__ import annotations

import uuid

import httpx
import pytest

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.settings import PlatformSettings
from services.reporting.dashboard import BOARD_LIMIT
from tests.conftest import IssueKey
from tests.integration.reporting.conftest import (
    Namespace,
    apply_to_read_model,
    first_dashboard_snapshot,
)
from tests.support.processes import ServiceProcess
from tests.unit.reporting.factories import routed

pytestmark = pytest.mark.integration

# Department codes of this test's own, so no other test's key or push is among them.
RUN = uuid.uuid4().hex[:6].upper()
MANY, FEW, NONE = f"ZJJ-{RUN}", f"JTJ-{RUN}", f"CZJ-{RUN}"
OPEN = {MANY: BOARD_LIMIT + 5, FEW: 3}


@pytest.fixture
async def pushes_open(settings: PlatformSettings, namespace_of_this_module: Namespace) -> None:
    await apply_to_read_model(
        settings,
        namespace_of_this_module,
        [
            routed(f"push-{department}-{n}", "2023-03-01 09:00", department=department)
            for department, count in OPEN.items()
            for n in range(count)
        ],
    )


async def test_each_key_is_sent_only_the_pushes_it_may_see(
    pushes_open: None, api_of_this_module: ServiceProcess, issue_key: IssueKey
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
    async with httpx.AsyncClient(base_url=api_of_this_module.base_url, timeout=20) as client:
        for key, (department, open_pushes, rows) in expected.items():
            answer = await client.get("/v1/dashboard/snapshot", headers={"X-API-Key": key})
            assert answer.status_code == 200, answer.text
            for data in (answer.json(), await first_dashboard_snapshot(client, key)):
                assert data["open_pushes"] == open_pushes
                assert len(data["push_board"]) == rows
                departments = {entry["department"] for entry in data["push_board"]}
                if department is None:  # an operator: every department's
                    assert departments <= set(OPEN)
                else:
                    assert departments <= {department}
