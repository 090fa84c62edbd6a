"""Reports are routed to the departments of the table; each answers only its own pushes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from prt.v1 import common_pb2

from services.platform_core.events.topics import ABNORMAL_REPORTS
from services.platform_core.kafka.publisher import EventPublisher
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


async def file(
    client: httpx.AsyncClient, api: ServiceProcess, key: str, body: dict[str, object]
) -> httpx.Response:
    return await client.post(
        f"{api.base_url}/v1/reports", json=body, headers=auth(key, str(uuid.uuid4()))
    )


async def test_a_report_is_pushed_to_supervisor_police_and_oversight(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await file(
            client, push_api, keys["JYZX"], report_body("HOUSING", suspected_crime=True)
        )
        assert response.status_code == 202, response.text
        filed = response.json()
        assert {t["department"] for t in filed["routed_to"]} == {"ZJJ", "GAJ", "JYZX", "FGW"}
        report_id = filed["report_id"]
        (zjj,) = await wait_for_pushes(client, push_api, keys["ZJJ"], report_id)
        assert zjj["role"] == "HANDLER" and zjj["status"] == "ROUTED"
        assert zjj["sign_for_due"] and zjj["feedback_due"]
        assert zjj["report"]["reporting_department"] == "JYZX"
        (gaj,) = await wait_for_pushes(client, push_api, keys["GAJ"], report_id)
        assert gaj["reason"] == "SUSPECTED_CRIME"
        (copy,) = await wait_for_pushes(client, push_api, keys["FGW"], report_id)
        assert copy["role"] == "COPY" and copy["sign_for_due"] is None
        # JTJ supervises transport, not housing: nothing in its inbox.
        assert [
            p for p in await inbox(client, push_api, keys["JTJ"]) if p["report_id"] == report_id
        ] == []


async def test_the_same_report_event_fed_twice_creates_one_set_of_pushes(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys, publisher: EventPublisher
) -> None:
    report_id = f"r-{uuid.uuid4()}"
    message = report_event(report_id, datetime.now(UTC), common_pb2.PROJECT_CATEGORY_TRANSPORT)
    first = await publish(publisher, ABNORMAL_REPORTS, message, report_id)
    # The very same event again (a redelivery), then the same report under a new event id
    # (a producer retry that minted a new id).
    await publish(publisher, ABNORMAL_REPORTS, message, report_id, event_id=first.id)
    await publish(publisher, ABNORMAL_REPORTS, message, report_id)
    async with httpx.AsyncClient(timeout=10) as client:
        await wait_for_pushes(client, push_api, keys["JTJ"], report_id)
        everything = await eventually(
            lambda: inbox(client, push_api, keys["operator"]),
            lambda found: sum(p["report_id"] == report_id for p in found) >= 3,
        )
        report = await client.get(
            f"{push_api.base_url}/v1/reports/{report_id}", headers=auth(keys["operator"])
        )
    mine = [p for p in everything if p["report_id"] == report_id]
    assert sorted(p["department"] for p in mine) == ["FGW", "JTJ", "JYZX"]
    assert report.status_code == 200
    assert len(report.json()["push_ids"]) == 3


async def test_sign_for_then_feedback_with_idempotent_retries(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        filed = (await file(client, push_api, keys["JYZX"], report_body("WATER"))).json()
        (push,) = await wait_for_pushes(client, push_api, keys["SWJ"], filed["report_id"])
        url = f"{push_api.base_url}/v1/pushes/{push['push_id']}"

        early = await client.post(
            f"{url}/feedback",
            json={"result": "NO_ACTION", "result_text": "x"},
            headers=auth(keys["SWJ"], str(uuid.uuid4())),
        )
        assert early.status_code == 409 and early.json()["code"] == "wrong_status"

        key = str(uuid.uuid4())
        signed = await client.post(f"{url}/sign-for", headers=auth(keys["SWJ"], key))
        again = await client.post(f"{url}/sign-for", headers=auth(keys["SWJ"], key))
        assert signed.status_code == 202, signed.text
        assert again.json()["event_id"] == signed.json()["event_id"]
        assert again.headers.get("Idempotent-Replayed") == "true"
        await eventually(
            lambda: client.get(url, headers=auth(keys["SWJ"])),
            lambda r: r.json()["status"] == "SIGNED_FOR",
        )
        no_key = await client.post(f"{url}/sign-for", headers=auth(keys["SWJ"]))
        assert no_key.status_code == 400 and no_key.json()["code"] == "idempotency_key_required"

        answer = await client.post(
            f"{url}/feedback",
            json={
                "result": "PENALISED",
                "result_text": "已依法作出行政处罚",
                "evidence": [{"sha256": "b" * 64, "location": "docstore://penalty/1.pdf"}],
            },
            headers=auth(keys["SWJ"], str(uuid.uuid4())),
        )
        assert answer.status_code == 202, answer.text
        done = await eventually(
            lambda: client.get(url, headers=auth(keys["SWJ"])),
            lambda r: r.json()["status"] == "FEEDBACK_GIVEN",
        )
    steps = done.json()["steps"]
    assert [s["kind"] for s in steps] == ["ROUTED", "SIGNED_FOR", "FEEDBACK"]
    assert steps[1]["actor"] == "SWJ" and steps[2]["at"]


async def test_copies_are_not_signed_for(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        filed = (await file(client, push_api, keys["ZJJ"], report_body("HOUSING"))).json()
        (copy,) = await wait_for_pushes(client, push_api, keys["JYZX"], filed["report_id"])
        response = await client.post(
            f"{push_api.base_url}/v1/pushes/{copy['push_id']}/sign-for",
            headers=auth(keys["JYZX"], str(uuid.uuid4())),
        )
    assert response.status_code == 409 and response.json()["code"] == "copy_only"


async def test_a_department_cannot_read_or_answer_a_push_not_addressed_to_it(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        filed = (await file(client, push_api, keys["JYZX"], report_body("HOUSING"))).json()
        report_id = filed["report_id"]
        (push,) = await wait_for_pushes(client, push_api, keys["ZJJ"], report_id)
        url = f"{push_api.base_url}/v1/pushes/{push['push_id']}"
        other = keys["JTJ"]

        listed = await inbox(client, push_api, other)
        assert all(p["department"] == "JTJ" for p in listed)
        assert push["push_id"] not in {p["push_id"] for p in listed}
        refused = {
            "inbox of another department": await client.get(
                f"{push_api.base_url}/v1/pushes", params={"department": "ZJJ"}, headers=auth(other)
            ),
            "read one push": await client.get(url, headers=auth(other)),
            "read the report": await client.get(
                f"{push_api.base_url}/v1/reports/{report_id}", headers=auth(other)
            ),
            "sign for": await client.post(
                f"{url}/sign-for", headers=auth(other, str(uuid.uuid4()))
            ),
            "feedback": await client.post(
                f"{url}/feedback",
                json={"result": "NO_ACTION", "result_text": "不是我们的"},
                headers=auth(other, str(uuid.uuid4())),
            ),
            "transfer": await client.post(
                f"{url}/transfer",
                json={"to_department": "SWJ", "reason": "抢答"},
                headers=auth(other, str(uuid.uuid4())),
            ),
        }
        for route, response in refused.items():
            assert response.status_code == 403, (route, response.text)
            assert response.json()["code"] == "not_addressed_to_you", route
            assert "某建设有限公司" not in response.text, route
        partner = await client.get(f"{push_api.base_url}/v1/pushes", headers=auth(keys["partner"]))
        assert partner.status_code == 403
        anonymous = await client.get(f"{push_api.base_url}/v1/pushes")
        assert anonymous.status_code == 401
        # The addressee and operators do read it.
        assert (await client.get(url, headers=auth(keys["ZJJ"]))).status_code == 200
        assert (await client.get(url, headers=auth(keys["operator"]))).status_code == 200
        # And nothing the other department tried reached the push.
        still = (await client.get(url, headers=auth(keys["ZJJ"]))).json()
        assert still["status"] == "ROUTED"


async def test_transfer_routes_the_push_to_the_right_department(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        filed = (await file(client, push_api, keys["JYZX"], report_body("HOUSING"))).json()
        (push,) = await wait_for_pushes(client, push_api, keys["ZJJ"], filed["report_id"])
        response = await client.post(
            f"{push_api.base_url}/v1/pushes/{push['push_id']}/transfer",
            json={"to_department": "JTJ", "reason": "该标段为公路工程"},
            headers=auth(keys["ZJJ"], str(uuid.uuid4())),
        )
        assert response.status_code == 202, response.text
        (moved,) = await wait_for_pushes(client, push_api, keys["JTJ"], filed["report_id"])
        original = await client.get(
            f"{push_api.base_url}/v1/pushes/{push['push_id']}", headers=auth(keys["ZJJ"])
        )
    assert moved["reason"] == "TRANSFERRED" and moved["role"] == "HANDLER"
    assert moved["transferred_from_push_id"] == push["push_id"]
    assert original.json()["status"] == "TRANSFERRED"
    assert original.json()["transferred_to"] == "JTJ"


async def test_bad_reports_are_refused_with_reasons(push_api: ServiceProcess, keys: Keys) -> None:
    body = report_body(
        subjects=[
            {"kind": "BIDDER", "credit_code": "91110000600037341X"},
            {"kind": "EXPERT", "expert_pseudonym": "37010219800101123X"},
        ]
    )
    async with httpx.AsyncClient(timeout=10) as client:
        refused = await file(client, push_api, keys["JYZX"], body)
        operator = await file(client, push_api, keys["operator"], report_body())
        no_key = await client.post(
            f"{push_api.base_url}/v1/reports", json=report_body(), headers=auth(keys["ZJJ"])
        )
    assert refused.status_code == 422
    fields = {d["field"] for d in refused.json()["details"]}
    assert fields == {"subjects.0", "subjects.1"}
    assert "ID-card" in refused.text
    assert operator.status_code == 403
    assert no_key.status_code == 400


async def test_entity_record_lists_reports_for_entitled_departments(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys
) -> None:
    code = credit_code()
    body = report_body(subjects=[{"kind": "BIDDER", "credit_code": code, "name": "记录公司"}])
    async with httpx.AsyncClient(timeout=10) as client:
        filed = (await file(client, push_api, keys["JYZX"], body)).json()
        url = f"{push_api.base_url}/v1/entities/{code}/record"
        record = await eventually(
            lambda: client.get(url, headers=auth(keys["ZJJ"])),
            lambda r: (
                r.status_code == 200
                and len(r.json()["reports"]) == 1
                and len(r.json()["reports"][0]["pushes"]) == 3
            ),
        )
        not_entitled = await client.get(url, headers=auth(keys["CGJ"]))
        bad_code = await client.get(
            f"{push_api.base_url}/v1/entities/123/record", headers=auth(keys["operator"])
        )
    (entry,) = record.json()["reports"]
    assert entry["report"]["report_id"] == filed["report_id"]
    assert {p["department"] for p in entry["pushes"]} == {"ZJJ", "JYZX", "FGW"}
    assert not_entitled.status_code == 403
    assert bad_code.status_code == 422


async def test_counts_per_department(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys
) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        filed = (await file(client, push_api, keys["JYZX"], report_body("HOUSING"))).json()
        await wait_for_pushes(client, push_api, keys["ZJJ"], filed["report_id"])
        own = await client.get(f"{push_api.base_url}/v1/pushes/counts", headers=auth(keys["ZJJ"]))
        everyone = await client.get(
            f"{push_api.base_url}/v1/pushes/counts", headers=auth(keys["operator"])
        )
    # A department's own counts first; a city department's district branches' after them.
    zjj, *branches = own.json()
    assert zjj["department"] == "ZJJ" and zjj["open"] >= 1
    assert branches and all(c["department"].startswith("ZJJ-") for c in branches)
    assert {"ZJJ", "JYZX", "FGW"} <= {c["department"] for c in everyone.json()}
