"""Abnormal push's FastAPI application: wires the producer, Redis and the routers.

Run: uvicorn services.abnormal_push.http_api.app:app
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel

from services.abnormal_push.detection import DetectionState
from services.abnormal_push.http_api import detection, entities, pushes, reports, webhooks
from services.abnormal_push.read_model import PushReadModel
from services.abnormal_push.service_config import get_push_settings
from services.abnormal_push.webhooks import WebhookStore
from services.platform_core.auth import caller_api
from services.platform_core.auth.dependencies import CurrentPrincipal, share_api_key_store
from services.platform_core.events.topics import (
    ABNORMAL_PUSHES,
    ABNORMAL_REPORTS,
    ABNORMAL_WEBHOOKS,
)
from services.platform_core.garbage_collection import collect_less_often_for_good
from services.platform_core.http.access_log import install_access_log_redaction
from services.platform_core.http.docs_pages import docs_pages
from services.platform_core.http.errors import ErrorBody, install_error_handlers
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
from services.platform_core.reference_data import district_branches, load_json
from services.platform_core.settings import get_settings


class DepartmentPublic(BaseModel):
    code: str
    name: str
    joint_issuer: bool
    # A district or county branch: the city department it belongs to, and its region.
    parent: str | None = None
    region: str | None = None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    # The webhook key's checks (its development default refused in production, its length)
    # at start, as the worker does: not as a 500 on the first webhook registration.
    get_push_settings()
    await ensure_topics(settings, [ABNORMAL_REPORTS, ABNORMAL_PUSHES, ABNORMAL_WEBHOOKS])
    producer = create_producer(settings, client_id="abnormal-push-api")
    await producer.start()
    redis = AutoPipelinedRedis.from_url(settings.redis_url)
    app.state.publisher = EventPublisher(producer)
    app.state.read_model = PushReadModel(redis)
    app.state.idempotency = IdempotencyStore(redis)
    app.state.webhooks = WebhookStore(redis)
    app.state.detection_state = DetectionState(redis)
    app.state.accepted_steps = pushes.AcceptedSteps(redis)
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
    title="济南公共资源交易 · abnormal push (异常行为信息推送)",
    version="1",
    lifespan=lifespan,
    telemetry=telemetry_config(),
    **docs_pages(),
)
install_error_handlers(app)
install_readiness(app)  # /readyz: Redis and the brokers answer (the readiness probe)
install_access_log_redaction()  # no API key from a query string in the logs
# A misspelt filter (?statuss=ROUTED) is refused, naming the parameters the route takes, rather
# than ignored into the unfiltered list.
for module in (caller_api, reports, pushes, entities, webhooks, detection):
    app.include_router(module.router, dependencies=[REFUSE_UNKNOWN_QUERY_PARAMETERS])
document_idempotency_key(app)


@app.get(
    "/v1/departments",
    dependencies=[REFUSE_UNKNOWN_QUERY_PARAMETERS],
    response_model=list[DepartmentPublic],
    responses={401: {"model": ErrorBody}},
    summary="The departments that send and receive pushes, with their district branches "
    "(any API key)",
)
async def list_departments(_: CurrentPrincipal) -> list[DepartmentPublic]:
    """The departments that send and receive pushes, the city's and their district branches
    (configuration, not code). Any key reads them; like every call, not an anonymous one."""
    data = load_json("departments.json")
    return [DepartmentPublic(**entry) for entry in data["departments"]] + [
        DepartmentPublic(
            code=branch.code,
            name=branch.name,
            joint_issuer=False,
            parent=branch.parent,
            region=branch.region,
        )
        for branch in district_branches(data)
    ]


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
