"""Reporting's FastAPI application: wires Redis and the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.platform_core.auth import caller_api
from services.platform_core.auth.dependencies import share_api_key_store
from services.platform_core.auth.stream_tickets import StreamTickets
from services.platform_core.garbage_collection import collect_less_often_for_good
from services.platform_core.http.access_log import install_access_log_redaction
from services.platform_core.http.docs_pages import docs_pages
from services.platform_core.http.errors import install_error_handlers
from services.platform_core.http.readiness import ReadinessProbe, install_readiness, redis_check
from services.platform_core.http.telemetry import telemetry_config
from services.platform_core.redis_pipelining import AutoPipelinedRedis
from services.platform_core.settings import get_settings
from services.reporting.dashboard import SnapshotCache
from services.reporting.http_api import bulletins, dashboard, metrics, operations
from services.reporting.read_model import MetricsReadModel
from services.reporting.settings import get_reporting_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    redis = AutoPipelinedRedis.from_url(get_settings().redis_url)
    app.state.read_model = MetricsReadModel(redis, get_reporting_settings().key_prefix)
    share_api_key_store(app, redis)
    # Redis only: every route but the stream-health panel's reads Redis, and that panel answers
    # 503 event_log_unavailable on its own while the brokers cannot be read.
    app.state.readiness = ReadinessProbe({"redis": redis_check(redis)})
    app.state.stream_tickets = StreamTickets(redis, app.state.api_key_store)
    app.state.dashboard_snapshots = SnapshotCache(get_reporting_settings().dashboard_refresh_s)
    collect_less_often_for_good()  # everything start-up loaded is in place by now
    try:
        yield
    finally:
        await redis.aclose()


app = FastAPI(
    title="济南公共资源交易 · reporting (通报)",
    version="1",
    lifespan=lifespan,
    telemetry=telemetry_config(),
    **docs_pages(),
    description="Figures computed from every event, each with the events behind it; the "
    "half-year bulletin; the operator dashboard. Operators and departments read with their "
    "API key; partners are refused.",
)
install_error_handlers(app)
install_readiness(app)  # /readyz: Redis answers (the readiness probe)
install_access_log_redaction()  # should a caller still put an API key in a query string
app.include_router(caller_api.router)
app.include_router(metrics.router)
app.include_router(bulletins.router)
app.include_router(dashboard.router)
app.include_router(operations.router)


@app.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
