"""Registration rules: every refusal names the field and what is accepted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from services.intake.domain.catalogue import catalogues
from services.intake.domain.registration import (
    BidSection,
    Category,
    Deficiency,
    Organisation,
    ProjectRegistration,
    RegistrationRefused,
    check_registration,
    default_supervisor,
)

GOOD = ProjectRegistration(
    project_id="p1",
    unified_deal_code="JN-370113-20230504-0001",
    name="长清区文昌街道老旧小区改造工程",
    category=Category.HOUSING,
    region_code="370113",
    tenderer=Organisation("济南市长清区住房和城乡建设局", "91110000600037341L"),
    budget_fen=1_250_000_000,
    registering_department="ZJJ",
    registered_at=datetime(2023, 5, 4, 2, 0, tzinfo=UTC),
    bid_sections=(BidSection("001", "施工", 1_250_000_000),),
)


def _problems(registration: ProjectRegistration) -> dict[str, str]:
    with pytest.raises(RegistrationRefused) as refused:
        check_registration(registration)
    return refused.value.problems


def test_a_good_registration_passes() -> None:
    check_registration(GOOD)


def test_bad_check_digit_is_refused() -> None:
    problems = _problems(replace(GOOD, tenderer=Organisation("某单位", "91110000600037341X")))
    assert "not a unified social credit code" in problems["tenderer.credit_code"]


def test_unknown_region_lists_the_accepted_ones() -> None:
    problems = _problems(replace(GOOD, region_code="999999"))
    assert "unknown region '999999'" in problems["region_code"]
    assert "370114 章丘区" in problems["region_code"]


def test_off_catalogue_category_names_the_catalogue() -> None:
    problems = _problems(replace(GOOD, category=Category.RURAL_COLLECTIVE_PROPERTY))
    assert "济南市公共资源交易目录" in problems["category"]


def test_zhangqiu_keeps_its_own_catalogue() -> None:
    zhangqiu = catalogues().for_region("370114")
    assert zhangqiu.name == "章丘区公共资源交易目录"
    check_registration(
        replace(GOOD, region_code="370114", category=Category.RURAL_COLLECTIVE_PROPERTY)
    )
    problems = _problems(replace(GOOD, region_code="370114", category=Category.MINING_RIGHTS))
    assert "章丘区公共资源交易目录" in problems["category"]


def test_negative_budget_is_refused() -> None:
    assert "zero or more" in _problems(replace(GOOD, budget_fen=-1))["budget_fen"]


def test_green_channel_without_key_project_is_refused() -> None:
    problems = _problems(replace(GOOD, green_channel=True))
    assert "only for key projects" in problems["green_channel"]
    check_registration(replace(GOOD, green_channel=True, key_project=True))


def test_unknown_supervising_department_is_refused() -> None:
    assert (
        "unknown department"
        in _problems(replace(GOOD, supervise_dept_code="XXX"))["supervise_dept_code"]
    )


def test_the_supervisor_comes_from_the_routing_data() -> None:
    # The city department at city level and where it has no branch (the functional zones).
    assert default_supervisor(Category.HOUSING, "370100") == "ZJJ"
    assert default_supervisor(Category.WATER, "370171") == "SWJ"
    assert default_supervisor(Category.LANDSCAPING, "370113") == "YLJ"
    # Its branch in a district or county that has one.
    assert default_supervisor(Category.HOUSING, "370113") == "ZJJ-CQ"
    assert default_supervisor(Category.LAND_USE_RIGHTS, "370124") == "ZRZYJ-PY"


def test_a_district_branch_may_be_named_as_supervisor() -> None:
    check_registration(replace(GOOD, supervise_dept_code="ZJJ-CQ"))


def test_deficiency_needs_documents_and_a_later_deadline() -> None:
    problems = _problems(replace(GOOD, deficiency=Deficiency((), date(2023, 5, 4))))
    assert "deficiency.missing_documents" in problems
    assert "deficiency.supplement_deadline" in problems


def test_all_problems_are_named_at_once() -> None:
    problems = _problems(replace(GOOD, region_code="1", budget_fen=-5, bid_sections=(), name=" "))
    assert set(problems) == {"region_code", "budget_fen", "bid_sections", "name"}
