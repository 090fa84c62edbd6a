"""Helpers the rules share: grouping bids of different bidders by a shared value; a section's
bidders and rulings at evaluation."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from services.abnormal_push.domain.detection.model import (
    Bid,
    BidsOpenedTrigger,
    BidSubmittedTrigger,
    EvaluationCompletedTrigger,
    Finding,
    Organisation,
    RuleDefinition,
)
from services.abnormal_push.domain.reports import Subject, SubjectKind


def bidder_subject(organisation: Organisation) -> Subject:
    return Subject(SubjectKind.BIDDER, credit_code=organisation.credit_code, name=organisation.name)


def shared_by_different_bidders(
    bids: Iterable[Bid], value_of: Callable[[Bid], str]
) -> dict[str, tuple[Bid, ...]]:
    """Values (non-empty, normalised) found in the bids of two or more different bidders."""
    groups: dict[str, dict[str, Bid]] = defaultdict(dict)
    for bid in bids:
        value = value_of(bid).strip()
        if value:
            groups[value][bid.bidder.credit_code] = bid
    return {
        value: tuple(sorted(by_bidder.values(), key=lambda b: b.bidder.credit_code))
        for value, by_bidder in groups.items()
        if len(by_bidder) >= 2
    }


def opened_bids(trigger: BidsOpenedTrigger) -> list[Bid]:
    """The bids opened at the trigger (every bid seen when the opening names no bidders)."""
    opened = set(trigger.opened_bidder_codes)
    return [b for b in trigger.bids if not opened or b.bidder.credit_code in opened]


def shared_value_findings(
    definition: RuleDefinition,
    trigger: BidSubmittedTrigger,
    value_of: Callable[[Bid], str],
    evidence_name: str,
    describe: Callable[[str, Sequence[Bid]], str],
) -> list[Finding]:
    """One finding per value that the bids of different bidders on the section share. Each is
    open to joiners: a bidder who shares the value later widens the same sign, which is filed
    once (``findings.plan_filings``), not reported again with one more bidder."""
    return [
        Finding(
            definition=definition,
            project=trigger.project,
            bid_section_code=trigger.section_code,
            subjects=tuple(bidder_subject(b.bidder) for b in bids),
            description=describe(value, bids),
            source_event_ids=tuple(b.event_id for b in bids),
            evidence_values=((evidence_name, value),),
            act_at=max(b.submitted_at for b in bids),
            open_to_joiners=True,
        )
        for value, bids in shared_by_different_bidders(trigger.bids, value_of).items()
    ]


def section_bidders(trigger: EvaluationCompletedTrigger) -> dict[str, Organisation]:
    """The section's bidders by credit code: those whose bids were seen, and any the committee
    ruled out whose bid was not (a ruling names a bidder that bid)."""
    bidders = {bid.bidder.credit_code: bid.bidder for bid in trigger.bids}
    for ruling in trigger.disqualifications:
        bidders.setdefault(ruling.bidder_code, Organisation(ruling.bidder_code, ""))
    return bidders


def tenderer_subject(organisation: Organisation) -> Subject:
    return Subject(
        SubjectKind.TENDERER, credit_code=organisation.credit_code, name=organisation.name
    )
