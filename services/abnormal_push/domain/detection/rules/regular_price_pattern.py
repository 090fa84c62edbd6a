"""PRT-PRC-001: the opened prices of three or more different bidders on one section differ in a
regular pattern (投标报价呈规律性差异): in ascending order, each is the last plus the same amount,
or the last times the same ratio, to the fen.

Evaluated at bid opening: prices are sealed until then, and a push must not unseal them. Equal
prices are R028's; a pattern needs distinct prices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from services.abnormal_push.domain.detection.grouping import bidder_subject, opened_bids
from services.abnormal_push.domain.detection.model import (
    Bid,
    BidsOpenedTrigger,
    Finding,
    Outcome,
    RuleDefinition,
    Trigger,
)

# In ascending order, b follows a as c follows b.
PATTERNS: dict[str, Callable[[int, int, int], bool]] = {
    "equal_steps": lambda a, b, c: b - a == c - b,
    "equal_ratios": lambda a, b, c: b * b == a * c,
}


def regular_runs(prices: Sequence[int], min_length: int) -> list[tuple[str, int, int]]:
    """The longest runs of ``prices`` (ascending, distinct) that follow one pattern, as
    (pattern, first index, last index) with at least ``min_length`` prices."""
    runs: list[tuple[str, int, int]] = []
    for pattern, follows in PATTERNS.items():
        first = 0
        while first + 2 < len(prices):
            last = first + 1
            while last + 1 < len(prices) and follows(
                prices[last - 1], prices[last], prices[last + 1]
            ):
                last += 1
            if last - first + 1 >= max(3, min_length):
                runs.append((pattern, first, last))
                first = last
            else:
                first += 1
    return runs


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


class RegularPricePattern:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition
        self._min_bidders = int(definition.parameters["min_bidders_in_pattern"])

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, BidsOpenedTrigger):
            return []
        latest: dict[str, Bid] = {}  # a bidder's last bid stands
        for bid in sorted(opened_bids(trigger), key=lambda b: b.submitted_at):
            if bid.bid_price_fen > 0:
                latest[bid.bidder.credit_code] = bid
        by_price: dict[int, list[Bid]] = {}
        for bid in latest.values():
            by_price.setdefault(bid.bid_price_fen, []).append(bid)
        prices = sorted(p for p, bids in by_price.items() if len(bids) == 1)
        findings: list[Outcome] = []
        for pattern, first, last in regular_runs(prices, self._min_bidders):
            run = prices[first : last + 1]
            bids = [by_price[price][0] for price in run]
            if pattern == "equal_steps":
                how = f"依次相差 {_yuan(run[1] - run[0])} 元"
            else:
                how = f"依次为前一家的 {run[1] / run[0]:.4%}"
            findings.append(
                Finding(
                    definition=self.definition,
                    project=trigger.project,
                    bid_section_code=trigger.section_code,
                    subjects=tuple(bidder_subject(b.bidder) for b in bids),
                    description=(
                        f"标段 {trigger.section_code} 开标: {len(bids)} 家不同投标人报价 "
                        f"({', '.join(_yuan(p) for p in run)} 元) {how}, 呈规律性差异"
                    ),
                    source_event_ids=(*(b.event_id for b in bids), trigger.event_id),
                    evidence_values=(
                        ("pattern", pattern),
                        ("bid_prices_fen", ",".join(str(p) for p in run)),
                    ),
                    act_at=trigger.at,
                )
            )
        return findings


RULE = RegularPricePattern(RuleDefinition.load(__file__))
