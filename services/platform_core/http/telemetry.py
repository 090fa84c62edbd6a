"""FastAPI's OpenTelemetry bridge, as the settings ask (PRT_OPENTELEMETRY).

FastAPI 0.16x checks on every request whether OpenTelemetry providers are configured — about
5 µs of CPU per request spent on nothing when they are not. The services pass
``telemetry=telemetry_config()`` to ``FastAPI(...)``: off by default, on when set.
"""

from __future__ import annotations

from fastapi.telemetry import TelemetryConfig

from services.platform_core.settings import get_settings


def telemetry_config() -> TelemetryConfig:
    enabled = get_settings().opentelemetry
    return {"tracing": enabled, "metrics": enabled, "logs": enabled}
