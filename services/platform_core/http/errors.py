"""One error body for every service: ``{"code", "message", "details": [{"field", "problem"}]}``.

``message`` says what was wrong and what is accepted, in words a department clerk can act on;
``code`` is stable for programs; ``details`` lists each bad field.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class FieldProblem(BaseModel):
    field: str
    problem: str


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[FieldProblem] = []


class ApiError(Exception):
    """Raised by route code for a refusal with a status, a stable code and a reason."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[FieldProblem] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers


def error_body(code: str, message: str, details: list[FieldProblem] | None = None) -> bytes:
    """The error body's bytes (what :func:`error_response` sends)."""
    return orjson.dumps(
        {
            "code": code,
            "message": message,
            "details": [{"field": d.field, "problem": d.problem} for d in details or ()],
        }
    )


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        error_body(code, message, details),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def _field_path(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in location if part not in ("body",)]
    return ".".join(parts) or "body"


def invalid_request(errors: Sequence[Any]) -> ApiError:
    """A body or parameter that failed validation (pydantic's error list), as one 422."""
    details = [
        FieldProblem(field=_field_path(error.get("loc", ())), problem=error.get("msg", ""))
        for error in errors
    ]
    summary = "; ".join(f"{d.field}: {d.problem}" for d in details[:5])
    return ApiError(422, "invalid_request", f"The request is not valid: {summary}", details)


# The broker's ACLs refuse this service's Kafka user: no retry helps until they change.
BROKER_REFUSALS = (
    TopicAuthorizationFailedError,
    GroupAuthorizationFailedError,
    ClusterAuthorizationFailedError,
)


def event_log_forbidden(exc: KafkaError, what: str) -> ApiError:
    log.error("the broker's ACLs refuse this service's user: %r", exc)
    return ApiError(
        503,
        "event_log_forbidden",
        f"The broker does not let this service {what}; its Kafka user's ACLs need changing "
        "(services/kafka_access_plan.py). Retrying will not help until they do.",
    )


def event_log_unavailable(exc: KafkaError) -> ApiError:
    if isinstance(exc, BROKER_REFUSALS):
        return event_log_forbidden(exc, "write this event")
    # The event could not be made durable: the caller may retry with the same
    # Idempotency-Key, which never duplicates.
    log.error("event log unavailable: %r", exc)
    return ApiError(
        503,
        "event_log_unavailable",
        "The event log could not confirm the write; retry later with the same Idempotency-Key.",
        headers={"Retry-After": "2"},
    )


def store_unavailable(exc: Exception) -> ApiError:
    # API keys, idempotency records and read models live in Redis: without it a request
    # can be neither authorised nor made idempotent, so it is refused (fail closed).
    log.error("Redis unavailable: %r", exc)
    return ApiError(
        503,
        "store_unavailable",
        "The platform's store is unavailable; retry later (with the same Idempotency-Key "
        "for a write).",
        headers={"Retry-After": "2"},
    )


STORE_FAILURES = (RedisConnectionError, RedisTimeoutError)


def _respond(error: ApiError) -> Response:
    return error_response(error.status, error.code, error.message, error.details, error.headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> Response:
        return _respond(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        # Imported here: the auth package builds on this module's ApiError. An unauthenticated
        # caller learns that first (401), not what was wrong with its body.
        from services.platform_core.auth.dependencies import refusal_before_validation

        refused = await refusal_before_validation(request)
        return _respond(refused or invalid_request(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        return error_response(
            exc.status_code,
            f"http_{exc.status_code}",
            str(exc.detail),
            headers=dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(KafkaError)
    async def _kafka_unavailable(_: Request, exc: KafkaError) -> Response:
        return _respond(event_log_unavailable(exc))

    @app.exception_handler(RedisConnectionError)
    @app.exception_handler(RedisTimeoutError)
    async def _store_unavailable(_: Request, exc: Exception) -> Response:
        return _respond(store_unavailable(exc))
