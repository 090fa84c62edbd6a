"""R018: an open procedure drew a single bidder, a sign that potential bidders were kept out
(排斥潜在投标人). The subject is the tenderer who set the terms.

Seen at opening, or — since intake does not open a tender with fewer than 3 bidders (实施条例
art. 44) — when the section's tender fails (流标) with one bidder on record. Both give the same
report (its id is fixed by rule, section, tenderer and evidence), so a section seen at both
files one.
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
    TenderFailedTrigger,
    Trigger,
)


class SingleBidder:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition
        self._open = frozenset(definition.parameters["open_procedures"])

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, BidsOpenedTrigger | TenderFailedTrigger):
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
        opened = trigger.opened_bidder_codes if isinstance(trigger, BidsOpenedTrigger) else ()
        bidders = set(opened) or {b.bidder.credit_code for b in trigger.bids}
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
                    if isinstance(trigger, BidsOpenedTrigger)
                    else f"公开招标项目标段 {trigger.section_code} 仅有一家投标人 ({only}), 流标"
                ),
                source_event_ids=(trigger.event_id,),
                evidence_values=(("bidder_count", "1"), ("only_bidder", only)),
                act_at=trigger.at,
            )
        ]


RULE = SingleBidder(RuleDefinition.load(__file__))
