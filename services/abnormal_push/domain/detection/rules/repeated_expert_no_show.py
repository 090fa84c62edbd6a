"""PRT-EXP-001: an evaluation expert who confirmed and did not come, again within the window.

One no-show may have a good reason (illness on the day); the second within a year is what the
expert management notice asks supervisors to look at. The report names the expert by
pseudonym only (identities stay sealed in remote_eval) and the evaluation's project, so it goes
to the department supervising that project's category, as a report on any trading party does.

Each qualifying no-show is reported once: the report's identity is the rule, the expert and the
no-show's evaluation (no count in it), so a no-show that arrives late — from an evaluation on
another partition, or in a replay — files the same reports the time order would have.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from services.abnormal_push.domain.detection.model import (
    ExpertNoShow,
    ExpertNoShowTrigger,
    Finding,
    Outcome,
    ProjectFacts,
    RuleDefinition,
    Trigger,
)
from services.abnormal_push.domain.reports import Subject, SubjectKind


class RepeatedExpertNoShow:
    def __init__(self, definition: RuleDefinition) -> None:
        self.definition = definition
        self.min_no_shows = int(definition.parameters["min_no_shows"])
        self.window = timedelta(days=int(definition.parameters["window_days"]))

    def _within(self, history: Sequence[ExpertNoShow], last: ExpertNoShow) -> list[ExpertNoShow]:
        """The no-shows in the window that ends with ``last`` (``last`` included)."""
        return [n for n in history if last.at - self.window <= n.at <= last.at]

    def evaluate(self, trigger: Trigger) -> Sequence[Outcome]:
        if not isinstance(trigger, ExpertNoShowTrigger):
            return []
        new = trigger.no_show
        history = [n for n in trigger.history if n.expert_pseudonym == new.expert_pseudonym]
        outcomes: list[Outcome] = []
        # Every no-show whose window the new one falls in: the new one itself, and later ones
        # seen before it (which it may now bring to the threshold).
        for judged in history:
            if not judged.at - self.window <= new.at <= judged.at:
                continue
            within = self._within(history, judged)
            if len(within) < self.min_no_shows:
                continue
            project = trigger.projects.get(judged.project_id) or ProjectFacts(judged.project_id)
            earlier = "、".join(n.at.date().isoformat() for n in within if n is not judged)
            outcomes.append(
                Finding(
                    definition=self.definition,
                    project=project,
                    bid_section_code="",
                    subjects=(
                        Subject(SubjectKind.EXPERT, expert_pseudonym=judged.expert_pseudonym),
                    ),
                    description=(
                        f"评标专家 {judged.expert_pseudonym} 确认出席远程异地评标 "
                        f"{judged.evaluation_id} 后未到场 (场地 {judged.venue_id or '未知'}), "
                        f"{self.window.days} 天内第 {len(within)} 次缺席 (此前: {earlier})"
                    ),
                    source_event_ids=tuple(n.event_id for n in within),
                    evidence_values=(
                        ("expert_pseudonym", judged.expert_pseudonym),
                        ("evaluation_id", judged.evaluation_id),
                        ("venue_id", judged.venue_id),
                    ),
                    act_at=judged.at,
                )
            )
        return outcomes


RULE = RepeatedExpertNoShow(RuleDefinition.load(__file__))
