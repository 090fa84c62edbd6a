"""Entity records stay with the departments departments.json lists (not derived from receiving
a push); a refused department is told who may read them and whom to ask."""

from __future__ import annotations

import pytest

from services.abnormal_push.domain.routing import RoutingTable
from services.abnormal_push.http_api.access import check_may_read_entity_records
from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.http.errors import ApiError
from services.platform_core.reference_data import load_json


@pytest.fixture(scope="module")
def table() -> RoutingTable:
    return RoutingTable.from_data(load_json("departments.json"))


def _department(code: str) -> Principal:
    return Principal("k-1", PrincipalKind.DEPARTMENT, code, code)


def test_listed_departments_and_operators_read_records(table: RoutingTable) -> None:
    check_may_read_entity_records(_department("ZJJ"), table)
    operator = Principal("k-2", PrincipalKind.OPERATOR, "duty-1", "值班员")
    check_may_read_entity_records(operator, table)


def test_a_branch_is_told_who_reads_records_and_to_ask_its_city_department(
    table: RoutingTable,
) -> None:
    with pytest.raises(ApiError) as refused:
        check_may_read_entity_records(_department("ZJJ-ZQ"), table)
    assert refused.value.status == 403
    assert refused.value.code == "record_not_entitled"
    message = refused.value.message
    for reader in table.entity_record_readers:
        assert reader in message
    assert "The city department supervising you, ZJJ 市住房城乡建设局" in message
    assert f"joint-conference office ({table.joint_conference_office}" in message
    assert "to add ZJJ-ZQ to that list" in message


def test_a_department_without_a_reading_parent_is_sent_to_the_office(table: RoutingTable) -> None:
    with pytest.raises(ApiError) as refused:
        check_may_read_entity_records(_department("CGJ"), table)
    assert "supervising you" not in refused.value.message
    assert "To read records, ask the joint-conference office" in refused.value.message
