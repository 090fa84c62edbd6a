"""R024 judges a section against the price gaps of other projects' sections, a history shared
across partitions: a replay reads it in another order than it was lived. The same facts must
give the same report id whatever that order, and the history a section is judged against is
the sections publicised before it (business time), not those that happened to arrive first."""

from __future__ import annotations

import random
from datetime import timedelta

from services.abnormal_push.detection import gap_value, gaps_before
from services.abnormal_push.domain.detection.findings import report_from_finding
from services.abnormal_push.domain.detection.model import (
    CandidatesPublicisedTrigger,
    Finding,
    ProjectFacts,
    RankedCandidate,
)
from services.abnormal_push.domain.detection.rules import price_close_to_runner_up
from services.abnormal_push.domain.detection.rules.price_close_to_runner_up import relative_gap
from tests.unit.abnormal_push.factories import T0, org

RULE = price_close_to_runner_up.RULE


def _candidates(winner: int, runner_up: int) -> tuple[RankedCandidate, ...]:
    return (RankedCandidate(1, org(1), winner), RankedCandidate(2, org(2), runner_up))


def _earlier_sections(count: int) -> dict[str, str]:
    """``count`` sections publicised a day before T0, gaps around 5 %, as detection stores them."""
    rng = random.Random(11)
    return {
        f"p-history-{n}:S1": gap_value(rng.gauss(0.05, 0.005), T0 - timedelta(days=1, minutes=n))
        for n in range(count)
    }


class Section:
    def __init__(self, project_id: str, minutes_after_t0: int, winner: int, runner_up: int):
        self.project_id = project_id
        self.key = f"{project_id}:S1"
        self.at = T0 + timedelta(minutes=minutes_after_t0)
        self.candidates = _candidates(winner, runner_up)


def _judge_in_order(sections: list[Section], history: dict[str, str]) -> dict[str, str]:
    """What detection does per CandidatesPublicised, in the order given: judge against the
    stored gaps, then store this section's. The report id of each section found."""
    stored = dict(history)
    found: dict[str, str] = {}
    for section in sections:
        trigger = CandidatesPublicisedTrigger(
            f"e-{section.project_id}",
            section.at,
            ProjectFacts(section.project_id),
            "S1",
            section.candidates,
            gaps_before(stored, excluding=section.key, before=section.at),
        )
        for outcome in RULE.evaluate(trigger):
            if isinstance(outcome, Finding):
                found[section.key] = outcome.report_id
        gap = relative_gap(section.candidates)
        assert gap is not None
        stored[section.key] = gap_value(gap, section.at)
    return found


def test_two_sections_judged_in_either_order_get_the_same_report_ids() -> None:
    # The reviewer's case: 20 sections of history, two projects' winners hugging the runner-up.
    x = Section("p-x", 0, 100_000_00, 100_010_00)
    y = Section("p-y", 5, 200_000_00, 200_030_00)
    history = _earlier_sections(20)
    live = _judge_in_order([x, y], history)
    replay = _judge_in_order([y, x], history)
    assert set(live) == {x.key, y.key}
    assert replay == live


def test_the_report_id_does_not_depend_on_the_history_a_finding_was_judged_against() -> None:
    # Judged against 20 or 30 earlier sections (other fences, other counts): one report id,
    # and the report still states the history it was judged against.
    candidates = _candidates(100_000_00, 100_010_00)
    findings = []
    for size in (20, 30):
        history = tuple(float(v.partition("|")[0]) for v in _earlier_sections(size).values())
        trigger = CandidatesPublicisedTrigger(
            "e-x", T0, ProjectFacts("p-x"), "S1", candidates, history
        )
        (finding,) = RULE.evaluate(trigger)
        assert isinstance(finding, Finding)
        findings.append(finding)
    twenty, thirty = findings
    assert twenty.report_id == thirty.report_id
    assert dict(twenty.evidence_values)["history_sections"] == "20"
    assert dict(thirty.evidence_values)["history_sections"] == "30"
    report = report_from_finding(thirty, "JYZX", filed_at=T0)
    assert report.detection is not None
    assert dict(report.detection.evidence_values)["lower_fence"]
    assert "历史 30 个标段" in report.description


def test_the_section_s_own_prices_are_its_identity() -> None:
    history = tuple(float(v.partition("|")[0]) for v in _earlier_sections(20).values())

    def report_id(runner_up: int) -> str:
        trigger = CandidatesPublicisedTrigger(
            "e-x", T0, ProjectFacts("p-x"), "S1", _candidates(100_000_00, runner_up), history
        )
        (finding,) = RULE.evaluate(trigger)
        assert isinstance(finding, Finding)
        return finding.report_id

    assert report_id(100_010_00) != report_id(100_020_00)


def test_the_history_is_the_sections_publicised_before_whatever_arrived_first() -> None:
    stored = {
        "p-a:S1": gap_value(0.01, T0 - timedelta(hours=1)),
        "p-b:S1": gap_value(0.02, T0),  # publicised at the same moment: not before
        "p-c:S1": gap_value(0.03, T0 + timedelta(hours=1)),  # arrived first, publicised later
        "p-d:S1": gap_value(0.04, T0 - timedelta(days=3)),
        "p-self:S1": gap_value(0.05, T0 - timedelta(days=1)),  # the section itself, re-judged
        "p-old:S1": "0.06",  # stored before detection kept the time: it was seen before
    }
    assert gaps_before(stored, excluding="p-self:S1", before=T0) == (0.01, 0.04, 0.06)
