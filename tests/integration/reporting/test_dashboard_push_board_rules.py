"""The dashboard's push board through reporting's API process (real Redis), by abnormal push's
rules of who reads a push: a district branch its own, its city department the branch's too
(分级监管), a department a push was escalated to that push (升级督办, the target kept in the
push's state in Redis), an operator all — by the snapshot and by the event stream.

The read model is one of the test's own (a fresh key prefix, its API beside the session's), so
the pushes on it are exactly the test's; the department codes are the real ones of
departments.json, whose branches the API reads."""

from __future__ import annotations

import uuid

import httpx
import pytest

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.settings import PlatformSettings
from services.reporting.domain import facts
from tests.conftest import IssueKey
from tests.integration.reporting.conftest import (
    Namespace,
    apply_to_read_model,
    first_dashboard_snapshot,
)
from tests.support.processes import ServiceProcess
from tests.unit.reporting.factories import at, event_id, routed

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6]
BRANCH_PUSH, CITY_PUSH, OTHER_PUSH = (f"{name}-{RUN}" for name in ("zjj-lx", "zjj", "jtj"))


@pytest.fixture
async def pushes_open(settings: PlatformSettings, namespace_of_this_module: Namespace) -> None:
    await apply_to_read_model(
        settings,
        namespace_of_this_module,
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
        ],
    )


async def test_each_key_sees_the_pushes_abnormal_push_lets_it_read(
    pushes_open: None, api_of_this_module: ServiceProcess, issue_key: IssueKey
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
    async with httpx.AsyncClient(base_url=api_of_this_module.base_url, timeout=20) as client:
        for (kind, code), expected in readers.items():
            issued = await issue_key(kind, code, code, frozenset())
            answer = await client.get("/v1/dashboard/snapshot", headers={"X-API-Key": issued.key})
            assert answer.status_code == 200, answer.text
            for data in (answer.json(), await first_dashboard_snapshot(client, issued.key)):
                assert {entry["push_id"] for entry in data["push_board"]} == expected, code
                assert data["open_pushes"] == len(expected), code
                assert not any(name.startswith("_") for name in data), code
