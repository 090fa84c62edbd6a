"""PRT-PM-001: different bidders on one section name the same project manager (by the
manager's registration certificate number)."""

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


def _certificate(bid: Bid) -> str:
    return bid.project_manager_certificate_no.strip().upper()


class SameProjectManager:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, BidSubmittedTrigger):
            return []
        return bidder_group_findings(
            self.definition,
            trigger,
            (SharedComponent("project_manager_certificate_no", _certificate),),
            lambda bids, shared: (
                f"标段 {trigger.section_code} 的 {len(bids)} 家不同投标人拟派同一项目经理 "
                f"(注册证书 {'、'.join(value for _, value in shared)})"
            ),
        )


RULE = SameProjectManager(RuleDefinition.load(__file__))
