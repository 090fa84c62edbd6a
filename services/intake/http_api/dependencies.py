"""What intake's routes are given, wired in the app's lifespan: the event publisher, the
project read model, the Idempotency-Key store, and the request's Idempotency-Key.

They are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in its thread pool,
a thread hand-off per dependency per request that costs more than the work they do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from aiokafka import AIOKafkaProducer
from fastapi import Depends, Request
from redis.asyncio import Redis
from starlette.datastructures import State

from services.intake.read_model import ProjectReadModel
from services.platform_core.http.idempotency import IdempotencyKey as IdempotencyKey  # noqa: PLC0414
from services.platform_core.http.idempotency import IdempotencyStore
from services.platform_core.kafka.publisher import EventPublisher


async def _publisher(request: Request) -> EventPublisher:
    publisher: EventPublisher = request.app.state.publisher
    return publisher


async def _producer(request: Request) -> AIOKafkaProducer:
    return request.app.state.producer


async def _read_model(request: Request) -> ProjectReadModel:
    read_model: ProjectReadModel = request.app.state.read_model
    return read_model


async def _idempotency(request: Request) -> IdempotencyStore:
    store: IdempotencyStore = request.app.state.idempotency
    return store


async def _redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


@dataclass(frozen=True)
class IntakeContext:
    """The pieces an event-emitting route uses, as one dependency."""

    publisher: EventPublisher
    read_model: ProjectReadModel
    idempotency: IdempotencyStore


def intake_context(state: State) -> IntakeContext:
    return IntakeContext(state.publisher, state.read_model, state.idempotency)


async def _context(request: Request) -> IntakeContext:
    context: IntakeContext = request.app.state.intake_context
    return context


Context = Annotated[IntakeContext, Depends(_context)]
Publisher = Annotated[EventPublisher, Depends(_publisher)]
Producer = Annotated[AIOKafkaProducer, Depends(_producer)]
ReadModel = Annotated[ProjectReadModel, Depends(_read_model)]
Idempotency = Annotated[IdempotencyStore, Depends(_idempotency)]
RedisClient = Annotated[Redis, Depends(_redis)]
