"""The operator dashboard: a static Chinese page (ECharts from the npm package, served from
this app — no internet needed) fed by a snapshot and a server-sent event stream.

The page and its assets need no key; the data does. EventSource cannot send headers, so the
data routes take the key as the ``key`` query parameter (the page asks for it once).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from sse_starlette.sse import EventSourceResponse

from services.platform_core.http.errors import ApiError
from services.reporting.dashboard import snapshot
from services.reporting.http_api.bulletins import reference_labels
from services.reporting.http_api.dependencies import QueryReader, ReadModel
from services.reporting.http_api.metrics import checked_period
from services.reporting.settings import get_reporting_settings

router = APIRouter(tags=["dashboard"])

STATIC = Path(__file__).parent / "static"
REPO = Path(__file__).resolve().parents[3]
# ECharts comes from npm (root package.json); `npm ci` puts it here in a checkout.
ECHARTS_IN_CHECKOUT = REPO / "node_modules" / "echarts" / "dist" / "echarts.min.js"

Period = Annotated[str | None, Query(description="2023-H1 etc.; absent: all time")]


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
async def dashboard_page() -> FileResponse:
    return FileResponse(STATIC / "dashboard.html", media_type="text/html; charset=utf-8")


@router.get("/dashboard/assets/{name}", include_in_schema=False)
async def dashboard_asset(name: str) -> FileResponse:
    if name == "echarts.min.js":
        configured = get_reporting_settings().echarts_path
        echarts = Path(configured) if configured else ECHARTS_IN_CHECKOUT
        if not echarts.exists():
            raise ApiError(503, "asset_missing", f"ECharts is not installed at {echarts}")
        return FileResponse(echarts, media_type="text/javascript")
    path = STATIC / name
    if name not in {"dashboard.js", "dashboard.css"} or not path.exists():
        raise ApiError(404, "not_found", f"no dashboard asset {name!r}")
    media = "text/javascript" if name.endswith(".js") else "text/css"
    return FileResponse(path, media_type=f"{media}; charset=utf-8")


@router.get("/v1/dashboard/snapshot")
async def get_snapshot(_: QueryReader, model: ReadModel, period: Period = None) -> dict[str, Any]:
    return await snapshot(model, reference_labels(), checked_period(period))


@router.get("/v1/dashboard/stream")
async def stream(
    request: Request, _: QueryReader, model: ReadModel, period: Period = None
) -> EventSourceResponse:
    """A ``snapshot`` event now and whenever a new event has been applied."""
    period = checked_period(period)
    labels = reference_labels()
    poll_s = get_reporting_settings().dashboard_poll_s

    async def events() -> AsyncIterator[dict[str, str]]:
        seen = -1
        while not await request.is_disconnected():
            version = await model.version()
            if version != seen:
                seen = version
                data = await snapshot(model, labels, period)
                yield {"event": "snapshot", "data": json.dumps(data, ensure_ascii=False)}
            await asyncio.sleep(poll_s)

    return EventSourceResponse(events(), ping=15)
