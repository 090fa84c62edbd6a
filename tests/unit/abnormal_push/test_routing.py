"""Routing cases from the table, and a change of the routing data changes routing."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from services.abnormal_push.domain.errors import RoutingDataError
from services.abnormal_push.domain.routing import (
    PushRole,
    RoutingReason,
    RoutingTable,
    push_id_for,
    route,
)
from services.platform_core.reference_data import load_json, regions
from tests.unit.abnormal_push.factories import report


@pytest.fixture
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = load_json("departments.json")
    return copy.deepcopy(loaded)


def _routes(table: RoutingTable, **kwargs: Any) -> dict[str, tuple[RoutingReason, PushRole]]:
    return {a.department: (a.reason, a.role) for a in route(report(**kwargs), table)}


@pytest.mark.parametrize(
    ("category", "supervisor"),
    [
        ("HOUSING", "ZJJ"),
        ("MUNICIPAL", "ZJJ"),
        ("TRANSPORT", "JTJ"),
        ("WATER", "SWJ"),
        ("LANDSCAPING", "YLJ"),
        ("GOVERNMENT_PROCUREMENT", "CZJ"),
        ("SOE_PROPERTY_RIGHTS", "GZW"),
        ("LAND_USE_RIGHTS", "ZRZYJ"),
        ("MINING_RIGHTS", "ZRZYJ"),
        ("RURAL_COLLECTIVE_PROPERTY", "NYNCJ"),
        ("EMISSION_RIGHTS", "STHJJ"),
        ("ASSET_DISPOSAL", "CZJ"),
    ],
)
def test_category_supervisor_handles_and_oversight_gets_copies(
    data: dict[str, Any], category: str, supervisor: str
) -> None:
    routes = _routes(RoutingTable.from_data(data), category=category)
    assert routes == {
        supervisor: (RoutingReason.CATEGORY_SUPERVISOR, PushRole.HANDLER),
        "JYZX": (RoutingReason.OVERSIGHT, PushRole.COPY),
        "FGW": (RoutingReason.OVERSIGHT, PushRole.COPY),
    }


def test_unknown_category_goes_to_the_other_supervisor_who_handles_not_copies(
    data: dict[str, Any],
) -> None:
    routes = _routes(RoutingTable.from_data(data), category="")
    # FGW supervises OTHER and also sees every push: one push, as handler.
    assert routes == {
        "FGW": (RoutingReason.CATEGORY_SUPERVISOR, PushRole.HANDLER),
        "JYZX": (RoutingReason.OVERSIGHT, PushRole.COPY),
    }


def test_case_nature_adds_police_discipline_and_audit(data: dict[str, Any]) -> None:
    routes = _routes(
        RoutingTable.from_data(data), category="WATER", crime=True, misconduct=True, funds=True
    )
    assert routes["GAJ"] == (RoutingReason.SUSPECTED_CRIME, PushRole.HANDLER)
    assert routes["JWJW"] == (RoutingReason.OFFICIAL_MISCONDUCT, PushRole.HANDLER)
    assert routes["SJJ"] == (RoutingReason.MISUSE_OF_FUNDS, PushRole.HANDLER)
    assert set(routes) == {"SWJ", "GAJ", "JWJW", "SJJ", "JYZX", "FGW"}


def test_changing_the_data_changes_routing_without_code(data: dict[str, Any]) -> None:
    data["supervision_by_category"]["HOUSING"] = "CGJ"
    data["see_every_push"] = ["FGW"]
    data["added_by_case_nature"]["suspected_crime"] = "FY"
    routes = _routes(RoutingTable.from_data(data), category="HOUSING", crime=True)
    assert set(routes) == {"CGJ", "FGW", "FY"}


def test_push_ids_are_fixed_by_report_and_department(data: dict[str, Any]) -> None:
    table = RoutingTable.from_data(data)
    first = route(report(), table)
    again = route(report(), table)
    assert [a.push_id for a in first] == [a.push_id for a in again]
    assert len({a.push_id for a in first}) == len(first)
    assert first[0].push_id == push_id_for("r-1", first[0].department)


def test_a_table_naming_an_unknown_department_is_refused(data: dict[str, Any]) -> None:
    data["supervision_by_category"]["WATER"] = "NOPE"
    with pytest.raises(RoutingDataError, match="NOPE"):
        RoutingTable.from_data(data)


# --- tiered supervision (分级监管): district and county branches -----------------------------


@pytest.mark.parametrize(
    ("category", "region", "branch", "city"),
    [
        ("HOUSING", "370113", "ZJJ-CQ", "ZJJ"),  # 长清区住房和城乡建设局
        ("TRANSPORT", "370114", "JTJ-ZQ", "JTJ"),  # 章丘区交通运输局
        ("GOVERNMENT_PROCUREMENT", "370126", "CZJ-SH", "CZJ"),  # 商河县财政局
        ("LAND_USE_RIGHTS", "370116", "ZRZYJ-LW", "ZRZYJ"),  # 济南市自然资源和规划局莱芜分局
        ("RURAL_COLLECTIVE_PROPERTY", "370117", "NYNCJ-GC", "NYNCJ"),  # 钢城区农业农村局
    ],
)
def test_a_district_project_is_handled_by_the_branch_and_copied_to_the_city_department(
    data: dict[str, Any], category: str, region: str, branch: str, city: str
) -> None:
    routes = _routes(RoutingTable.from_data(data), category=category, region=region)
    assert routes == {
        branch: (RoutingReason.CATEGORY_SUPERVISOR, PushRole.HANDLER),
        city: (RoutingReason.BRANCH_OVERSIGHT, PushRole.COPY),
        "JYZX": (RoutingReason.OVERSIGHT, PushRole.COPY),
        "FGW": (RoutingReason.OVERSIGHT, PushRole.COPY),
    }


@pytest.mark.parametrize(
    ("category", "region", "handler"),
    [
        ("HOUSING", "370100", "ZJJ"),  # 市本级
        ("HOUSING", "370171", "ZJJ"),  # 高新区: no branch in the data
        ("HOUSING", "", "ZJJ"),  # region unknown (a report filed before it was asked for)
        ("LANDSCAPING", "370113", "YLJ"),  # 园林 has no branch in 长清区
        ("", "370113", "FGW"),  # OTHER: the joint-conference office
    ],
)
def test_without_a_branch_there_the_city_department_handles(
    data: dict[str, Any], category: str, region: str, handler: str
) -> None:
    routes = _routes(RoutingTable.from_data(data), category=category, region=region)
    assert routes[handler] == (RoutingReason.CATEGORY_SUPERVISOR, PushRole.HANDLER)
    assert [d for d, (_, role) in routes.items() if role is PushRole.HANDLER] == [handler]
    assert RoutingReason.BRANCH_OVERSIGHT not in {reason for reason, _ in routes.values()}


def test_case_nature_stays_with_the_city_beside_the_branch(data: dict[str, Any]) -> None:
    routes = _routes(RoutingTable.from_data(data), category="WATER", region="370115", crime=True)
    assert routes["SWJ-JY"] == (RoutingReason.CATEGORY_SUPERVISOR, PushRole.HANDLER)
    assert routes["GAJ"] == (RoutingReason.SUSPECTED_CRIME, PushRole.HANDLER)
    assert routes["SWJ"] == (RoutingReason.BRANCH_OVERSIGHT, PushRole.COPY)


def test_branches_are_data(data: dict[str, Any]) -> None:
    data["district_branches"].append(
        {"code": "YLJ-CQ", "name": "长清区园林绿化局", "parent": "YLJ", "region": "370113"}
    )
    routes = _routes(RoutingTable.from_data(data), category="LANDSCAPING", region="370113")
    assert routes["YLJ-CQ"] == (RoutingReason.CATEGORY_SUPERVISOR, PushRole.HANDLER)
    assert routes["YLJ"] == (RoutingReason.BRANCH_OVERSIGHT, PushRole.COPY)


def test_every_branch_belongs_to_a_department_and_a_region_of_the_registry(
    data: dict[str, Any],
) -> None:
    table = RoutingTable.from_data(data)
    known_regions = set(regions())
    for entry in data["district_branches"]:
        assert entry["parent"] in data["supervision_by_category"].values(), entry
        assert entry["region"] in known_regions, entry
        assert table.departments[entry["code"]] == entry["name"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"parent": "NOPE"}, "unknown department 'NOPE'"),
        ({"code": "ZJJ"}, "used twice"),
        ({"code": "ZJJ-CQ2"}, "two branches in region 370113"),
    ],
)
def test_a_table_with_a_bad_branch_is_refused(
    data: dict[str, Any], change: dict[str, str], message: str
) -> None:
    branch = {"code": "ZJJ-X", "name": "某分局", "parent": "ZJJ", "region": "370113", **change}
    data["district_branches"].append(branch)
    with pytest.raises(RoutingDataError, match=message):
        RoutingTable.from_data(data)


def test_a_branch_knows_its_city_department(data: dict[str, Any]) -> None:
    table = RoutingTable.from_data(data)
    assert table.parent_of("ZJJ-CQ") == "ZJJ"
    assert table.parent_of("ZRZYJ-LW") == "ZRZYJ"
    assert table.parent_of("ZJJ") is None


def test_a_branchs_first_escalation_goes_to_its_city_department(data: dict[str, Any]) -> None:
    """分级监管: the city department chases its late branch first; the joint-conference office
    takes the branch's later escalations, and every one of a city department's push."""
    table = RoutingTable.from_data(data)
    office = table.joint_conference_office
    assert table.escalation_target("ZJJ-CQ", 1) == "ZJJ"
    assert table.escalation_target("ZJJ-CQ", 2) == office
    assert table.escalation_target("ZJJ", 1) == office
    assert table.escalation_target("ZJJ", 2) == office


def test_who_receives_escalations(data: dict[str, Any]) -> None:
    table = RoutingTable.from_data(data)
    assert table.receives_escalations(table.joint_conference_office)
    assert table.receives_escalations("ZJJ")  # has district branches
    assert not table.receives_escalations("ZJJ-CQ")
    assert not table.receives_escalations(table.trading_centre)


def test_a_city_department_lists_its_branches(data: dict[str, Any]) -> None:
    table = RoutingTable.from_data(data)
    branches = table.branches_of("ZJJ")
    assert "ZJJ-CQ" in branches and len(branches) == len(set(branches))
    assert all(table.parent_of(branch) == "ZJJ" for branch in branches)
    assert table.branches_of("ZJJ-CQ") == ()
