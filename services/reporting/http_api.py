"""Reporting's HTTP edge: the metrics read model, for operators and dashboards.

Run: uvicorn services.reporting.http_api:app
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from pydantic import BaseModel
from redis.asyncio import Redis

from services.platform_core.http.errors import install_error_handlers
from services.platform_core.settings import get_settings
from services.reporting.read_model import MetricsReadModel


class CounterPublic(BaseModel):
    metric: str
    dimensions: dict[str, str]
    value: int


class MetricsPublic(BaseModel):
    counters: list[CounterPublic]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    redis = Redis.from_url(get_settings().redis_url)
    app.state.read_model = MetricsReadModel(redis)
    try:
        yield
    finally:
        await redis.aclose()


def read_model(request: Request) -> MetricsReadModel:
    model: MetricsReadModel = request.app.state.read_model
    return model


app = FastAPI(title="济南公共资源交易 · reporting", version="1", lifespan=lifespan)
install_error_handlers(app)


@app.get("/v1/metrics", response_model=MetricsPublic)
async def get_metrics(
    model: Annotated[MetricsReadModel, Depends(read_model)],
    metric: Annotated[str | None, Query(description="only this metric, e.g. registrations")] = None,
    by: Annotated[
        str | None,
        Query(
            description="only counters cut by exactly these dimensions, comma-separated, "
            "e.g. region or region,category; empty for totals"
        ),
    ] = None,
) -> MetricsPublic:
    wanted = None if by is None else frozenset(filter(None, by.split(",")))
    counters = [
        CounterPublic(metric=key.metric, dimensions=dict(key.dimensions), value=value)
        for key, value in sorted(
            (await model.counters(metric)).items(), key=lambda kv: kv[0].encode()
        )
        if wanted is None or frozenset(name for name, _ in key.dimensions) == wanted
    ]
    return MetricsPublic(counters=counters)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
