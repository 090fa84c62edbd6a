"""Each detection rule fires on its pattern and stays silent otherwise."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from services.abnormal_push.domain.detection import evaluate_all, registry
from services.abnormal_push.domain.detection.findings import report_from_finding
from services.abnormal_push.domain.detection.model import (
    Bid,
    BidsOpenedTrigger,
    BidSubmittedTrigger,
    CandidatesPublicisedTrigger,
    CommitteeUnsealedTrigger,
    DeficiencyBreachTrigger,
    Disqualification,
    EvaluationCompletedTrigger,
    ExpertNoShow,
    ExpertNoShowTrigger,
    Finding,
    NotApplied,
    Outcome,
    RankedCandidate,
    TenderFailedTrigger,
    Trigger,
    Withheld,
)
from services.abnormal_push.domain.detection.rules import (
    all_but_one_disqualified,
    deficiency_breach,
    delayed_bid_opening,
    high_disqualification_ratio,
    identical_bid_prices,
    late_candidate_publicity,
    price_close_to_runner_up,
    regular_price_pattern,
    repeated_expert_no_show,
    same_deposit_account,
    same_fingerprint,
    same_project_manager,
    shared_address_or_contact,
    single_bidder,
)
from services.abnormal_push.domain.reports import BehaviourType, SubjectKind
from tests.unit.abnormal_push.factories import PROJECT, T0, bid, org


def submitted(*bids: object) -> BidSubmittedTrigger:
    return BidSubmittedTrigger("e-trigger", T0, PROJECT, "S1", tuple(bids))  # type: ignore[arg-type]


def findings(outcomes: object) -> list[Finding]:
    return [o for o in outcomes if isinstance(o, Finding)]  # type: ignore[attr-defined]


def test_registry_lists_every_rule_with_id_and_legal_basis() -> None:
    ids = {rule.definition.rule_id for rule in registry()}
    assert ids == {
        "PRT-FP-001",
        "PRT-DEP-001",
        "PRT-PM-001",
        "R028",
        "R018",
        "R024",
        "PRT-RQ-001",
        "R035",
        "R038",
        "R044",
        "PRT-PRC-001",
        "PRT-PUB-001",
        "PRT-OPEN-001",
        "PRT-EXP-001",
    }
    for rule in registry():
        assert rule.definition.legal_basis and rule.definition.name


@pytest.mark.parametrize(
    ("component", "kwargs"),
    [
        # The decisive components; an IP or CPU id alone is test_same_fingerprint_groups.py's.
        ("mac_address", {"mac": "AA:BB:CC:DD:EE:01"}),
        ("document_md5", {"md5": "9e107d9d372bb6826bd81d3542a419d6"}),
        ("disk_serial", {"disk": "WD-WCC4N0XXXXXX"}),
    ],
)
def test_same_fingerprint_component_across_bidders_fires(
    component: str, kwargs: dict[str, Any]
) -> None:
    outcomes = same_fingerprint.RULE.evaluate(submitted(bid(1, **kwargs), bid(2, **kwargs), bid(3)))
    (finding,) = findings(outcomes)
    assert finding.definition.rule_id == "PRT-FP-001"
    assert finding.definition.behaviour_type is BehaviourType.COLLUSION_SAME_PREPARER
    assert "第四十条 第(一)项" in finding.definition.legal_basis
    assert dict(finding.evidence_values) == {component: next(iter(kwargs.values()))}
    assert {s.credit_code for s in finding.subjects} == {org(1).credit_code, org(2).credit_code}
    assert all(s.kind is SubjectKind.BIDDER for s in finding.subjects)
    assert set(finding.source_event_ids) == {"e-bid-1", "e-bid-2"}


def test_mac_addresses_written_differently_are_the_same_mac() -> None:
    outcomes = same_fingerprint.RULE.evaluate(
        submitted(bid(1, mac="aa-bb-cc-dd-ee-01"), bid(2, mac="AA:BB:CC:DD:EE:01"))
    )
    assert len(findings(outcomes)) == 1


def test_distinct_fingerprints_or_one_bidder_twice_do_not_fire() -> None:
    assert findings(same_fingerprint.RULE.evaluate(submitted(bid(1), bid(2), bid(3)))) == []
    # The same bidder's replaced bid is one bidder, not two.
    again = replace(bid(1, mac="AA:BB:CC:DD:EE:01"), event_id="e-bid-1b")
    assert (
        findings(same_fingerprint.RULE.evaluate(submitted(bid(1, mac="AA:BB:CC:DD:EE:01"), again)))
        == []
    )


def test_placeholder_fingerprint_values_are_ignored() -> None:
    outcomes = same_fingerprint.RULE.evaluate(
        submitted(bid(1, ip="127.0.0.1"), bid(2, ip="127.0.0.1"))
    )
    assert findings(outcomes) == []


def test_fingerprint_rule_ignores_other_triggers() -> None:
    opened = BidsOpenedTrigger("e", T0, PROJECT, "S1", (), (bid(1, mac="A"), bid(2, mac="A")))
    assert same_fingerprint.RULE.evaluate(opened) == []


def test_one_deposit_account_for_two_bidders_fires() -> None:
    outcomes = same_deposit_account.RULE.evaluate(
        submitted(bid(1, account="6222-0000-1111"), bid(2, account="6222 0000 1111"), bid(3))
    )
    (finding,) = findings(outcomes)
    assert finding.definition.behaviour_type is BehaviourType.COLLUSION_SAME_DEPOSIT_ACCOUNT
    assert dict(finding.evidence_values) == {"deposit_account": "622200001111"}


def test_separate_deposit_accounts_do_not_fire() -> None:
    assert findings(same_deposit_account.RULE.evaluate(submitted(bid(1), bid(2)))) == []


def opened(*bids: object, codes: tuple[str, ...] | None = None) -> BidsOpenedTrigger:
    bid_tuple = tuple(bids)
    opened_codes = codes if codes is not None else tuple(b.bidder.credit_code for b in bid_tuple)  # type: ignore[attr-defined]
    return BidsOpenedTrigger("e-open", T0, PROJECT, "S1", opened_codes, bid_tuple)  # type: ignore[arg-type]


def test_r028_identical_prices_fire_at_opening_only() -> None:
    same = (bid(1, price=123_456_00), bid(2, price=123_456_00), bid(3, price=123_000_00))
    assert identical_bid_prices.RULE.evaluate(submitted(*same)) == []
    (finding,) = findings(identical_bid_prices.RULE.evaluate(opened(*same)))
    assert finding.definition.rule_id == "R028"
    assert dict(finding.evidence_values) == {"bid_price_fen": "12345600"}
    assert "e-open" in finding.source_event_ids


def test_r028_different_prices_do_not_fire() -> None:
    assert findings(identical_bid_prices.RULE.evaluate(opened(bid(1), bid(2), bid(3)))) == []


def test_prices_in_equal_steps_fire_at_opening_naming_the_bidders_in_the_pattern() -> None:
    bids = (
        bid(1, price=95_000_000_00),
        bid(2, price=95_500_000_00),
        bid(3, price=96_000_000_00),
        bid(4, price=96_500_000_00),
        bid(5, price=98_123_456_78),  # outside the pattern
    )
    rule = regular_price_pattern.RULE
    assert rule.evaluate(submitted(*bids)) == []  # prices are sealed until opening
    (finding,) = findings(rule.evaluate(opened(*bids)))
    assert finding.definition.rule_id == "PRT-PRC-001"
    assert finding.definition.behaviour_type is BehaviourType.COLLUSION_ABNORMAL_SIMILARITY
    assert dict(finding.evidence_values) == {
        "pattern": "equal_steps",
        "bid_prices_fen": "9500000000,9550000000,9600000000,9650000000",
    }
    assert {s.credit_code for s in finding.subjects} == {org(n).credit_code for n in (1, 2, 3, 4)}
    assert "依次相差 500,000.00 元" in finding.description
    assert "e-open" in finding.source_event_ids


def test_prices_in_equal_ratios_fire() -> None:
    # Each 1% below the last, to the fen: 10,000,000.00 / 9,900,000.00 / 9,801,000.00.
    bids = (bid(1, price=1_000_000_000), bid(2, price=990_000_000), bid(3, price=980_100_000))
    (finding,) = findings(regular_price_pattern.RULE.evaluate(opened(*bids)))
    assert dict(finding.evidence_values)["pattern"] == "equal_ratios"


def test_irregular_identical_unopened_or_superseded_prices_make_no_pattern() -> None:
    rule = regular_price_pattern.RULE
    irregular = (
        bid(1, price=95_000_000_00),
        bid(2, price=95_500_000_01),
        bid(3, price=96_000_000_00),
    )
    assert findings(rule.evaluate(opened(*irregular))) == []
    # Equal prices are R028's: the pattern needs three distinct prices.
    equal = (bid(1, price=95_000_000_00), bid(2, price=95_000_000_00), bid(3, price=96_000_000_00))
    assert findings(rule.evaluate(opened(*equal))) == []
    steps = (bid(1, price=100_00), bid(2, price=200_00), bid(3, price=300_00))
    not_opened = opened(*steps, codes=(org(1).credit_code, org(2).credit_code))
    assert findings(rule.evaluate(not_opened)) == []
    # A bidder's last bid stands: bidder 3 revised 300.00 to 310.00 before the deadline.
    revised = replace(
        bid(3, price=310_00, event_id="e-bid-3b"), submitted_at=T0 + timedelta(hours=1)
    )
    assert findings(rule.evaluate(opened(*steps, revised))) == []


def test_r018_single_bidder_in_open_tender_fires_against_the_tenderer() -> None:
    (finding,) = findings(single_bidder.RULE.evaluate(opened(bid(1))))
    assert finding.definition.rule_id == "R018"
    assert PROJECT.tenderer is not None
    assert [s.credit_code for s in finding.subjects] == [PROJECT.tenderer.credit_code]
    assert finding.subjects[0].kind is SubjectKind.TENDERER


def test_r018_does_not_fire_with_two_bidders_or_outside_open_procedures() -> None:
    assert findings(single_bidder.RULE.evaluate(opened(bid(1), bid(2)))) == []
    negotiated = replace(PROJECT, trading_method="SINGLE_SOURCE")
    trigger = replace(opened(bid(1)), project=negotiated)
    assert findings(single_bidder.RULE.evaluate(trigger)) == []


def failed(*bids: Bid) -> TenderFailedTrigger:
    return TenderFailedTrigger("e-failed", T0, PROJECT, "S1", bids)


def test_r018_does_not_report_a_lawful_failed_tender() -> None:
    """招标投标法 art. 28: fewer than 3 bidders, the tenderer tenders again — lawful, not a push
    to sign for and answer (the law review's t5)."""
    assert findings(single_bidder.RULE.evaluate(failed(bid(1)))) == []
    assert findings(single_bidder.RULE.evaluate(failed(bid(1), bid(2)))) == []
    assert findings(single_bidder.RULE.evaluate(failed())) == []  # no bid at all


def test_r018_says_so_when_the_procedure_is_unknown() -> None:
    trigger = replace(opened(bid(1)), project=replace(PROJECT, trading_method=""))
    (outcome,) = single_bidder.RULE.evaluate(trigger)
    assert isinstance(outcome, NotApplied) and "procedure is unknown" in outcome.reason


def _history(n: int) -> tuple[float, ...]:
    rng = random.Random(7)
    return tuple(rng.gauss(0.05, 0.005) for _ in range(n))


def candidates(
    winner: int, runner_up: int, history: tuple[float, ...]
) -> CandidatesPublicisedTrigger:
    return CandidatesPublicisedTrigger(
        "e-cand",
        T0,
        PROJECT,
        "S1",
        (RankedCandidate(1, org(1), winner), RankedCandidate(2, org(2), runner_up)),
        history,
    )


def test_r024_winner_hugging_the_runner_up_fires_with_enough_history() -> None:
    # Gap 0.01 % against a history of gaps around 5 %: a low outlier.
    (finding,) = findings(
        price_close_to_runner_up.RULE.evaluate(candidates(100_000_00, 100_010_00, _history(30)))
    )
    assert finding.definition.rule_id == "R024"
    values = dict(finding.evidence_values)
    assert values["history_sections"] == "30"
    assert float(values["relative_gap"]) < float(values["lower_fence"])


def test_r024_an_ordinary_gap_does_not_fire() -> None:
    outcomes = price_close_to_runner_up.RULE.evaluate(
        candidates(100_000_00, 105_000_00, _history(30))
    )
    assert outcomes == []


def test_r024_is_not_applied_without_enough_history_and_says_so() -> None:
    (outcome,) = price_close_to_runner_up.RULE.evaluate(
        candidates(100_000_00, 100_010_00, _history(5))
    )
    assert isinstance(outcome, NotApplied)
    assert outcome.rule_id == "R024" and "only 5 sections" in outcome.reason


def breach(with_tenderer: bool = True) -> DeficiencyBreachTrigger:
    return DeficiencyBreachTrigger(
        "e-breach",
        T0,
        PROJECT if with_tenderer else replace(PROJECT, tenderer=None),
        PROJECT.tenderer if with_tenderer else None,
        "2024-10-08",
        ("施工图审查合格书",),
    )


def test_deficiency_breach_fires_against_the_tenderer() -> None:
    (finding,) = findings(deficiency_breach.RULE.evaluate(breach()))
    assert finding.definition.behaviour_type is BehaviourType.COMMITMENT_BREACH
    assert "施工图审查合格书" in finding.description


def test_deficiency_breach_without_tenderer_is_not_applied_and_bids_do_not_trigger_it() -> None:
    assert findings(deficiency_breach.RULE.evaluate(breach(with_tenderer=False))) == []
    assert deficiency_breach.RULE.evaluate(submitted(bid(1), bid(2))) == []


def test_report_ids_are_fixed_by_the_finding() -> None:
    trigger = submitted(bid(1, mac="AA:BB:CC:DD:EE:01"), bid(2, mac="AA:BB:CC:DD:EE:01"))
    first = findings(evaluate_all(trigger))
    again = findings(evaluate_all(trigger))
    assert [f.report_id for f in first] == [f.report_id for f in again]
    # A third bidder joining the group widens the same sign, filed once (test_detection_signs).
    wider = submitted(*trigger.bids, bid(3, mac="AA:BB:CC:DD:EE:01"))
    assert findings(evaluate_all(wider))[0].sign_key == first[0].sign_key


def test_one_project_manager_named_by_two_bidders_fires() -> None:
    first = replace(bid(1), project_manager_certificate_no="鲁137000000001")
    second = replace(bid(2), project_manager_certificate_no=" 鲁137000000001 ")
    (finding,) = findings(same_project_manager.RULE.evaluate(submitted(first, second, bid(3))))
    assert finding.definition.behaviour_type is BehaviourType.COLLUSION_SAME_PROJECT_MANAGER
    assert dict(finding.evidence_values) == {"project_manager_certificate_no": "鲁137000000001"}


def test_distinct_or_missing_project_managers_do_not_fire() -> None:
    first = replace(bid(1), project_manager_certificate_no="鲁137000000001")
    second = replace(bid(2), project_manager_certificate_no="鲁137000000002")
    assert findings(same_project_manager.RULE.evaluate(submitted(first, second, bid(3)))) == []


def _contact(serial: int, address: str = "", phone: str = "") -> Any:
    return replace(bid(serial), bidder_address=address, bidder_contact_phone=phone)


def test_r044_two_bidders_stating_one_address_fire_however_it_is_written() -> None:
    first = _contact(1, address="济南市历下区经十路 12345 号")
    second = _contact(2, address="济南市历下区经十路１２３４５号")  # full-width, no spaces
    (finding,) = findings(
        shared_address_or_contact.RULE.evaluate(submitted(first, second, _contact(3)))
    )
    assert finding.definition.rule_id == "R044"
    assert finding.definition.behaviour_type is BehaviourType.COLLUSION_SAME_AGENT
    assert dict(finding.evidence_values) == {"bidder_address": "济南市历下区经十路12345号"}
    assert {s.credit_code for s in finding.subjects} == {org(1).credit_code, org(2).credit_code}
    assert "同一地址" in finding.description


def test_r044_two_bidders_stating_one_contact_phone_fire_in_any_notation() -> None:
    first = _contact(1, phone="+86 138 1234 5678")
    second = _contact(2, phone="13812345678")
    third = _contact(3, address="济南市历下区经十路12345号", phone="0531-88886666")
    (finding,) = findings(shared_address_or_contact.RULE.evaluate(submitted(first, second, third)))
    assert dict(finding.evidence_values) == {"bidder_contact_phone": "13812345678"}
    assert "同一联系电话" in finding.description
    # Address and phone shared by the same two bidders: one group, one report with both.
    both = [_contact(n, address="济南市历下区经十路12345号", phone="0531-88886666") for n in (1, 2)]
    (one,) = findings(shared_address_or_contact.RULE.evaluate(submitted(*both)))
    assert {name for name, _ in one.evidence_values} == {"bidder_address", "bidder_contact_phone"}


def test_r044_distinct_missing_too_short_or_one_bidders_own_values_do_not_fire() -> None:
    rule = shared_address_or_contact.RULE
    distinct = submitted(
        _contact(1, address="济南市历下区经十路12345号", phone="13812345678"),
        _contact(2, address="济南市历下区经十路12346号", phone="13812345679"),
    )
    assert findings(rule.evaluate(distinct)) == []
    assert findings(rule.evaluate(submitted(_contact(1), _contact(2)))) == []  # not given
    vague = submitted(_contact(1, address="济南市历下区"), _contact(2, address="济南市历下区"))
    assert findings(rule.evaluate(vague)) == []  # a district names no place
    own = _contact(1, phone="13812345678")
    again = replace(own, event_id="e-bid-1-again")  # one bidder bidding twice
    assert findings(rule.evaluate(submitted(own, again))) == []


def evaluated(bidders: int, ruled_out: tuple[int, ...], *, bids_seen: bool = True) -> Any:
    """The evaluation of a section with bidders 1..``bidders``, ``ruled_out`` disqualified."""
    return EvaluationCompletedTrigger(
        "e-eval",
        T0,
        PROJECT,
        "S1",
        tuple(bid(n) for n in range(1, bidders + 1)) if bids_seen else (),
        tuple(Disqualification(org(n).credit_code, "未按要求提供业绩证明") for n in ruled_out),
    )


def both_rules(trigger: Any) -> dict[str, Finding]:
    return {
        f.definition.rule_id: f
        for rule in (all_but_one_disqualified.RULE, high_disqualification_ratio.RULE)
        for f in findings(rule.evaluate(trigger))
    }


def test_r035_all_but_one_ruled_out_fires_against_the_remaining_bidder_and_the_tenderer() -> None:
    found = both_rules(evaluated(4, (1, 2, 4)))
    assert set(found) == {"R035"}  # R038 leaves this case to R035
    finding = found["R035"]
    assert PROJECT.tenderer is not None
    assert [(s.kind, s.credit_code) for s in finding.subjects] == [
        (SubjectKind.BIDDER, org(3).credit_code),
        (SubjectKind.TENDERER, PROJECT.tenderer.credit_code),
    ]
    assert finding.subjects[0].name == org(3).name
    assert dict(finding.evidence_values) == {
        "bidder_count": "4",
        "disqualified_count": "3",
        "remaining_bidder": org(3).credit_code,
    }
    assert "未按要求提供业绩证明" in finding.description
    assert finding.source_event_ids[-1] == "e-eval"
    # 招标人与投标人串通 (art. 41) against the bidder and the tenderer: no expert is named.
    assert finding.definition.behaviour_type is BehaviourType.OTHER


def test_r038_half_or_more_ruled_out_fires_against_the_tenderer() -> None:
    found = both_rules(evaluated(6, (1, 2, 3)))
    assert set(found) == {"R038"}
    finding = found["R038"]
    assert [s.kind for s in finding.subjects] == [SubjectKind.TENDERER]
    assert dict(finding.evidence_values) == {"bidder_count": "6", "disqualified_count": "3"}
    assert "50%" in finding.description


def test_r038_every_bid_ruled_out_is_its_finding_too() -> None:
    found = both_rules(evaluated(3, (1, 2, 3)))
    assert set(found) == {"R038"}
    assert "全部被否决" in found["R038"].description


def test_ordinary_rulings_and_small_sections_fire_neither() -> None:
    assert both_rules(evaluated(6, (1, 2))) == {}  # a third ruled out
    assert both_rules(evaluated(5, ())) == {}  # none ruled out
    assert both_rules(evaluated(2, (1,))) == {}  # two bidders, one ruled out: too few to judge


def test_r035_says_so_when_the_bids_were_not_seen() -> None:
    trigger = evaluated(4, (1, 2, 4), bids_seen=False)
    outcomes = all_but_one_disqualified.RULE.evaluate(trigger)
    assert [type(o) for o in outcomes] == [NotApplied]
    assert "bids were not seen" in outcomes[0].reason  # type: ignore[union-attr]


def test_r038_without_a_tenderer_is_not_applied_and_says_so() -> None:
    trigger = replace(evaluated(4, (1, 2, 3, 4)), project=replace(PROJECT, tenderer=None))
    outcomes = high_disqualification_ratio.RULE.evaluate(trigger)
    assert [type(o) for o in outcomes] == [NotApplied]


def test_the_evaluation_rules_ignore_other_triggers() -> None:
    assert both_rules(opened(bid(1), bid(2), bid(3))) == {}


def test_a_detected_report_carries_the_projects_region_to_routing() -> None:
    in_changqing = replace(PROJECT, region_code="370113")
    trigger = BidSubmittedTrigger(
        "e-trigger", T0, in_changqing, "S1", (bid(1, mac="AA"), bid(2, mac="AA"))
    )
    (finding,) = findings(same_fingerprint.RULE.evaluate(trigger))
    detected = report_from_finding(finding, "JYZX", T0)
    assert (detected.project_category, detected.region_code) == ("HOUSING", "370113")


# --- PRT-PUB-001: candidates publicised late ------------------------------------------------

BEIJING = timezone(timedelta(hours=8))
EVALUATED = datetime(2023, 5, 8, 23, 30, tzinfo=BEIJING)  # a Monday, late in the evening


def publicised(at: datetime, evaluated_at: datetime | None = EVALUATED, **project: Any) -> Any:
    return replace(
        candidates(100_000_00, 101_000_00, ()),
        at=at,
        evaluated_at=evaluated_at,
        project=replace(PROJECT, **project),
    )


@pytest.mark.parametrize(
    ("at", "days_late"),
    [
        (datetime(2023, 5, 11, 23, 59, tzinfo=BEIJING), 0),  # the third day after: in time
        # 00:30 on the 12th in Beijing is still the 11th in UTC: Beijing dates count.
        (datetime(2023, 5, 12, 0, 30, tzinfo=BEIJING), 1),
        (datetime(2023, 5, 15, 9, 0, tzinfo=BEIJING), 4),
    ],
)
def test_candidates_publicised_after_the_third_day_are_late(at: datetime, days_late: int) -> None:
    outcomes = findings(late_candidate_publicity.RULE.evaluate(publicised(at)))
    if days_late == 0:
        assert outcomes == []
        return
    (finding,) = outcomes
    assert dict(finding.evidence_values) == {
        "evaluated_on": "2023-05-08",
        "publicised_on": at.date().isoformat(),
        "days_late": str(days_late),
    }
    assert finding.subjects[0].kind is SubjectKind.TENDERER
    assert PROJECT.tenderer is not None
    assert finding.subjects[0].credit_code == PROJECT.tenderer.credit_code


def test_late_publicity_is_judged_for_tenders_outside_government_procurement_only() -> None:
    late = datetime(2023, 5, 20, 9, 0, tzinfo=BEIJING)
    rule = late_candidate_publicity.RULE
    assert findings(rule.evaluate(publicised(late, trading_method="INVITED_TENDER")))
    assert rule.evaluate(publicised(late, category="GOVERNMENT_PROCUREMENT")) == []
    assert rule.evaluate(publicised(late, trading_method="COMPETITIVE_NEGOTIATION")) == []


def test_late_publicity_is_judged_unless_the_project_is_free_of_the_obligation_to_tender() -> None:
    late = datetime(2023, 5, 20, 9, 0, tzinfo=BEIJING)
    rule = late_candidate_publicity.RULE
    assert findings(rule.evaluate(publicised(late, tender_required_by_law=True)))
    assert findings(rule.evaluate(publicised(late, tender_required_by_law=None)))  # not recorded
    assert rule.evaluate(publicised(late, tender_required_by_law=False)) == []


def test_late_publicity_without_the_evaluation_or_the_procedure_is_not_judged() -> None:
    late = datetime(2023, 5, 20, 9, 0, tzinfo=BEIJING)
    rule = late_candidate_publicity.RULE
    (unseen,) = rule.evaluate(publicised(late, evaluated_at=None))
    assert isinstance(unseen, NotApplied) and "evaluation was not seen" in unseen.reason
    (unknown,) = rule.evaluate(publicised(late, trading_method=""))
    assert isinstance(unknown, NotApplied) and "registration was not seen" in unknown.reason


# --- PRT-OPEN-001: bids opened well after the submission deadline -----------------------------

DEADLINE = datetime(2024, 9, 20, 1, 30, tzinfo=UTC)  # 09:30 Beijing


def opened_at(at: datetime, deadline: datetime | None = DEADLINE, **project: Any) -> Any:
    return replace(
        opened(bid(1), bid(2), bid(3)),
        at=at,
        submission_deadline=deadline,
        project=replace(PROJECT, **project),
    )


@pytest.mark.parametrize(
    ("delay", "minutes_late"),
    [
        (timedelta(0), None),  # at the deadline, as the law says
        (timedelta(minutes=30), None),  # within the tolerance
        (timedelta(minutes=31), 31),
        (timedelta(days=1, hours=2), 26 * 60),
    ],
)
def test_bids_opened_past_the_tolerance_after_the_deadline_are_reported(
    delay: timedelta, minutes_late: int | None
) -> None:
    outcomes = delayed_bid_opening.RULE.evaluate(opened_at(DEADLINE + delay))
    if minutes_late is None:
        assert outcomes == []
        return
    (finding,) = findings(outcomes)
    assert dict(finding.evidence_values)["minutes_late"] == str(minutes_late)
    assert finding.subjects[0].kind is SubjectKind.TENDERER
    assert "投标截止时间为 2024-09-20 09:30" in finding.description  # Beijing time
    assert finding.definition.rule_id == "PRT-OPEN-001"


def test_opening_rule_judges_tenders_only_and_says_when_it_cannot() -> None:
    late = DEADLINE + timedelta(hours=3)
    rule = delayed_bid_opening.RULE
    assert findings(rule.evaluate(opened_at(late, trading_method="INVITED_TENDER")))
    assert rule.evaluate(opened_at(late, trading_method="AUCTION")) == []
    (unannounced,) = rule.evaluate(opened_at(late, deadline=None))
    assert isinstance(unannounced, NotApplied) and "submission deadline" in unannounced.reason
    (unregistered,) = rule.evaluate(opened_at(late, trading_method=""))
    assert isinstance(unregistered, NotApplied) and "registration" in unregistered.reason
    assert rule.evaluate(opened_at(DEADLINE, tenderer=None)) == []  # in time: nothing to say
    (nameless,) = rule.evaluate(opened_at(late, tenderer=None))
    assert isinstance(nameless, NotApplied) and "tenderer" in nameless.reason


# --- PRT-EXP-001: an evaluation expert repeatedly absent after confirming ---------------------


def no_show(n: int, day: int, expert: str = "EXP-7F3A") -> ExpertNoShow:
    """The expert's no-show at evaluation ``ev-n`` (of project ``PROJECT``) on day ``day``."""
    return ExpertNoShow(
        f"e-ns-{n}",
        T0 + timedelta(days=day),
        expert,
        f"ev-{n}",
        PROJECT.project_id,
        f"V-{n}",
        evaluation_pseudonym=f"EXP-IN-EV-{n}",
    )


def judged(*events: ExpertNoShow | str, sealed: bool = False) -> list[Outcome]:
    """Feed no-shows and committee unsealings (an evaluation id) in the order given, as
    detection would: the history grows, each unsealing judges the no-shows at its evaluation.
    Unless ``sealed``, every committee counts as unsealed before its no-shows are judged."""
    outcomes: list[Outcome] = []
    history: list[ExpertNoShow] = []
    unsealed: set[str] = set()
    projects = {PROJECT.project_id: PROJECT}
    for event in events:
        if isinstance(event, str):
            unsealed.add(event)
            trigger: Trigger = CommitteeUnsealedTrigger(
                f"e-unsealed-{event}", T0, event, tuple(history), projects
            )
        else:
            history = sorted([*history, event], key=lambda n: n.at)
            disclosed = unsealed if sealed else {n.evaluation_id for n in history}
            trigger = ExpertNoShowTrigger(
                event.event_id, event.at, event, tuple(history), projects, frozenset(disclosed)
            )
        outcomes += repeated_expert_no_show.RULE.evaluate(trigger)
    return outcomes


def no_shows_seen(*events: ExpertNoShow | str, sealed: bool = False) -> list[Finding]:
    return findings(judged(*events, sealed=sealed))


def test_a_second_no_show_within_a_year_is_reported_naming_the_expert_by_pseudonym() -> None:
    assert no_shows_seen(no_show(1, 0)) == []  # one may have a good reason
    (finding,) = no_shows_seen(no_show(1, 0), no_show(2, 200))
    assert finding.definition.rule_id == "PRT-EXP-001"
    assert finding.definition.behaviour_type is BehaviourType.EXPERT_MISCONDUCT
    (subject,) = finding.subjects
    assert (subject.kind, subject.expert_pseudonym, subject.credit_code) == (
        SubjectKind.EXPERT,
        "EXP-7F3A",
        "",
    )
    assert dict(finding.evidence_values)["evaluation_id"] == "ev-2"
    # The pseudonym under which the unsealed committee list names the absent expert.
    assert dict(finding.evidence_values)["evaluation_pseudonym"] == "EXP-IN-EV-2"
    assert "EXP-IN-EV-2" in finding.description
    assert finding.source_event_ids == ("e-ns-1", "e-ns-2")
    assert "第 2 次缺席" in finding.description
    report = report_from_finding(finding, "JYZX", finding.act_at)
    assert report.project_category == PROJECT.category  # routed to the project's supervisor


def test_no_shows_further_apart_than_the_window_or_of_other_experts_are_not() -> None:
    assert no_shows_seen(no_show(1, 0), no_show(2, 366)) == []
    assert no_shows_seen(no_show(1, 0), no_show(2, 10, expert="EXP-0000")) == []
    # The third within a year is reported too, as its own report.
    third = no_shows_seen(no_show(1, 0), no_show(2, 100), no_show(3, 300))
    assert [dict(f.evidence_values)["evaluation_id"] for f in third] == ["ev-2", "ev-3"]


def test_the_same_reports_whatever_order_the_no_shows_arrive_in() -> None:
    """No-shows of one expert come from evaluations on different partitions (and again in a
    replay): a late-arriving earlier one reports the later one it brings to the threshold,
    under the same report id as in time order."""
    in_time = no_shows_seen(no_show(1, 0), no_show(2, 100), no_show(3, 500))
    late = no_shows_seen(no_show(3, 500), no_show(2, 100), no_show(1, 0))
    assert [f.report_id for f in in_time] == [f.report_id for f in late]
    assert len(in_time) == 1  # ev-2; ev-3 is 400 days after ev-2
    random.seed(7)
    for _ in range(10):
        shuffled = [no_show(n, day) for n, day in enumerate((0, 30, 90, 400, 420, 800))]
        random.shuffle(shuffled)
        reports = {f.report_id for f in no_shows_seen(*shuffled)}
        ordered = no_shows_seen(
            *(no_show(n, day) for n, day in enumerate((0, 30, 90, 400, 420, 800)))
        )
        assert reports == {f.report_id for f in ordered}


def test_a_qualifying_no_show_is_held_until_the_award_unseals_its_committee() -> None:
    """A report naming the evaluation the expert missed would disclose a committee member
    before the award (招标投标法 art. 37): it waits, visible as a case the rule did not apply
    yet, and is filed when that committee (not another) is unsealed."""
    held = judged(no_show(1, 0), no_show(2, 200), sealed=True)
    assert findings(held) == []
    (waiting,) = held
    assert isinstance(waiting, Withheld) and waiting.rule_id == "PRT-EXP-001"
    assert "ev-2" in waiting.reason and "第三十七条" in waiting.reason
    assert (waiting.evaluation_id, waiting.expert_pseudonym, waiting.project_id) == (
        "ev-2",
        "EXP-7F3A",
        PROJECT.project_id,
    )
    assert no_shows_seen(no_show(1, 0), no_show(2, 200), "ev-1", sealed=True) == []
    (released,) = no_shows_seen(no_show(1, 0), no_show(2, 200), "ev-1", "ev-2", sealed=True)
    (at_once,) = no_shows_seen(no_show(1, 0), no_show(2, 200))
    assert released.report_id == at_once.report_id
    assert released.source_event_ids == ("e-ns-1", "e-ns-2")
    # Unsealed before the no-show is judged (a replay, or a late no-show): reported at once.
    (replayed,) = no_shows_seen("ev-2", no_show(1, 0), no_show(2, 200), sealed=True)
    assert replayed.report_id == at_once.report_id


def test_each_report_is_filed_once_whatever_the_order_of_no_shows_and_unsealings() -> None:
    """Shuffled no-shows with their unsealings interleaved (some before their own no-show is
    read, as in a replay) file the reports of the time order, each once: a late earlier
    no-show does not file again a report it only adds a count to."""
    days = (0, 30, 90, 400, 420, 800)
    expected = {f.report_id for f in no_shows_seen(*(no_show(n, d) for n, d in enumerate(days)))}
    assert len(expected) == 4  # ev-1, ev-2 (3rd within a year), ev-4, ev-5
    random.seed(11)
    for _ in range(30):
        order = [no_show(n, d) for n, d in enumerate(days)]
        random.shuffle(order)
        events: list[ExpertNoShow | str] = []
        pending = [n.evaluation_id for n in order]
        for each in order:
            events.append(each)
            while pending and random.random() < 0.5:  # some unsealings catch up
                events.append(pending.pop(0))
        events += pending
        filed = [f.report_id for f in no_shows_seen(*events, sealed=True)]
        assert sorted(filed) == sorted(expected)  # the same reports, none twice
