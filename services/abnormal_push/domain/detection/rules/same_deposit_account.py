"""PRT-DEP-001: deposits of different bidders on one section paid from the same account.

Art. 40(六) is about money transferred: a bid whose account field states no number (a waived
deposit: "免缴", "保函", or none at all — intake takes a bid paying no deposit without one) paid
nothing from any account, so it takes no part. The amount does not decide it: a bid's
deposit_fen was 0 whenever a client left it out (every bid before it was asked for), with a
real account paid from; and the Redis state of a bid stored before it was kept has none, so a
rule reading it would judge the same bid one way live and another on a replay."""

from __future__ import annotations

from collections.abc import Sequence

from services.abnormal_push.domain.detection.grouping import (
    SharedComponent,
    bidder_group_findings,
)
from services.abnormal_push.domain.detection.model import (
    Bid,
    BidSubmittedTrigger,
    Outcome,
    RuleDefinition,
    Trigger,
)


def paying_account(bid: Bid) -> str:
    """The account the bid's deposit was paid from, as compared, or "" when the account field
    states no number ("免缴", "保函", "")."""
    # Bank systems print accounts with spaces or dashes; the digits are the account. (Kept as
    # it always was: the value is part of the ids of the reports already filed.)
    account = "".join(char for char in bid.deposit_account if char.isalnum())
    return account if any(char.isdigit() for char in account) else ""


ACCOUNT = SharedComponent("deposit_account", paying_account)


class SameDepositAccount:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, BidSubmittedTrigger):
            return []
        return bidder_group_findings(
            self.definition,
            trigger,
            (ACCOUNT,),
            lambda bids, shared: (
                f"标段 {trigger.section_code} 的 {len(bids)} 家不同投标人的投标保证金"
                f"从同一账户 {'、'.join(value for _, value in shared)} 转出"
            ),
        )


RULE = SameDepositAccount(RuleDefinition.load(__file__))
