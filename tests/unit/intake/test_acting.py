"""Who may record a project's lifecycle steps (domain.acting, and the edge's may_act): the
registering department, the supervising department, the city department over either when it is
a district branch, the trading centre; nobody else, however its regions overlap the project's."""

from __future__ import annotations

import pytest

from services.intake.domain.acting import (
    ActingAuthority,
    NotYourProject,
    acting_authority,
    check_may_act,
    project_actors,
)
from services.intake.domain.lifecycle import ProjectView
from services.intake.domain.registration import Category, default_supervisor
from services.intake.http_api.lifecycle import may_act
from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.http.errors import ApiError
from tests.unit.intake.views import project_view

LIXIA = "370102"

# As the security review reproduced it: 市住建局 registered a 历下区 housing project, which its
# 历下区 branch supervises (分级监管); 市交通运输局 registered a 历下区 transport project.
ZJJ_PROJECT = project_view(
    region_code=LIXIA,
    category="HOUSING",
    registering_department="ZJJ",
    supervise_dept_code=default_supervisor(Category.HOUSING, LIXIA),
)
JTJ_PROJECT = project_view(
    region_code=LIXIA,
    category="TRANSPORT",
    registering_department="JTJ",
    supervise_dept_code=default_supervisor(Category.TRANSPORT, LIXIA),
)
# Registered by a branch (长清区住建局), supervised by a city department named at registration.
BRANCH_PROJECT = project_view(
    region_code="370113", registering_department="ZJJ-CQ", supervise_dept_code="CZJ"
)


def test_the_reference_data_names_the_trading_centre_and_the_branches_parents() -> None:
    authority = acting_authority()
    assert authority.trading_centre == "JYZX"
    assert authority.parents["ZJJ-LX"] == "ZJJ"
    assert authority.parents["JTJ-LX"] == "JTJ"
    assert "ZJJ" not in authority.parents  # a city department has no parent
    assert ZJJ_PROJECT.supervise_dept_code == "ZJJ-LX"
    assert JTJ_PROJECT.supervise_dept_code == "JTJ-LX"


@pytest.mark.parametrize(
    ("department", "project", "allowed", "why"),
    [
        ("ZJJ", ZJJ_PROJECT, True, "registering department"),
        ("ZJJ-LX", ZJJ_PROJECT, True, "supervising department (the district branch)"),
        ("JYZX", ZJJ_PROJECT, True, "the trading centre"),
        ("JTJ", ZJJ_PROJECT, False, "another city department of the region"),
        ("JTJ-LX", ZJJ_PROJECT, False, "another department's branch in the region"),
        ("JTJ", JTJ_PROJECT, True, "registering department"),
        ("JTJ-LX", JTJ_PROJECT, True, "supervising department (the district branch)"),
        ("ZJJ-LX", JTJ_PROJECT, False, "another department's branch in the region"),
        ("ZJJ", JTJ_PROJECT, False, "another city department of the region"),
        ("ZJJ-CQ", BRANCH_PROJECT, True, "registering department (a branch)"),
        ("ZJJ", BRANCH_PROJECT, True, "city department of the registering branch"),
        ("CZJ", BRANCH_PROJECT, True, "supervising department"),
        ("CZJ-CQ", BRANCH_PROJECT, False, "a branch of the supervisor is not its parent"),
        ("JYZX-CQ", BRANCH_PROJECT, True, "the trading centre's sub-centre of the district"),
        ("FGW", BRANCH_PROJECT, False, "the joint-conference office's department"),
    ],
)
def test_who_may_record_a_project_s_steps(
    department: str, project: ProjectView, allowed: bool, why: str
) -> None:
    if allowed:
        check_may_act(department, project, acting_authority())
    else:
        with pytest.raises(NotYourProject):
            check_may_act(department, project, acting_authority())


def test_the_supervisor_s_parent_may_act_too() -> None:
    # 市住建局 over a project registered by 市交通运输局 whose supervisor is 历下区住建局.
    project = project_view(
        region_code=LIXIA, registering_department="JTJ", supervise_dept_code="ZJJ-LX"
    )
    assert project_actors(project, acting_authority()) == ("JTJ", "ZJJ-LX", "ZJJ", "JYZX")


def test_the_refusal_names_who_may_act() -> None:
    with pytest.raises(NotYourProject) as refused:
        check_may_act("JTJ", ZJJ_PROJECT, acting_authority())
    assert refused.value.actors == ("ZJJ", "ZJJ-LX", "JYZX")
    message = str(refused.value)
    assert "registered by ZJJ" in message
    assert "supervised by ZJJ-LX" in message
    assert "only by ZJJ, ZJJ-LX, JYZX (or the trading centre's sub-centre" in message
    assert message.endswith("not by JTJ")


def test_a_record_without_a_supervisor_names_no_empty_department() -> None:
    project = project_view(registering_department="ZJJ", supervise_dept_code="")
    authority = ActingAuthority(trading_centre="JYZX", parents={})
    assert project_actors(project, authority) == ("ZJJ", "JYZX")
    with pytest.raises(NotYourProject):
        check_may_act("", project, authority)


def _department(code: str, *regions: str) -> Principal:
    return Principal("k1", PrincipalKind.DEPARTMENT, code, code, frozenset(regions))


def test_the_edge_refuses_another_department_of_the_region_with_not_your_project() -> None:
    with pytest.raises(ApiError) as refused:
        may_act(_department("JTJ", LIXIA, "370103"), ZJJ_PROJECT)
    assert refused.value.status == 403
    assert refused.value.code == "not_your_project"
    assert "ZJJ, ZJJ-LX, JYZX" in refused.value.message
    may_act(_department("ZJJ", LIXIA), ZJJ_PROJECT)
    may_act(_department("JYZX", LIXIA), ZJJ_PROJECT)


def test_the_region_is_still_checked_first() -> None:
    with pytest.raises(ApiError) as refused:
        may_act(_department("ZJJ", "370113"), ZJJ_PROJECT)
    assert (refused.value.status, refused.value.code) == (403, "forbidden_region")


@pytest.mark.parametrize("kind", [PrincipalKind.OPERATOR, PrincipalKind.PARTNER])
def test_operators_and_partners_never_act(kind: PrincipalKind) -> None:
    with pytest.raises(ApiError) as refused:
        may_act(Principal("k1", kind, "JYZX", "值班员"), ZJJ_PROJECT)
    assert (refused.value.status, refused.value.code) == (403, "forbidden")
