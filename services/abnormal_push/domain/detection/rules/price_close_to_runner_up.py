"""R024: the winner's price is suspiciously close to the runner-up's.

The relative gap |runner-up − winner| / winner of this section is compared with the gaps of the
sections publicised before it (business time, not arrival: see ``detection.gaps_before``):
below Q1 − k·IQR it is a low outlier. The report's identity is the section's own facts (the
prices and their gap), never the history's fence or size, so judging the same section against
a history seen in another order (a replay) gives the same report id. With fewer sections of history
than the rule's ``minimum_history`` the quartiles mean nothing, and the rule says it was not
applied instead of guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import quantiles

from services.abnormal_push.domain.detection.grouping import bidder_subject
from services.abnormal_push.domain.detection.model import (
    CandidatesPublicisedTrigger,
    Finding,
    NotApplied,
    Outcome,
    RankedCandidate,
    RuleDefinition,
    Trigger,
)


def relative_gap(candidates: Sequence[RankedCandidate]) -> float | None:
    """The winner/runner-up gap of a section, or None without two priced candidates."""
    ranked = sorted(candidates, key=lambda c: c.rank)
    if len(ranked) < 2 or ranked[0].bid_price_fen <= 0 or ranked[1].bid_price_fen <= 0:
        return None
    winner, runner_up = ranked[0], ranked[1]
    return abs(runner_up.bid_price_fen - winner.bid_price_fen) / winner.bid_price_fen


class PriceCloseToRunnerUp:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition
        self._minimum = int(definition.parameters["minimum_history"])
        self._k = float(definition.parameters["iqr_multiplier"])

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, CandidatesPublicisedTrigger):
            return []
        gap = relative_gap(trigger.candidates)
        if gap is None:
            return []
        history = trigger.gap_history
        if len(history) < self._minimum:
            return [
                NotApplied(
                    self.definition.rule_id,
                    f"only {len(history)} sections of price history, {self._minimum} needed "
                    "before a low outlier means anything",
                )
            ]
        q1, _, q3 = quantiles(history, n=4)
        fence = q1 - self._k * (q3 - q1)
        if gap >= fence:
            return []
        ranked = sorted(trigger.candidates, key=lambda c: c.rank)
        winner, runner_up = ranked[0], ranked[1]
        return [
            Finding(
                definition=self.definition,
                project=trigger.project,
                bid_section_code=trigger.section_code,
                subjects=(bidder_subject(winner.bidder), bidder_subject(runner_up.bidder)),
                description=(
                    f"标段 {trigger.section_code} 第一中标候选人与第二名报价相差 {gap:.4%}, "
                    f"低于历史 {len(history)} 个标段的下限 {fence:.4%} (Q1 {q1:.4%}, Q3 {q3:.4%})"
                ),
                source_event_ids=(trigger.event_id,),
                evidence_values=(
                    ("winner_price_fen", str(winner.bid_price_fen)),
                    ("runner_up_price_fen", str(runner_up.bid_price_fen)),
                    ("relative_gap", f"{gap:.6f}"),
                    ("lower_fence", f"{fence:.6f}"),
                    ("history_sections", str(len(history))),
                ),
                act_at=trigger.at,
                # The fence and the count depend on which other sections detection had seen,
                # which a replay may see in another order: not part of the report's identity.
                history_dependent=frozenset({"lower_fence", "history_sections"}),
            )
        ]


RULE = PriceCloseToRunnerUp(RuleDefinition.load(__file__))
