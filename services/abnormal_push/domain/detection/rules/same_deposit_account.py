"""PRT-DEP-001: deposits of different bidders on one section paid from the same account.

Art. 40(六) is about money transferred: a bid whose deposit was waived or covered by a
guarantee (deposit_fen 0) paid nothing from any account, whatever the account field says
("免缴", "保函"), so it takes no part; nor does a bid whose account states no number."""

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
    """The account the bid's deposit was paid from, as compared, or "" when no deposit was
    paid from an account: nothing paid (deposit_fen 0; a bid stored before the amount was kept
    is taken as paid), or an account field without a digit ("免缴", "")."""
    if bid.deposit_fen == 0:
        return ""
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
