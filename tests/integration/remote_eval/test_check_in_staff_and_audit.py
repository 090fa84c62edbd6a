"""The check-in list on the real stack, as the security review reproduced it: a department whose
key covers the venue's region (市交通运输局) read the experts' names, phones and full ID numbers
before the award, and nothing recorded it. Now only the venue's staff are shown the list, with
ID numbers and phones masked, and every list shown is on the audit trail operators read."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from services.platform_core.auth.principals import PrincipalKind
from tests.conftest import IssueKey
from tests.integration.remote_eval.world import (
    MAIN_VENUE,
    VENUES,
    World,
    auth_headers,
    post_headers,
    publish_spare_seats,
    scheduled_evaluation,
)
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

MASKED_ID = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")
MASKED_PHONE = re.compile(r"^\d{3}\*{4}\d{4}$")


async def _check_in(
    client: httpx.AsyncClient, venue_id: str, evaluation_id: str, headers: dict[str, str]
) -> httpx.Response:
    return await client.get(
        f"/v1/venues/{venue_id}/check-in",
        params={"evaluation_id": evaluation_id},
        headers=headers,
    )


async def _reads(client: httpx.AsyncClient, w: World, evaluation_id: str) -> list[dict[str, Any]]:
    response = await client.get(
        "/v1/venues/check-in-reads", params={"evaluation_id": evaluation_id}, headers=w.operator
    )
    assert response.status_code == 200, response.text
    reads: list[dict[str, Any]] = response.json()
    return reads


async def test_only_the_venues_staff_see_the_check_in_list_masked_and_audited(
    world: World, remote_eval_api: ServiceProcess, issue_key: IssueKey
) -> None:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    # A supervising bureau whose key covers the main venue's region (370100): it may request
    # evaluations there, but it does not seat the experts.
    bureau = await issue_key(PrincipalKind.DEPARTMENT, "JTJ", "市交通运输局", frozenset({"370100"}))
    bureau_headers = auth_headers(bureau.key)
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=30) as client:
        await publish_spare_seats(client, world, today, spare=40)
        view = await scheduled_evaluation(client, world, today)
        evaluation_id = view["evaluation_id"]

        refused = await _check_in(client, MAIN_VENUE, evaluation_id, bureau_headers)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "forbidden_owner"
        assert not [p for p in world.planted if p in refused.text]
        # Nor does it report who did not come there: that is the venue staff's too (checked
        # before anything about the committee is looked at).
        no_show = await client.post(
            f"/v1/evaluations/{evaluation_id}/experts/X-{uuid.uuid4().hex[:6]}/no-show",
            headers=post_headers(bureau_headers),
            json={"venue_id": MAIN_VENUE},
        )
        assert no_show.status_code == 403, no_show.text
        assert no_show.json()["code"] == "forbidden_owner"
        # Nor does it publish the venue's seats, or answer for them (the staff's business).
        slot = {"date": today.isoformat(), "half_day": "AM"}
        seats = await client.post(
            f"/v1/venues/{MAIN_VENUE}/capacity",
            headers=post_headers(bureau_headers),
            json={"slot": slot, "seats": 0, "fee_fen": 0},
        )
        assert seats.status_code == 403, seats.text
        decision = await client.post(
            f"/v1/evaluations/{evaluation_id}/venue-decisions",
            headers=post_headers(bureau_headers),
            json={"venue_id": MAIN_VENUE, "decision": "ACCEPTED"},
        )
        assert decision.status_code == 403, decision.text
        # Operators read the trail, not the list.
        assert (
            await _check_in(client, MAIN_VENUE, evaluation_id, world.operator)
        ).status_code == 403
        assert await _reads(client, world, evaluation_id) == []

        # The trading centre (the host venue's staff) is shown its experts, masked.
        shown = await _check_in(client, MAIN_VENUE, evaluation_id, world.host)
        assert shown.status_code == 200, shown.text
        experts = shown.json()
        at_main = [m for m in view["committee"] if m["venue_id"] == MAIN_VENUE]
        assert len(experts) == len(at_main) > 0
        for expert in experts:
            assert set(expert) == {
                "expert_pseudonym",
                "name",
                "phone_masked",
                "id_number_masked",
                "specialty_code",
            }
            assert expert["name"] in world.planted
            assert MASKED_ID.match(expert["id_number_masked"]), expert
            assert MASKED_PHONE.match(expert["phone_masked"]), expert
            planted_id = world.planted[world.planted.index(expert["name"]) + 2]
            masked_id = expert["id_number_masked"]
            assert (planted_id[:6], planted_id[-4:]) == (masked_id[:6], masked_id[-4:])
        # Names are what the staff call out; no whole ID number or phone leaves.
        assert not [p for p in world.planted if p in shown.text and not p.startswith("专家")]

        # A partner venue's list is its owner's, and not another partner's.
        partner_code, partner_venue = next(
            (code, venue)
            for code, venue in VENUES.items()
            if any(m["venue_id"] == venue for m in view["committee"])
        )
        other = next(code for code in VENUES if code != partner_code)
        foreign = await _check_in(client, partner_venue, evaluation_id, world.partner_keys[other])
        assert foreign.status_code == 403, foreign.text
        own = await _check_in(
            client, partner_venue, evaluation_id, world.partner_keys[partner_code]
        )
        assert own.status_code == 200, own.text

        # Each list shown is on the trail: who (kind, code, key), which evaluation and venue,
        # when and how many identities; a refused request showed nothing and is not.
        reads = await _reads(client, world, evaluation_id)
        host_key_id = (await client.get("/v1/me", headers=world.host)).json()["key_id"]
        partner_me = await client.get("/v1/me", headers=world.partner_keys[partner_code])
        assert [
            (r["principal_kind"], r["principal_code"], r["key_id"], r["venue_id"], r["identities"])
            for r in reads
        ] == [
            ("department", "JYZX", host_key_id, MAIN_VENUE, len(experts)),
            ("partner", partner_code, partner_me.json()["key_id"], partner_venue, len(own.json())),
        ]
        assert all(r["evaluation_id"] == evaluation_id and r["read_at"] for r in reads)
        # The trail is the operators': the venue's staff do not read it.
        not_theirs = await client.get(
            "/v1/venues/check-in-reads",
            params={"evaluation_id": evaluation_id},
            headers=world.host,
        )
        assert not_theirs.status_code == 403
