"""The lifecycle state machine and the project view folded from events."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from services.intake.domain.lifecycle import (
    Deal,
    LifecycleFact,
    NothingToSupplement,
    ProjectState,
    ProjectView,
    SectionView,
    Step,
    TransitionRefused,
    UnknownBidSection,
    allowed_steps,
    check_supplement,
    evolve,
    last_step_at,
    view_allowed_steps,
)
from services.intake.read_model import view_from_json, view_to_json
from tests.unit.intake.views import project_view

NOW = datetime(2023, 5, 4, 2, 0, tzinfo=UTC)


def _view(**changes: object) -> ProjectView:
    return project_view(**{"registered_at": NOW, **changes})


def _run(view: ProjectView, *steps: Step, sections: tuple[str, ...] = ()) -> ProjectView:
    for step in steps:
        view = evolve(view, LifecycleFact("p1", step, NOW, bid_section_codes=sections))
    return view


def _states(view: ProjectView) -> dict[str, ProjectState]:
    return {section.code: section.state for section in view.sections}


TWO_SECTIONS = (SectionView("001"), SectionView("002"))
S = ProjectState


def test_the_full_tender_path_reaches_awarded() -> None:
    view = _run(
        _view(),
        Step.PRE_PUBLISH,
        Step.ANNOUNCE,
        Step.SUBMIT_BID,
        Step.SUBMIT_BID,
        Step.RELIEVE_DEPOSIT,
        Step.OPEN_BIDS,
        Step.COMPLETE_EVALUATION,
        Step.PUBLICISE_CANDIDATES,
        Step.AWARD,
    )
    assert view.state is ProjectState.AWARDED
    assert view.version == 10


def test_an_auction_concludes_straight_after_its_announcement() -> None:
    assert _run(_view(), Step.ANNOUNCE, Step.COMPLETE_TRANSACTION).state is ProjectState.COMPLETED


def test_opening_bids_before_the_announcement_is_refused_naming_state_and_next_steps() -> None:
    with pytest.raises(TransitionRefused) as refused:
        _run(_view(), Step.OPEN_BIDS)
    message = str(refused.value)
    assert "is REGISTERED" in message
    assert "OPEN_BIDS is not allowed" in message
    assert refused.value.allowed == allowed_steps(ProjectState.REGISTERED)
    assert Step.ANNOUNCE in refused.value.allowed
    assert Step.PRE_PUBLISH in refused.value.allowed


def test_nothing_but_a_historical_refund_follows_termination() -> None:
    view = _run(_view(), Step.ANNOUNCE, Step.TERMINATE)
    assert view.state is ProjectState.TERMINATED
    assert allowed_steps(view.state) == (Step.REFUND_HISTORICAL_DEPOSIT,)
    with pytest.raises(TransitionRefused, match="is TERMINATED"):
        _run(view, Step.ANNOUNCE)


def test_supplementing_every_missing_document_clears_the_deadline() -> None:
    view = _view(
        outstanding_documents=("规划许可证", "资金证明"), supplement_deadline=date(2023, 5, 10)
    )
    check_supplement(view, ("资金证明",))
    view = evolve(view, LifecycleFact("p1", Step.SUPPLEMENT_DOCUMENTS, NOW, "ZJJ", ("资金证明",)))
    assert view.outstanding_documents == ("规划许可证",)
    assert view.supplement_deadline == date(2023, 5, 10)
    view = evolve(view, LifecycleFact("p1", Step.SUPPLEMENT_DOCUMENTS, NOW, "ZJJ", ("规划许可证",)))
    assert view.outstanding_documents == ()
    assert view.supplement_deadline is None
    with pytest.raises(NothingToSupplement, match="no documents outstanding"):
        check_supplement(view, ("规划许可证",))


def test_supplementing_a_document_that_was_not_missing_is_refused() -> None:
    view = _view(outstanding_documents=("规划许可证",), supplement_deadline=date(2023, 5, 10))
    with pytest.raises(NothingToSupplement, match="not outstanding: 营业执照"):
        check_supplement(view, ("营业执照",))


def test_a_breach_marks_the_view() -> None:
    view = _view(outstanding_documents=("规划许可证",), supplement_deadline=date(2023, 5, 10))
    assert _run(view, Step.BREACH_DEADLINE).deadline_breached


def test_each_bid_section_moves_on_its_own_and_the_project_follows_its_least_advanced() -> None:
    view = _run(_view(sections=TWO_SECTIONS), Step.ANNOUNCE)  # naming none: every section
    assert _states(view) == {"001": S.ANNOUNCED, "002": S.ANNOUNCED}
    view = _run(
        view,
        Step.SUBMIT_BID,
        Step.OPEN_BIDS,
        Step.COMPLETE_EVALUATION,
        Step.PUBLICISE_CANDIDATES,
        Step.AWARD,
        sections=("001",),
    )
    view = _run(view, Step.SUBMIT_BID, sections=("002",))
    assert _states(view) == {"001": S.AWARDED, "002": S.BIDS_SUBMITTED}
    assert view.state is S.BIDS_SUBMITTED  # still trading: not final while 002 is open
    view = _run(view, Step.OPEN_BIDS, sections=("002",))
    assert view.state is S.BIDS_OPENED
    view = _run(view, Step.TERMINATE, sections=("002",))  # 002 流标
    assert _states(view) == {"001": S.AWARDED, "002": S.TERMINATED}
    assert view.state is S.AWARDED  # the project ended in a deal


def test_a_step_on_one_section_is_refused_by_that_sections_state_and_names_it() -> None:
    view = _run(_view(sections=TWO_SECTIONS), Step.ANNOUNCE)
    view = _run(view, Step.SUBMIT_BID, Step.OPEN_BIDS, sections=("001",))
    with pytest.raises(TransitionRefused) as refused:
        _run(view, Step.OPEN_BIDS, sections=("002",))  # no bids yet in 002
    assert refused.value.section == "002"
    assert refused.value.current is S.ANNOUNCED
    assert "section 002 is ANNOUNCED" in str(refused.value)
    with pytest.raises(TransitionRefused, match="section 001 is BIDS_OPENED"):
        _run(view, Step.SUBMIT_BID, sections=("001",))  # bidding closed at opening


def test_a_step_naming_a_section_the_project_lacks_is_refused_naming_its_sections() -> None:
    with pytest.raises(UnknownBidSection) as unknown:
        _run(_view(sections=TWO_SECTIONS), Step.ANNOUNCE, sections=("001", "009"))
    assert unknown.value.unknown == ("009",)
    assert "has no bid section 009; its sections: 001, 002" in str(unknown.value)


def test_a_step_naming_no_section_moves_the_sections_it_can_apply_to() -> None:
    view = _run(_view(sections=TWO_SECTIONS), Step.ANNOUNCE)
    view = _run(view, Step.COMPLETE_TRANSACTION, sections=("001",))
    view = _run(view, Step.TERMINATE)  # the whole project: what is still open
    assert _states(view) == {"001": S.COMPLETED, "002": S.TERMINATED}
    assert view.state is S.COMPLETED
    with pytest.raises(TransitionRefused, match="project p1 is COMPLETED"):
        _run(view, Step.TERMINATE)  # nothing left open


def test_terminating_every_section_ends_the_project_and_its_pending_deadline() -> None:
    view = _run(_view(sections=TWO_SECTIONS, supplement_deadline_pending=True), Step.ANNOUNCE)
    one_left = _run(view, Step.TERMINATE, sections=("001",))
    assert one_left.state is S.ANNOUNCED
    assert one_left.supplement_deadline_pending  # 002 still trades: its 容缺 still matters
    ended = _run(one_left, Step.TERMINATE, sections=("002",))
    assert ended.state is S.TERMINATED
    assert not ended.supplement_deadline_pending


def test_allowed_steps_are_what_any_open_section_allows() -> None:
    view = _run(_view(sections=TWO_SECTIONS), Step.ANNOUNCE)
    view = _run(view, Step.SUBMIT_BID, Step.OPEN_BIDS, sections=("001",))
    assert view.state is S.ANNOUNCED  # 002 has not moved past its announcement
    allowed = view_allowed_steps(view)
    assert Step.SUBMIT_BID in allowed  # 002
    assert Step.COMPLETE_EVALUATION in allowed  # 001
    assert Step.ANNOUNCE not in allowed  # neither
    assert Step.TERMINATE in allowed  # the project's own step
    single = _run(_view(outstanding_documents=("资金证明",)), Step.ANNOUNCE)
    assert view_allowed_steps(single) == allowed_steps(S.ANNOUNCED)


def test_supplement_is_offered_only_while_documents_are_outstanding() -> None:
    """补正 with nothing outstanding is refused (nothing_to_supplement): the allowed steps
    never offer it then (the clerk's review found it offered, then refused)."""
    complete = _run(_view(), Step.ANNOUNCE)
    assert Step.SUPPLEMENT_DOCUMENTS not in view_allowed_steps(complete)
    deficient = _run(_view(outstanding_documents=("资金证明",)), Step.ANNOUNCE)
    assert Step.SUPPLEMENT_DOCUMENTS in view_allowed_steps(deficient)
    sections = _run(
        _view(sections=TWO_SECTIONS, outstanding_documents=("规划许可证",)), Step.ANNOUNCE
    )
    assert Step.SUPPLEMENT_DOCUMENTS in view_allowed_steps(sections)
    supplied = evolve(
        sections, LifecycleFact("p1", Step.SUPPLEMENT_DOCUMENTS, NOW, "ZJJ", ("规划许可证",))
    )
    assert Step.SUPPLEMENT_DOCUMENTS not in view_allowed_steps(supplied)


def test_each_section_keeps_the_time_of_its_last_step() -> None:
    later = NOW.replace(hour=9)
    view = _run(_view(sections=TWO_SECTIONS), Step.ANNOUNCE)
    view = evolve(view, LifecycleFact("p1", Step.SUBMIT_BID, later, bid_section_codes=("001",)))
    bid_002 = LifecycleFact("p1", Step.SUBMIT_BID, NOW, bid_section_codes=("002",))
    # 002's bid may be recorded after 001's even though it came earlier: only 002's own
    # last step bounds it; a project step is bounded by the project's last step.
    assert last_step_at(view, bid_002) == NOW
    assert last_step_at(view, LifecycleFact("p1", Step.SUPPLEMENT_DOCUMENTS, NOW)) == later
    assert evolve(view, bid_002).updated_at == later  # the project's time never goes back


def test_a_view_stored_before_sections_were_tracked_moves_as_one() -> None:
    legacy = _view(sections=())
    view = _run(legacy, Step.ANNOUNCE, Step.SUBMIT_BID, sections=("any",))
    assert view.state is S.BIDS_SUBMITTED
    assert view.sections == ()
    stored = view_to_json(view).replace(', "sections": []', "").replace(',"sections":[]', "")
    assert "sections" not in stored
    assert view_from_json(stored) == view


def test_sections_survive_the_read_models_json() -> None:
    view = _run(_view(sections=TWO_SECTIONS), Step.ANNOUNCE)
    view = _run(view, Step.SUBMIT_BID, sections=("002",))
    assert view_from_json(view_to_json(view)) == view


def test_a_whole_project_step_after_one_section_went_ahead_applies_to_the_rest() -> None:
    view = _run(_view(sections=TWO_SECTIONS), Step.ANNOUNCE, sections=("002",))
    view = _run(view, Step.ANNOUNCE)  # "all": 001 is the one still to announce
    assert _states(view) == {"001": S.ANNOUNCED, "002": S.ANNOUNCED}
    awarded = _run(
        _view(),
        Step.ANNOUNCE,
        Step.SUBMIT_BID,
        Step.OPEN_BIDS,
        Step.COMPLETE_EVALUATION,
        Step.PUBLICISE_CANDIDATES,
        Step.AWARD,
    )
    assert _run(awarded, Step.COMPLETE_TRANSACTION).state is S.COMPLETED  # 成交 after 中标


WINNER = Deal("91110000600037341L", "山东黄河建工集团有限公司", 1_100_000_00, NOW)


def _awarded(view: ProjectView, **award: object) -> ProjectView:
    view = _run(view, Step.ANNOUNCE, Step.SUBMIT_BID, Step.OPEN_BIDS)
    view = evolve(view, LifecycleFact("p1", Step.COMPLETE_EVALUATION, NOW, evaluation_id="ev-1"))
    view = _run(view, Step.PUBLICISE_CANDIDATES)
    return evolve(view, LifecycleFact("p1", Step.AWARD, NOW, **award))  # type: ignore[arg-type]


def test_the_award_is_the_sections_deal_and_a_later_completion_does_not_replace_it() -> None:
    awarded = _awarded(_view(), deal=WINNER)
    (section,) = awarded.sections
    assert (section.deal, section.evaluation_id) == (WINNER, "ev-1")
    other = Deal("91370113MA3C1XQ21X", "另一家", 1, NOW)
    completed = evolve(awarded, LifecycleFact("p1", Step.COMPLETE_TRANSACTION, NOW, deal=other))
    assert completed.sections[0].deal == WINNER
    assert view_from_json(view_to_json(completed)) == completed


def test_a_trade_completed_without_an_award_is_its_deal() -> None:
    view = _run(_view(category="ASSET_DISPOSAL"), Step.ANNOUNCE)
    view = evolve(view, LifecycleFact("p1", Step.COMPLETE_TRANSACTION, NOW, deal=WINNER))
    assert view.sections[0].deal == WINNER


def test_a_whole_project_completion_is_no_sections_deal_when_it_has_several() -> None:
    view = _run(_view(sections=TWO_SECTIONS), Step.ANNOUNCE)
    view = evolve(view, LifecycleFact("p1", Step.COMPLETE_TRANSACTION, NOW, deal=WINNER))
    assert [s.deal for s in view.sections] == [None, None]  # one deal, not one per section
    named = _run(_view(sections=TWO_SECTIONS), Step.ANNOUNCE)
    named = evolve(
        named,
        LifecycleFact(
            "p1", Step.COMPLETE_TRANSACTION, NOW, bid_section_codes=("002",), deal=WINNER
        ),
    )
    assert [s.deal for s in named.sections] == [None, WINNER]


def test_a_view_stored_before_deals_were_kept_reads_none() -> None:
    stored = json.loads(view_to_json(_awarded(_view(), deal=WINNER)))
    for section_values in stored["sections"]:
        del section_values["deal"], section_values["evaluation_id"]
    (section,) = view_from_json(json.dumps(stored)).sections
    assert (section.deal, section.evaluation_id) == (None, "")
