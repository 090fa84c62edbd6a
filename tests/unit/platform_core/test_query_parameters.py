"""A query parameter a route does not take is refused (422, naming the ones it takes), not
ignored into an unfiltered answer; abnormal push's routes all refuse them."""

from __future__ import annotations

import importlib
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from services.platform_core.auth.dependencies import CurrentPrincipal
from services.platform_core.http.errors import install_error_handlers
from services.platform_core.http.query_parameters import (
    REFUSE_UNKNOWN_QUERY_PARAMETERS,
    accepted_query_parameters,
)


class Filter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region_code: str | None = None
    category: str | None = None


def _paging(offset: int = 0, limit: Annotated[int, Query(alias="page-size")] = 10) -> int:
    return offset + limit


def _app() -> FastAPI:
    router = APIRouter(prefix="/v1")

    @router.get("/things")
    async def things(
        status_filter: Annotated[str | None, Query(alias="status")] = None,
        paging: int = Depends(_paging),
    ) -> dict[str, object]:
        return {"status": status_filter, "paging": paging}

    @router.get("/filtered")
    async def filtered(query: Annotated[Filter, Query()]) -> dict[str, object]:
        return query.model_dump()

    @router.get("/plain/{thing_id}")
    async def plain(thing_id: str) -> dict[str, str]:
        return {"thing_id": thing_id}

    @router.get("/mine")
    async def mine(_: CurrentPrincipal) -> dict[str, str]:
        return {}

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router, dependencies=[REFUSE_UNKNOWN_QUERY_PARAMETERS])
    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(_app())


def test_a_misspelt_filter_is_refused_naming_the_accepted_parameters(client: TestClient) -> None:
    response = client.get("/v1/things", params={"statuss": "ROUTED"})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "unknown_query_parameter"
    assert body["message"].startswith("GET /v1/things does not take")
    assert "statuss" in body["message"]
    # Its own parameters by alias, and its dependencies'.
    assert "limit" not in body["message"]
    assert "offset, page-size, status" in body["message"]
    assert [d["field"] for d in body["details"]] == ["query.statuss"]


def test_the_parameters_a_route_takes_are_answered_as_before(client: TestClient) -> None:
    response = client.get("/v1/things", params={"status": "ROUTED", "page-size": "5"})
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ROUTED", "paging": 5}
    assert client.get("/v1/things").status_code == 200


def test_a_query_models_fields_are_accepted(client: TestClient) -> None:
    assert client.get("/v1/filtered", params={"region_code": "370113"}).status_code == 200
    refused = client.get("/v1/filtered", params={"region": "370113"})
    assert refused.status_code == 422
    assert "category, region_code" in refused.json()["message"]


def test_a_route_without_query_parameters_says_it_takes_none(client: TestClient) -> None:
    refused = client.get("/v1/plain/1", params={"x": "1"})
    assert refused.status_code == 422
    assert "takes none" in refused.json()["message"]


def test_an_unauthenticated_caller_learns_that_first_and_no_value_is_echoed(
    client: TestClient,
) -> None:
    secret = "prt_dep_not-a-real-key-but-secret-shaped"
    refused = client.get("/v1/mine", params={"key": secret})
    assert refused.status_code == 401, refused.text
    assert secret not in refused.text
    # With a parameter refused, only its name is in the answer.
    named = client.get("/v1/plain/1", params={"key": secret})
    assert named.status_code == 422 and secret not in named.text


@pytest.mark.parametrize("service", ["abnormal_push", "intake", "remote_eval"])
def test_every_api_route_refuses_unknown_parameters(service: str) -> None:
    """Wiring: each /v1 route of the three APIs carries the dependency (reporting's metrics
    take any dimension as a filter, and its dashboard refuses a key in the URL on its own)."""
    app = importlib.import_module(f"services.{service}.http_api.app").app
    routes = [r for r in iter_route_contexts(app.routes) if (r.path or "").startswith("/v1/")]
    assert len(routes) > 5
    for route in routes:
        assert REFUSE_UNKNOWN_QUERY_PARAMETERS in route.dependencies, route.path


def test_the_project_list_takes_exactly_its_filters() -> None:
    from services.intake.http_api.app import app

    (projects,) = [
        r
        for r in iter_route_contexts(app.routes)
        if r.path == "/v1/projects" and "GET" in (r.methods or ())
    ]
    assert "documents_outstanding" in accepted_query_parameters(projects.dependant)
    assert "registered_from" in accepted_query_parameters(projects.dependant)


def test_every_abnormal_push_route_refuses_unknown_parameters() -> None:
    """Wiring: each of abnormal push's API routes carries the dependency, and the push list
    takes exactly its filters."""
    from services.abnormal_push.http_api.app import app

    routes = [r for r in iter_route_contexts(app.routes) if (r.path or "").startswith("/v1/")]
    (pushes,) = [r for r in routes if r.path == "/v1/pushes" and "GET" in (r.methods or ())]
    assert accepted_query_parameters(pushes.dependant) == {
        "status",
        "since",
        "until",
        "department",
        "overdue",
        "escalated",
        "limit",
        "cursor",
    }
