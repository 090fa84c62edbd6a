"""PRT-PUB-001: the tenderer publicised the winning candidates later than the law allows.

实施条例 art. 54 gives the tenderer 3 days from receiving the evaluation report to publicise the
candidates of a project that must by law be tendered (依法必须招标, as intake registered it). The
days are counted as 民法典 art. 201 counts them: from the day after the evaluation, Beijing
dates; the evaluation report is taken as received the day the evaluation completed. A period
whose last day is a statutory holiday or rest day ends on the next working day instead (民法典
art. 203; make-up working days, 调休, are working days), by the State Council's calendar
(``chinese_calendar``, as the push deadlines count it). A publicity after the third day that
only such an extension could excuse is not judged while the calendar does not cover the year:
the tenderer is never reported against a guessed holiday. Intake does not refuse a late
publicity - the candidates must still be publicised - so the lateness is reported to the
supervising department instead. The subject is the tenderer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from services.abnormal_push.domain.deadlines import published_working_day
from services.abnormal_push.domain.detection.grouping import tenderer_subject
from services.abnormal_push.domain.detection.model import (
    CandidatesPublicisedTrigger,
    Finding,
    NotApplied,
    Outcome,
    RuleDefinition,
    Trigger,
)


class _CalendarNotPublished(Exception):
    """A day the holiday calendar has no data for (its year's notice is not out or installed)."""


class LateCandidatePublicity:
    def __init__(
        self,
        definition: RuleDefinition,
        calendar: Callable[[date], bool | None] = published_working_day,
    ) -> None:
        self.definition = definition
        # Whether a day is a working day, None for a year not published (a test's stand-in).
        self._calendar = calendar
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
        judged = self._lateness(evaluated_on, publicised_on)
        if isinstance(judged, NotApplied):
            return [judged]
        last_day, late_by = judged
        if late_by <= 0:
            return []
        extension = (
            ""
            if last_day == evaluated_on + timedelta(days=self._days)
            else f" (期间最后一日逢法定休假日, 顺延至 {last_day})"
        )
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
                    f"{publicised_on} 才公示, 超过收到评标报告之日起{self._days}日的期限"
                    f"{extension} {late_by} 日"
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

    def _lateness(self, evaluated_on: date, publicised_on: date) -> tuple[date, int] | NotApplied:
        """The period's last day, and the days the publicity came after it (none: in time)."""
        nominal_last_day = evaluated_on + timedelta(days=self._days)
        try:
            last_day = self._extended(nominal_last_day, publicised_on)
        except _CalendarNotPublished as unpublished:
            return self._not_applied(
                f"the holiday calendar does not cover {unpublished}: whether the period ending "
                f"{nominal_last_day} extends past {publicised_on} (民法典 art. 203) is unknown"
            )
        return last_day, (publicised_on - last_day).days

    def _extended(self, last_day: date, publicised_on: date) -> date:
        """The period's last day, moved past holidays and rest days (民法典 art. 203) - as far
        as it matters: a day on or after the publicity ends the search, the publicity in time.
        Raises _CalendarNotPublished for a day the calendar does not cover."""
        while last_day < publicised_on:
            working = self._calendar(last_day)
            if working is None:
                raise _CalendarNotPublished(last_day.isoformat())
            if working:
                return last_day
            last_day += timedelta(days=1)
        return last_day

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
