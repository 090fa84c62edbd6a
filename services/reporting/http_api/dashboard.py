"""The operator dashboard: a static Chinese page (ECharts from the npm package, served from
this app — no internet needed) fed by a snapshot and a server-sent event stream.

The page and its assets need no key; the data does. The page takes the key from the address's
fragment (``/dashboard#key=…``, which browsers never send to a server) or asks for it, keeps it
in the tab's session storage and clears it from the address bar. Its requests carry the key in
the X-API-Key header — except the event stream: EventSource cannot send headers, so the page
first exchanges its key for a one-time stream ticket (platform_core.auth.stream_tickets) and
opens the stream with that. No route here takes a key from the URL.

Both routes send a reader its view of the one shared snapshot (dashboard.as_seen_by): a
department's push board holds the open pushes abnormal push lets it read — addressed to it, to
its district branches, or escalated to it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from sse_starlette.sse import EventSourceResponse

from services.platform_core.auth.dependencies import api_key_store
from services.platform_core.auth.stream_keys import KeyRecheck
from services.platform_core.auth.stream_tickets import TicketRateExceeded
from services.platform_core.http.errors import ApiError, ErrorBody
from services.reporting.dashboard import SnapshotCache, as_seen_by, snapshot
from services.reporting.http_api.bulletins import reference_labels
from services.reporting.http_api.dependencies import (
    STREAM_TICKETS_PATH,
    Reader,
    ReadModel,
    StreamReader,
    Tickets,
    refuse_key_in_url,
)
from services.reporting.http_api.metrics import checked_period
from services.reporting.http_api.schemas import StreamTicketPublic
from services.reporting.settings import get_reporting_settings

router = APIRouter(tags=["dashboard"])

STATIC = Path(__file__).parent / "static"
REPO = Path(__file__).resolve().parents[3]
# ECharts comes from npm (root package.json); `npm ci` puts it here in a checkout.
ECHARTS_IN_CHECKOUT = REPO / "node_modules" / "echarts" / "dist" / "echarts.min.js"

Period = Annotated[str | None, Query(description="2023-H1 etc.; absent: all time")]
REFUSALS: dict[int | str, dict[str, Any]] = {
    status_code: {"model": ErrorBody} for status_code in (400, 401, 403, 422)
}


# The page may be opened with an older ?key= link: its script clears the key from the address
# bar, but the stylesheet and scripts it loads first would carry the whole address to anything
# that logs the Referer (a proxy's "combined" log). No referrer leaves the page, and the page
# is not framed by another site (a frame could read nothing, but could overlay it).
PAGE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
async def dashboard_page() -> FileResponse:
    return FileResponse(
        STATIC / "dashboard.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS
    )


@router.get("/dashboard/assets/{name}", include_in_schema=False)
async def dashboard_asset(name: str) -> FileResponse:
    if name == "echarts.min.js":
        configured = get_reporting_settings().echarts_path
        echarts = Path(configured) if configured else ECHARTS_IN_CHECKOUT
        if not echarts.exists():
            raise ApiError(503, "asset_missing", f"ECharts is not installed at {echarts}")
        return FileResponse(echarts, media_type="text/javascript", headers=PAGE_HEADERS)
    path = STATIC / name
    if name not in {"dashboard.js", "dashboard.css"} or not path.exists():
        raise ApiError(404, "not_found", f"no dashboard asset {name!r}")
    media = "text/javascript" if name.endswith(".js") else "text/css"
    return FileResponse(path, media_type=f"{media}; charset=utf-8", headers=PAGE_HEADERS)


@router.get(
    "/v1/dashboard/snapshot",
    summary="The dashboard's figures now",
    dependencies=[Depends(refuse_key_in_url)],
    responses=REFUSALS,
)
async def get_snapshot(reader: Reader, model: ReadModel, period: Period = None) -> dict[str, Any]:
    """The figures (the city's), and the open pushes the key may see: every one for an
    operator; for a department key those addressed to it, to its district branches (分级监管)
    or escalated to it (升级督办), as its inbox in abnormal push (``open_pushes`` counts them;
    the board lists the first 100, nearest deadline first)."""
    shared = await snapshot(model, reference_labels(), checked_period(period))
    return as_seen_by(shared, reader)


@router.post(
    STREAM_TICKETS_PATH,
    status_code=201,
    response_model=StreamTicketPublic,
    summary="A one-time ticket that opens the dashboard's event stream from a browser",
    responses={**REFUSALS, 429: {"model": ErrorBody}},
)
async def issue_stream_ticket(reader: Reader, tickets: Tickets) -> StreamTicketPublic:
    """For a browser's EventSource, which cannot send X-API-Key: the ticket, sent as
    ``GET /v1/dashboard/stream?ticket=…``, opens one stream as the key it was issued to, within a
    minute. Clients that can send headers open the stream with X-API-Key instead. A key gets
    at most 30 tickets a minute (429 with Retry-After beyond)."""
    try:
        issued = await tickets.issue(reader)
    except TicketRateExceeded as exc:
        raise ApiError(
            429, "too_many_tickets", str(exc), headers={"Retry-After": str(exc.retry_after_s)}
        ) from exc
    return StreamTicketPublic(ticket=issued.ticket, expires_at=issued.expires_at)


@router.get(
    "/v1/dashboard/stream",
    summary="The dashboard's figures as server-sent events",
    dependencies=[Depends(refuse_key_in_url)],  # before a ticket is spent
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **REFUSALS},
    # The key in the X-API-Key header, or a ticket issued for it (the ticket parameter).
    openapi_extra={"security": [{"ApiKey": []}]},
)
async def stream(
    request: Request, reader: StreamReader, model: ReadModel, period: Period = None
) -> EventSourceResponse:
    """A ``snapshot`` event now and whenever a new event has been applied. Should the key be
    revoked while the stream is open, an ``unauthenticated`` event says so and the stream ends."""
    period = checked_period(period)
    labels = reference_labels()
    settings = get_reporting_settings()
    poll_s, recheck_s = settings.dashboard_poll_s, settings.dashboard_key_recheck_s
    keys = api_key_store(request)
    snapshots: SnapshotCache = request.app.state.dashboard_snapshots

    async def events() -> AsyncIterator[dict[str, str]]:
        seen = -1
        recheck = KeyRecheck(keys, reader.key_id, recheck_s)
        while not await request.is_disconnected():
            if (ended := await recheck.ended()) is not None:
                yield ended
                return
            data = await snapshots.latest(model, labels, period)
            if data["version"] != seen:
                seen = data["version"]
                mine = as_seen_by(data, reader)
                yield {"event": "snapshot", "data": json.dumps(mine, ensure_ascii=False)}
            await asyncio.sleep(poll_s)

    return EventSourceResponse(events(), ping=15)
