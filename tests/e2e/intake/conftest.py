"""Intake's end-to-end tests use the same fixtures as its integration tests."""

from tests.integration.intake.conftest import (
    changqing_archive,
    changqing_dept,
    intake_worker,
    zhangqiu_dept,
)

__all__ = ["changqing_archive", "changqing_dept", "intake_worker", "zhangqiu_dept"]
