"""PRT-PUB-001: the tenderer publicised the winning candidates later than the law allows.

实施条例 art. 54 gives the tenderer 3 days from receiving the evaluation report to publicise the
candidates of a project that must by law be tendered (依法必须招标, as intake registered it). The
days are counted as 民法典 art. 201 counts them: from the day after the evaluation, Beijing
dates; the evaluation report is taken as received the day the evaluation completed. Intake does
not refuse a late publicity - the candidates must still be publicised - so the lateness is
reported to the supervising department instead. The subject is the tenderer.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from services.abnormal_push.domain.detection.grouping import tenderer_subject
from services.abnormal_push.domain.detection.model import (
    CandidatesPublicisedTrigger,
    Finding,
    NotApplied,
    Outcome,
    RuleDefinition,
    Trigger,
)


class LateCandidatePublicity:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition
        parameters = definition.parameters
        self._tenders = frozenset(parameters["tender_procedures"])
        self._excluded = frozenset(parameters["excluded_categories"])
        self._days = int(parameters["days"])
        self._zone = ZoneInfo(parameters["time_zone"])

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, CandidatesPublicisedTrigger) or not self._concerns(trigger):
            return []
        if (reason := self._cannot_judge(trigger)) is not None:
            return [self._not_applied(reason)]
        assert trigger.evaluated_at is not None  # _cannot_judge said so
        evaluated_on = trigger.evaluated_at.astimezone(self._zone).date()
        publicised_on = trigger.at.astimezone(self._zone).date()
        late_by = (publicised_on - evaluated_on).days - self._days
        if late_by <= 0:
            return []
        tenderer = trigger.project.tenderer
        if tenderer is None:
            return [self._not_applied("the project names no tenderer")]
        return [
            Finding(
                definition=self.definition,
                project=trigger.project,
                bid_section_code=trigger.section_code,
                subjects=(tenderer_subject(tenderer),),
                description=(
                    f"标段 {trigger.section_code} 于 {evaluated_on} 完成评标, 中标候选人于 "
                    f"{publicised_on} 才公示, 超过收到评标报告之日起{self._days}日的期限 "
                    f"{late_by} 日"
                ),
                source_event_ids=(trigger.event_id,),
                evidence_values=(
                    ("evaluated_on", evaluated_on.isoformat()),
                    ("publicised_on", publicised_on.isoformat()),
                    ("days_late", str(late_by)),
                ),
                act_at=trigger.at,
            )
        ]

    def _concerns(self, trigger: CandidatesPublicisedTrigger) -> bool:
        """A tender outside the excluded categories that must by law be tendered (or was
        registered before intake recorded whether it must: art. 54 is then assumed to bind it,
        as nearly every tender on the platform is bound), or a project whose procedure is
        unknown (which the rule then says it could not judge)."""
        project = trigger.project
        if not project.trading_method:
            return True
        return (
            project.trading_method in self._tenders
            and project.category not in self._excluded
            and project.tender_required_by_law is not False
        )

    @staticmethod
    def _cannot_judge(trigger: CandidatesPublicisedTrigger) -> str | None:
        if not trigger.project.trading_method:
            return f"project {trigger.project.project_id}'s registration was not seen"
        if trigger.evaluated_at is None:
            return (
                f"section {trigger.section_code}'s evaluation was not seen, so the report's day "
                "is unknown"
            )
        return None

    def _not_applied(self, reason: str) -> NotApplied:
        return NotApplied(self.definition.rule_id, reason)


RULE = LateCandidatePublicity(RuleDefinition.load(__file__))
