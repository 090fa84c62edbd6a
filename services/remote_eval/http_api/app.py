"""Remote evaluation's FastAPI application: venues and seats, expert pools, evaluation requests,
the schedule, partner answers, the draw proof, partner SSE streams and the AsyncAPI document.

Run: uvicorn services.remote_eval.http_api.app:app
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel

from services.platform_core.auth import caller_api
from services.platform_core.auth.dependencies import CurrentPrincipal, share_api_key_store
from services.platform_core.events.topics import (
    EVALUATION_STATES,
    EVALUATIONS,
    EXPERT_REGISTRY,
    VENUE_CAPACITY,
    dead_letter_topic,
    partner_answers_topic,
    partner_seat_requests_topic,
)
from services.platform_core.garbage_collection import collect_less_often_for_good
from services.platform_core.http.access_log import install_access_log_redaction
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
from services.platform_core.kafka.dead_letters import DeadLetterPublisher
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.redis_pipelining import AutoPipelinedRedis
from services.platform_core.reference_data import yellow_river_cities
from services.platform_core.settings import get_settings
from services.remote_eval.http_api import (
    answers,
    asyncapi,
    audit,
    evaluations,
    experts,
    pools,
    streams,
)
from services.remote_eval.http_api import venues as venue_routes
from services.remote_eval.http_api.dependencies import RemoteEvalContext
from services.remote_eval.reference import partners
from services.remote_eval.scheduler import SCHEDULER_CONSUMER
from services.remote_eval.sealed_registry import ExpertRegistry, IdentitySeal
from services.remote_eval.store import RemoteEvalStore


class PartnerCityPublic(BaseModel):
    code: str
    name: str


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    codes = sorted(partners())
    await ensure_topics(
        settings,
        [
            EVALUATIONS,
            EVALUATION_STATES,  # a partner's answer decided here records the state it leaves
            dead_letter_topic(SCHEDULER_CONSUMER),  # and notes an outbox record Kafka refused
            EXPERT_REGISTRY,
            VENUE_CAPACITY,
            *(partner_seat_requests_topic(c) for c in codes),
            *(partner_answers_topic(c) for c in codes),
        ],
    )
    # A partner's decline is decided here, under the scheduler's lease (answers.py): refuse a
    # development draw secret at start, not at the first decline.
    settings.secret("remote_eval_draw_secret")
    producer = create_producer(settings, client_id="remote-eval-api")
    await producer.start()
    redis = AutoPipelinedRedis.from_url(settings.redis_url)
    app.state.context = RemoteEvalContext(
        publisher=EventPublisher(producer),
        store=RemoteEvalStore(redis),
        registry=ExpertRegistry(redis, IdentitySeal(settings.secret("remote_eval_identity_key"))),
        idempotency=IdempotencyStore(redis),
        redis=redis,
        settings=settings,
        dead_letters=DeadLetterPublisher(producer, SCHEDULER_CONSUMER),
    )
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
    title="济南公共资源交易 · remote evaluation (远程异地评标)",
    version="1",
    lifespan=lifespan,
    telemetry=telemetry_config(),
    **docs_pages(),
    description="Host centres request evaluations; venue owners publish seats; partners answer "
    "seat requests and report on experts; auditors re-run draws. Every call needs an API key; "
    "every POST an Idempotency-Key.",
)
install_error_handlers(app)
install_readiness(app)  # /readyz: Redis and the brokers answer (the readiness probe)
install_access_log_redaction()  # no API key from a query string in the logs
ROUTERS = (caller_api, venue_routes, experts, pools, evaluations, answers, audit, streams, asyncapi)
# A misspelt query parameter is refused, naming the ones the route takes, rather than ignored.
for module in ROUTERS:
    app.include_router(module.router, dependencies=[REFUSE_UNKNOWN_QUERY_PARAMETERS])
document_idempotency_key(app)


@app.get(
    "/v1/partner-cities",
    dependencies=[REFUSE_UNKNOWN_QUERY_PARAMETERS],
    response_model=list[PartnerCityPublic],
    summary="The Yellow River cities (沿黄九市) that host or serve remote evaluations",
)
async def list_partner_cities(principal: CurrentPrincipal) -> list[PartnerCityPublic]:
    """The Yellow River cities (沿黄九市) that host or serve remote evaluations: for any
    authenticated caller, like every API call."""
    return [PartnerCityPublic(code=c, name=n) for c, n in yellow_river_cities().items()]


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
