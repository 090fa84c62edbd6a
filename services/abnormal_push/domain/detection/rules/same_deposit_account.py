"""PRT-DEP-001: deposits of different bidders on one section paid from the same account."""

from __future__ import annotations

from collections.abc import Sequence

from services.abnormal_push.domain.detection.grouping import (
    bidder_subject,
    shared_by_different_bidders,
)
from services.abnormal_push.domain.detection.model import (
    Bid,
    BidSubmittedTrigger,
    Finding,
    Outcome,
    RuleDefinition,
    Trigger,
)


def _account(bid: Bid) -> str:
    # Bank systems print accounts with spaces or dashes; the digits are the account.
    return "".join(char for char in bid.deposit_account if char.isalnum())


class SameDepositAccount:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, BidSubmittedTrigger):
            return []
        return [
            Finding(
                definition=self.definition,
                project=trigger.project,
                bid_section_code=trigger.section_code,
                subjects=tuple(bidder_subject(b.bidder) for b in bids),
                description=(
                    f"标段 {trigger.section_code} 的 {len(bids)} 家不同投标人的投标保证金"
                    f"从同一账户 {account} 转出"
                ),
                source_event_ids=tuple(b.event_id for b in bids),
                evidence_values=(("deposit_account", account),),
                act_at=max(b.submitted_at for b in bids),
            )
            for account, bids in shared_by_different_bidders(trigger.bids, _account).items()
        ]


RULE = SameDepositAccount(RuleDefinition.load(__file__))
