"""An expert's absence travels from remote_eval into a supervision report, across services:
the host reports a no-show over remote_eval's API; remote_eval records the absence under the
expert's supervision pseudonym; abnormal_push, knowing of an earlier absence of the same expert
at another evaluation, holds the report while the committee is sealed; the award on intake's
topic makes remote_eval unseal the committee, and the report reaches the project's supervisor
(市水务局) — naming the expert by the supervision pseudonym, with the evaluation's own
pseudonym as evidence, under which the unsealed committee list names the absent expert."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from google.protobuf.message import Message
from prt.v1 import common_pb2, intake_pb2, remote_eval_pb2

from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import EVALUATIONS, PROJECT_EVENTS
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
from tests.integration.abnormal_push.fixtures import Keys, auth, credit_code, inbox, publish
from tests.integration.remote_eval.world import (
    MAIN_VENUE,
    World,
    logged_events,
    post_headers,
    publish_spare_seats,
    request_body,
    wait_decided,
)
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess
from tests.support.project_events import contract_awarded

pytestmark = pytest.mark.integration


def _at(moment: datetime) -> Any:
    return to_timestamp(moment)


async def test_an_absence_recorded_by_remote_eval_is_reported_once_the_award_unseals(
    *,
    world: World,
    remote_eval_api: ServiceProcess,
    remote_eval_worker: ServiceProcess,
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    publisher: EventPublisher,
    settings: PlatformSettings,
) -> None:
    now = datetime.now(UTC)
    slot_day = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    body = request_body(world, slot_day)
    project_id = body["project_id"]

    async def on_intake(message: Message) -> None:
        await publish(publisher, PROJECT_EVENTS, message, project_id)

    # A water project (supervised by 市水务局), registered on intake's topic.
    await on_intake(
        intake_pb2.ProjectRegistered(
            project_id=project_id,
            occurred_at=_at(now),
            actor_department="JYZX",
            name="某水库除险加固工程",
            category=common_pb2.PROJECT_CATEGORY_WATER,
            region_code="370102",
            tenderer=common_pb2.OrganisationRef(
                name="济南市某水利工程建设管理中心", unified_social_credit_code=credit_code()
            ),
            trading_method=intake_pb2.TRADING_METHOD_OPEN_TENDER,
            bid_sections=[intake_pb2.BidSection(bid_section_code="001", name="一标段")],
        )
    )
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        await publish_spare_seats(client, world, slot_day, spare=10)
        requested = await client.post(
            "/v1/evaluations", headers=post_headers(world.host), json=body
        )
        assert requested.status_code == 202, requested.text
        evaluation_id = requested.json()["evaluation_id"]
        view = await wait_decided(client, world, evaluation_id)
        assert view["status"] == "scheduled", view
        absent = next(m for m in view["committee"] if m["venue_id"] == MAIN_VENUE)
        # Only a confirmed expert can be absent (缺席): the expert confirms first.
        confirmed = await client.post(
            f"/v1/evaluations/{evaluation_id}/experts/{absent['expert_pseudonym']}/answer",
            headers=post_headers(world.host),
            json={"confirmed": True},
        )
        assert confirmed.status_code == 202, confirmed.text

        async def current() -> dict[str, Any]:
            response = await client.get(f"/v1/evaluations/{evaluation_id}", headers=world.host)
            return response.json() if response.status_code == 200 else {"committee": []}

        await eventually(
            current,
            lambda b: any(
                (m["expert_pseudonym"], m["status"]) == (absent["expert_pseudonym"], "confirmed")
                for m in b["committee"]
            ),
        )
        reported = await client.post(
            f"/v1/evaluations/{evaluation_id}/experts/{absent['expert_pseudonym']}/no-show",
            headers=post_headers(world.host),
            json={"venue_id": MAIN_VENUE},
        )
        assert reported.status_code == 202, reported.text

    async def absences() -> list[Message]:
        return [
            e.message
            for e in await logged_events(settings, evaluation_id)
            if isinstance(e.message, remote_eval_pb2.ExpertAbsenceRecorded)
        ]

    [absence] = await eventually(absences, lambda found: len(found) > 0)
    assert isinstance(absence, remote_eval_pb2.ExpertAbsenceRecorded)
    expert = absence.supervision_pseudonym
    assert expert and expert != absent["expert_pseudonym"]

    # The same expert missed another evaluation a month ago, whose award has been decided.
    earlier = f"ev-{uuid.uuid4()}"
    for message in (
        remote_eval_pb2.EvaluationRequested(
            evaluation_id=earlier, occurred_at=_at(now), project_id=project_id
        ),
        remote_eval_pb2.ExpertAbsenceRecorded(
            evaluation_id=earlier,
            occurred_at=_at(now - timedelta(days=30)),
            partner_code="370100",
            expert_pseudonym=f"EXP-{uuid.uuid4().hex[:16]}",
            venue_id=MAIN_VENUE,
            supervision_pseudonym=expert,
        ),
        remote_eval_pb2.CommitteeUnsealed(
            evaluation_id=earlier, occurred_at=_at(now), project_id=project_id
        ),
    ):
        await publish(publisher, EVALUATIONS, message, earlier)

    async with httpx.AsyncClient(base_url=push_api.base_url, timeout=10) as client:

        async def held() -> list[str]:
            response = await client.get("/v1/detection/rules", headers=auth(keys["operator"]))
            return [
                entry["evaluation_id"]
                for entry in response.json()["held_until_award"]
                if entry["expert_pseudonym"] == expert
            ]

        async def reports() -> list[dict[str, Any]]:
            return [
                push["report"]
                for push in await inbox(client, push_api, keys["SWJ"])
                if push["report"]
                and (push["report"]["detection"] or {}).get("rule_id") == "PRT-EXP-001"
                and push["report"]["subjects"][0].get("expert_pseudonym") == expert
            ]

        assert await eventually(held, lambda found: len(found) > 0) == [evaluation_id]
        assert await reports() == []  # the committee is sealed: nothing reached a department

        # The award: remote_eval unseals the committee, which releases the report.
        await on_intake(contract_awarded(project_id))
        [report] = await eventually(reports, lambda found: len(found) > 0)
        await eventually(held, lambda found: found == [])
    assert report["project_id"] == project_id
    assert report["detection"]["evidence_values"]["evaluation_id"] == evaluation_id
    # Named by the supervision pseudonym; the evaluation's own pseudonym, disclosed with the
    # unsealing, leads the supervisor to the name in the unsealed committee list.
    assert report["subjects"][0]["expert_pseudonym"] == expert
    evidence = report["detection"]["evidence_values"]
    assert evidence["evaluation_pseudonym"] == absent["expert_pseudonym"]
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        listed = await client.get(f"/v1/evaluations/{evaluation_id}/committee", headers=world.host)
    assert listed.status_code == 200, listed.text
    [named] = [m for m in listed.json() if m["pseudonym"] == evidence["evaluation_pseudonym"]]
    assert named["attendance"] == "NO_SHOW" and named["name"] in world.planted
    unsealed = [
        e
        for e in await logged_events(settings, evaluation_id)
        if isinstance(e.message, remote_eval_pb2.CommitteeUnsealed)
    ]
    assert len(unsealed) == 1
