"""Before a section's bids are opened its history tells no bid (domain.disclosure): the same rule
that keeps bids_received null (招标投标法 art. 22), and the version shown with that history."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.intake.domain.disclosure import (
    bids_disclosed,
    disclosed_history,
    disclosed_version,
    may_withhold,
)
from services.intake.domain.lifecycle import ProjectState, ProjectView, SectionView, Step
from services.intake.http_api.projects import public_sections
from services.intake.read_model import HistoryEntry
from tests.unit.intake.views import REGISTERED_AT, project_view

S = ProjectState


def _entry(step: Step, *sections: str) -> HistoryEntry:
    return HistoryEntry(
        event_id=f"e-{step.value}-{'-'.join(sections)}",
        type=f"prt.v1.{step.value}",
        step=step,
        occurred_at=REGISTERED_AT,
        actor_department="ZJJ",
        state_after=S.BIDS_SUBMITTED,
        bid_section_codes=sections,
    )


REGISTER = _entry(Step.REGISTER)
ANNOUNCE = _entry(Step.ANNOUNCE, "001")
BID_1 = _entry(Step.SUBMIT_BID, "001")
BID_2 = _entry(Step.SUBMIT_BID, "001")
RELIEF = _entry(Step.RELIEVE_DEPOSIT)
OPENING = _entry(Step.OPEN_BIDS, "001")
HISTORY = [REGISTER, ANNOUNCE, BID_1, BID_2, RELIEF]


def _one_section(state: ProjectState, bidders: tuple[str, ...] = ("A", "B")) -> ProjectView:
    return project_view(
        state=state,
        version=len(HISTORY),
        sections=(SectionView("001", state, bidders=bidders),),
    )


def test_before_the_opening_bids_and_reliefs_are_left_out_and_the_version_with_them() -> None:
    view = _one_section(S.BIDS_SUBMITTED)
    assert disclosed_history(view, HISTORY) == [REGISTER, ANNOUNCE]
    assert disclosed_version(view, HISTORY) == 2
    assert may_withhold(view)
    # The same rule keeps bids_received null.
    assert [s["bids_received"] for s in public_sections(view)] == [None]


@pytest.mark.parametrize(
    "state", [S.BIDS_OPENED, S.EVALUATED, S.AWARDED, S.COMPLETED, S.TERMINATED]
)
def test_from_the_opening_or_the_trade_s_end_on_everything_is_shown(state: ProjectState) -> None:
    view = replace(_one_section(state), version=len(HISTORY) + 1)
    history = [*HISTORY, OPENING]
    assert disclosed_history(view, history) == history
    assert disclosed_version(view, history) == len(history)
    assert not may_withhold(view)
    assert [s["bids_received"] for s in public_sections(view)] == [2]


def test_each_section_is_opened_on_its_own() -> None:
    bid_002 = _entry(Step.SUBMIT_BID, "002")
    relief_002 = _entry(Step.RELIEVE_DEPOSIT, "002")
    view = project_view(
        state=S.BIDS_SUBMITTED,
        sections=(
            SectionView("001", S.AWARDED, bidders=("A",)),
            SectionView("002", S.BIDS_SUBMITTED, bidders=("A",)),
        ),
    )
    history = [REGISTER, BID_1, OPENING, bid_002, relief_002]
    assert disclosed_history(view, history) == [REGISTER, BID_1, OPENING]
    assert [s["bids_received"] for s in public_sections(view)] == [1, None]


def test_a_bid_naming_no_section_waits_for_every_section_announced_to_be_opened() -> None:
    anywhere = _entry(Step.SUBMIT_BID)
    opened_and_unannounced = project_view(
        sections=(
            SectionView("001", S.BIDS_OPENED, bidders=("A",)),
            SectionView("002", S.REGISTERED),  # never announced: no bid concerned it
        ),
    )
    assert disclosed_history(opened_and_unannounced, [anywhere]) == [anywhere]
    one_still_bidding = replace(
        opened_and_unannounced,
        sections=(
            SectionView("001", S.BIDS_OPENED, bidders=("A",)),
            SectionView("002", S.ANNOUNCED),
        ),
    )
    assert disclosed_history(one_still_bidding, [anywhere]) == []


def test_steps_telling_no_bid_are_always_shown() -> None:
    view = _one_section(S.BIDS_SUBMITTED)
    others = [
        _entry(step, "001") for step in Step if step not in (Step.SUBMIT_BID, Step.RELIEVE_DEPOSIT)
    ]
    assert disclosed_history(view, others) == others


def test_a_view_kept_before_sections_moves_as_one() -> None:
    view = project_view(state=S.BIDS_SUBMITTED, sections=(), version=len(HISTORY))
    assert disclosed_history(view, HISTORY) == [REGISTER, ANNOUNCE]
    assert may_withhold(view)
    opened = replace(view, state=S.BIDS_OPENED)
    assert disclosed_history(opened, HISTORY) == HISTORY
    assert not may_withhold(opened)


def test_nothing_is_withheld_before_an_announcement() -> None:
    assert not may_withhold(project_view())
    assert bids_disclosed(SectionView("001", S.TERMINATED))
    assert not bids_disclosed(SectionView("001", S.ANNOUNCED))
