"""R038: the evaluation committee ruled out a large share of a section's bids — at least
``min_share_disqualified`` of them, from ``min_bidders`` bidders on. Many qualified firms
failing the same section points at terms that keep bidders out (实施条例 art. 32), so the
subject is the tenderer who set them. All but one ruled out is R035's finding, not this one's;
all ruled out (the procedure fails, 流标) is this rule's."""

from __future__ import annotations

from collections.abc import Sequence

from services.abnormal_push.domain.detection.grouping import section_bidders, tenderer_subject
from services.abnormal_push.domain.detection.model import (
    EvaluationCompletedTrigger,
    Finding,
    NotApplied,
    Outcome,
    RuleDefinition,
    Trigger,
)


class HighDisqualificationRatio:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition
        self._min_bidders = int(definition.parameters["min_bidders"])
        self._min_share = float(definition.parameters["min_share_disqualified"])

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, EvaluationCompletedTrigger) or not trigger.disqualifications:
            return []
        bidders = section_bidders(trigger)
        ruled_out = {ruling.bidder_code for ruling in trigger.disqualifications}
        remaining = len(bidders) - len(ruled_out)
        share = len(ruled_out) / len(bidders)
        if len(bidders) < self._min_bidders or share < self._min_share or remaining == 1:
            return []
        tenderer = trigger.project.tenderer
        if tenderer is None:
            return [NotApplied(self.definition.rule_id, "the project names no tenderer")]
        outcome = "全部被否决" if remaining == 0 else f"{len(ruled_out)} 家被否决"
        return [
            Finding(
                definition=self.definition,
                project=trigger.project,
                bid_section_code=trigger.section_code,
                subjects=(tenderer_subject(tenderer),),
                description=(
                    f"标段 {trigger.section_code} 评标: {len(bidders)} 家投标人中 {outcome} "
                    f"(否决比例 {share:.0%})"
                ),
                source_event_ids=(*(bid.event_id for bid in trigger.bids), trigger.event_id),
                evidence_values=(
                    ("bidder_count", str(len(bidders))),
                    ("disqualified_count", str(len(ruled_out))),
                ),
                act_at=trigger.at,
            )
        ]


RULE = HighDisqualificationRatio(RuleDefinition.load(__file__))
