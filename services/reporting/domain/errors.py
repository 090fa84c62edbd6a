"""Reporting's errors, under the platform's hierarchy."""

from __future__ import annotations

from services.platform_core.errors import PlatformError


class ReportingError(PlatformError):
    """Root of reporting's deliberate errors."""


class UnknownMetric(ReportingError):
    """A metric key the catalogue does not define."""
