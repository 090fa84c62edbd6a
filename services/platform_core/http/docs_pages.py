"""Where the interactive API documentation is served.

FastAPI's /docs and /redoc pages load Swagger UI and ReDoc from a public CDN (jsDelivr), as
scripts running on the API's own origin — the page where a user pastes an API key into
"Authorize". A production API must not run third-party code there: it serves no such pages,
only the OpenAPI document (/openapi.json), which any viewer the office installs can read.
Local runs and tests keep both pages."""

from __future__ import annotations

from typing import TypedDict

from services.platform_core.settings import PlatformSettings, get_settings


class DocsPages(TypedDict):
    docs_url: str | None
    redoc_url: str | None


def docs_pages(settings: PlatformSettings | None = None) -> DocsPages:
    """``FastAPI(**docs_pages(), ...)``: the /docs and /redoc pages, none in production."""
    environment = (settings or get_settings()).environment
    if environment == "production":
        return DocsPages(docs_url=None, redoc_url=None)
    return DocsPages(docs_url="/docs", redoc_url="/redoc")
