"""R018: an open procedure drew a single bidder, a sign that potential bidders were kept out
(排斥潜在投标人). The subject is the tenderer who set the terms.

Seen at opening only: a tender opened with one bidder went on where 招标投标法 art. 28 has it
tendered again. A tender that fails (流标) with one bidder on record is what art. 28 orders — the
tenderer tenders again — and every report is a push a department must sign for and answer (the
platform has no information-only report), so a single lawful 流标 is not reported. Intake opens
no tender with fewer than 3 bidders (实施条例 art. 44), so through intake's API this rule fires
only on an opening it did not see refused; a tenderer whose tenders fail for too few bidders
again and again is a pattern across projects that needs a per-tenderer history (not kept yet).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.abnormal_push.domain.detection.grouping import tenderer_subject
from services.abnormal_push.domain.detection.model import (
    BidsOpenedTrigger,
    Finding,
    NotApplied,
    Outcome,
    RuleDefinition,
    Trigger,
)


class SingleBidder:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition
        self._open = frozenset(definition.parameters["open_procedures"])

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, BidsOpenedTrigger):
            return []
        if not trigger.project.trading_method:
            return [
                NotApplied(
                    self.definition.rule_id,
                    f"project {trigger.project.project_id}'s registration was not seen, so its "
                    "procedure is unknown",
                )
            ]
        if trigger.project.trading_method not in self._open:
            return []
        bidders = set(trigger.opened_bidder_codes) or {b.bidder.credit_code for b in trigger.bids}
        if len(bidders) != 1:
            return []
        tenderer = trigger.project.tenderer
        if tenderer is None:
            return [NotApplied(self.definition.rule_id, "the project names no tenderer")]
        (only,) = bidders
        return [
            Finding(
                definition=self.definition,
                project=trigger.project,
                bid_section_code=trigger.section_code,
                subjects=(tenderer_subject(tenderer),),
                description=(
                    f"公开招标项目标段 {trigger.section_code} 开标时仅有一家投标人 ({only})"
                ),
                source_event_ids=(trigger.event_id,),
                evidence_values=(("bidder_count", "1"), ("only_bidder", only)),
                act_at=trigger.at,
            )
        ]


RULE = SingleBidder(RuleDefinition.load(__file__))
