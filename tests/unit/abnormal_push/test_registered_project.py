"""A filed report is routed on its project's registration in intake where abnormal push has
seen it: what the report leaves out is filled from it, a contradiction is refused; an unseen
project (应进未进, or registered seconds ago) is routed on the report's own fields, flagged."""

from __future__ import annotations

import pytest

from services.abnormal_push.domain.detection.model import ProjectFacts
from services.abnormal_push.domain.errors import ReportRefused
from services.abnormal_push.domain.registered_project import (
    ProjectMismatch,
    ProjectRouting,
    Registration,
    project_routing,
    registration_of,
)
from services.abnormal_push.domain.routing import PushRole, RoutingTable, route
from services.platform_core.reference_data import load_json
from tests.unit.abnormal_push.factories import report

ZHANGQIU = "370114"
LIXIA = "370102"
HOUSING_IN_ZHANGQIU = Registration("p-1", "HOUSING", ZHANGQIU)


def _routing(
    category: str | None,
    region: str | None,
    registration: Registration | None = HOUSING_IN_ZHANGQIU,
    reporter_region: str = "",
) -> ProjectRouting:
    return project_routing(
        stated_category=category,
        stated_region=region,
        reporter_region=reporter_region,
        registration=registration,
    )


def test_fields_left_out_are_taken_from_the_registration() -> None:
    assert _routing(None, None) == ProjectRouting("HOUSING", ZHANGQIU, registered=True)


def test_the_registration_wins_over_the_reporters_own_region() -> None:
    # A 历下区 branch reporting on a 章丘区 project: the project's region, not the reporter's.
    assert _routing(None, None, reporter_region=LIXIA).region_code == ZHANGQIU


def test_stating_the_registered_values_is_accepted() -> None:
    assert _routing("HOUSING", ZHANGQIU) == ProjectRouting("HOUSING", ZHANGQIU, registered=True)


@pytest.mark.parametrize(
    ("category", "region", "fields"),
    [
        ("WATER", None, {"project_category"}),
        (None, LIXIA, {"region_code"}),
        ("WATER", LIXIA, {"project_category", "region_code"}),
        ("HOUSING", "370100", {"region_code"}),  # city level is a region too
    ],
)
def test_a_contradiction_of_the_registration_is_refused_naming_the_registered_values(
    category: str | None, region: str | None, fields: set[str]
) -> None:
    with pytest.raises(ProjectMismatch) as refused:
        _routing(category, region)
    assert set(refused.value.problems) == fields
    assert refused.value.registration == HOUSING_IN_ZHANGQIU
    if "project_category" in fields:
        assert "registered in intake as HOUSING" in refused.value.problems["project_category"]
    if "region_code" in fields:
        assert "370114 章丘区" in refused.value.problems["region_code"]


def test_an_unseen_project_is_routed_on_the_reports_fields_and_flagged() -> None:
    assert _routing("WATER", LIXIA, registration=None) == ProjectRouting(
        "WATER", LIXIA, registered=False
    )


def test_an_unseen_project_without_a_region_takes_the_reporters_own() -> None:
    routed = _routing("WATER", None, registration=None, reporter_region=ZHANGQIU)
    assert routed == ProjectRouting("WATER", ZHANGQIU, registered=False)
    assert _routing("WATER", None, registration=None).region_code == ""


def test_an_unseen_project_needs_the_reports_category() -> None:
    with pytest.raises(ReportRefused) as refused:
        _routing(None, ZHANGQIU, registration=None)
    assert set(refused.value.problems) == {"project_category"}
    assert "has not seen" in refused.value.problems["project_category"]


def test_a_registration_kept_without_its_region_takes_the_reports() -> None:
    # Facts stored before detection kept regions: the category is intake's, the region is not
    # known here, so nothing contradicts the report's.
    legacy = Registration("p-1", "HOUSING", "")
    assert _routing(None, LIXIA, registration=legacy) == ProjectRouting(
        "HOUSING", LIXIA, registered=True
    )
    with pytest.raises(ProjectMismatch):
        _routing("WATER", LIXIA, registration=legacy)


def test_only_facts_with_a_category_are_a_registration() -> None:
    assert registration_of(None) is None
    # A 依法必须招标 declaration read before the registration leaves facts without a category.
    assert registration_of(ProjectFacts("p-1", tender_required_by_law=True)) is None
    seen = ProjectFacts("p-1", name="某工程", category="HOUSING", region_code=ZHANGQIU)
    assert registration_of(seen) == HOUSING_IN_ZHANGQIU


def test_a_report_left_without_region_reaches_the_supervising_branch() -> None:
    """The review's case: the trading centre's key names the project and leaves the region out;
    章丘区's housing branch handles it, not the city department."""
    table = RoutingTable.from_data(load_json("departments.json"))
    routed = _routing(None, None)
    addresses = route(report(routed.category, region=routed.region_code), table)
    assert [a.department for a in addresses if a.role is PushRole.HANDLER] == ["ZJJ-ZQ"]
