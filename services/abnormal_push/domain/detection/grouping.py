"""Helpers the rules share: grouping bids of different bidders by a shared value; a section's
bidders and rulings at evaluation."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from services.abnormal_push.domain.detection.model import (
    Bid,
    BidsOpenedTrigger,
    BidSubmittedTrigger,
    Citation,
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


@dataclass(frozen=True)
class SharedComponent:
    """One value the bids of a bidder group are compared on (a disk serial, an account ...).

    ``decisive``: sharing it ties two bidders together on its own. A supporting component (a
    CPU model's id, an office's public IP) is reported as evidence of a group the decisive
    components formed, and never forms or joins one."""

    name: str
    value_of: Callable[[Bid], str]  # normalised; "" when the bid gives none worth comparing
    decisive: bool = True


def bidder_groups(
    bids: Sequence[Bid], components: Sequence[SharedComponent]
) -> list[tuple[tuple[Bid, ...], tuple[tuple[str, str], ...]]]:
    """The groups of different bidders tied by a decisive value (two bidders sharing one, and
    whoever shares one with either, ...), each with every value its bidders share — decisive
    and supporting — as (component, value), in component order. Groups and their bids are in
    credit-code order: the same bids give the same groups whatever order they came in."""
    parent: dict[str, str] = {}

    def root(code: str) -> str:
        while parent.setdefault(code, code) != code:
            code = parent[code]
        return code

    for component in components:
        if not component.decisive:
            continue
        for sharing in shared_by_different_bidders(bids, component.value_of).values():
            first, *others = (b.bidder.credit_code for b in sharing)
            for other in others:
                a, b = root(first), root(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    members: dict[str, dict[str, Bid]] = defaultdict(dict)
    for bid in bids:
        if bid.bidder.credit_code in parent:
            members[root(bid.bidder.credit_code)][bid.bidder.credit_code] = bid
    groups = []
    for by_bidder in sorted(members.values(), key=min):
        group = tuple(by_bidder[code] for code in sorted(by_bidder))
        shared = tuple(
            (component.name, value)
            for component in components
            for value in sorted(shared_by_different_bidders(group, component.value_of))
        )
        groups.append((group, shared))
    return groups


def bidder_group_findings(
    definition: RuleDefinition,
    trigger: BidSubmittedTrigger,
    components: Sequence[SharedComponent],
    describe: Callable[[Sequence[Bid], Sequence[tuple[str, str]]], str],
    *,
    bids: Sequence[Bid] | None = None,
    cite: Callable[[Sequence[tuple[str, str]]], Citation | None] | None = None,
) -> list[Finding]:
    """One finding per group of different bidders on the section tied by a decisive value
    (``bidder_groups``), with every value the group shares as evidence: one pair sharing five
    components is one report, not five. Each is open to joiners, known by each decisive value
    it holds: a bidder who shares any of them later widens the same sign, which is filed once
    (``findings.plan_filings``). ``bids``: those of the section's bids the rule compares (all
    by default); ``cite``: the citation the group's values call for, if not the rule's."""
    decisive = {component.name for component in components if component.decisive}
    findings = []
    for group, shared in bidder_groups(trigger.bids if bids is None else bids, components):
        findings.append(
            Finding(
                definition=definition,
                project=trigger.project,
                bid_section_code=trigger.section_code,
                subjects=tuple(bidder_subject(b.bidder) for b in group),
                description=describe(group, shared),
                source_event_ids=tuple(b.event_id for b in group),
                evidence_values=shared,
                act_at=max(b.submitted_at for b in group),
                open_to_joiners=True,
                sign_values=tuple((name, value) for name, value in shared if name in decisive),
                cited=cite(shared) if cite is not None else None,
            )
        )
    return findings


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
