"""End to end, the way the demo's half-year generator drives remote evaluation over HTTP with
backfill keys: 长清区 hosts a 2023 evaluation from its own venue, the partner city answers its
seat request and confirms its experts with a partner key, 长清区 confirms its own pool's
experts — every act stamped with the time the generator states, and nothing timed out."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from prt.v1 import remote_eval_pb2

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.credit_code import check_character
from services.platform_core.events.proto_values import from_timestamp
from services.platform_core.settings import PlatformSettings
from tests.conftest import IssueKey
from tests.integration.remote_eval.world import logged_events
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOST, PARTNERS = "370113", ("370300", "370900")
MAIN_VENUE = "JN-370113-1"


def _employer(n: int) -> str:
    body = f"91370113{n:09d}"
    return body + check_character(body)


async def test_a_backfilled_evaluation_is_answered_by_partner_keys_over_http(
    remote_eval_api: ServiceProcess,
    remote_eval_worker: ServiceProcess,
    issue_key: IssueKey,
    settings: PlatformSettings,
) -> None:
    def bearer(key: str) -> dict[str, str]:
        return {"X-API-Key": key}

    host = bearer(
        (
            await issue_key(
                PrincipalKind.DEPARTMENT,
                "JYZX",
                "济南公共资源交易中心",
                frozenset({"370113", "370115"}),
                backfill=True,
            )
        ).key
    )
    operator = bearer((await issue_key(PrincipalKind.OPERATOR, "ops", "运维")).key)
    partner = {
        code: bearer(
            (await issue_key(PrincipalKind.PARTNER, code, f"partner {code}", backfill=True)).key
        )
        for code in PARTNERS
    }

    def post(key: dict[str, str]) -> dict[str, str]:
        return {**key, "Idempotency-Key": str(uuid.uuid4())}

    marker = uuid.uuid4().hex[:6].upper()
    tech, econ = f"A{marker}", f"B{marker}"
    slot_day = date(2023, 1, 9) + timedelta(days=random.randrange(0, 160))
    requested = datetime.combine(slot_day - timedelta(days=5), datetime.min.time(), SHANGHAI)
    answered = requested + timedelta(hours=6)
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=10) as client:
        n = random.randrange(10**8)
        for pool in (HOST, *PARTNERS):
            for kind, specialty, count in (("TECHNICAL", tech, 6), ("ECONOMIC", econ, 4)):
                for _ in range(count):
                    n += 1
                    added = await client.post(
                        "/v1/experts",
                        headers=post(operator),
                        json={
                            "pool_code": pool,
                            "kind": kind,
                            "specialties": [specialty],
                            "employer_code": _employer(n),
                            "name": f"专家{n}",
                            "phone": f"138{n % 10**8:08d}",
                            "id_number": f"37010219800101{n % 1000:03d}X",
                        },
                    )
                    assert added.status_code == 201, added.text
        seats = await client.post(
            f"/v1/venues/{MAIN_VENUE}/capacity",
            headers=post(host),
            json={
                "slot": {"date": slot_day.isoformat(), "half_day": "AM"},
                "seats": 8,
                "fee_fen": 20_000,
                "occurred_at": (requested - timedelta(days=1)).isoformat(),
            },
        )
        assert seats.status_code == 202, seats.text
        created = await client.post(
            "/v1/evaluations",
            headers=post(host),
            json={
                "project_id": f"P-DEMO-{marker}",
                "bid_section_code": "001",
                "slot": {"date": slot_day.isoformat(), "half_day": "AM"},
                "committee_size": 5,
                "specialties": [
                    {"specialty_code": tech, "kind": "TECHNICAL", "count": 3},
                    {"specialty_code": econ, "kind": "ECONOMIC", "count": 1},
                ],
                "main_venue_id": MAIN_VENUE,
                "preferred_partner_codes": list(PARTNERS),
                "occurred_at": requested.isoformat(),
            },
        )
        assert created.status_code == 202, created.text
        evaluation_id = created.json()["evaluation_id"]

        async def view() -> dict[str, Any]:
            got = await client.get(f"/v1/evaluations/{evaluation_id}", headers=host)
            return dict(got.json()) if got.status_code == 200 else {}

        scheduled = await eventually(view, lambda v: v.get("status") in ("scheduled", "failed"))
        assert scheduled["status"] == "scheduled", scheduled
        for allocation in scheduled["allocations"]:
            if allocation["role"] != "SECONDARY":
                continue
            accepted = await client.post(
                f"/v1/evaluations/{evaluation_id}/venue-decisions",
                headers=post(partner[allocation["partner_code"]]),
                json={
                    "venue_id": allocation["venue_id"],
                    "decision": "ACCEPTED",
                    "occurred_at": answered.isoformat(),
                },
            )
            assert accepted.status_code == 202, accepted.text
        for member in scheduled["committee"]:
            pool = member["pool_partner_code"]
            confirmed = await client.post(
                f"/v1/evaluations/{evaluation_id}/experts/{member['expert_pseudonym']}/answer",
                headers=post(host if pool == HOST else partner[pool]),
                json={"confirmed": True, "occurred_at": answered.isoformat()},
            )
            assert confirmed.status_code == 202, confirmed.text
        final = await eventually(
            view,
            lambda v: (
                all(m["status"] == "confirmed" for m in v["committee"])
                and all(
                    a["decision"] == "ACCEPTED"
                    for a in v["allocations"]
                    if a["role"] == "SECONDARY"
                )
            ),
        )
    assert len(final["committee"]) == 4
    events = await logged_events(settings, evaluation_id)
    kinds = [e.type.removeprefix("prt.v1.") for e in events]
    assert "SeatRequestTimedOut" not in kinds and "ExpertConfirmationTimedOut" not in kinds
    for envelope in events:
        message: Any = envelope.message
        stamped = from_timestamp(message.occurred_at)
        if isinstance(
            message, remote_eval_pb2.ExpertConfirmed | remote_eval_pb2.PartnerVenueDecision
        ):
            assert stamped == answered
        elif isinstance(message, remote_eval_pb2.EvaluationRequested | remote_eval_pb2.ExpertDrawn):
            assert stamped == requested
