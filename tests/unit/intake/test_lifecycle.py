"""The lifecycle state machine and the project view folded from events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.intake.domain.lifecycle import (
    LifecycleFact,
    NothingToSupplement,
    ProjectState,
    ProjectView,
    Step,
    TransitionRefused,
    allowed_steps,
    check_supplement,
    evolve,
)

NOW = datetime(2023, 5, 4, 2, 0, tzinfo=UTC)


def _view(**changes: object) -> ProjectView:
    base = ProjectView(
        project_id="p1",
        unified_deal_code="JN-1",
        name="长清区文昌街道老旧小区改造工程",
        category="HOUSING",
        region_code="370113",
        registering_department="ZJJ",
        supervise_dept_code="ZJJ",
        tenderer_name="济南城市建设集团有限公司",
        tenderer_credit_code="91110000600037341L",
        budget_fen=100,
        key_project=False,
        green_channel=False,
        commitment_pledged=False,
        registered_at=NOW,
    )
    return ProjectView(**{**base.__dict__, **changes})


def _run(view: ProjectView, *steps: Step) -> ProjectView:
    for step in steps:
        view = evolve(view, LifecycleFact("p1", step, NOW))
    return view


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
