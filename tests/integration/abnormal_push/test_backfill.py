"""Backfilled history: a report from 2023 filed with a backfill key, signed for in time and
answered late, is overdue for feedback dated at its 2023 deadline; a key without backfill may
not state occurred_at (403 with the reason); a detection over migrated intake events is dated
by its triggering event. The deadline watch runs against the real read model and broker; the
worker projects what it emits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from google.protobuf.message import Message
from prt.v1 import common_pb2, intake_pb2

from services.abnormal_push.domain.reports import Severity
from services.abnormal_push.handlers import DeadlineWatch
from services.abnormal_push.read_model import PushReadModel
from services.abnormal_push.service_config import load_deadline_policy, load_routing_table
from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import PROJECT_EVENTS
from services.platform_core.kafka.publisher import EventPublisher
from tests.conftest import IssueKey
from tests.integration.abnormal_push.fixtures import Keys, auth, credit_code, publish, report_body
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

# Wednesday 1 March 2023, 10:00 in Jinan. A MEDIUM push must be signed for within 1 working
# day (to 24:00 Thursday 2 March) and answered within 15 (March 2023 has no holiday: to 24:00
# Wednesday 22 March, the 15th working day after 1 March).
FILED = "2023-03-01T10:00:00+08:00"
SIGN_FOR_DUE = datetime(2023, 3, 2, 16, 0, tzinfo=UTC)
FEEDBACK_DUE = datetime(2023, 3, 22, 16, 0, tzinfo=UTC)
SIGNED = "2023-03-02T09:30:00+08:00"  # in time
ANSWERED = "2023-04-10T10:00:00+08:00"  # late


@pytest.fixture(scope="module")
async def backfill_keys(issue_key: IssueKey) -> Keys:
    issued: Keys = {}
    for code in ("JYZX", "ZJJ"):
        key = await issue_key(PrincipalKind.DEPARTMENT, code, f"迁移 {code}", backfill=True)
        issued[code] = key.key
    return issued


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


async def test_a_backfilled_push_answered_late_is_overdue_at_its_2023_deadline(
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    *,
    keys: Keys,
    backfill_keys: Keys,
    publisher: EventPublisher,
    read_model: PushReadModel,
) -> None:
    base = push_api.base_url
    body = report_body("HOUSING", occurred_at=FILED, act_at="2023-02-27T15:00:00+08:00")
    async with httpx.AsyncClient(timeout=10) as client:
        filed = await client.post(
            f"{base}/v1/reports", json=body, headers=auth(backfill_keys["JYZX"], str(uuid.uuid4()))
        )
        assert filed.status_code == 202, filed.text
        assert _when(filed.json()["filed_at"]) == _when(FILED)
        report_id = filed.json()["report_id"]

        async def zjj_push() -> list[dict[str, Any]]:
            response = await client.get(
                f"{base}/v1/pushes",
                params={"until": "2023-03-01T23:59:59+08:00", "since": FILED},
                headers=auth(keys["ZJJ"]),
            )
            return [p for p in response.json() if p["report_id"] == report_id]

        (push,) = await eventually(zjj_push, lambda found: len(found) == 1)
        push_id = push["push_id"]
        assert _when(push["routed_at"]) == _when(FILED)
        assert _when(push["sign_for_due"]) == SIGN_FOR_DUE
        assert _when(push["feedback_due"]) == FEEDBACK_DUE

        # Both deadlines passed long ago, but the migration is still posting this push's
        # steps: a watch with the production grace judges nothing yet.
        settling = DeadlineWatch(
            read_model, publisher, load_routing_table(), backfill_settle_s=3600
        )
        assert push_id not in {p for p, _ in await settling.tick(datetime.now(UTC))}

        url = f"{base}/v1/pushes/{push_id}"
        before_filing = await client.post(
            f"{url}/sign-for",
            json={"occurred_at": "2023-02-28T09:00:00+08:00"},
            headers=auth(backfill_keys["ZJJ"], str(uuid.uuid4())),
        )
        assert before_filing.status_code == 422, before_filing.text
        assert before_filing.json()["code"] == "before_previous_step"

        signed = await client.post(
            f"{url}/sign-for",
            json={"occurred_at": SIGNED},
            headers=auth(backfill_keys["ZJJ"], str(uuid.uuid4())),
        )
        assert signed.status_code == 202, signed.text
        await eventually(
            lambda: client.get(url, headers=auth(keys["ZJJ"])),
            lambda r: r.json()["status"] == "SIGNED_FOR",
        )
        answered = await client.post(
            f"{url}/feedback",
            json={"result": "PENALISED", "result_text": "罚款五万元", "occurred_at": ANSWERED},
            headers=auth(backfill_keys["ZJJ"], str(uuid.uuid4())),
        )
        assert answered.status_code == 202, answered.text
        await eventually(
            lambda: client.get(url, headers=auth(keys["ZJJ"])),
            lambda r: r.json()["status"] == "FEEDBACK_GIVEN",
        )

        # The migration is done; the watch judges the push, years after the fact.
        watch = DeadlineWatch(read_model, publisher, load_routing_table(), backfill_settle_s=0)
        emitted = {(p, d) for p, d in await watch.tick(datetime.now(UTC)) if p == push_id}
        assert emitted == {(push_id, "FEEDBACK")}
        final = await eventually(
            lambda: client.get(url, headers=auth(keys["ZJJ"])),
            lambda r: r.json()["escalation_levels"] == [1],
        )

    result = final.json()
    assert result["overdue"] == ["FEEDBACK"]
    steps = {s["kind"]: s for s in result["steps"]}
    assert _when(steps["SIGNED_FOR"]["at"]) == _when(SIGNED)
    assert _when(steps["FEEDBACK"]["at"]) == _when(ANSWERED)
    # Overdue and escalated at 24:00 on Wednesday 22 March 2023 in Jinan, not today.
    assert _when(steps["OVERDUE"]["at"]) == FEEDBACK_DUE
    assert _when(steps["ESCALATED"]["at"]) == FEEDBACK_DUE
    assert steps["ESCALATED"]["detail"] == "FEEDBACK to FGW, level 1"


async def test_a_key_without_backfill_may_not_state_occurred_at(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys
) -> None:
    base = push_api.base_url
    async with httpx.AsyncClient(timeout=10) as client:
        refused = await client.post(
            f"{base}/v1/reports",
            json=report_body("HOUSING", occurred_at=FILED, act_at="2023-02-27T15:00:00+08:00"),
            headers=auth(keys["JYZX"], str(uuid.uuid4())),
        )
        filed = await client.post(
            f"{base}/v1/reports",
            json=report_body("HOUSING"),
            headers=auth(keys["JYZX"], str(uuid.uuid4())),
        )
        report_id = filed.json()["report_id"]

        async def zjj_push() -> list[dict[str, Any]]:
            response = await client.get(f"{base}/v1/pushes", headers=auth(keys["ZJJ"]))
            return [p for p in response.json() if p["report_id"] == report_id]

        (push,) = await eventually(zjj_push, lambda found: len(found) == 1)
        url = f"{base}/v1/pushes/{push['push_id']}"
        refusals = [
            refused,
            await client.post(
                f"{url}/sign-for",
                json={"occurred_at": SIGNED},
                headers=auth(keys["ZJJ"], str(uuid.uuid4())),
            ),
            await client.post(
                f"{url}/transfer",
                json={"to_department": "JTJ", "reason": "公路项目", "occurred_at": SIGNED},
                headers=auth(keys["ZJJ"], str(uuid.uuid4())),
            ),
            await client.post(
                f"{base}/v1/webhooks",
                json={"url": "http://127.0.0.1:9/push", "occurred_at": SIGNED},
                headers=auth(keys["ZJJ"], str(uuid.uuid4())),
            ),
        ]
        still_routed = await client.get(url, headers=auth(keys["ZJJ"]))

    for response in refusals:
        assert response.status_code == 403, response.text
        error = response.json()
        assert error["code"] == "backfill_not_permitted"
        assert "--backfill" in error["message"]
        assert error["details"] == [
            {"field": "occurred_at", "problem": "stated by a key without backfill"}
        ]
    assert still_routed.json()["status"] == "ROUTED"


def _org(code: str) -> common_pb2.OrganisationRef:
    return common_pb2.OrganisationRef(name="某公司", unified_social_credit_code=code)


async def test_a_detection_over_backfilled_intake_events_is_dated_by_the_opening(
    push_api: ServiceProcess,
    push_worker: ServiceProcess,
    keys: Keys,
    publisher: EventPublisher,
) -> None:
    """Intake's migrated history (events dated 2023) is judged by the detection rules like live
    trading: the report and its pushes take the time of the triggering event, the opening."""
    project_id = f"p-{uuid.uuid4()}"
    registered = datetime(2023, 5, 8, 1, 0, tzinfo=UTC)
    opened = datetime(2023, 5, 10, 2, 0, tzinfo=UTC)  # Wednesday 10 May 2023, 10:00 Jinan
    a, b = credit_code(), credit_code()

    async def send(message: Message) -> None:
        await publish(publisher, PROJECT_EVENTS, message, project_id)

    await send(
        intake_pb2.ProjectRegistered(
            project_id=project_id,
            occurred_at=to_timestamp(registered),
            actor_department="JYZX",
            name="迁移项目",
            category=common_pb2.PROJECT_CATEGORY_WATER,
            region_code="370100",  # city level: 市水务局 itself handles it
            tenderer=_org(credit_code()),
            trading_method=intake_pb2.TRADING_METHOD_OPEN_TENDER,
            bid_sections=[intake_pb2.BidSection(bid_section_code="S1", name="一标段")],
        )
    )
    for minutes, bidder in ((0, a), (30, b)):
        await send(
            intake_pb2.BidSubmitted(
                project_id=project_id,
                occurred_at=to_timestamp(datetime(2023, 5, 9, 1, minutes, tzinfo=UTC)),
                actor_department="JYZX",
                bidder=_org(bidder),
                bid_section_code="S1",
                bid_price_fen=12_345_600_00,
                deposit_account=str(uuid.uuid4().int % 10**16),
            )
        )
    await send(
        intake_pb2.BidsOpened(
            project_id=project_id,
            occurred_at=to_timestamp(opened),
            actor_department="JYZX",
            bid_section_code="S1",
            opened_bidder_codes=[a, b],
        )
    )
    async with httpx.AsyncClient(timeout=10) as client:

        async def detected() -> list[dict[str, Any]]:
            response = await client.get(
                f"{push_api.base_url}/v1/pushes",
                params={"since": "2023-05-10T00:00:00+08:00", "until": "2023-05-11T00:00:00+08:00"},
                headers=auth(keys["SWJ"]),
            )
            return [p for p in response.json() if p["report"]["project_id"] == project_id]

        (push,) = await eventually(detected, lambda found: len(found) == 1)

    report = push["report"]
    assert report["detection"]["rule_id"] == "R028"
    assert _when(report["filed_at"]) == opened
    assert _when(push["routed_at"]) == opened
    dues = load_deadline_policy().due_times(Severity.HIGH, opened)
    sign_for_due, feedback_due = dues.sign_for_due, dues.feedback_due
    assert _when(push["sign_for_due"]) == sign_for_due < datetime(2023, 5, 12, tzinfo=UTC)
    assert _when(push["feedback_due"]) == feedback_due
