"""R028: two or more different bidders on one section bid exactly the same price.

Evaluated at bid opening: prices are sealed until then, and a push must not unseal them.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.abnormal_push.domain.detection.grouping import (
    bidder_subject,
    opened_bids,
    shared_by_different_bidders,
)
from services.abnormal_push.domain.detection.model import (
    Bid,
    BidsOpenedTrigger,
    Finding,
    Outcome,
    RuleDefinition,
    Trigger,
)


def _price(bid: Bid) -> str:
    return str(bid.bid_price_fen) if bid.bid_price_fen > 0 else ""


class IdenticalBidPrices:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, BidsOpenedTrigger):
            return []
        bids = opened_bids(trigger)
        return [
            Finding(
                definition=self.definition,
                project=trigger.project,
                bid_section_code=trigger.section_code,
                subjects=tuple(bidder_subject(b.bidder) for b in group),
                description=(
                    f"标段 {trigger.section_code} 开标: {len(group)} 家不同投标人报价均为 "
                    f"{int(price) / 100:.2f} 元"
                ),
                source_event_ids=(*(b.event_id for b in group), trigger.event_id),
                evidence_values=(("bid_price_fen", price),),
                act_at=trigger.at,
            )
            for price, group in shared_by_different_bidders(bids, _price).items()
        ]


RULE = IdenticalBidPrices(RuleDefinition.load(__file__))
