"""Tiered supervision (分级监管): a report on a district's project goes to the district branch
of the category's supervisor, which signs for it and answers; the city department gets a copy.
A report on a project of intake's stream is routed by the region intake registered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prt.v1 import common_pb2, intake_pb2

from services.abnormal_push.handlers import DeadlineWatch
from services.abnormal_push.read_model import PushReadModel
from services.abnormal_push.service_config import load_routing_table
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import ABNORMAL_REPORTS, PROJECT_EVENTS
from services.platform_core.kafka.publisher import EventPublisher
from tests.conftest import IssueKey
from tests.integration.abnormal_push.fixtures import (
    Keys,
    auth,
    credit_code,
    inbox,
    publish,
    report_body,
    report_event,
    wait_for_pushes,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

CHANGQING = "370113"


async def _file(
    client: httpx.AsyncClient, api: ServiceProcess, key: str, body: dict[str, object]
) -> httpx.Response:
    return await client.post(
        f"{api.base_url}/v1/reports", json=body, headers=auth(key, str(uuid.uuid4()))
    )


async def _branch_key(issue_key: IssueKey, code: str, name: str, region: str) -> str:
    return (await issue_key(PrincipalKind.DEPARTMENT, code, name, frozenset({region}))).key


async def test_a_district_report_is_handled_by_the_branch_and_copied_to_the_city(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys, issue_key: IssueKey
) -> None:
    branch = await _branch_key(issue_key, "ZJJ-CQ", "长清区住房和城乡建设局", CHANGQING)
    async with httpx.AsyncClient(timeout=10) as client:
        response = await _file(
            client, push_api, keys["JYZX"], report_body("HOUSING", region_code=CHANGQING)
        )
        assert response.status_code == 202, response.text
        filed = response.json()
        assert {(t["department"], t["reason"], t["role"]) for t in filed["routed_to"]} == {
            ("ZJJ-CQ", "CATEGORY_SUPERVISOR", "HANDLER"),
            ("ZJJ", "BRANCH_OVERSIGHT", "COPY"),
            ("JYZX", "OVERSIGHT", "COPY"),
            ("FGW", "OVERSIGHT", "COPY"),
        }
        report_id = filed["report_id"]

        (handled,) = await wait_for_pushes(client, push_api, branch, report_id)
        assert handled["role"] == "HANDLER" and handled["sign_for_due"]
        assert handled["report"]["region_code"] == CHANGQING
        (copied,) = await wait_for_pushes(client, push_api, keys["ZJJ"], report_id)
        assert copied["role"] == "COPY" and copied["reason"] == "BRANCH_OVERSIGHT"
        assert copied["sign_for_due"] is None

        # The city department follows its branch's handling, and only the branch answers.
        followed = await client.get(
            f"{push_api.base_url}/v1/pushes/{handled['push_id']}", headers=auth(keys["ZJJ"])
        )
        assert followed.status_code == 200, followed.text
        elsewhere = await client.get(
            f"{push_api.base_url}/v1/pushes/{handled['push_id']}", headers=auth(keys["JTJ"])
        )
        assert elsewhere.status_code == 403, elsewhere.text
        signed = await client.post(
            f"{push_api.base_url}/v1/pushes/{handled['push_id']}/sign-for",
            headers=auth(branch, str(uuid.uuid4())),
        )
        assert signed.status_code == 202, signed.text
        not_theirs = await client.post(
            f"{push_api.base_url}/v1/pushes/{handled['push_id']}/sign-for",
            headers=auth(keys["ZJJ"], str(uuid.uuid4())),
        )
        assert not_theirs.status_code == 403, not_theirs.text


async def test_a_branch_reporting_without_a_region_reports_for_its_own(
    push_api: ServiceProcess, push_worker: ServiceProcess, issue_key: IssueKey
) -> None:
    branch = await _branch_key(issue_key, "JTJ-ZQ", "章丘区交通运输局", "370114")
    async with httpx.AsyncClient(timeout=10) as client:
        response = await _file(client, push_api, branch, report_body("TRANSPORT"))
        assert response.status_code == 202, response.text
        handlers = [t["department"] for t in response.json()["routed_to"] if t["role"] == "HANDLER"]
        assert handlers == ["JTJ-ZQ"]
        (pushed,) = await wait_for_pushes(client, push_api, branch, response.json()["report_id"])
        assert pushed["report"]["region_code"] == "370114"


async def test_an_unknown_region_is_refused_naming_the_accepted_ones(
    push_api: ServiceProcess, keys: Keys
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await _file(client, push_api, keys["JYZX"], report_body(region_code="379999"))
    assert response.status_code == 422, response.text
    (detail,) = response.json()["details"]
    assert detail["field"] == "region_code"
    assert "379999" in detail["problem"] and CHANGQING in detail["problem"]


async def test_departments_list_the_branches_with_their_parent_and_region(
    push_api: ServiceProcess, keys: Keys
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(
            f"{push_api.base_url}/v1/departments", headers=auth(keys["ZJJ"])
        )
    assert response.status_code == 200, response.text
    listed = {d["code"]: d for d in response.json()}
    assert listed["ZJJ-CQ"] == {
        "code": "ZJJ-CQ",
        "name": "长清区住房和城乡建设局",
        "joint_issuer": False,
        "parent": "ZJJ",
        "region": CHANGQING,
    }
    assert listed["ZJJ"]["parent"] is None


async def test_a_detected_report_is_routed_by_the_region_intake_registered(
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    publisher: EventPublisher,
    issue_key: IssueKey,
) -> None:
    branch = await _branch_key(issue_key, "ZJJ-CQ", "长清区住房和城乡建设局", CHANGQING)
    project_id = f"p-{uuid.uuid4()}"
    now = to_timestamp(datetime.now(UTC))
    await publish(
        publisher,
        PROJECT_EVENTS,
        intake_pb2.ProjectRegistered(
            project_id=project_id,
            occurred_at=now,
            actor_department="ZJJ-CQ",
            name="长清区某安置房工程",
            category=common_pb2.PROJECT_CATEGORY_HOUSING,
            region_code=CHANGQING,
            trading_method=intake_pb2.TRADING_METHOD_OPEN_TENDER,
            bid_sections=[intake_pb2.BidSection(bid_section_code="001", name="施工")],
        ),
        project_id,
    )
    # Two bidders submitting from one MAC address: R001's collusion signal.
    for serial in (1, 2):
        await publish(
            publisher,
            PROJECT_EVENTS,
            intake_pb2.BidSubmitted(
                project_id=project_id,
                occurred_at=now,
                actor_department="JYZX",
                bid_section_code="001",
                bidder=common_pb2.OrganisationRef(
                    name=f"投标人{serial}", unified_social_credit_code=credit_code()
                ),
                bid_price_fen=100_000_000 + serial,
                fingerprint=common_pb2.BidFileFingerprint(
                    cpu_id=f"CPU-{serial}",
                    disk_serial=f"DISK-{serial}",
                    mac_address="00:1A:2B:3C:4D:5E",
                    ip_address=f"10.0.0.{serial}",
                    document_md5=f"{serial:032x}",
                ),
                deposit_account=f"62220000000000{serial}",
            ),
            project_id,
        )
    async with httpx.AsyncClient(timeout=10) as client:

        async def detected() -> list[dict[str, Any]]:
            pushes = await inbox(client, push_api, branch)
            return [p for p in pushes if p["report"]["project_id"] == project_id]

        (pushed,) = await eventually(detected, lambda found: len(found) >= 1, timeout_s=60)
    assert pushed["role"] == "HANDLER"
    assert pushed["report"]["source"] == "DETECTED"


async def test_a_late_branch_is_chased_by_its_city_department_then_by_the_office(
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    publisher: EventPublisher,
    read_model: PushReadModel,
) -> None:
    """A branch's first escalation (its sign-for overdue) goes to the city department that
    supervises it, which finds it among its escalated pushes; the next (feedback overdue) goes
    to the joint-conference office. A city department reads its branches' inboxes only."""
    filed_at = datetime(2024, 9, 30, 2, 0, tzinfo=UTC)  # a MEDIUM push: sign-for due 10-08
    report_id = f"r-{uuid.uuid4()}"
    event = report_event(report_id, filed_at)
    event.region_code = CHANGQING
    await publish(publisher, ABNORMAL_REPORTS, event, report_id)
    until = {"until": filed_at.isoformat()}
    async with httpx.AsyncClient(timeout=10) as client:

        async def branch_push() -> list[dict[str, Any]]:
            listed = await inbox(client, push_api, keys["ZJJ"], department="ZJJ-CQ", **until)
            return [p for p in listed if p["report_id"] == report_id]

        # The city department reads its branch's inbox; another department may not.
        (push,) = await eventually(branch_push, lambda found: len(found) == 1)
        strangers = await client.get(
            f"{push_api.base_url}/v1/pushes",
            params={"department": "ZJJ-CQ"},
            headers=auth(keys["JTJ"]),
        )
        assert strangers.status_code == 403, strangers.text

        async def escalated_to(key: str, **one_inbox: str) -> set[str]:
            listed = await inbox(client, push_api, key, escalated="true", **until, **one_inbox)
            return {p["push_id"] for p in listed}

        url = f"{push_api.base_url}/v1/pushes/{push['push_id']}"
        watch = DeadlineWatch(read_model, publisher, load_routing_table())
        sign_for_due = datetime.fromisoformat(push["sign_for_due"])
        await watch.tick(sign_for_due)
        first = await eventually(
            lambda: client.get(url, headers=auth(keys["ZJJ"])),
            lambda r: r.json()["escalation_levels"] == [1],
        )
        assert first.json()["escalated_to"] == ["ZJJ"]
        assert push["push_id"] in await escalated_to(keys["ZJJ"])
        assert push["push_id"] not in await escalated_to(keys["FGW"])
        assert push["push_id"] not in await escalated_to(keys["FGW"], department="ZJJ-CQ")
        office_reads = await client.get(url, headers=auth(keys["FGW"]))
        assert office_reads.status_code == 403, office_reads.text

        await watch.tick(datetime.fromisoformat(push["feedback_due"]) + timedelta(seconds=1))
        second = await eventually(
            lambda: client.get(url, headers=auth(keys["FGW"])),
            lambda r: r.status_code == 200 and r.json()["escalation_levels"] == [1, 2],
        )
        assert push["push_id"] in await escalated_to(keys["FGW"], department="ZJJ-CQ")
    assert second.json()["escalated_to"] == ["ZJJ", "FGW"]
    steps = [(s["kind"], s["detail"]) for s in second.json()["steps"]]
    assert ("ESCALATED", "SIGN_FOR to ZJJ, level 1") in steps
    assert ("ESCALATED", "FEEDBACK to FGW, level 2") in steps
    async with httpx.AsyncClient(timeout=10) as client:
        listed = await inbox(client, push_api, keys["FGW"], escalated="true", **until)
        counts = await client.get(
            f"{push_api.base_url}/v1/pushes/counts", headers=auth(keys["ZJJ"])
        )
    assert push["push_id"] in {p["push_id"] for p in listed}
    # The city department's counts show its branches' beside its own.
    by_department = {c["department"]: c for c in counts.json()}
    assert by_department["ZJJ-CQ"]["escalated"] >= 1
    assert "ZJJ" in by_department and "JTJ-CQ" not in by_department
