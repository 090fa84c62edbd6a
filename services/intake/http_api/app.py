"""Intake's FastAPI application: wires the producer and the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.intake.http_api import projects
from services.platform_core.events.topics import LARGE_AMOUNT_RECORDS, PROJECT_EVENTS
from services.platform_core.http.errors import install_error_handlers
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.publisher import EventPublisher
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    await ensure_topics(settings, [PROJECT_EVENTS, LARGE_AMOUNT_RECORDS])
    producer = create_producer(settings, client_id="intake-api")
    await producer.start()
    app.state.publisher = EventPublisher(producer)
    try:
        yield
    finally:
        await producer.stop()


app = FastAPI(title="济南公共资源交易 · intake (进场登记)", version="1", lifespan=lifespan)
install_error_handlers(app)
app.include_router(projects.router)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
