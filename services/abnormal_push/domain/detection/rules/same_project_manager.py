"""PRT-PM-001: different bidders on one section name the same project manager (by the
manager's registration certificate number)."""

from __future__ import annotations

from collections.abc import Sequence

from services.abnormal_push.domain.detection.grouping import (
    bidder_subject,
    shared_by_different_bidders,
)
from services.abnormal_push.domain.detection.model import (
    Bid,
    BidSubmittedTrigger,
    Finding,
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
        return [
            Finding(
                definition=self.definition,
                project=trigger.project,
                bid_section_code=trigger.section_code,
                subjects=tuple(bidder_subject(b.bidder) for b in bids),
                description=(
                    f"标段 {trigger.section_code} 的 {len(bids)} 家不同投标人拟派同一项目经理 "
                    f"(注册证书 {certificate})"
                ),
                source_event_ids=tuple(b.event_id for b in bids),
                evidence_values=(("project_manager_certificate_no", certificate),),
                act_at=max(b.submitted_at for b in bids),
            )
            for certificate, bids in shared_by_different_bidders(trigger.bids, _certificate).items()
        ]


RULE = SameProjectManager(RuleDefinition.load(__file__))
