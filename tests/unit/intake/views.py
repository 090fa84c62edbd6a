"""A project's view as the intake tests start from: a 长清区 housing project registered by
住建局, one section, nothing stepped yet; each test changes what it is about."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from services.intake.domain.lifecycle import ProjectView, SectionView

REGISTERED_AT = datetime(2023, 5, 4, 2, 0, tzinfo=UTC)  # 10:00 Beijing time

_BASE = ProjectView(
    project_id="p1",
    unified_deal_code="JN-1",
    name="长清区文昌街道老旧小区改造工程",
    category="HOUSING",
    region_code="370113",
    registering_department="ZJJ",
    supervise_dept_code="ZJJ",
    tenderer_name="济南城市建设集团有限公司",
    tenderer_credit_code="91110000600037341L",
    budget_fen=100,
    key_project=False,
    green_channel=False,
    commitment_pledged=False,
    registered_at=REGISTERED_AT,
    sections=(SectionView("001"),),
)


def project_view(**changes: object) -> ProjectView:
    """The base view with ``changes`` (ProjectView's fields)."""
    return replace(_BASE, **changes)  # type: ignore[arg-type]
