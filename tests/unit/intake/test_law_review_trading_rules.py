"""The rules a procurement-law review found missing (services/intake/domain/trading_minimums.py,
trading_rules.py): minimum disclosure periods and offers for trades that are not tenders, the
first-ranked candidate's award (实施条例 art. 55), 成交 at the award's amount (art. 57), and the
2% ceiling of a deposit relief (art. 26)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.intake import event_codec
from services.intake.domain.lifecycle import (
    Deal,
    LifecycleFact,
    ProjectState,
    ProjectView,
    SectionView,
    Step,
    evolve,
)
from services.intake.domain.trading_minimums import (
    MINIMUM_PERIODS,
    earliest_deadline,
    minimum_period,
)
from services.intake.domain.trading_rules import (
    StepContradictsRecord,
    TooFewOffers,
    check_trading_rules,
)
from services.intake.http_api import schemas
from services.intake.read_model import view_from_json, view_to_json
from services.platform_core.credit_code import check_character
from services.platform_core.events.envelope import Envelope
from tests.unit.intake.views import project_view

S = ProjectState
ANNOUNCED_AT = datetime(2023, 5, 4, 2, 0, tzinfo=UTC)  # Thursday 4 May 2023, 10:00 Beijing
A = "91110000600037341L"
B = "91370100MA3C1XQ21" + check_character("91370100MA3C1XQ21")
C = "91370112MA3EU8W08" + check_character("91370112MA3EU8W08")


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)  # 10:00 Beijing time


def _announce(view: ProjectView, deadline: datetime, at: datetime = ANNOUNCED_AT) -> ProjectView:
    fact = LifecycleFact("p1", Step.ANNOUNCE, at, submission_deadline=deadline)
    after = evolve(view, fact)
    check_trading_rules(view, fact)
    return after


def _trade(category: str, method: str, **changes: object) -> ProjectView:
    return project_view(category=category, trading_method=method, **changes)


# --- minimum periods ---------------------------------------------------------------------------


def test_every_period_row_names_its_legal_basis() -> None:
    for row in MINIMUM_PERIODS:
        assert row.basis and row.what and row.count > 0


@pytest.mark.parametrize(
    ("category", "method", "too_short", "earliest"),
    [
        # 20 working days from Thursday 4 May 2023: 5 May, 6 May (调休 Saturday), 8-12, 15-19,
        # 22-26, 29-31 May
        ("SOE_PROPERTY_RIGHTS", "LISTING", date(2023, 5, 9), date(2023, 5, 31)),
        ("SOE_PROPERTY_RIGHTS", "AUCTION", date(2023, 5, 30), date(2023, 5, 31)),
        ("LAND_USE_RIGHTS", "LISTING", date(2023, 5, 7), date(2023, 5, 14)),
        ("GOVERNMENT_PROCUREMENT", "COMPETITIVE_CONSULTATION", date(2023, 5, 6), date(2023, 5, 14)),
        # 3 working days: Friday 5 May, Saturday 6 May (调休), Monday 8 May
        ("GOVERNMENT_PROCUREMENT", "COMPETITIVE_NEGOTIATION", date(2023, 5, 7), date(2023, 5, 8)),
        ("GOVERNMENT_PROCUREMENT", "REQUEST_FOR_QUOTATION", date(2023, 5, 6), date(2023, 5, 8)),
    ],
)
def test_a_trade_announced_for_less_than_its_minimum_period_is_refused_naming_the_earliest(
    category: str, method: str, too_short: date, earliest: date
) -> None:
    view = _trade(category, method)
    with pytest.raises(StepContradictsRecord) as broken:
        _announce(view, _at(too_short))
    assert broken.value.code == "disclosure_period_too_short"
    assert not broken.value.conflict
    assert earliest.isoformat() in broken.value.message
    assert dict(broken.value.problems)["submission_deadline"].startswith(
        f"before {earliest.isoformat()}"
    )
    assert _announce(view, _at(earliest)).sections[0].state is S.ANNOUNCED


def test_the_working_days_skip_the_statutory_holidays() -> None:
    """From Thursday 27 April 2023: 28 April, then (29 April-3 May are the 劳动节 holiday) 4-5
    May, 6 May (调休 Saturday), 8-12, 15-19, 22-26 and 29 May: the 20th working day is 29 May,
    where weekdays alone would end on 25 May."""
    period = minimum_period("SOE_PROPERTY_RIGHTS", "LISTING")
    assert period is not None
    day = earliest_deadline(period, _at(date(2023, 4, 27)))
    assert day.day == date(2023, 5, 29) and day.unpublished_year is None


@pytest.mark.parametrize(
    ("category", "method"),
    [
        ("SOE_PROPERTY_RIGHTS", "NEGOTIATED_TRANSFER"),  # 非公开协议转让: no disclosure
        ("LAND_USE_RIGHTS", "AUCTION"),
        ("HOUSING", "COMPETITIVE_NEGOTIATION"),  # not government procurement
        ("EMISSION_RIGHTS", "LISTING"),
    ],
)
def test_trades_without_a_minimum_period_on_the_table_keep_only_the_deadline_rule(
    category: str, method: str
) -> None:
    view = _trade(category, method)
    assert _announce(view, ANNOUNCED_AT + timedelta(days=1)).sections[0].state is S.ANNOUNCED


def test_a_period_the_calendar_cannot_count_yet_is_refused_only_when_surely_too_short() -> None:
    """As 容缺 does, nothing is guessed of an unpublished year: its days count as working days
    (the most the period could have), so what is refused is too short whatever the calendar
    will say, and what could be long enough is accepted."""
    view = _trade("SOE_PROPERTY_RIGHTS", "LISTING")
    announced = _at(date(2099, 6, 1))
    with pytest.raises(StepContradictsRecord) as broken:
        _announce(view, _at(date(2099, 6, 15)), at=announced)
    assert "2099-06-21" in broken.value.message
    assert "calendar of 2099 is not published" in broken.value.message
    assert _announce(view, _at(date(2099, 6, 21)), at=announced).state is S.ANNOUNCED


# --- offers before 成交 -------------------------------------------------------------------------


def _completion(counterparty: str = A, **fields: object) -> LifecycleFact:
    deal = Deal(counterparty, "受让方", 52_000_000, ANNOUNCED_AT)
    return LifecycleFact(
        "p1",
        Step.COMPLETE_TRANSACTION,
        ANNOUNCED_AT,
        bid_section_codes=("001",),
        deal=deal,
        **fields,  # type: ignore[arg-type]
    )


def _offered(
    view: ProjectView, *bidders: str, state: ProjectState = S.BIDS_SUBMITTED
) -> ProjectView:
    return replace(view, sections=(SectionView("001", state, bidders=bidders),), state=state)


@pytest.mark.parametrize(
    ("category", "method", "needed"),
    [
        ("SOE_PROPERTY_RIGHTS", "LISTING", 1),
        ("LAND_USE_RIGHTS", "LISTING", 1),
        ("ASSET_DISPOSAL", "AUCTION", 1),
        ("GOVERNMENT_PROCUREMENT", "COMPETITIVE_CONSULTATION", 2),
        ("GOVERNMENT_PROCUREMENT", "COMPETITIVE_NEGOTIATION", 2),
        ("GOVERNMENT_PROCUREMENT", "REQUEST_FOR_QUOTATION", 3),
    ],
)
def test_a_trade_concludes_only_with_enough_offers_on_record(
    category: str, method: str, needed: int
) -> None:
    offers = (A, B, C)[:needed]
    view = _trade(category, method)
    short = _offered(view, *offers[:-1], state=S.ANNOUNCED if needed == 1 else S.BIDS_SUBMITTED)
    with pytest.raises(TooFewOffers) as refused:
        check_trading_rules(short, _completion())
    assert refused.value.code == "too_few_offers" and refused.value.conflict
    assert f"{needed - 1} offer(s) on record" in refused.value.message
    check_trading_rules(_offered(view, *offers), _completion())


def test_a_trade_concludes_with_one_who_made_an_offer() -> None:
    view = _offered(_trade("SOE_PROPERTY_RIGHTS", "LISTING"), B)
    with pytest.raises(StepContradictsRecord) as broken:
        check_trading_rules(view, _completion(A))
    assert broken.value.code == "counterparty_made_no_offer"
    assert A in broken.value.message and B in broken.value.message


def test_a_trade_recorded_off_the_platform_needs_no_offer_here() -> None:
    view = _offered(_trade("SOE_PROPERTY_RIGHTS", "LISTING"), state=S.ANNOUNCED)
    check_trading_rules(view, _completion(on_platform=False))


@pytest.mark.parametrize("method", ["NEGOTIATED_TRANSFER", "SINGLE_SOURCE", "OTHER", ""])
def test_methods_without_competition_conclude_without_offers(method: str) -> None:
    check_trading_rules(_offered(_trade("SOE_PROPERTY_RIGHTS", method)), _completion())


def test_a_section_stored_before_bidders_were_kept_skips_the_offer_rule() -> None:
    view = _trade("SOE_PROPERTY_RIGHTS", "LISTING")
    view = replace(view, sections=(SectionView("001", S.ANNOUNCED, bidders=None),))
    check_trading_rules(view, _completion())


# --- the first-ranked candidate wins (实施条例 art. 55) ------------------------------------------

PUBLICISED = SectionView("001", S.CANDIDATES_PUBLICISED, bidders=(A, B, C), candidates=(A, B, C))


def _award(winner: str, reason: str = "") -> LifecycleFact:
    return LifecycleFact(
        "p1",
        Step.AWARD,
        ANNOUNCED_AT,
        bid_section_codes=("001",),
        party_codes=(winner,),
        deal=Deal(winner, "中标人", 871_111_100, ANNOUNCED_AT),
        passed_over_reason=reason,
    )


def _tender(required: bool | None) -> ProjectView:
    return project_view(
        trading_method="OPEN_TENDER", tender_required_by_law=required, sections=(PUBLICISED,)
    )


def test_a_tender_bound_by_law_is_awarded_to_the_first_ranked_unless_a_reason_is_stated() -> None:
    with pytest.raises(StepContradictsRecord) as broken:
        check_trading_rules(_tender(True), _award(C))
    assert broken.value.code == "winner_not_first_ranked"
    assert f"first-ranked candidate is {A}" in broken.value.message
    for reason in ("GAVE_UP", "FORCE_MAJEURE", "NO_PERFORMANCE_SECURITY", "UNLAWFUL_CONDUCT"):
        assert reason in broken.value.message
        check_trading_rules(_tender(True), _award(C, reason))
    check_trading_rules(_tender(True), _award(A))


@pytest.mark.parametrize("required", [False, None])
def test_a_tender_not_bound_by_law_may_award_another_candidate(required: bool | None) -> None:
    check_trading_rules(_tender(required), _award(C))


def test_a_reason_for_passing_over_when_the_first_ranked_wins_contradicts_the_award() -> None:
    with pytest.raises(StepContradictsRecord) as broken:
        check_trading_rules(_tender(True), _award(A, "GAVE_UP"))
    assert broken.value.code == "passed_over_reason_without_passing_over"


# --- 成交 at the award's amount (实施条例 art. 57) ------------------------------------------------


def _awarded(*amounts: int) -> ProjectView:
    sections = tuple(
        SectionView(f"00{n}", S.AWARDED, deal=Deal(A, "中标人", amount, ANNOUNCED_AT))
        for n, amount in enumerate(amounts, start=1)
    )
    return project_view(trading_method="OPEN_TENDER", sections=sections, state=S.AWARDED)


def _concluded(amount: int, *sections: str) -> LifecycleFact:
    deal = Deal(A, "中标人", amount, ANNOUNCED_AT)
    return LifecycleFact(
        "p1", Step.COMPLETE_TRANSACTION, ANNOUNCED_AT, bid_section_codes=sections, deal=deal
    )


def test_a_completion_after_an_award_is_at_the_award_s_amount() -> None:
    view = _awarded(871_111_100)
    with pytest.raises(StepContradictsRecord) as broken:
        check_trading_rules(view, _concluded(1_300_000_000, "001"))
    assert broken.value.code == "amount_not_the_award"
    assert "871111100" in broken.value.message and "1300000000" in broken.value.message
    check_trading_rules(view, _concluded(871_111_100, "001"))


def test_a_whole_project_completion_is_at_the_sum_of_its_awards() -> None:
    view = _awarded(100, 250)
    with pytest.raises(StepContradictsRecord):
        check_trading_rules(view, _concluded(250))
    check_trading_rules(view, _concluded(350))
    check_trading_rules(view, _concluded(250, "002"))


# --- the deposit relief's ceiling (实施条例 art. 26) ---------------------------------------------


def _relief(saved: int, *sections: str, bidder: str = "") -> LifecycleFact:
    return LifecycleFact(
        "p1",
        Step.RELIEVE_DEPOSIT,
        ANNOUNCED_AT,
        bid_section_codes=sections,
        amount_saved_fen=saved,
        relieved_bidder=bidder,
    )


def _budgeted(*sections: SectionView, method: str = "OPEN_TENDER") -> ProjectView:
    return project_view(
        budget_fen=100_000_000, trading_method=method, sections=sections, state=S.ANNOUNCED
    )


def test_a_relief_saves_at_most_two_percent_of_the_section_s_budget() -> None:
    # 1,000,000 yuan project, section 001 of 600,000 yuan: a deposit of at most 12,000 yuan
    view = _budgeted(
        SectionView("001", S.ANNOUNCED, budget_fen=60_000_000),
        SectionView("002", S.ANNOUNCED, budget_fen=40_000_000),
    )
    with pytest.raises(StepContradictsRecord) as broken:
        check_trading_rules(view, _relief(1_200_001, "001", bidder=A))
    assert broken.value.code == "deposit_relief_above_ceiling"
    assert "1200000 fen" in broken.value.message
    check_trading_rules(view, _relief(1_200_000, "001", bidder=A))
    # every section: the sum of their ceilings
    check_trading_rules(view, _relief(2_000_000))
    with pytest.raises(StepContradictsRecord):
        check_trading_rules(view, _relief(5_000_000_000))


def test_a_relief_to_every_bidder_saves_at_most_a_deposit_per_bidder_on_record() -> None:
    view = _budgeted(SectionView("001", S.BIDS_SUBMITTED, bidders=(A, B, C), budget_fen=10_000))
    check_trading_rules(view, _relief(600, "001"))
    with pytest.raises(StepContradictsRecord):
        check_trading_rules(view, _relief(601, "001"))
    with pytest.raises(StepContradictsRecord):
        check_trading_rules(view, _relief(201, "001", bidder=A))


def test_a_relief_refused_before_the_opening_does_not_tell_how_many_bid() -> None:
    """The ceiling of a relief to every bidder is a deposit per bidder on record: its total,
    said before the bids are opened, would tell their number (art. 22) — diff review."""
    view = _budgeted(SectionView("001", S.BIDS_SUBMITTED, bidders=(A, B, C), budget_fen=10_000))
    with pytest.raises(StepContradictsRecord) as refused:
        check_trading_rules(view, _relief(10**9, "001"))
    told = refused.value.message + " ".join(p for _, p in refused.value.problems)
    assert "600" not in told and "on record" not in told and "200 fen" in told
    opened = _budgeted(SectionView("001", S.BIDS_OPENED, bidders=(A, B, C), budget_fen=10_000))
    with pytest.raises(StepContradictsRecord) as after:
        check_trading_rules(opened, _relief(10**9, "001"))
    assert "600 fen in all" in after.value.message


def test_a_view_without_section_budgets_falls_back_to_the_project_s() -> None:
    view = _budgeted(SectionView("001", S.ANNOUNCED))
    check_trading_rules(view, _relief(2_000_000, "001"))
    with pytest.raises(StepContradictsRecord):
        check_trading_rules(view, _relief(2_000_001, "001"))


def test_a_listing_s_deposit_is_not_a_bid_deposit() -> None:
    """竞买保证金 of a listing or auction is set by its own rules, often far above 2%."""
    view = _budgeted(SectionView("001", S.ANNOUNCED, budget_fen=100), method="LISTING")
    check_trading_rules(view, _relief(50, "001"))


# --- the edges: bodies, events, stored views ----------------------------------------------------

BID = {
    "bidder": {"name": "山东黄河建工集团有限公司", "credit_code": A},
    "bid_section_code": "001",
    "bid_price_fen": 100,
    "fingerprint": {
        "cpu_id": "C",
        "disk_serial": "D",
        "mac_address": "3c-7c-3f-1a-2b-4d",
        "ip_address": "10.12.0.7",
        "document_md5": "0" * 32,
    },
}


def test_a_bid_without_a_deposit_needs_no_account_and_one_with_a_deposit_does() -> None:
    assert schemas.BidCreate.model_validate({**BID, "deposit_fen": 0}).deposit_account is None
    with pytest.raises(ValidationError, match="deposit_account"):
        schemas.BidCreate.model_validate({**BID, "deposit_fen": 100})
    paid = schemas.BidCreate.model_validate({**BID, "deposit_fen": 100, "deposit_account": "6228"})
    event = event_codec.bid_submitted("p1", "JYZX", ANNOUNCED_AT, paid)
    assert event.deposit_account == "6228"
    free = schemas.BidCreate.model_validate(BID)
    assert event_codec.bid_submitted("p1", "JYZX", ANNOUNCED_AT, free).deposit_account == ""


def test_the_award_s_reason_and_the_relief_s_amount_travel_on_their_events() -> None:
    body = schemas.AwardCreate.model_validate(
        {
            "bid_section_code": "001",
            "winner": {"name": "中标人", "credit_code": C},
            "amount_fen": 871_111_100,
            "passed_over_reason": "GAVE_UP",
        }
    )
    message = event_codec.contract_awarded("p1", "ZJJ", ANNOUNCED_AT, body)
    fact = event_codec.fact_from_envelope(Envelope(message=message, source="t", subject="p1"))
    assert fact is not None and fact.passed_over_reason == "GAVE_UP"
    plain = event_codec.contract_awarded("p1", "ZJJ", ANNOUNCED_AT, replace_reason(body))
    fact = event_codec.fact_from_envelope(Envelope(message=plain, source="t", subject="p1"))
    assert fact is not None and fact.passed_over_reason == ""
    relief = schemas.DepositReliefCreate.model_validate(
        {"kind": "WAIVED", "amount_saved_fen": 123, "bidder": {"name": "投标人", "credit_code": B}}
    )
    waived = event_codec.deposit_waived("p1", "ZJJ", ANNOUNCED_AT, relief)
    fact = event_codec.fact_from_envelope(Envelope(message=waived, source="t", subject="p1"))
    assert fact is not None and (fact.amount_saved_fen, fact.relieved_bidder) == (123, B)


def replace_reason(body: schemas.AwardCreate) -> schemas.AwardCreate:
    return body.model_copy(update={"passed_over_reason": None})


def test_a_stored_view_keeps_its_section_budgets_and_an_older_one_has_none() -> None:
    view = project_view(sections=(SectionView("001", budget_fen=60_000_000),))
    assert view_from_json(view_to_json(view)).sections[0].budget_fen == 60_000_000
    older = view_to_json(view).replace('"budget_fen":60000000', '"x":0')
    assert view_from_json(older).sections[0].budget_fen is None


def test_two_candidates_cannot_share_a_rank() -> None:
    """Who is first decides a bound tender's award (art. 55): a tie left it to the list's
    order (diff review)."""
    party = {"name": "济南某建设有限公司", "credit_code": "91110000600037341L"}
    other = {"name": "山东某工程有限公司", "credit_code": "91370112MA3EU8W08J"}
    body = {
        "bid_section_code": "001",
        "publicity_ends_at": "2023-05-28T17:00:00+08:00",
        "candidates": [
            {"rank": 1, "bidder": party, "bid_price_fen": 100},
            {"rank": 1, "bidder": other, "bid_price_fen": 101},
        ],
    }
    with pytest.raises(ValidationError, match="ranks must differ: 1 given twice"):
        schemas.CandidatesCreate.model_validate(body)
    body["candidates"][1]["rank"] = 2  # type: ignore[index]
    assert schemas.CandidatesCreate.model_validate(body).candidates[1].rank == 2
