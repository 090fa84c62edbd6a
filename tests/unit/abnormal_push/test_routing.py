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
from services.platform_core.reference_data import load_json
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
