"""Reporting's HTTP edge: metrics with evidence, the bulletin, the operator dashboard.

Run: uvicorn services.reporting.http_api:app
"""

from services.reporting.http_api.app import app

__all__ = ["app"]
