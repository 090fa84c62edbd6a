"""PRT-EXP-001: an evaluation expert who confirmed and did not come, again within the window.

One no-show may have a good reason (illness on the day); the second within a year is what the
expert management notice asks supervisors to look at. The report names the expert by
pseudonym only (identities stay sealed in remote_eval) and the evaluation's project, so it goes
to the department supervising that project's category, as a report on any trading party does.

A report names the evaluation the expert missed, so it would tell that a (pseudonymous) expert
sat on its committee: it is held until that committee is unsealed by the award (招标投标法
art. 37), or by the trade's termination when no award will come, and meanwhile is listed as
held (a Withheld outcome: the detection status's ``held_until_award``). A held no-show still
counts towards the expert's other no-shows. Once unsealed, the report also gives the expert's
pseudonym in that evaluation, under which the unsealed committee list names the expert
(attendance NO_SHOW).

Each qualifying no-show is reported once, on the event that first makes it both qualifying and
disclosed: its own arrival (a qualifying no-show at an unsealed evaluation), an earlier no-show
arriving late that brings it to the threshold, or its committee's unsealing. The report's
identity is the rule, the expert and the no-show's evaluation (no count in it), so whatever
order no-shows and unsealings arrive in — from evaluations on different partitions, or in a
replay — the same reports are filed; the count a report states is the one known when it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from services.abnormal_push.domain.detection.model import (
    CommitteeUnsealedTrigger,
    ExpertNoShow,
    ExpertNoShowTrigger,
    Finding,
    Outcome,
    ProjectFacts,
    RuleDefinition,
    Trigger,
    Withheld,
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
        if isinstance(trigger, ExpertNoShowTrigger):
            return self._on_no_show(trigger)
        if isinstance(trigger, CommitteeUnsealedTrigger):
            return [
                self._finding(judged, within, trigger.projects)
                for judged in trigger.history
                if judged.evaluation_id == trigger.evaluation_id
                and len(within := self._within(trigger.history, judged)) >= self.min_no_shows
            ]
        return []

    def _on_no_show(self, trigger: ExpertNoShowTrigger) -> list[Outcome]:
        new = trigger.no_show
        history = [n for n in trigger.history if n.expert_pseudonym == new.expert_pseudonym]
        outcomes: list[Outcome] = []
        # Every no-show whose window the new one falls in: the new one itself, and later ones
        # seen before it (which it may now bring to the threshold).
        for judged in history:
            if not judged.at - self.window <= new.at <= judged.at:
                continue
            within = self._within(history, judged)
            # The new one qualifies from now on; an earlier-seen one qualifies newly only if
            # the new one is what brings it to the threshold (above it, it was judged before).
            newly = (
                len(within) >= self.min_no_shows
                if judged.event_id == new.event_id
                else len(within) == self.min_no_shows
            )
            if not newly:
                continue
            if judged.evaluation_id not in trigger.disclosed_evaluations:
                outcomes.append(
                    Withheld(
                        self.definition.rule_id,
                        f"expert {judged.expert_pseudonym}'s no-show at evaluation "
                        f"{judged.evaluation_id} qualifies ({len(within)} within "
                        f"{self.window.days} days) but is held until its committee is unsealed "
                        "by the award (招标投标法 第三十七条) or the trade's termination; it "
                        "is reported then",
                        judged.evaluation_id,
                        judged.expert_pseudonym,
                        judged.project_id,
                        judged.at,
                    )
                )
                continue
            outcomes.append(self._finding(judged, within, trigger.projects))
        return outcomes

    def _finding(
        self,
        judged: ExpertNoShow,
        within: Sequence[ExpertNoShow],
        projects: Mapping[str, ProjectFacts],
    ) -> Finding:
        project = projects.get(judged.project_id) or ProjectFacts(judged.project_id)
        earlier = "、".join(n.at.date().isoformat() for n in within if n is not judged)
        known_as = (
            f", 该次评标中代号 {judged.evaluation_pseudonym}, 见解密后的评标委员会名单"
            if judged.evaluation_pseudonym
            else ""
        )
        return Finding(
            definition=self.definition,
            project=project,
            bid_section_code="",
            subjects=(Subject(SubjectKind.EXPERT, expert_pseudonym=judged.expert_pseudonym),),
            description=(
                f"评标专家 {judged.expert_pseudonym} 确认出席远程异地评标 "
                f"{judged.evaluation_id} 后未到场 (场地 {judged.venue_id or '未知'}{known_as}), "
                f"{self.window.days} 天内第 {len(within)} 次缺席 (此前: {earlier})"
            ),
            source_event_ids=tuple(n.event_id for n in within),
            evidence_values=(
                ("expert_pseudonym", judged.expert_pseudonym),
                ("evaluation_id", judged.evaluation_id),
                ("venue_id", judged.venue_id),
                # Disclosed only now that the committee is unsealed ("" from a record kept
                # before the field existed).
                ("evaluation_pseudonym", judged.evaluation_pseudonym),
            ),
            act_at=judged.at,
        )


RULE = RepeatedExpertNoShow(RuleDefinition.load(__file__))
