"""Abnormal push's FastAPI application.

So far it serves the department registry that push routing will use; reports, inboxes,
sign-for and feedback come with their own routers.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel

from services.platform_core.http.errors import install_error_handlers
from services.platform_core.reference_data import load_json


class DepartmentPublic(BaseModel):
    code: str
    name: str
    joint_issuer: bool


app = FastAPI(title="济南公共资源交易 · abnormal push (异常行为信息推送)", version="1")
install_error_handlers(app)


@app.get("/v1/departments", response_model=list[DepartmentPublic])
async def list_departments() -> list[DepartmentPublic]:
    """The departments that send and receive pushes (configuration, not code)."""
    return [DepartmentPublic(**entry) for entry in load_json("departments.json")["departments"]]


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
