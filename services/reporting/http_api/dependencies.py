"""What reporting's routes are given: the read model, and the reader check (operators and
departments read reporting; partners see only their own streams, never the city's figures)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from services.platform_core.auth.api_keys import AuthenticationError
from services.platform_core.auth.dependencies import CurrentPrincipal, api_key_store, require_kind
from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.http.errors import ApiError
from services.reporting.read_model import MetricsReadModel

READERS = (PrincipalKind.OPERATOR, PrincipalKind.DEPARTMENT)


def _read_model(request: Request) -> MetricsReadModel:
    model: MetricsReadModel = request.app.state.read_model
    return model


def _reader(principal: CurrentPrincipal) -> Principal:
    require_kind(principal, *READERS)
    return principal


async def _reader_from_query(
    request: Request,
    key: Annotated[
        str | None, Query(description="the API key (EventSource cannot send headers)")
    ] = None,
) -> Principal:
    if not key:
        raise ApiError(
            401, "unauthenticated", "An API key is required: send it as the 'key' query parameter"
        )
    try:
        principal = await api_key_store(request).authenticate(key)
    except AuthenticationError as exc:
        raise ApiError(401, "unauthenticated", str(exc)) from exc
    require_kind(principal, *READERS)
    return principal


ReadModel = Annotated[MetricsReadModel, Depends(_read_model)]
Reader = Annotated[Principal, Depends(_reader)]
QueryReader = Annotated[Principal, Depends(_reader_from_query)]
