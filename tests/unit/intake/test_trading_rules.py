"""The rules of the trade checked where a step is received: deadlines announced and the parties
on record (services/intake/domain/trading_rules.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.intake.domain.lifecycle import (
    Deal,
    LifecycleFact,
    ProjectView,
    SectionView,
    Step,
    evolve,
)
from services.intake.domain.trading_rules import (
    BidAfterDeadline,
    StepContradictsRecord,
    StepOutOfTime,
    TooFewBidders,
    check_trading_rules,
    publicity_long_enough,
)
from services.intake.read_model import view_from_json, view_to_json
from tests.unit.intake.views import project_view

ANNOUNCED_AT = datetime(2023, 5, 4, 2, 0, tzinfo=UTC)  # 10:00 Beijing time
CLOSE = ANNOUNCED_AT + timedelta(days=20)
A, B, C, D = "91110000600037341L", "91370100MA3C1XQ21U", "91370112MA3EU8W08K", "913701007060708090"


def _view(**changes: object) -> ProjectView:
    base = {
        "registered_at": ANNOUNCED_AT - timedelta(days=3),
        "sections": (SectionView("001"), SectionView("002")),
        "trading_method": "OPEN_TENDER",
    }
    return project_view(**{**base, **changes})


def _fact(step: Step, at: datetime, section: str = "001", **fields: object) -> LifecycleFact:
    return LifecycleFact("p1", step, at, bid_section_codes=(section,), **fields)  # type: ignore[arg-type]


def _step(view: ProjectView, fact: LifecycleFact) -> ProjectView:
    """As the API does: the state machine, then the rules, then the fold."""
    after = evolve(view, fact)
    check_trading_rules(view, fact)
    return after


def _announced(view: ProjectView | None = None) -> ProjectView:
    announcement = LifecycleFact(
        "p1", Step.ANNOUNCE, ANNOUNCED_AT, submission_deadline=CLOSE, opening_at=CLOSE
    )
    return _step(view or _view(), announcement)


def _bids(view: ProjectView, *bidders: str, section: str = "001") -> ProjectView:
    for n, bidder in enumerate(bidders):
        at = ANNOUNCED_AT + timedelta(days=1, hours=n)
        view = _step(view, _fact(Step.SUBMIT_BID, at, section, party_codes=(bidder,)))
    return view


def _evaluated(view: ProjectView, *ruled_out: str) -> ProjectView:
    view = _step(view, _fact(Step.OPEN_BIDS, CLOSE, party_codes=(A, B, C)))
    at = CLOSE + timedelta(hours=4)
    return _step(view, _fact(Step.COMPLETE_EVALUATION, at, party_codes=ruled_out))


PUBLICISED_AT = CLOSE + timedelta(days=1)  # 2023-05-25 10:00 Beijing time
PUBLICITY_ENDS = datetime(2023, 5, 28, 17, 0, tzinfo=UTC)  # the 28th, Beijing time


def _publicised(view: ProjectView, *candidates: str) -> ProjectView:
    fact = _fact(
        Step.PUBLICISE_CANDIDATES,
        PUBLICISED_AT,
        party_codes=candidates,
        publicity_ends_at=PUBLICITY_ENDS,
    )
    return _step(view, fact)


def test_the_rules_let_a_tender_that_keeps_them_run_to_its_award() -> None:
    view = _publicised(_evaluated(_bids(_announced(), A, B, C), C), B, A)
    awarded = _step(view, _fact(Step.AWARD, PUBLICITY_ENDS, party_codes=(B,)))
    section = awarded.sections[0]
    assert section.state.value == "AWARDED"
    assert (section.bidders, section.disqualified, section.candidates) == ((A, B, C), (C,), (B, A))
    assert section.publicity_ends_at == PUBLICITY_ENDS
    assert view_from_json(view_to_json(awarded)) == awarded  # kept by the read model


def test_a_bidder_bidding_twice_is_one_bidder() -> None:
    view = _bids(_announced(), A, B, A)
    assert view.sections[0].bidders == (A, B)


def test_an_announced_deadline_must_follow_the_announcement() -> None:
    at_it = LifecycleFact(
        "p1", Step.ANNOUNCE, ANNOUNCED_AT, submission_deadline=ANNOUNCED_AT, opening_at=CLOSE
    )
    with pytest.raises(StepContradictsRecord, match="is not after the announcement") as refused:
        _step(_view(), at_it)
    assert refused.value.code == "submission_deadline_not_after_announcement"


def test_an_announcement_may_not_schedule_the_opening_before_the_deadline() -> None:
    early = LifecycleFact(
        "p1",
        Step.ANNOUNCE,
        ANNOUNCED_AT,
        submission_deadline=CLOSE,
        opening_at=CLOSE - timedelta(minutes=1),
    )
    with pytest.raises(StepContradictsRecord, match=r"art\. 34") as refused:
        _step(_view(), early)
    assert refused.value.code == "opening_before_submission_deadline"
    assert refused.value.problems[0][0] == "opening_at"
    _step(_view(), replace(early, opening_at=CLOSE))  # at the deadline: as the law says


def test_a_tender_may_not_schedule_the_opening_after_the_deadline() -> None:
    late = LifecycleFact(
        "p1",
        Step.ANNOUNCE,
        ANNOUNCED_AT,
        submission_deadline=CLOSE,
        opening_at=CLOSE + timedelta(hours=1),
    )
    with pytest.raises(StepContradictsRecord, match=r"art\. 34") as refused:
        _step(_view(), late)
    assert refused.value.code == "opening_after_submission_deadline"
    _step(_view(trading_method="AUCTION"), late)  # an auction's own procedure


def test_a_bid_after_its_sections_submission_deadline_is_refused() -> None:
    view = _announced()
    at_the_deadline = _fact(Step.SUBMIT_BID, CLOSE, party_codes=(A,))
    check_trading_rules(view, at_the_deadline)  # in time
    late = replace(at_the_deadline, occurred_at=CLOSE + timedelta(seconds=1))
    with pytest.raises(BidAfterDeadline, match="section 001: the submission deadline") as refused:
        check_trading_rules(view, late)
    assert refused.value.deadline == CLOSE
    assert isinstance(refused.value, StepOutOfTime)


def test_each_section_keeps_its_own_deadline() -> None:
    view = _view()
    for code, close in (("001", CLOSE), ("002", CLOSE + timedelta(days=2))):
        view = _step(
            view,
            _fact(Step.ANNOUNCE, ANNOUNCED_AT, code, submission_deadline=close, opening_at=close),
        )
    late_for_001 = _fact(Step.SUBMIT_BID, CLOSE + timedelta(days=1), "001", party_codes=(A,))
    with pytest.raises(BidAfterDeadline):
        check_trading_rules(view, late_for_001)
    check_trading_rules(view, replace(late_for_001, bid_section_codes=("002",)))


def test_a_section_announced_without_a_kept_deadline_takes_bids() -> None:
    view = evolve(_view(), LifecycleFact("p1", Step.ANNOUNCE, ANNOUNCED_AT))  # no deadline
    check_trading_rules(view, _fact(Step.SUBMIT_BID, CLOSE + timedelta(days=99)))


def test_bids_are_not_opened_before_the_submission_deadline() -> None:
    view = _bids(_announced(), A, B, C)
    early = _fact(Step.OPEN_BIDS, CLOSE - timedelta(minutes=5), party_codes=(A, B, C))
    with pytest.raises(StepOutOfTime, match=r"opened at the submission deadline .* art\. 34") as e:
        _step(view, early)
    assert e.value.code == "opening_before_submission_deadline"
    assert e.value.section == "001"
    _step(view, replace(early, occurred_at=CLOSE))


def test_only_bids_submitted_in_the_section_are_opened() -> None:
    view = _bids(_announced(), A, B)
    view = _bids(view, C, section="002")  # C bid in the other section
    with pytest.raises(StepContradictsRecord, match=f"{C} submitted no bid in this") as refused:
        _step(view, _fact(Step.OPEN_BIDS, CLOSE, party_codes=(A, B, C)))
    assert refused.value.code == "opened_bid_not_submitted"
    assert f"bidders: {A}, {B}" in refused.value.message


def test_a_tender_with_fewer_than_three_bidders_is_not_opened() -> None:
    two = _bids(_announced(), A, B, A)  # A bid twice: still two bidders
    opening = _fact(Step.OPEN_BIDS, CLOSE, party_codes=(A, B))
    with pytest.raises(TooFewBidders, match=r"has 2 bidder\(s\) on record.*流标") as refused:
        _step(two, opening)
    assert refused.value.code == "fewer_than_three_bidders"
    assert refused.value.conflict  # 409: the section must fail (流标) instead
    _step(_bids(two, C), replace(opening, party_codes=(A, B, C)))
    # Negotiations, consultations, auctions: the rules of their own procedures.
    _step(replace(two, trading_method="COMPETITIVE_CONSULTATION"), opening)
    _step(replace(two, trading_method=""), opening)  # a view from before the method was kept


def test_a_view_without_its_bidders_counts_the_bids_opened() -> None:
    legacy = _bids(_announced(), A)  # bids taken before the view kept its bidders
    legacy = replace(legacy, sections=tuple(replace(s, bidders=None) for s in legacy.sections))
    with pytest.raises(TooFewBidders):
        _step(legacy, _fact(Step.OPEN_BIDS, CLOSE, party_codes=(A, B, A)))  # two bidders
    _step(legacy, _fact(Step.OPEN_BIDS, CLOSE))  # nothing on record to count


def test_only_bidders_are_ruled_out_at_evaluation() -> None:
    opening = _fact(Step.OPEN_BIDS, CLOSE, party_codes=(A, B, C))
    view = _step(_bids(_announced(), A, B, C), opening)
    with pytest.raises(StepContradictsRecord) as refused:
        _step(view, _fact(Step.COMPLETE_EVALUATION, CLOSE, party_codes=(D,)))
    assert refused.value.code == "disqualified_bidder_did_not_bid"


def test_candidates_are_bidders_not_ruled_out() -> None:
    view = _evaluated(_bids(_announced(), A, B, C), C)
    with pytest.raises(StepContradictsRecord, match=f"{D} submitted no bid") as stranger:
        _publicised(view, A, D)
    assert stranger.value.code == "candidate_did_not_bid"
    with pytest.raises(StepContradictsRecord, match="ruled out at evaluation") as ruled_out:
        _publicised(view, A, C)
    assert ruled_out.value.code == "candidate_ruled_out"


def test_the_publicity_ends_after_it_starts() -> None:
    view = _evaluated(_bids(_announced(), A, B, C))
    fact = _fact(
        Step.PUBLICISE_CANDIDATES, PUBLICISED_AT, party_codes=(A,), publicity_ends_at=PUBLICISED_AT
    )
    with pytest.raises(StepContradictsRecord) as refused:
        _step(view, fact)
    assert refused.value.code == "publicity_ends_before_it_starts"


def test_three_days_of_publicity_count_from_the_day_after_it_starts() -> None:
    started = datetime(2023, 5, 25, 2, 0, tzinfo=UTC)  # 25 May, 10:00 Beijing time
    assert publicity_long_enough(started, datetime(2023, 5, 28, 9, 0, tzinfo=UTC))  # 28th 17:00
    assert not publicity_long_enough(started, datetime(2023, 5, 27, 15, 59, tzinfo=UTC))  # 27th
    # Beijing's date decides: 28 May 00:30 in Beijing is still 27 May in UTC.
    assert publicity_long_enough(started, datetime(2023, 5, 27, 16, 30, tzinfo=UTC))
    # And for its start: 25 May 01:00 in Beijing is 24 May in UTC; the 27th is still too soon.
    after_midnight = datetime(2023, 5, 24, 17, 0, tzinfo=UTC)
    assert not publicity_long_enough(after_midnight, datetime(2023, 5, 27, 9, 0, tzinfo=UTC))


def test_a_tenders_publicity_lasts_three_days() -> None:
    view = _evaluated(_bids(_announced(), A, B, C))
    short = _fact(
        Step.PUBLICISE_CANDIDATES,
        PUBLICISED_AT,
        party_codes=(A,),
        publicity_ends_at=PUBLICISED_AT + timedelta(days=2),
    )
    with pytest.raises(StepContradictsRecord, match=r"at least 3 days .* art\. 54") as refused:
        _step(view, short)
    assert refused.value.code == "publicity_too_short"
    assert "2023-05-28 at the earliest" in refused.value.message
    # Government procurement announces its result instead; other methods have no such period.
    _step(replace(view, category="GOVERNMENT_PROCUREMENT"), short)
    _step(replace(view, trading_method="COMPETITIVE_CONSULTATION"), short)
    _step(replace(view, trading_method=""), short)  # a view from before the method was kept


def test_the_award_waits_for_the_publicity_to_end() -> None:
    view = _publicised(_evaluated(_bids(_announced(), A, B, C)), A, B)
    early = _fact(Step.AWARD, PUBLICITY_ENDS - timedelta(hours=1), party_codes=(A,))
    with pytest.raises(StepOutOfTime, match=r"waits for it to end .* art\. 54") as refused:
        _step(view, early)
    assert refused.value.code == "award_before_publicity_ends"
    _step(view, replace(early, occurred_at=PUBLICITY_ENDS))


def test_a_tenders_winner_is_a_publicised_candidate() -> None:
    view = _publicised(_evaluated(_bids(_announced(), A, B, C)), A, B)
    to_c = _fact(Step.AWARD, PUBLICITY_ENDS, party_codes=(C,))
    with pytest.raises(StepContradictsRecord, match=r"not one of the publicised .* art\. 40") as e:
        _step(view, to_c)
    assert e.value.code == "winner_not_a_candidate"
    _step(replace(view, trading_method="COMPETITIVE_NEGOTIATION"), to_c)  # not a tender


def test_a_view_stored_before_parties_were_kept_skips_the_party_rules() -> None:
    view = _bids(_announced(), A, B)
    legacy = replace(
        view,
        sections=tuple(
            replace(s, bidders=None, disqualified=None, candidates=None) for s in view.sections
        ),
    )
    stored = view_to_json(legacy).replace('"bidders":null,', "")
    assert "bidders" not in stored
    assert view_from_json(stored).sections[0].bidders is None  # a missing key reads as unknown
    opened = _step(legacy, _fact(Step.OPEN_BIDS, CLOSE, party_codes=(A, B, D)))
    assert opened.sections[0].bidders is None  # and stays unknown: later bids were not seen
    evaluated = _step(opened, _fact(Step.COMPLETE_EVALUATION, CLOSE, party_codes=(D,)))
    _publicised(evaluated, A)  # D is unknown to the record, A is not ruled out


def test_a_listing_concludes_only_once_its_announced_period_is_over() -> None:
    """A state-owned property right listed until CLOSE (企业国有资产交易监督管理办法 art. 13):
    a 成交 before then closes the listing while others may still bid (409); at or after it,
    the deal stands."""
    listing = _view(category="SOE_PROPERTY_RIGHTS", trading_method="LISTING")
    # 20 working days from 4 May 2023 (企业国有资产交易监督管理办法 art. 13): 1 June
    close = datetime(2023, 6, 1, 2, 0, tzinfo=UTC)
    announced = _bids(
        _step(
            listing,
            LifecycleFact("p1", Step.ANNOUNCE, ANNOUNCED_AT, submission_deadline=close),
        ),
        A,
    )
    early = ANNOUNCED_AT + timedelta(hours=1)
    deal = Deal(A, "济南某投资有限公司", 52_000_000, early)
    with pytest.raises(StepOutOfTime, match="takes offers until") as refused:
        _step(announced, _fact(Step.COMPLETE_TRANSACTION, early, deal=deal))
    assert refused.value.code == "completion_before_submission_deadline"
    assert refused.value.conflict
    after_close = close + timedelta(hours=2)
    done = _step(
        announced,
        _fact(Step.COMPLETE_TRANSACTION, after_close, deal=replace(deal, at=after_close)),
    )
    assert done.sections[0].state.value == "COMPLETED"
