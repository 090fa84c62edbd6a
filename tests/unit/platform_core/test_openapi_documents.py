"""What every API's OpenAPI document must say: each operation a summary of its own; each write
route the Idempotency-Key header; the API key as a security scheme.

The routes read the key straight from the request (a FastAPI Header parameter cost ~40 µs of
validation per request), so the declaration is added by document_idempotency_key; this checks
that no write route is left undocumented and that the API key is a declared security scheme."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from fastapi.routing import APIRoute


def _openapi(service: str) -> dict[str, Any]:
    app = importlib.import_module(f"services.{service}.http_api.app").app
    schema: dict[str, Any] = app.openapi()
    return schema


@pytest.mark.parametrize("service", ["intake", "abnormal_push", "remote_eval"])
def test_every_post_declares_the_idempotency_key(service: str) -> None:
    paths = _openapi(service)["paths"]
    posts = [
        (path, op) for path, ops in paths.items() for method, op in ops.items() if method == "post"
    ]
    assert posts
    for path, operation in posts:
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        declared = [p for p in headers if p["name"] == "Idempotency-Key"]
        assert len(declared) == 1, f"POST {path}: {headers}"
        assert declared[0]["schema"] == {"type": "string", "maxLength": 200}
        assert declared[0]["required"] is True  # a POST without one is refused (400)


@pytest.mark.parametrize("service", ["intake", "abnormal_push", "remote_eval", "reporting"])
def test_the_api_key_is_a_security_scheme_not_a_plain_header(service: str) -> None:
    schema = _openapi(service)
    scheme = schema["components"]["securitySchemes"]["ApiKey"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-API-Key")
    secured = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", [])}
            assert "X-API-Key" not in names, f"{method.upper()} {path}: key as a plain header"
            secured += {"ApiKey": []} in operation.get("security", [])
    assert secured >= 3


def test_registration_requires_the_api_key() -> None:
    operation = _openapi("intake")["paths"]["/v1/projects"]["post"]
    assert operation["security"] == [{"ApiKey": []}]


@pytest.mark.parametrize("service", ["intake", "abnormal_push", "remote_eval", "reporting"])
def test_every_route_says_what_it_does(service: str) -> None:
    """A summary of its own on every operation (with the Chinese term where the offices use
    one), not the one FastAPI makes from the function's name ("List Venues")."""
    app = importlib.import_module(f"services.{service}.http_api.app").app
    unsummarised = [
        f"{sorted(route.methods or ())} {route.path}"
        for route in app.routes
        if isinstance(route, APIRoute)
        and route.include_in_schema
        and not route.summary
        and route.path != "/healthz"
    ]
    assert not unsummarised
