"""Conflicting steps of one push sent at once: one is accepted, the others are refused with the
push's status, and nothing accepted is dead-lettered later.

Each step used to be checked against the projection only, which the worker updates after the
202: two clerks signing for at once were both told "accepted", and the worker dead-lettered
the second sign-for.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from services.platform_core.events.topics import ABNORMAL_PUSHES
from services.platform_core.settings import PlatformSettings
from tests.integration.abnormal_push.fixtures import (
    Keys,
    auth,
    dead_letter_reasons,
    report_body,
    wait_for_pushes,
)
from tests.support.api_load import read_topic
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration


async def _new_push(client: httpx.AsyncClient, api: ServiceProcess, keys: Keys) -> str:
    filed = await client.post(
        f"{api.base_url}/v1/reports",
        json=report_body("WATER"),
        headers=auth(keys["JYZX"], str(uuid.uuid4())),
    )
    assert filed.status_code == 202, filed.text
    (push,) = await wait_for_pushes(client, api, keys["SWJ"], filed.json()["report_id"])
    push_id: str = push["push_id"]
    return push_id


async def _steps_on_topic(settings: PlatformSettings, push_id: str) -> list[str]:
    return [
        envelope.message.DESCRIPTOR.name
        for envelope in await read_topic(settings, ABNORMAL_PUSHES)
        if envelope.subject == push_id and envelope.message.DESCRIPTOR.name != "PushRouted"
    ]


async def _settled(
    client: httpx.AsyncClient, url: str, key: str, status: str, steps: int
) -> dict[str, Any]:
    response = await eventually(
        lambda: client.get(url, headers=auth(key)),
        lambda r: r.json()["status"] == status and len(r.json()["steps"]) == steps,
    )
    push: dict[str, Any] = response.json()
    return push


async def test_concurrent_sign_fors_get_one_202_and_409s_and_no_dead_letter(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys, settings: PlatformSettings
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        push_id = await _new_push(client, push_api, keys)
        url = f"{push_api.base_url}/v1/pushes/{push_id}"
        # Five clerks (or retries under new Idempotency-Keys) at once.
        answers = await asyncio.gather(
            *(
                client.post(f"{url}/sign-for", headers=auth(keys["SWJ"], str(uuid.uuid4())))
                for _ in range(5)
            )
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [202, 409, 409, 409, 409], [a.text for a in answers]
        (accepted,) = [a for a in answers if a.status_code == 202]
        for refused in (a for a in answers if a.status_code == 409):
            body = refused.json()
            assert body["code"] == "wrong_status"
            assert "SIGNED_FOR" in body["message"] and "feedback" in body["message"]
            assert body["details"][0]["field"] == "status"

        # The accepted one's Idempotency-Key still replays its answer.
        replay = await client.post(
            f"{url}/sign-for",
            headers=auth(keys["SWJ"], accepted.request.headers["Idempotency-Key"]),
        )
        assert replay.status_code == 202
        assert replay.json()["event_id"] == accepted.json()["event_id"]
        assert replay.headers.get("Idempotent-Replayed") == "true"

        push = await _settled(client, url, keys["SWJ"], "SIGNED_FOR", 2)
    assert push["steps"][1]["event_id"] == accepted.json()["event_id"]
    assert await _steps_on_topic(settings, push_id) == ["PushSignedFor"]
    assert await dead_letter_reasons(settings, "abnormal-push.projector", push_id.encode()) == []


async def test_concurrent_feedbacks_and_a_transfer_accept_one(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys, settings: PlatformSettings
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        push_id = await _new_push(client, push_api, keys)
        url = f"{push_api.base_url}/v1/pushes/{push_id}"
        signed = await client.post(f"{url}/sign-for", headers=auth(keys["SWJ"], str(uuid.uuid4())))
        assert signed.status_code == 202, signed.text
        # Sent straight after the 202, before the worker need have applied the sign-for.
        answers = await asyncio.gather(
            client.post(
                f"{url}/feedback",
                json={"result": "PENALISED", "result_text": "已依法作出行政处罚"},
                headers=auth(keys["SWJ"], str(uuid.uuid4())),
            ),
            client.post(
                f"{url}/feedback",
                json={"result": "NO_ACTION", "result_text": "经核查不予处理"},
                headers=auth(keys["SWJ"], str(uuid.uuid4())),
            ),
            client.post(
                f"{url}/transfer",
                json={"to_department": "JTJ", "reason": "该标段为公路工程"},
                headers=auth(keys["SWJ"], str(uuid.uuid4())),
            ),
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [202, 409, 409], [a.text for a in answers]
        (accepted,) = [a for a in answers if a.status_code == 202]
        step = accepted.json()["step"]
        final = "TRANSFERRED" if step == "PushTransferred" else "FEEDBACK_GIVEN"
        for refused in (a for a in answers if a.status_code == 409):
            assert refused.json()["code"] == "wrong_status"
            assert final in refused.json()["message"]
        push = await _settled(client, url, keys["SWJ"], final, 3)
    assert push["steps"][2]["event_id"] == accepted.json()["event_id"]
    assert await _steps_on_topic(settings, push_id) == ["PushSignedFor", step]
    assert await dead_letter_reasons(settings, "abnormal-push.projector", push_id.encode()) == []


async def test_a_case_filed_feedback_leaves_the_push_open_for_the_next_feedback(
    push_api: ServiceProcess, push_worker: ServiceProcess, keys: Keys
) -> None:
    """立案 keeps the push SIGNED_FOR: the measure's feedback sent right after it is accepted
    (checked against the accepted steps, not refused as if the push were closed)."""
    async with httpx.AsyncClient(timeout=30) as client:
        push_id = await _new_push(client, push_api, keys)
        url = f"{push_api.base_url}/v1/pushes/{push_id}"
        for path, body in (
            ("sign-for", None),
            ("feedback", {"result": "CASE_FILED", "result_text": "已立案调查"}),
            ("feedback", {"result": "PENALISED", "result_text": "已依法作出行政处罚"}),
        ):
            answer = await client.post(
                f"{url}/{path}", json=body, headers=auth(keys["SWJ"], str(uuid.uuid4()))
            )
            assert answer.status_code == 202, answer.text
        late = await client.post(
            f"{url}/transfer",
            json={"to_department": "JTJ", "reason": "晚了"},
            headers=auth(keys["SWJ"], str(uuid.uuid4())),
        )
        assert late.status_code == 409 and "FEEDBACK_GIVEN" in late.json()["message"]
        push = await _settled(client, url, keys["SWJ"], "FEEDBACK_GIVEN", 4)
    assert [f["result"] for f in push["feedback"]] == ["CASE_FILED", "PENALISED"]
