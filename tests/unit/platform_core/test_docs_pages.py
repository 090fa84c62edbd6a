"""Production APIs serve no /docs or /redoc page (they load Swagger UI and ReDoc from a CDN onto
the API's origin, where users paste their keys); local runs and tests keep them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from services.platform_core.http.docs_pages import docs_pages
from services.platform_core.settings import PlatformSettings


def test_production_serves_no_documentation_pages() -> None:
    pages = docs_pages(PlatformSettings(environment="production"))
    assert pages == {"docs_url": None, "redoc_url": None}


@pytest.mark.parametrize("environment", ["local", "test"])
def test_local_runs_keep_them(environment: str) -> None:
    pages = docs_pages(PlatformSettings(environment=environment))
    assert pages == {"docs_url": "/docs", "redoc_url": "/redoc"}


@pytest.mark.parametrize("service", ["intake", "abnormal_push", "remote_eval", "reporting"])
def test_every_api_built_in_production_serves_none(service: str) -> None:
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from services.{service}.http_api.app import app; print(app.docs_url, app.redoc_url)",
        ],
        env={**os.environ, "PRT_ENVIRONMENT": "production"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.split() == ["None", "None"], shown.stderr
