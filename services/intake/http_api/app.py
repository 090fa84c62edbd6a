"""Intake's FastAPI application: wires the producer, Redis, and the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.intake.http_api import catalogue, large_amount_records, lifecycle, projects
from services.intake.http_api.dependencies import intake_context
from services.intake.read_model import ProjectReadModel
from services.platform_core.auth import caller_api
from services.platform_core.auth.dependencies import share_api_key_store
from services.platform_core.events.topics import LARGE_AMOUNT_RECORDS, PROJECT_EVENTS
from services.platform_core.garbage_collection import collect_less_often_for_good
from services.platform_core.http.access_log import install_access_log_redaction
from services.platform_core.http.direct_routes import install_direct_routes
from services.platform_core.http.docs_pages import docs_pages
from services.platform_core.http.errors import install_error_handlers
from services.platform_core.http.idempotency import IdempotencyStore, document_idempotency_key
from services.platform_core.http.query_parameters import REFUSE_UNKNOWN_QUERY_PARAMETERS
from services.platform_core.http.readiness import (
    ReadinessProbe,
    install_readiness,
    kafka_check,
    redis_check,
)
from services.platform_core.http.telemetry import telemetry_config
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.redis_pipelining import AutoPipelinedRedis
from services.platform_core.settings import get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    await ensure_topics(settings, [PROJECT_EVENTS, LARGE_AMOUNT_RECORDS])
    producer = create_producer(settings, client_id="intake-api")
    await producer.start()
    redis = AutoPipelinedRedis.from_url(settings.redis_url)
    app.state.producer = producer
    app.state.publisher = EventPublisher(producer)
    app.state.redis = redis
    app.state.read_model = ProjectReadModel(redis)
    app.state.idempotency = IdempotencyStore(redis)
    app.state.intake_context = intake_context(app.state)
    share_api_key_store(app, redis)
    app.state.readiness = ReadinessProbe(
        {"redis": redis_check(redis), "kafka": kafka_check(producer)}
    )
    collect_less_often_for_good()  # everything start-up loaded is in place by now
    try:
        yield
    finally:
        await producer.stop()
        await redis.aclose()


app = FastAPI(
    title="济南公共资源交易 · intake (进场登记)",
    version="1",
    lifespan=lifespan,
    telemetry=telemetry_config(),
    **docs_pages(),
    description="Departments register trading projects and report their lifecycle; "
    "large-amount records are imported in bulk. Every call needs an API key "
    "(`python -m services.platform_core.auth.cli issue ...`); every POST an Idempotency-Key.",
)
install_error_handlers(app)
install_readiness(app)  # /readyz: Redis and the brokers answer (the readiness probe)
install_access_log_redaction()  # no API key from a query string in the logs
# A misspelt filter is refused, naming the parameters the route takes, rather than ignored.
for module in (caller_api, projects, lifecycle, catalogue, large_amount_records):
    app.include_router(module.router, dependencies=[REFUSE_UNKNOWN_QUERY_PARAMETERS])
document_idempotency_key(app)
# Registrations come in bulk at deadlines: their route is served without FastAPI's framing.
install_direct_routes(app, {("POST", "/v1/projects"): projects.register_project_directly})


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
