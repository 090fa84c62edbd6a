"""PRT-OPEN-001: the bids were opened well after the submission deadline.

招标投标法 art. 34 (and, for government procurement, 财政部令第87号 art. 39) has the bids opened
at the very time bidding closes, in public: bids held unopened past the deadline are bids that
could be swapped or leaked. Intake refuses an opening before the deadline; an opening later
than the deadline by more than the tolerance (an electronic opening starts on the minute; a
hall may take some minutes to seat the bidders) is reported to the supervising department. The
deadline is the section's as last announced (a re-announcement moves it). The subject is the
tenderer, who runs the opening (art. 35: 开标由招标人主持).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from services.abnormal_push.domain.detection.grouping import tenderer_subject
from services.abnormal_push.domain.detection.model import (
    BidsOpenedTrigger,
    Finding,
    NotApplied,
    Outcome,
    RuleDefinition,
    Trigger,
)


class DelayedBidOpening:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition
        parameters = definition.parameters
        self._tenders = frozenset(parameters["tender_procedures"])
        self._tolerance = timedelta(minutes=int(parameters["tolerance_minutes"]))
        self._zone = ZoneInfo(parameters["time_zone"])

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, BidsOpenedTrigger) or not self._concerns(trigger):
            return []
        if (reason := self._cannot_judge(trigger)) is not None:
            return [self._not_applied(reason)]
        project, deadline = trigger.project, trigger.submission_deadline
        assert deadline is not None  # _cannot_judge said so
        delay = trigger.at - deadline
        if delay <= self._tolerance:
            return []
        if project.tenderer is None:
            return [self._not_applied("the project names no tenderer")]
        minutes = int(delay.total_seconds() // 60)
        closed = deadline.astimezone(self._zone).strftime("%Y-%m-%d %H:%M")
        opened = trigger.at.astimezone(self._zone).strftime("%Y-%m-%d %H:%M")
        return [
            Finding(
                definition=self.definition,
                project=project,
                bid_section_code=trigger.section_code,
                subjects=(tenderer_subject(project.tenderer),),
                description=(
                    f"标段 {trigger.section_code} 投标截止时间为 {closed}, "
                    f"实际开标时间为 {opened}, 迟于截止时间 {minutes} 分钟; "
                    "开标应当在投标截止时间的同一时间公开进行"
                ),
                source_event_ids=(trigger.event_id,),
                evidence_values=(
                    ("submission_deadline", deadline.isoformat()),
                    ("opened_at", trigger.at.isoformat()),
                    ("minutes_late", str(minutes)),
                ),
                act_at=trigger.at,
            )
        ]

    def _concerns(self, trigger: BidsOpenedTrigger) -> bool:
        """A tender (auctions, listings, negotiations follow their own procedures), or a project
        whose procedure is unknown (which the rule then says it could not judge)."""
        method = trigger.project.trading_method
        return not method or method in self._tenders

    @staticmethod
    def _cannot_judge(trigger: BidsOpenedTrigger) -> str | None:
        if not trigger.project.trading_method:
            return f"project {trigger.project.project_id}'s registration was not seen"
        if trigger.submission_deadline is None:
            return (
                f"no announcement of section {trigger.section_code} stated its submission deadline"
            )
        return None

    def _not_applied(self, reason: str) -> NotApplied:
        return NotApplied(self.definition.rule_id, reason)


RULE = DelayedBidOpening(RuleDefinition.load(__file__))
