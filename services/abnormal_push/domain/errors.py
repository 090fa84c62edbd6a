"""The abnormal push service's refusals, under the platform's error hierarchy."""

from __future__ import annotations

from services.platform_core.errors import PlatformError


class AbnormalPushError(PlatformError):
    """Root of abnormal push's deliberate errors."""


class ReportRefused(AbnormalPushError):
    """A report that cannot be filed; ``problems`` maps each bad field to the reason."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in problems.items()))
        self.problems = problems


class PushActionRefused(AbnormalPushError):
    """A step on a push that its state or the acting department does not allow.

    ``code`` is stable for programs (``not_addressed_to_you``, ``wrong_status`` ...).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class RoutingDataError(AbnormalPushError):
    """The routing table (departments.json) is inconsistent, e.g. names an unknown department."""


class RuleDataError(AbnormalPushError):
    """A detection rule's data file is missing or inconsistent."""
