"""Direct routes: a service's busiest operations, entered without Starlette's per-request layers.

A request to a FastAPI route crosses the server-error, telemetry, exception and exit-stack
middlewares, the router's match against every route, Request and Response objects and the
dependency solver. On the 2-vCPU test machine that framing alone costs about 105 µs of CPU per
request — measured as a bare FastAPI endpoint that sends its body to aiokafka (170 µs) against
a plain ASGI callable doing the same send (65 µs). For a registration that is more than the
operation itself costs.

:class:`DirectRoutes` is an ASGI middleware that answers the exact ``(method, path)`` pairs it
is given with a :data:`DirectHandler`: a function of the request's headers and body that returns
status, JSON bytes and headers. Everything else goes on to the FastAPI app untouched. The
operation behind a direct route is the same code its FastAPI route calls — the FastAPI route
stays, and keeps describing the operation in the OpenAPI document — so the two doors give the
same answers (the intake tests hold them to it). Refusals use the shared error body
(:mod:`services.platform_core.http.errors`); a failure nobody foresaw is logged and answered
500 with that body, never a bare traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from aiokafka.errors import KafkaError
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from starlette.datastructures import State
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.platform_core.http.errors import (
    STORE_FAILURES,
    ApiError,
    FieldProblem,
    error_body,
    event_log_unavailable,
    invalid_request,
    store_unavailable,
)

log = logging.getLogger(__name__)

# A body larger than this is no registration or step: refused before it is read in full.
MAX_BODY_BYTES = 1024 * 1024
_JSON = (b"content-type", b"application/json")


@dataclass(frozen=True)
class DirectRequest:
    """What a direct handler is given: the app's state, lower-case headers and the body."""

    state: State
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class DirectAnswer:
    status: int
    body: bytes  # JSON
    headers: Mapping[str, str] = field(default_factory=dict)


DirectHandler = Callable[[DirectRequest], Awaitable[DirectAnswer]]


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_json_body(model: type[ModelT], request: DirectRequest) -> ModelT:
    """The request body as ``model``; raises :class:`ApiError` (the shared error body): 415
    when it is sent as something other than JSON, 422 when it is missing or not valid."""
    content_type = request.headers.get("content-type", "application/json")
    media_type = content_type.partition(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"Send the body as JSON (Content-Type: application/json), not {content_type}",
        )
    if not request.body.strip():
        raise ApiError(
            422,
            "invalid_request",
            "The request is not valid: body: Field required",
            [FieldProblem(field="body", problem="Field required")],
        )
    try:
        return model.model_validate_json(request.body)
    except ValidationError as exc:
        raise invalid_request(exc.errors(include_url=False)) from None


class DirectRoutes:
    """ASGI middleware: serves the given routes directly, passes every other request on."""

    def __init__(
        self, app: ASGIApp, *, routes: Mapping[tuple[str, str], DirectHandler], state: State
    ) -> None:
        self._app = app
        self._routes = dict(routes)
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = (
            self._routes.get((scope["method"], scope["path"])) if scope["type"] == "http" else None
        )
        if handler is None:
            await self._app(scope, receive, send)
            return
        answer = await self._answer(handler, scope, receive)
        headers = [_JSON, (b"content-length", str(len(answer.body)).encode())]
        headers.extend((name.encode(), value.encode()) for name, value in answer.headers.items())
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})

    async def _answer(self, handler: DirectHandler, scope: Scope, receive: Receive) -> DirectAnswer:
        try:
            headers = {
                name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
            }
            body = await _read_body(receive)
            return await handler(DirectRequest(self._state, headers, body))
        except ApiError as refusal:
            return _refusal(refusal)
        except KafkaError as exc:
            return _refusal(event_log_unavailable(exc))
        except STORE_FAILURES as exc:
            return _refusal(store_unavailable(exc))
        except Exception:
            log.exception("%s %s failed", scope["method"], scope["path"])
            return DirectAnswer(
                500,
                error_body(
                    "internal_error",
                    "The server failed to handle this request; it has been logged. A retry "
                    "with the same Idempotency-Key never takes effect twice.",
                ),
            )


async def _read_body(receive: Receive) -> bytes:
    message: Message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False) and len(body) <= MAX_BODY_BYTES:
        return body  # the usual case: one message
    parts = [body]
    size = len(body)
    while True:
        if size > MAX_BODY_BYTES:
            raise ApiError(413, "body_too_large", f"The body exceeds {MAX_BODY_BYTES} bytes")
        if not message.get("more_body", False):
            return b"".join(parts)
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(parts)
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        parts.append(chunk)


def _refusal(error: ApiError) -> DirectAnswer:
    return DirectAnswer(
        error.status, error_body(error.code, error.message, error.details), error.headers or {}
    )


def install_direct_routes(app: FastAPI, routes: Mapping[tuple[str, str], DirectHandler]) -> None:
    """Serve ``routes`` (``{("POST", "/v1/projects"): handler}``) directly in front of ``app``;
    their FastAPI routes stay for the OpenAPI document and for callers of the bare app."""
    app.add_middleware(DirectRoutes, routes=routes, state=app.state)
