"""POST /v1/projects is served as a direct route (platform_core.http.direct_routes); its FastAPI
route stays for the OpenAPI document. Both doors must answer alike: the same statuses, error
codes, messages and fields, the same replay of an Idempotency-Key — checked here side by side
on one app, against the real broker and Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.intake.http_api.app import app, lifespan
from services.platform_core.http.direct_routes import MAX_BODY_BYTES, DirectRoutes
from services.platform_core.http.errors import install_error_handlers
from services.platform_core.settings import get_settings
from tests.integration.intake.conftest import TENDERER, Department, registration_body

pytestmark = pytest.mark.integration


@pytest.fixture
async def doors(
    stack_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """(direct, FastAPI): one app's state, entered with and without its direct routes."""
    for name, value in stack_env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    plain = FastAPI()
    plain.router = app.router
    plain.state = app.state
    install_error_handlers(plain)
    assert any(m.cls == DirectRoutes for m in app.user_middleware)  # type: ignore[comparison-overlap]
    try:
        async with (
            lifespan(app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://intake"
            ) as direct,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=plain), base_url="http://intake"
            ) as routed,
        ):
            yield direct, routed
    finally:
        get_settings.cache_clear()


def _comparable(response: httpx.Response) -> tuple[int, Any]:
    body = response.json()
    if response.status_code == 201:
        # Fresh ids and times differ between two registrations; the shape must not.
        for varying in ("project_id", "event_id", "unified_deal_code", "registered_at"):
            assert body.pop(varying)
    return response.status_code, body


REQUESTS: list[tuple[str, dict[str, str], bytes]] = [
    ("valid", {}, httpx.Request("POST", "/", json=registration_body()).read()),
    (
        "bad check digit",
        {},
        httpx.Request(
            "POST",
            "/",
            json=registration_body(tenderer={**TENDERER, "credit_code": "91110000600037341X"}),
        ).read(),
    ),
    (
        "green channel without key project",
        {},
        httpx.Request("POST", "/", json=registration_body(green_channel=True)).read(),
    ),
    (
        "other region",
        {},
        httpx.Request("POST", "/", json=registration_body(region_code="370114")).read(),
    ),
    (
        "unknown region",
        {},
        httpx.Request("POST", "/", json=registration_body(region_code="379999")).read(),
    ),
    (
        "off-catalogue category",
        {},
        httpx.Request("POST", "/", json=registration_body(category="EMISSION_RIGHTS")).read(),
    ),
    (
        "fractional fen",
        {},
        httpx.Request("POST", "/", json=registration_body(budget_fen=12.5)).read(),
    ),
    (
        "amount as text",
        {},
        httpx.Request("POST", "/", json=registration_body(budget_fen="1250")).read(),
    ),
    ("unknown field", {}, httpx.Request("POST", "/", json=registration_body(colour="red")).read()),
    ("missing field", {}, httpx.Request("POST", "/", json={"name": "x"}).read()),
    ("no API key", {"X-API-Key": ""}, httpx.Request("POST", "/", json=registration_body()).read()),
    ("unknown API key", {"X-API-Key": "prt_000000000000_nope"}, b"{}"),
    ("malformed API key", {"X-API-Key": "not-a-key"}, b"{}"),
    ("bearer scheme", {"X-API-Key": "", "Authorization": "Basic abc"}, b"{}"),
    (
        "no Idempotency-Key",
        {"Idempotency-Key": ""},
        httpx.Request("POST", "/", json=registration_body()).read(),
    ),
    (
        "backfill by a live key",
        {},
        httpx.Request(
            "POST", "/", json=registration_body(occurred_at="2023-03-01T09:00:00+08:00")
        ).read(),
    ),
]


@pytest.mark.parametrize(("case", "headers", "body"), REQUESTS, ids=[r[0] for r in REQUESTS])
async def test_both_doors_answer_alike(
    doors: tuple[httpx.AsyncClient, httpx.AsyncClient],
    changqing_dept: Department,
    case: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    direct, routed = doors
    answers = []
    for client in (direct, routed):
        sent = {**changqing_dept.headers(), "Content-Type": "application/json", **headers}
        sent = {name: value for name, value in sent.items() if value}
        answers.append(await client.post("/v1/projects", content=body, headers=sent))
    assert _comparable(answers[0]) == _comparable(answers[1]), case
    assert answers[0].headers.get("www-authenticate") == answers[1].headers.get("www-authenticate")


async def test_a_retry_through_either_door_replays_the_first_answer(
    doors: tuple[httpx.AsyncClient, httpx.AsyncClient], changqing_dept: Department
) -> None:
    direct, routed = doors
    key = str(uuid.uuid4())
    first = await direct.post(
        "/v1/projects", json=registration_body(), headers=changqing_dept.headers(key)
    )
    assert first.status_code == 201, first.text
    for client in (direct, routed):
        again = await client.post(
            "/v1/projects", json=registration_body(), headers=changqing_dept.headers(key)
        )
        assert (again.status_code, again.json()) == (201, first.json())
        assert again.headers["idempotent-replayed"] == "true"
        changed = await client.post(
            "/v1/projects",
            json=registration_body(name="另一个项目"),
            headers=changqing_dept.headers(key),
        )
        assert changed.status_code == 422
        assert changed.json()["code"] == "idempotency_key_reused"


async def test_the_direct_door_refuses_what_is_not_json(
    doors: tuple[httpx.AsyncClient, httpx.AsyncClient], changqing_dept: Department
) -> None:
    direct, _ = doors
    headers = {**changqing_dept.headers(), "Content-Type": "application/json"}
    broken = await direct.post("/v1/projects", content=b'{"name": ', headers=headers)
    assert broken.status_code == 422
    assert broken.json()["code"] == "invalid_request"
    assert "JSON" in broken.json()["message"]
    empty = await direct.post("/v1/projects", content=b"", headers=headers)
    assert (empty.status_code, empty.json()["details"]) == (
        422,
        [{"field": "body", "problem": "Field required"}],
    )
    form = await direct.post(
        "/v1/projects",
        content=b"name=x",
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415
    assert "application/json" in form.json()["message"]


async def test_the_direct_door_refuses_a_body_too_large_before_reading_it_all(
    doors: tuple[httpx.AsyncClient, httpx.AsyncClient], changqing_dept: Department
) -> None:
    direct, _ = doors
    headers = {**changqing_dept.headers(), "Content-Type": "application/json"}
    huge = b'{"name": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    refused = await direct.post("/v1/projects", content=huge, headers=headers)
    assert refused.status_code == 413
    assert refused.json()["code"] == "body_too_large"
    assert str(MAX_BODY_BYTES) in refused.json()["message"]
