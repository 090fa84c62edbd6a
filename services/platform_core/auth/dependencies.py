"""FastAPI dependencies: the calling principal, and the checks routes apply to it.

Use ``CurrentPrincipal`` in a route's signature; call ``require_kind`` / ``require_region`` in
the route (or domain-facing code) to refuse with 403 and a reason.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Request, Security
from fastapi.dependencies.models import Dependant
from fastapi.openapi.models import APIKey, APIKeyIn
from fastapi.security.base import SecurityBase
from redis.asyncio import Redis

from services.platform_core.auth.api_keys import ApiKeyStore, AuthenticationError
from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.http.errors import ApiError
from services.platform_core.settings import get_settings

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="jinan-prt"'}


def share_api_key_store(app: FastAPI, redis: Redis) -> None:
    """Let authentication use the app's own Redis pool (call from the app's lifespan)."""
    app.state.api_key_store = ApiKeyStore(redis, get_settings().secret("api_key_pepper"))


def api_key_store(request: Request) -> ApiKeyStore:
    """The app's store; an app that did not share its pool gets one of its own on first use."""
    store: ApiKeyStore | None = getattr(request.app.state, "api_key_store", None)
    if store is None:
        settings = get_settings()
        store = ApiKeyStore(Redis.from_url(settings.redis_url), settings.secret("api_key_pepper"))
        request.app.state.api_key_store = store
    return store


class ApiKeyAuthentication(SecurityBase):
    """The calling principal, from ``X-API-Key: <key>`` or ``Authorization: Bearer <key>``.

    A security scheme rather than two ``Header`` parameters: the OpenAPI document then states
    the scheme once (``components.securitySchemes``) and every route's requirement, and FastAPI
    does not run per-parameter header validation on every request of every route (it was about
    a tenth of a registration's CPU)."""

    def __init__(self) -> None:
        self.model = APIKey(
            **{"in": APIKeyIn.header},
            name="X-API-Key",
            description="An API key issued with `python -m services.platform_core.auth.cli "
            "issue`; `Authorization: Bearer <key>` is accepted too.",
        )
        self.scheme_name = "ApiKey"

    async def __call__(self, request: Request) -> Principal:
        # async on purpose: FastAPI runs a plain-def dependency in its thread pool, a hop that
        # costs more per request than checking the key.
        headers = request.headers
        return await authenticate_headers(
            api_key_store(request), headers.get("x-api-key"), headers.get("authorization")
        )


async def authenticate_headers(
    store: ApiKeyStore, x_api_key: str | None, authorization: str | None
) -> Principal:
    """The principal of a request's ``X-API-Key`` or ``Authorization: Bearer`` header; raises
    :class:`ApiError` 401 saying what was wrong. For routes served outside FastAPI's
    dependencies (direct routes); FastAPI routes use :data:`CurrentPrincipal`."""
    presented = x_api_key
    if presented is None and authorization is not None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(
                401,
                "unauthenticated",
                "Authorization must be 'Bearer <API key>'",
                headers=_CHALLENGE,
            )
        presented = value.strip()
    if not presented:
        raise ApiError(
            401,
            "unauthenticated",
            "An API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            headers=_CHALLENGE,
        )
    try:
        return await store.authenticate(presented)
    except AuthenticationError as exc:
        raise ApiError(401, "unauthenticated", str(exc), headers=_CHALLENGE) from exc


authenticate_caller = ApiKeyAuthentication()


def _takes_api_key(dependant: Dependant) -> bool:
    return any(
        sub.call is authenticate_caller or _takes_api_key(sub) for sub in dependant.dependencies
    )


async def refusal_before_validation(request: Request) -> ApiError | None:
    """Why the request is refused before its body or parameters are looked at: FastAPI reads
    and validates a JSON body before it runs a route's dependencies, so a caller without a
    valid key who sent a malformed body was told about the body (422) rather than that it is
    not authenticated (401). None when the route takes no API key or the key is good."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not _takes_api_key(dependant):
        return None
    try:
        await authenticate_caller(request)
    except ApiError as refused:
        return refused
    return None


CurrentPrincipal = Annotated[Principal, Security(authenticate_caller)]


def require_kind(principal: Principal, *kinds: PrincipalKind) -> None:
    if principal.kind not in kinds:
        allowed = " or ".join(kind.value for kind in kinds)
        raise ApiError(
            403,
            "forbidden",
            f"This action is for a {allowed}; the key {principal.key_id} belongs to "
            f"{principal.kind.value} {principal.code} ({principal.name})",
        )


def require_region(principal: Principal, region_code: str) -> None:
    """A department acts only for the regions its key was issued for."""
    require_kind(principal, PrincipalKind.DEPARTMENT)
    if not principal.may_act_for_region(region_code):
        raise ApiError(
            403,
            "forbidden_region",
            f"Department {principal.code} ({principal.name}) may act only for regions "
            f"{', '.join(sorted(principal.regions)) or 'none'}, not {region_code}",
        )
