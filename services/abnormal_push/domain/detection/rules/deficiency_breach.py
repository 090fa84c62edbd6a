"""PRT-RQ-001: a 容缺 registration's supplement deadline passed without 补正."""

from __future__ import annotations

from collections.abc import Sequence

from services.abnormal_push.domain.detection.grouping import tenderer_subject
from services.abnormal_push.domain.detection.model import (
    DeficiencyBreachTrigger,
    Finding,
    NotApplied,
    Outcome,
    RuleDefinition,
    Trigger,
)


class DeficiencyBreach:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, DeficiencyBreachTrigger):
            return []
        tenderer = trigger.tenderer or trigger.project.tenderer
        if tenderer is None or not tenderer.credit_code:
            return [NotApplied(self.definition.rule_id, "the breach names no tenderer")]
        missing = "、".join(trigger.outstanding_documents) or "(未列明)"
        return [
            Finding(
                definition=self.definition,
                project=trigger.project,
                bid_section_code="",
                subjects=(tenderer_subject(tenderer),),
                description=(
                    f"项目 {trigger.project.name or trigger.project.project_id} 容缺受理, "
                    f"补正期限 {trigger.supplement_deadline} 已过, 仍缺: {missing}"
                ),
                source_event_ids=(trigger.event_id,),
                evidence_values=(("supplement_deadline", trigger.supplement_deadline),),
                act_at=trigger.at,
            )
        ]


RULE = DeficiencyBreach(RuleDefinition.load(__file__))
