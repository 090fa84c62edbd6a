"""Remote evaluation's FastAPI application.

So far it serves the partner cities (沿黄九市) whose venues take part; venues, requests, draws and
partner decisions come with their own routers.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from services.platform_core.http.errors import install_error_handlers
from services.platform_core.reference_data import yellow_river_cities


class PartnerCityPublic(BaseModel):
    code: str
    name: str


app = FastAPI(title="济南公共资源交易 · remote evaluation (远程异地评标)", version="1")
install_error_handlers(app)


@app.get("/v1/partner-cities", response_model=list[PartnerCityPublic])
async def list_partner_cities() -> list[PartnerCityPublic]:
    """The Yellow River cities (沿黄九市) that host or serve remote evaluations."""
    return [PartnerCityPublic(code=c, name=n) for c, n in yellow_river_cities().items()]


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
