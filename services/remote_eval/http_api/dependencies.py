"""What remote evaluation's routes are given, wired in the app's lifespan, and the checks of
who may act for a venue or a pool."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis

from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.http.errors import ApiError
from services.platform_core.http.idempotency import IdempotencyKey as IdempotencyKey  # noqa: PLC0414
from services.platform_core.http.idempotency import IdempotencyStore
from services.platform_core.kafka.dead_letters import DeadLetterPublisher
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.reference_data import regions, trading_centre
from services.platform_core.settings import PlatformSettings
from services.remote_eval.domain.check_in import VenueStaffing, runs_venue
from services.remote_eval.domain.model import Venue
from services.remote_eval.scheduler import ExpertDirectoryCache
from services.remote_eval.sealed_registry import ExpertRegistry
from services.remote_eval.store import EvaluationState, RemoteEvalStore


@dataclass(frozen=True)
class RemoteEvalContext:
    publisher: EventPublisher
    store: RemoteEvalStore
    registry: ExpertRegistry
    idempotency: IdempotencyStore
    redis: Redis
    settings: PlatformSettings
    # Where a Scheduler run here notes an outbox record Kafka refused (as the worker's does).
    dead_letters: DeadLetterPublisher | None = None
    # The expert directory the per-answer schedulers share (reloaded when the registry moves).
    expert_directory: ExpertDirectoryCache = field(default_factory=ExpertDirectoryCache)


def _context(request: Request) -> RemoteEvalContext:
    context: RemoteEvalContext = request.app.state.context
    return context


Context = Annotated[RemoteEvalContext, Depends(_context)]


def may_act_for(principal: Principal, owner_code: str) -> bool:
    """A partner acts for its own code; a department for the regions its key covers."""
    if principal.kind is PrincipalKind.PARTNER:
        return principal.code == owner_code
    return principal.may_act_for_region(owner_code)


@lru_cache(maxsize=1)
def venue_staffing() -> VenueStaffing:
    """Who runs the host venues, from the reference data: the department of role
    ``trading_centre`` (departments.json) for the venues owned by Jinan's regions
    (regions.json)."""
    return VenueStaffing(trading_centre(), frozenset(regions()))


def require_venue_staff(principal: Principal, venue: Venue) -> None:
    """Refuses anyone but the venue's own staff (check_in.runs_venue): what only the people
    seating the experts on the day may see or say."""
    if runs_venue(principal, venue, venue_staffing()):
        return
    staffing = venue_staffing()
    staff = (
        f"the trading centre {staffing.trading_centre} or its sub-centre for region "
        f"{venue.region_code}, or partner {venue.owner_code}"
        if staffing.is_host_venue(venue)
        else f"partner {venue.owner_code}"
    )
    raise ApiError(
        403,
        "forbidden_owner",
        f"Venue {venue.venue_id} is run by {staff}: only its staff check experts in and "
        f"report who did not come; the key {principal.key_id} acts for "
        f"{principal.kind.value} {principal.code} ({principal.name})",
    )


def require_owner(principal: Principal, owner_code: str, what: str) -> None:
    if not may_act_for(principal, owner_code):
        raise ApiError(
            403,
            "forbidden_owner",
            f"{what} belongs to {owner_code}; the key {principal.key_id} acts for "
            f"{principal.kind.value} {principal.code} ({principal.name})",
        )


async def evaluation_or_404(context: RemoteEvalContext, evaluation_id: str) -> EvaluationState:
    state = await context.store.evaluation(evaluation_id)
    if state is None:
        raise ApiError(
            404,
            "evaluation_not_found",
            f"No evaluation {evaluation_id}; it may not be scheduled yet — retry shortly",
        )
    return state


def require_host_or_operator(principal: Principal, state: EvaluationState) -> None:
    if principal.kind is PrincipalKind.OPERATOR:
        return
    if principal.kind is PrincipalKind.DEPARTMENT and principal.may_act_for_region(
        state.request.host_code
    ):
        return
    raise ApiError(
        403,
        "forbidden",
        f"Evaluation {state.request.evaluation_id} is visible to its host centre "
        f"({state.request.host_code}) and operators only",
    )
