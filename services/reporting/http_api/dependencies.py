"""What reporting's routes are given: the read model, and the reader check (operators and
departments read reporting; partners see only their own streams, never the city's figures)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from services.platform_core.auth.api_keys import AuthenticationError
from services.platform_core.auth.dependencies import (
    CurrentPrincipal,
    api_key_store,
    authenticate_headers,
    require_kind,
)
from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.auth.stream_tickets import StreamTickets
from services.platform_core.http.access_log import SECRET_PARAMETERS
from services.platform_core.http.errors import ApiError
from services.reporting.read_model import MetricsReadModel

READERS = (PrincipalKind.OPERATOR, PrincipalKind.DEPARTMENT)


def _read_model(request: Request) -> MetricsReadModel:
    model: MetricsReadModel = request.app.state.read_model
    return model


def _reader(principal: CurrentPrincipal) -> Principal:
    require_kind(principal, *READERS)
    return principal


STREAM_TICKETS_PATH = "/v1/dashboard/stream-tickets"


def refuse_key_in_url(request: Request) -> None:
    """An API key in a URL is written into proxies' access logs and the browser's history: the
    dashboard's data routes refuse it (400) rather than quietly use it, so the caller learns."""
    if any(name.strip().lower() in SECRET_PARAMETERS for name in request.query_params):
        raise ApiError(
            400,
            "api_key_in_url",
            "API keys are not taken from the URL, where proxies and browsers keep them: send "
            "the key in the X-API-Key header, or open the event stream with a ticket from "
            f"POST {STREAM_TICKETS_PATH} (?ticket=)",
        )


def _stream_tickets(request: Request) -> StreamTickets:
    tickets: StreamTickets = request.app.state.stream_tickets
    return tickets


async def _stream_reader(
    request: Request,
    ticket: Annotated[
        str | None,
        Query(
            description=f"a ticket from POST {STREAM_TICKETS_PATH}, for a browser's "
            "EventSource, which cannot send the X-API-Key header; good for one stream, within "
            "a minute of its issue"
        ),
    ] = None,
) -> Principal:
    headers = request.headers
    if ticket is not None:
        try:
            principal = await _stream_tickets(request).redeem(ticket)
        except AuthenticationError as exc:
            raise ApiError(401, "unauthenticated", str(exc)) from exc
    elif "x-api-key" in headers or "authorization" in headers:
        principal = await authenticate_headers(
            api_key_store(request), headers.get("x-api-key"), headers.get("authorization")
        )
    else:
        raise ApiError(
            401,
            "unauthenticated",
            f"Open the stream with a ticket (POST {STREAM_TICKETS_PATH} with your X-API-Key "
            "header, then ?ticket=), or send the key in the X-API-Key header",
        )
    require_kind(principal, *READERS)
    return principal


ReadModel = Annotated[MetricsReadModel, Depends(_read_model)]
Reader = Annotated[Principal, Depends(_reader)]
StreamReader = Annotated[Principal, Depends(_stream_reader)]
Tickets = Annotated[StreamTickets, Depends(_stream_tickets)]
