"""PRT-DEP-001: deposits of different bidders on one section paid from the same account."""

from __future__ import annotations

from collections.abc import Sequence

from services.abnormal_push.domain.detection.grouping import shared_value_findings
from services.abnormal_push.domain.detection.model import (
    Bid,
    BidSubmittedTrigger,
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
        return shared_value_findings(
            self.definition,
            trigger,
            _account,
            "deposit_account",
            lambda account, bids: (
                f"标段 {trigger.section_code} 的 {len(bids)} 家不同投标人的投标保证金"
                f"从同一账户 {account} 转出"
            ),
        )


RULE = SameDepositAccount(RuleDefinition.load(__file__))
