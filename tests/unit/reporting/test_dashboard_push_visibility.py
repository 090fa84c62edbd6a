"""The dashboard's push board shows each department key the open pushes abnormal push itself lets
that department read: its own, its district branches' (分级监管), those escalated to it
(升级督办). The expected views are derived from abnormal push's own code — its routing of the
reports (departments.json), its fold of the push events, its read check — and reporting is fed
the same events through the topic's codec, so the two cannot drift apart unnoticed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.protobuf.message import Message

from services.abnormal_push.domain.pushes import (
    Deadline,
    HandlingResult,
    Push,
    PushEscalated,
    PushEvent,
    PushFeedbackGiven,
    PushOverdue,
    PushRouted,
    PushSignedFor,
    apply_push_event,
)
from services.abnormal_push.domain.reports import (
    AbnormalReport,
    BehaviourType,
    ReportSource,
    Severity,
)
from services.abnormal_push.domain.routing import PushRole, RoutingTable, route
from services.abnormal_push.event_codec import push_event_to_message
from services.abnormal_push.http_api.access import check_may_read_push
from services.abnormal_push.service_config import load_routing_table
from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.topics import ABNORMAL_PUSHES
from services.platform_core.http.errors import ApiError
from services.reporting.dashboard import BOARD_READERS, as_seen_by, snapshot
from services.reporting.domain import facts
from services.reporting.domain.bulletin import Labels
from services.reporting.event_codec import fact_from_envelope
from tests.unit.reporting.factories import at, event_id, fold, ledger_read_model, routed

ROUTED_AT = datetime(2023, 3, 1, 1, 0, tzinfo=UTC)
LIXIA = "370102"  # 历下区: 住建, 交通 and 水务 have branches there (departments.json)
CITY_LEVEL = "370100"  # no branch: the city department handles it

OPERATOR = Principal("k-op", PrincipalKind.OPERATOR, "op-duty", "联席办值班员")


def _department(code: str) -> Principal:
    return Principal(f"k-{code}", PrincipalKind.DEPARTMENT, code, code, frozenset({"370100"}))


def _report(report_id: str, category: str, region: str, *, crime: bool = False) -> AbnormalReport:
    return AbnormalReport(
        report_id=report_id,
        filed_at=ROUTED_AT,
        reporting_department="JYZX",
        source=ReportSource.MANUAL,
        subjects=(),
        project_id=f"project-{report_id}",
        bid_section_code="",
        project_category=category,
        behaviour_type=BehaviourType.COLLUSION_SAME_PREPARER,
        severity=Severity.HIGH,
        description="",
        evidence=(),
        act_at=ROUTED_AT,
        suspected_crime=crime,
        region_code=region,
    )


def _routings(report: AbnormalReport, table: RoutingTable) -> dict[str, PushRouted]:
    """Abnormal push's PushRouted events for ``report``, by department."""
    return {
        address.department: PushRouted(
            event_id(),
            address.push_id,
            ROUTED_AT,
            report.report_id,
            address.department,
            address.reason,
            address.role,
            report.severity,
            sign_for_due=ROUTED_AT + timedelta(days=2),
            feedback_due=ROUTED_AT + timedelta(days=10),
        )
        for address in route(report, table)
    }


def _escalations(push: PushRouted, table: RoutingTable, levels: int) -> list[PushEvent]:
    """Late to sign for, then escalated ``levels`` times, each to whom abnormal push's routing
    says (a branch's first to its city department, the rest to the joint-conference office)."""
    late = ROUTED_AT + timedelta(days=3)
    events: list[PushEvent] = [
        PushOverdue(
            event_id(),
            push.push_id,
            late,
            Deadline.SIGN_FOR,
            push.sign_for_due or late,
            push.department,
        )
    ]
    for level in range(1, levels + 1):
        to = table.escalation_target(push.department, level)
        events.append(
            PushEscalated(
                event_id(), push.push_id, late + timedelta(days=level), Deadline.SIGN_FOR, to, level
            )
        )
    return events


def _scenario(table: RoutingTable) -> list[PushEvent]:
    housing_lixia = _routings(_report("r-housing-lx", "HOUSING", LIXIA), table)
    transport_city = _routings(_report("r-transport", "TRANSPORT", CITY_LEVEL), table)
    water_lixia = _routings(_report("r-water-lx", "WATER", LIXIA), table)
    housing_city = _routings(_report("r-housing", "HOUSING", CITY_LEVEL), table)
    procurement = _routings(
        _report("r-procurement", "GOVERNMENT_PROCUREMENT", "", crime=True), table
    )
    # The routing the scenario relies on, as departments.json has it.
    assert housing_lixia["ZJJ-LX"].role is PushRole.HANDLER
    assert housing_lixia["ZJJ"].role is PushRole.COPY
    assert water_lixia["SWJ-LX"].role is PushRole.HANDLER
    assert procurement["GAJ"].role is PushRole.HANDLER
    resolved = housing_city["ZJJ"]
    return [
        *(
            event
            for routings in (housing_lixia, transport_city, water_lixia, housing_city, procurement)
            for event in routings.values()
        ),
        # The branch's push: level 1 to 住建局 (its city department), level 2 to 联席办.
        *_escalations(housing_lixia["ZJJ-LX"], table, levels=2),
        # A city department's push: straight to 联席办.
        *_escalations(transport_city["JTJ"], table, levels=1),
        # Resolved: on nobody's board.
        PushSignedFor(event_id(), resolved.push_id, ROUTED_AT + timedelta(hours=1), "ZJJ"),
        PushFeedbackGiven(
            event_id(),
            resolved.push_id,
            ROUTED_AT + timedelta(days=1),
            "ZJJ",
            HandlingResult.PENALISED,
            "罚款",
        ),
    ]


def _abnormal_push_folds(events: list[PushEvent]) -> dict[str, Push]:
    pushes: dict[str, Push] = {}
    for event in events:
        pushes[event.push_id] = apply_push_event(pushes.get(event.push_id), event)
    return pushes


def _may_read(reader: Principal, push: Push, table: RoutingTable) -> bool:
    try:
        check_may_read_push(reader, push, table)
    except ApiError:
        return False
    return True


def _reporting_facts(events: list[PushEvent]) -> list[facts.Fact]:
    """The events as reporting reads them off abnormal.pushes.v1."""
    found = []
    for event in events:
        message: Message = push_event_to_message(event)
        envelope: Envelope[Message] = Envelope(
            message=message, source="/tests", subject=event.push_id, id=event.event_id
        )
        value, headers = encode_envelope(envelope)
        fact = fact_from_envelope(decode_record(value, headers, ABNORMAL_PUSHES.message_types))
        assert fact is not None
        found.append(fact)
    return found


# A district branch, its city department, another city department with a branch, the office
# (also an escalation target and a copy of every report), the trading centre (a copy of every
# report), a city department without branches, a department added by the case's nature, and
# departments with nothing open.
DEPARTMENTS = (
    "ZJJ-LX",
    "ZJJ",
    "SWJ",
    "SWJ-LX",
    "FGW",
    "JYZX",
    "JTJ",
    "CZJ",
    "GAJ",
    "YLJ",
    "JTJ-LX",
)


async def test_each_department_sees_on_the_board_what_abnormal_push_lets_it_read() -> None:
    table = load_routing_table()
    events = _scenario(table)
    pushes = _abnormal_push_folds(events)
    shared = await snapshot(ledger_read_model(fold(*_reporting_facts(events))), Labels(), None)
    open_pushes = {push_id for push_id, push in pushes.items() if push.is_open}
    board = {entry["push_id"] for entry in as_seen_by(shared, OPERATOR)["push_board"]}
    assert board == open_pushes
    for code in DEPARTMENTS:
        reader = _department(code)
        expected = {push_id for push_id in open_pushes if _may_read(reader, pushes[push_id], table)}
        view = as_seen_by(shared, reader)
        assert {entry["push_id"] for entry in view["push_board"]} == expected, code
        assert view["open_pushes"] == len(expected), code
    # The scenario is one where the rules matter: the city department sees its branch's push,
    # the office the pushes escalated to it, neither every open push; an unrelated one nothing.
    views = {
        code: {entry["department"] for entry in as_seen_by(shared, _department(code))["push_board"]}
        for code in DEPARTMENTS
    }
    assert views["ZJJ"] == {"ZJJ-LX"}
    assert views["SWJ"] == {"SWJ-LX"}
    assert views["FGW"] == {"ZJJ-LX", "JTJ"}
    assert views["JTJ"] == {"JTJ"}
    assert views["YLJ"] == views["JYZX"] == views["JTJ-LX"] == set()


async def test_the_boards_index_is_never_sent() -> None:
    shared = await snapshot(
        ledger_read_model(fold(routed("p1", "2023-03-01 09:00"))), Labels(), None
    )
    assert BOARD_READERS in shared
    for reader in (OPERATOR, _department("ZJJ")):
        assert BOARD_READERS not in as_seen_by(shared, reader)


@pytest.mark.parametrize("code", ["FGW", "ZJJ"])
async def test_a_push_state_stored_before_the_targets_were_kept_shows_no_target(code: str) -> None:
    """A push state from before reporting kept whom a push was escalated to (its escalated
    levels, no targets) is shown to its addressee and its city department only — never to a
    department it may not have been escalated to — until a rebuild fills the targets in."""
    escalation = facts.PushEscalatedFact(
        event_id(), "p-lx", at("2023-03-05 09:00"), "SIGN_FOR", code, 1
    )
    ledger = fold(
        routed("p-lx", "2023-03-01 09:00", department="ZJJ-LX"),
        facts.PushOverdueFact(event_id(), "p-lx", at("2023-03-04 09:00"), "SIGN_FOR", "ZJJ-LX"),
        escalation,
    )
    state: dict[str, Any] = dict(ledger.states["push:p-lx"])
    assert state["escalated_to"] == {"1": code}
    shared = await snapshot(ledger_read_model(ledger), Labels(), None)
    assert [e["push_id"] for e in as_seen_by(shared, _department(code))["push_board"]] == ["p-lx"]

    del state["escalated_to"]  # as stored before
    ledger.states["push:p-lx"] = state
    old = await snapshot(ledger_read_model(ledger), Labels(), None)
    assert as_seen_by(old, _department("FGW"))["push_board"] == []
    for reader in ("ZJJ-LX", "ZJJ"):  # the addressee, and the city department over the branch
        assert [e["push_id"] for e in as_seen_by(old, _department(reader))["push_board"]] == [
            "p-lx"
        ]
