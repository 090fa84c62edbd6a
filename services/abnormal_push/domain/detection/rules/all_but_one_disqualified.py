"""R035: the evaluation committee ruled out every bid of a section but one, leaving the award
to the remaining bidder — a sign the rulings served that bidder (否决投标 is limited to the
cases of 实施条例 art. 51). The subjects are the remaining bidder and the tenderer; the
committee's members are sealed until the award, and the rulings themselves are the evidence."""

from __future__ import annotations

from collections.abc import Sequence

from services.abnormal_push.domain.detection.grouping import (
    bidder_subject,
    section_bidders,
    tenderer_subject,
)
from services.abnormal_push.domain.detection.model import (
    EvaluationCompletedTrigger,
    Finding,
    NotApplied,
    Outcome,
    RuleDefinition,
    Trigger,
)


class AllButOneDisqualified:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition
        self._min_bidders = int(definition.parameters["min_bidders"])

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, EvaluationCompletedTrigger) or not trigger.disqualifications:
            return []
        if not trigger.bids:
            return [
                NotApplied(
                    self.definition.rule_id,
                    f"section {trigger.section_code}'s bids were not seen, so the bidders the "
                    "committee did not rule out are unknown",
                )
            ]
        bidders = section_bidders(trigger)
        ruled_out = {ruling.bidder_code for ruling in trigger.disqualifications}
        remaining = sorted(set(bidders) - ruled_out)
        if len(bidders) < self._min_bidders or len(remaining) != 1:
            return []
        (kept,) = remaining
        subjects = [bidder_subject(bidders[kept])]
        if trigger.project.tenderer is not None:
            subjects.append(tenderer_subject(trigger.project.tenderer))
        reasons = "；".join(
            f"{ruling.bidder_code}: {ruling.reason}" for ruling in trigger.disqualifications
        )
        return [
            Finding(
                definition=self.definition,
                project=trigger.project,
                bid_section_code=trigger.section_code,
                subjects=tuple(subjects),
                description=(
                    f"标段 {trigger.section_code} 评标: {len(bidders)} 家投标人中 "
                    f"{len(ruled_out)} 家被否决，仅余 {kept}。否决理由: {reasons}"
                ),
                source_event_ids=(*(bid.event_id for bid in trigger.bids), trigger.event_id),
                evidence_values=(
                    ("bidder_count", str(len(bidders))),
                    ("disqualified_count", str(len(ruled_out))),
                    ("remaining_bidder", kept),
                ),
                act_at=trigger.at,
            )
        ]


RULE = AllButOneDisqualified(RuleDefinition.load(__file__))
