"""Refuse query parameters a route does not take (422, naming the ones it does).

FastAPI ignores a query parameter no route parameter names, so a typo — ``?statuss=ROUTED`` —
answers 200 with the whole unfiltered list, which a clerk reads as the filtered one. Intake's
project list refuses them through a query model with ``extra="forbid"``; this dependency does
the same for any route without a model, from the parameters FastAPI already knows the route
takes (its own and its dependencies'). Add it to a router or route:
``include_router(router, dependencies=[REFUSE_UNKNOWN_QUERY_PARAMETERS])``.

An unauthenticated caller still learns that first (401), as with any other invalid request;
only the parameters' names are echoed, never their values (a key sent as ``?key=`` stays out of
the answer).
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel

from services.platform_core.auth.dependencies import refusal_before_validation
from services.platform_core.http.errors import ApiError, FieldProblem


def accepted_query_parameters(dependant: Dependant) -> frozenset[str]:
    """The query parameter names a route takes: its own and its dependencies', by alias, the
    fields of a query model (``Annotated[Model, Query()]``) included."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        for field in current.query_params:
            names.update(_names(field.alias, field.field_info.annotation))
        pending.extend(current.dependencies)
    return frozenset(names)


def _names(alias: str, annotation: object) -> Iterable[str]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return (info.alias or name for name, info in annotation.model_fields.items())
    return (alias,)


def unknown_query_parameters(request: Request) -> list[str]:
    """The request's query parameter names its route does not take, sorted; none for a route
    FastAPI does not describe (a mounted app, a direct route)."""
    if not request.query_params:
        return []
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if not isinstance(dependant, Dependant):
        return []
    accepted = accepted_query_parameters(dependant)
    return sorted({name for name in request.query_params if name not in accepted})


async def refuse_unknown_query_parameters(request: Request) -> None:
    """422 ``unknown_query_parameter`` for a parameter the route does not take."""
    unknown = unknown_query_parameters(request)
    if not unknown:
        return
    # Dependencies added to a router run before the route's own, authentication included.
    refused = await refusal_before_validation(request)
    if refused is not None:
        raise refused
    route = request.scope["route"]
    accepted = sorted(accepted_query_parameters(route.dependant))
    takes = f"it takes {', '.join(accepted)}" if accepted else "it takes none"
    raise ApiError(
        422,
        "unknown_query_parameter",
        f"{request.method} {route.path} does not take the query parameter(s) {', '.join(unknown)}; "
        f"{takes}. Check the spelling: an unknown parameter is refused rather than ignored, "
        "so a misspelt filter never answers with the unfiltered list.",
        [
            FieldProblem(field=f"query.{name}", problem=f"not a parameter of this route; {takes}")
            for name in unknown
        ],
    )


REFUSE_UNKNOWN_QUERY_PARAMETERS = Depends(refuse_unknown_query_parameters)
