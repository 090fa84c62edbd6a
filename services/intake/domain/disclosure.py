"""What a project's readers are told about its bids before they are opened.

招标投标法 art. 22 keeps confidential, until the bids are opened, even the number of those who
may bid. A section's count of bids (``bids_received``) is therefore told from its opening on,
and the project's history leaves out, until then, each entry whose mere presence tells a bid or
a bidder: a bid submitted (one entry per bid: their number is the count) and a deposit relief
(保证金减免, which may name a bidder). Every reader is told the same; operators too, as they are
not told ``bids_received`` either. One rule (:func:`bids_disclosed`) decides both.

The project's ``version`` counts every event applied, so a reader shown a filtered history is
shown the version less the entries left out (:func:`disclosed_version`): otherwise the
difference, or the version rising while nothing else does, would tell the count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from services.intake.domain.lifecycle import (
    BIDDERS_DISCLOSED,
    ProjectState,
    ProjectView,
    SectionView,
    Step,
)

# Entries that tell a bid or a potential bidder (one per bid; a relief may name its bidder).
BIDDER_REVEALING_STEPS = frozenset({Step.SUBMIT_BID, Step.RELIEVE_DEPOSIT})

# A section still in one of these states was never announced: no bid or relief concerned it
# (states only move forward), so it does not keep a step that named no section hidden.
_BEFORE_BIDDING = frozenset({ProjectState.REGISTERED, ProjectState.PRE_PUBLISHED})


def bids_disclosed(section: SectionView) -> bool:
    """Whether the section's bids may be told: from their opening on, or once the section's
    trade is over (流标/终止, 成交)."""
    return section.state in BIDDERS_DISCLOSED


class HistoryItem(Protocol):
    """What the filter reads of a history entry (the read model's ``HistoryEntry``)."""

    @property
    def step(self) -> Step: ...

    @property
    def bid_section_codes(self) -> tuple[str, ...]: ...


EntryT = TypeVar("EntryT", bound=HistoryItem)


def entry_disclosed(view: ProjectView, entry: HistoryItem) -> bool:
    """Whether the entry may be shown now. A bid or a relief naming sections is shown once
    each of them is disclosed; one naming none concerned every section open to bids then,
    so it is shown once every section that has been announced is disclosed (one announced
    later only hides it longer: never shown too early). A view kept before sections were
    tracked moves as one, by its state."""
    if entry.step not in BIDDER_REVEALING_STEPS:
        return True
    if not view.sections:
        return view.state in BIDDERS_DISCLOSED
    named = set(entry.bid_section_codes)
    concerned = (
        [section for section in view.sections if section.code in named]
        if named
        else [section for section in view.sections if section.state not in _BEFORE_BIDDING]
    )
    return all(bids_disclosed(section) for section in concerned)


def disclosed_history(view: ProjectView, history: Sequence[EntryT]) -> list[EntryT]:
    """The history a reader is shown: the entries that tell bids or bidders of a section not
    yet opened left out."""
    return [entry for entry in history if entry_disclosed(view, entry)]


def may_withhold(view: ProjectView) -> bool:
    """Whether any entry of the project's history may be left out now: only while a section is
    announced and not yet opened (lets a list skip reading the history of every other)."""
    if not view.sections:
        return view.state not in BIDDERS_DISCLOSED and view.state not in _BEFORE_BIDDING
    return any(
        not bids_disclosed(section) and section.state not in _BEFORE_BIDDING
        for section in view.sections
    )


def disclosed_version(view: ProjectView, history: Sequence[HistoryItem]) -> int:
    """The version a reader is shown: the events applied, less those its history leaves out."""
    withheld = sum(1 for entry in history if not entry_disclosed(view, entry))
    return view.version - withheld
