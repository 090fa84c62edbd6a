"""A world for remote evaluation's integration tests: keys of a host, an operator and three
partners, and expert pools of fresh specialties (so each module's draws are its own)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import httpx
from google.protobuf.message import Message

from services.platform_core.auth.principals import PrincipalKind
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.topics import EVALUATIONS
from services.platform_core.settings import PlatformSettings
from tests.conftest import IssueKey
from tests.integration.remote_eval.topic_reading import events_of
from tests.support.polling import eventually
from tests.support.processes import ServiceProcess
from tests.support.remote_eval_outbox import remote_eval_outbox_empty

MAIN_VENUE = "JN-370100-1"
PARTNERS = ("370300", "370500", "370800")
VENUES = {"370300": "ZB-370300-1", "370500": "DY-370500-1", "370800": "JNG-370800-1"}
CHECK_DIGITS = "0123456789X"


def credit_code(n: int) -> str:
    from services.platform_core.credit_code import check_character

    body = f"91370100{n:09d}"
    return body + check_character(body)


@dataclass
class World:
    marker: str
    tech: str
    econ: str
    host: dict[str, str]
    operator: dict[str, str]
    partner_keys: dict[str, dict[str, str]]
    planted: list[str]  # every name, phone and ID number given to the registry
    expert_ids: list[str] = field(default_factory=list)  # as the registry issued them


def auth_headers(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def post_headers(key: dict[str, str]) -> dict[str, str]:
    return {**key, "Idempotency-Key": str(uuid.uuid4())}


async def build_world(
    remote_eval_api: ServiceProcess, remote_eval_worker: ServiceProcess, issue_key: IssueKey
) -> World:
    marker = uuid.uuid4().hex[:8].upper()
    host = await issue_key(
        PrincipalKind.DEPARTMENT, "JYZX", "济南公共资源交易中心", frozenset({"370100"})
    )
    operator = await issue_key(PrincipalKind.OPERATOR, "audit", "审计员")
    partner_keys = {
        code: auth_headers((await issue_key(PrincipalKind.PARTNER, code, f"partner {code}")).key)
        for code in PARTNERS
    }
    w = World(
        marker,
        f"T{marker}",
        f"E{marker}",
        auth_headers(host.key),
        auth_headers(operator.key),
        partner_keys,
        [],
    )
    rng = random.Random(marker)
    async with httpx.AsyncClient(base_url=remote_eval_api.base_url, timeout=10) as client:
        n = rng.randrange(10**8)
        for pool in ("370100", *PARTNERS):
            for kind, specialty, count in (("TECHNICAL", w.tech, 5), ("ECONOMIC", w.econ, 4)):
                for _ in range(count):
                    n += 1
                    name = f"专家{marker}{n}"
                    phone = f"139{n % 10**8:08d}"
                    id_number = f"370102{19700101 + n % 20:08d}{n % 1000:03d}{CHECK_DIGITS[n % 11]}"
                    w.planted += [name, phone, id_number]
                    response = await client.post(
                        "/v1/experts",
                        headers=post_headers(w.operator),
                        json={
                            "pool_code": pool,
                            "kind": kind,
                            "specialties": [specialty],
                            "employer_code": credit_code(n),
                            "name": name,
                            "phone": phone,
                            "id_number": id_number,
                        },
                    )
                    assert response.status_code == 201, response.text
                    body = response.json()
                    assert set(body) == {"expert_id", "pool_code", "kind", "specialties"}
                    w.expert_ids.append(body["expert_id"])
    return w


def request_body(w: World, slot_day: date, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "project_id": f"P-{w.marker}-{uuid.uuid4().hex[:6]}",
        "bid_section_code": "001",
        "slot": {"date": slot_day.isoformat(), "half_day": "AM"},
        "committee_size": 5,
        "specialties": [
            {"specialty_code": w.tech, "kind": "TECHNICAL", "count": 3},
            {"specialty_code": w.econ, "kind": "ECONOMIC", "count": 2},
        ],
        "main_venue_id": MAIN_VENUE,
        "main_venue_experts": 2,
        "preferred_partner_codes": ["370300"],
        "avoided_unit_codes": [credit_code(1)],
    }
    body.update(extra)
    return body


async def _offers(capacity: Callable[[], Awaitable[Any]]) -> int:
    return int((await capacity())["seats"])


async def publish_spare_seats(
    client: httpx.AsyncClient, w: World, slot_day: date, *, spare: int
) -> None:
    """Every venue's owner publishes ``spare`` seats more than are booked in the slot's
    morning (seats of a day are shared by every test that schedules on it)."""
    owners = {MAIN_VENUE: w.host, **{venue: w.partner_keys[code] for code, venue in VENUES.items()}}
    slot = {"date": slot_day.isoformat(), "half_day": "AM"}
    for venue_id, owner in owners.items():

        async def capacity(venue_id: str = venue_id, owner: dict[str, str] = owner) -> Any:
            response = await client.get(
                f"/v1/venues/{venue_id}/capacity", params=slot, headers=owner
            )
            return response.json()

        wanted = (await capacity())["booked"] + spare
        published = await client.post(
            f"/v1/venues/{venue_id}/capacity",
            headers=post_headers(owner),
            json={"slot": slot, "seats": wanted, "fee_fen": 20_000},
        )
        assert published.status_code == 202, published.text
        await eventually(partial(_offers, capacity), wanted.__eq__)


async def wait_decided(
    client: httpx.AsyncClient,
    w: World,
    evaluation_id: str,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The evaluation once scheduled or failed, as the host (or ``headers``' caller) sees it."""

    async def probe() -> dict[str, Any]:
        response = await client.get(f"/v1/evaluations/{evaluation_id}", headers=headers or w.host)
        return response.json() if response.status_code == 200 else {}

    result: dict[str, Any] = await eventually(
        probe, lambda b: b.get("status") in ("scheduled", "failed")
    )
    return result


async def scheduled_evaluation(
    client: httpx.AsyncClient, w: World, slot_day: date
) -> dict[str, Any]:
    """The host requests an evaluation on ``slot_day``'s morning; its view once scheduled."""
    created = await client.post(
        "/v1/evaluations", headers=post_headers(w.host), json=request_body(w, slot_day)
    )
    assert created.status_code == 202, created.text
    view = await wait_decided(client, w, created.json()["evaluation_id"])
    assert view["status"] == "scheduled", view
    return view


async def logged_events(settings: PlatformSettings, evaluation_id: str) -> list[Envelope[Message]]:
    """The evaluation's events on the log once every stored decision is published."""
    await remote_eval_outbox_empty(settings)
    return await events_of(settings.kafka_bootstrap_servers, EVALUATIONS.name, evaluation_id)
