"""依法必须招标 and the 20-day bidding period (services/intake/domain/tender_obligation.py), as the
announcement rule applies it (trading_rules)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from prt.v1 import intake_pb2

from services.intake.domain.catalogue import Category
from services.intake.domain.lifecycle import (
    LifecycleFact,
    ProjectState,
    ProjectView,
    SectionView,
    Step,
    TransitionRefused,
    evolve,
)
from services.intake.domain.registration import BidSection
from services.intake.domain.tender_obligation import (
    CONSTRUCTION_THRESHOLD_FEN,
    ContractType,
    TenderObligation,
    bidding_period_long_enough,
    tender_obligation,
)
from services.intake.domain.trading_rules import (
    StepContradictsRecord,
    StepOutOfTime,
    check_trading_rules,
)
from services.intake.event_codec import (
    fact_from_envelope,
    registration_to_event,
    tender_obligation_declared,
    view_from_registered,
)
from services.intake.http_api.schemas import TenderObligationCreate
from services.intake.read_model import view_from_json, view_to_json
from services.platform_core.events.envelope import Envelope
from tests.unit.intake.test_registration import GOOD
from tests.unit.intake.test_trading_rules import _view

# 2023-05-04 10:00 Beijing: documents issued that day may close on 24 May at the earliest.
ANNOUNCED_AT = datetime(2023, 5, 4, 2, 0, tzinfo=UTC)
BEIJING_24_MAY_09_00 = datetime(2023, 5, 24, 1, 0, tzinfo=UTC)
BEIJING_23_MAY_23_30 = datetime(2023, 5, 23, 15, 30, tzinfo=UTC)


def _announce(view: ProjectView, deadline: datetime) -> None:
    fact = LifecycleFact(
        "p1", Step.ANNOUNCE, ANNOUNCED_AT, submission_deadline=deadline, opening_at=deadline
    )
    check_trading_rules(view, fact)


C = ContractType.CONSTRUCTION
G = ContractType.GOODS
S = ContractType.SERVICES
WAN = 1_000_000  # fen in 1万元


@pytest.mark.parametrize(
    ("declared", "category", "method", "sections", "expected"),
    [
        (None, Category.HOUSING, "OPEN_TENDER", [(C, CONSTRUCTION_THRESHOLD_FEN)], (True, True)),
        # A section that does not say what it contracts for is taken as 施工.
        (None, Category.HOUSING, "OPEN_TENDER", [(None, 400 * WAN)], (True, True)),
        (None, Category.WATER, "INVITED_TENDER", [(C, 1), (None, 800 * WAN)], (True, True)),
        (None, Category.MUNICIPAL, "OPEN_TENDER", [(C, 400 * WAN - 1)], (False, True)),
        # The kinds' own thresholds: 货物 200万元, 服务 100万元.
        (None, Category.TRANSPORT, "OPEN_TENDER", [(G, 200 * WAN)], (True, True)),
        (None, Category.TRANSPORT, "OPEN_TENDER", [(G, 200 * WAN - 1)], (False, True)),
        (None, Category.LANDSCAPING, "OPEN_TENDER", [(S, 100 * WAN)], (True, True)),
        (None, Category.LANDSCAPING, "OPEN_TENDER", [(S, 100 * WAN - 1)], (False, True)),
        # Sections of one kind tendered together count together (art. 5 para. 2): three 施工
        # sections of 150万元 reach 400万元; split, they must not escape it.
        (None, Category.HOUSING, "OPEN_TENDER", [(C, 150 * WAN)] * 3, (True, True)),
        # ... but kinds are not added to each other: 399万 施工 + 199万 货物 + 99万 服务.
        (
            None,
            Category.HOUSING,
            "OPEN_TENDER",
            [(C, 399 * WAN), (G, 199 * WAN), (S, 99 * WAN)],
            (False, True),
        ),
        (None, Category.HOUSING, "COMPETITIVE_NEGOTIATION", [(C, 10**12)], (False, True)),
        (None, Category.GOVERNMENT_PROCUREMENT, "OPEN_TENDER", [(G, 10**12)], (False, True)),
        (None, Category.LAND_USE_RIGHTS, "AUCTION", [(None, 10**12)], (False, True)),
        (False, Category.HOUSING, "OPEN_TENDER", [(C, 10**12)], (False, False)),
        (True, Category.HOUSING, "OPEN_TENDER", [(C, 1)], (True, False)),
    ],
)
def test_the_department_says_or_intake_derives_it_from_the_sections(
    declared: bool | None,
    category: Category,
    method: str,
    sections: list[tuple[ContractType | None, int]],
    expected: tuple[bool, bool],
) -> None:
    obligation = tender_obligation(declared, category, method, sections)
    assert (obligation.required, obligation.derived) == expected


def test_twenty_days_count_from_the_day_after_the_documents_are_issued_beijing_time() -> None:
    assert bidding_period_long_enough(ANNOUNCED_AT, BEIJING_24_MAY_09_00)
    assert not bidding_period_long_enough(ANNOUNCED_AT, BEIJING_24_MAY_09_00 - timedelta(days=1))
    # 23 May 15:30 UTC is 23:30 on the 23rd in Beijing: a day short, though 19.6 days in hours.
    assert not bidding_period_long_enough(ANNOUNCED_AT, BEIJING_23_MAY_23_30)
    # Issued at 23:30 UTC on 3 May, which is 4 May in Beijing: the 24th is the first day.
    late_evening = datetime(2023, 5, 3, 23, 30, tzinfo=UTC)
    assert bidding_period_long_enough(late_evening, BEIJING_24_MAY_09_00)
    assert not bidding_period_long_enough(late_evening, datetime(2023, 5, 23, 2, 0, tzinfo=UTC))


def test_a_tender_required_by_law_is_refused_a_shorter_bidding_period() -> None:
    required = _view(tender_required_by_law=True, tender_obligation_derived=False)
    with pytest.raises(StepContradictsRecord, match=r"招标投标法 art\. 24") as refused:
        _announce(required, BEIJING_24_MAY_09_00 - timedelta(days=1))
    assert refused.value.code == "bidding_period_too_short"
    assert "as registered" in refused.value.message
    assert "2023-05-24 at the earliest" in refused.value.message
    assert refused.value.problems == (("submission_deadline", "before 2023-05-24 (Beijing time)"),)
    _announce(required, BEIJING_24_MAY_09_00)


def test_the_refusal_says_when_intake_derived_the_obligation() -> None:
    derived = _view(tender_required_by_law=True, tender_obligation_derived=True)
    with pytest.raises(StepContradictsRecord) as refused:
        _announce(derived, ANNOUNCED_AT + timedelta(days=3))
    assert "derived: its sections of one kind reach 发改委令第16号's line" in refused.value.message
    assert "施工400万元、货物200万元、服务100万元" in refused.value.message


def test_government_procurement_tenders_keep_twenty_days_whatever_the_flag() -> None:
    procurement = _view(category="GOVERNMENT_PROCUREMENT", tender_required_by_law=False)
    with pytest.raises(StepContradictsRecord, match=r"政府采购法 art\. 35") as refused:
        _announce(procurement, ANNOUNCED_AT + timedelta(days=10))
    assert "government procurement tender" in refused.value.message
    negotiation = replace(procurement, trading_method="COMPETITIVE_NEGOTIATION")
    _announce(negotiation, ANNOUNCED_AT + timedelta(days=10))  # 竞争性谈判: its own periods


@pytest.mark.parametrize(
    "view",
    [
        _view(tender_required_by_law=False),  # declared or derived not required
        _view(tender_required_by_law=None),  # registered before the platform recorded it
        _view(tender_required_by_law=True, trading_method="LISTING"),  # not a tender
    ],
    ids=["not required", "not recorded", "not a tender"],
)
def test_other_projects_may_announce_a_shorter_bidding_period(view: ProjectView) -> None:
    _announce(view, ANNOUNCED_AT + timedelta(days=3))


def test_the_obligation_travels_in_the_event_and_the_stored_view() -> None:
    registration = replace(GOOD, tender_obligation=TenderObligation(True, derived=True))
    view = view_from_registered(registration_to_event(registration))
    assert (view.tender_required_by_law, view.tender_obligation_derived) == (True, True)
    assert view_from_json(view_to_json(view)) == view
    # Events and stored views from before the field: not recorded, not derived.
    earlier = view_from_registered(registration_to_event(replace(GOOD, tender_obligation=None)))
    assert (earlier.tender_required_by_law, earlier.tender_obligation_derived) == (None, False)
    stored = stored_without(
        view_to_json(view), "tender_required_by_law", "tender_obligation_derived"
    )
    assert view_from_json(stored).tender_required_by_law is None


def test_each_sections_contract_type_travels_in_the_event() -> None:
    sections = (
        BidSection("001", "施工", 3_000_000_000, ContractType.CONSTRUCTION),
        BidSection("002", "电梯设备采购", 300_000_000, ContractType.GOODS),
        BidSection("003", "监理", 80_000_000, ContractType.SERVICES),
        BidSection("004", "其他", 1_000_000),
    )
    event = registration_to_event(replace(GOOD, bid_sections=sections))
    assert [intake_pb2.ContractType.Name(s.contract_type) for s in event.bid_sections] == [
        "CONTRACT_TYPE_CONSTRUCTION",
        "CONTRACT_TYPE_GOODS",
        "CONTRACT_TYPE_SERVICES",
        "CONTRACT_TYPE_UNSPECIFIED",
    ]


def stored_without(raw: str, *keys: str) -> str:
    """A stored view as the read model kept it before ``keys`` existed."""
    data = json.loads(raw)
    for key in keys:
        del data[key]
    return json.dumps(data)


def _declared(required: bool) -> LifecycleFact:
    body = TenderObligationCreate(tender_required_by_law=required, basis="济发改核准〔2023〕12号")
    message = tender_obligation_declared("p1", "ZJJ-CQ", ANNOUNCED_AT, body)
    fact = fact_from_envelope(Envelope(message=message, source="test", subject="p1"))
    assert fact is not None and fact.step is Step.DECLARE_TENDER_OBLIGATION
    return fact


def test_a_declaration_before_the_announcement_replaces_a_derived_obligation() -> None:
    derived = _view(tender_required_by_law=True, tender_obligation_derived=True)
    declared = evolve(derived, _declared(False))
    check_trading_rules(derived, _declared(False))
    assert (declared.tender_required_by_law, declared.tender_obligation_derived) == (False, False)
    assert declared.state is ProjectState.REGISTERED
    _announce(declared, ANNOUNCED_AT + timedelta(days=10))  # no longer bound to 20 days
    pre_published = replace(
        derived,
        state=ProjectState.PRE_PUBLISHED,
        sections=(SectionView("001", ProjectState.PRE_PUBLISHED),),
    )
    assert evolve(pre_published, _declared(True)).tender_required_by_law is True


def test_once_a_section_is_announced_the_obligation_stands() -> None:
    one_announced = _view(
        tender_required_by_law=True,
        sections=(SectionView("001", ProjectState.ANNOUNCED), SectionView("002")),
    )
    with pytest.raises(StepOutOfTime, match="declared before the first announcement") as refused:
        check_trading_rules(one_announced, _declared(False))
    assert refused.value.code == "tender_obligation_after_announcement"
    assert refused.value.problems == (("bid_section_code", "001"),)
    with pytest.raises(TransitionRefused):
        evolve(replace(one_announced, state=ProjectState.BIDS_SUBMITTED), _declared(False))
