"""A tender concludes (成交) only after its award, with the winner; other trading methods keep
their own paths (services/intake/domain/lifecycle.py, trading_rules.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.intake.domain.lifecycle import (
    Deal,
    LifecycleFact,
    ProjectState,
    ProjectView,
    SectionView,
    Step,
    TransitionRefused,
    allowed_steps,
    check_method_allows,
    evolve,
    view_allowed_steps,
)
from services.intake.domain.trading_rules import StepContradictsRecord, check_trading_rules
from tests.unit.intake.views import project_view

NOW = datetime(2023, 5, 4, 2, 0, tzinfo=UTC)
S = ProjectState
WINNER = Deal("91110000600037341L", "山东黄河建工集团有限公司", 110_000_000, NOW)
STRANGER = Deal("91370100MA3C1XQ21U", "另一家公司", 110_000_000, NOW)
BEFORE_AWARD = (
    S.ANNOUNCED,
    S.BIDS_SUBMITTED,
    S.BIDS_OPENED,
    S.EVALUATED,
    S.CANDIDATES_PUBLICISED,
)
TENDERS = ("OPEN_TENDER", "INVITED_TENDER")
OTHER_METHODS = ("AUCTION", "LISTING", "NEGOTIATED_TRANSFER", "COMPETITIVE_NEGOTIATION", "")


def _view(method: str, *states: ProjectState, deal: Deal | None = None) -> ProjectView:
    sections = tuple(
        SectionView(f"00{n}", state, deal=deal if state is S.AWARDED else None)
        for n, state in enumerate(states, start=1)
    )
    return project_view(
        registered_at=NOW,
        state=min(states, key=list(S).index),
        sections=sections,
        trading_method=method,
    )


def _completion(*sections: str, deal: Deal | None = WINNER) -> LifecycleFact:
    return LifecycleFact(
        "p1", Step.COMPLETE_TRANSACTION, NOW, bid_section_codes=sections, deal=deal
    )


def _receive(view: ProjectView, fact: LifecycleFact) -> ProjectView:
    """As the API does: the state machine, the method's rule, the rules of the trade."""
    after = evolve(view, fact)
    check_method_allows(view, fact)
    check_trading_rules(view, fact)
    return after


@pytest.mark.parametrize("method", TENDERS)
@pytest.mark.parametrize("state", BEFORE_AWARD)
@pytest.mark.parametrize("sections", [(), ("001",)])
def test_a_tender_is_not_concluded_before_its_award(
    method: str, state: ProjectState, sections: tuple[str, ...]
) -> None:
    with pytest.raises(TransitionRefused) as refused:
        _receive(_view(method, state), _completion(*sections))
    assert refused.value.current is state
    assert refused.value.section == "001"
    assert "only after its award" in refused.value.reason
    assert Step.COMPLETE_TRANSACTION not in refused.value.allowed
    assert Step.COMPLETE_TRANSACTION not in view_allowed_steps(_view(method, state))


@pytest.mark.parametrize("method", TENDERS)
def test_a_tender_is_concluded_after_its_award_with_the_winner(method: str) -> None:
    view = _view(method, S.AWARDED, deal=WINNER)
    assert Step.COMPLETE_TRANSACTION in view_allowed_steps(view)
    assert _receive(view, _completion()).state is S.COMPLETED


@pytest.mark.parametrize("method", [*TENDERS, "LISTING"])
def test_the_completion_after_an_award_names_the_winner(method: str) -> None:
    view = _view(method, S.AWARDED, deal=WINNER)
    with pytest.raises(StepContradictsRecord) as broken:
        _receive(view, _completion(deal=STRANGER))
    assert broken.value.code == "counterparty_not_the_winner"
    assert WINNER.party_code in broken.value.message
    assert STRANGER.party_code in broken.value.message


@pytest.mark.parametrize("method", OTHER_METHODS)
@pytest.mark.parametrize("state", BEFORE_AWARD)
def test_other_methods_conclude_straight_after_the_announcement(
    method: str, state: ProjectState
) -> None:
    view = _view(method, state)
    assert Step.COMPLETE_TRANSACTION in view_allowed_steps(view)
    # with the offer of the party it concludes with on record (trading_minimums)
    view = replace(view, sections=(replace(view.sections[0], bidders=(STRANGER.party_code,)),))
    assert _receive(view, _completion(deal=STRANGER)).state is S.COMPLETED


def test_a_tenders_whole_project_completion_concludes_its_awarded_sections_only() -> None:
    view = _view("OPEN_TENDER", S.ANNOUNCED, S.AWARDED, deal=WINNER)
    after = _receive(view, _completion())
    assert [(s.code, s.state) for s in after.sections] == [
        ("001", S.ANNOUNCED),
        ("002", S.COMPLETED),
    ]
    with pytest.raises(TransitionRefused):
        _receive(view, _completion("001", "002"))


def test_the_allowed_steps_follow_the_method() -> None:
    assert Step.COMPLETE_TRANSACTION in allowed_steps(S.ANNOUNCED)
    assert Step.COMPLETE_TRANSACTION in allowed_steps(S.ANNOUNCED, "AUCTION")
    assert Step.COMPLETE_TRANSACTION not in allowed_steps(S.ANNOUNCED, "OPEN_TENDER")
    assert Step.COMPLETE_TRANSACTION in allowed_steps(S.AWARDED, "OPEN_TENDER")


def test_a_completion_the_log_accepted_before_the_rule_still_folds() -> None:
    """The rule is checked where a step is received: a rebuild reads older completions."""
    view = _view("OPEN_TENDER", S.ANNOUNCED)
    assert evolve(view, _completion()).state is S.COMPLETED
    assert evolve(replace(view, sections=()), _completion()).state is S.COMPLETED
