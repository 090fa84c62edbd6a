"""What remote evaluation's routes are given, wired in the app's lifespan, and the checks of
who may act for a venue or a pool."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from redis.asyncio import Redis

from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.http.errors import ApiError
from services.platform_core.http.idempotency import IdempotencyKey as IdempotencyKey  # noqa: PLC0414
from services.platform_core.http.idempotency import IdempotencyStore
from services.platform_core.kafka.dead_letters import DeadLetterPublisher
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.settings import PlatformSettings
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
