"""超期推送 counts pushes, not deadlines: a push late to sign for and to feed back is one push
overdue (pushes_overdue) and two deadlines missed (push_deadlines_overdue), so the bulletin's
超期 and its split by department add up against the pushes to handle."""

from __future__ import annotations

from services.reporting.domain import facts
from tests.unit.reporting.factories import (
    at,
    bulletin_text,
    event_id,
    figure,
    fold,
    half_year_bulletin,
    routed,
    signed,
    transferred,
)


def overdue(push: str, deadline: str, when: str, department: str = "JTJ") -> facts.PushOverdueFact:
    return facts.PushOverdueFact(event_id(), push, at(when), deadline, department)


def _ledger_items() -> list[facts.Fact]:
    return [
        # Late to sign for and to feed back: one push overdue, two deadlines missed.
        routed("t1", "2023-03-01 09:00", department="JTJ"),
        overdue("t1", "SIGN_FOR", "2023-03-04 00:00"),
        overdue("t1", "FEEDBACK", "2023-03-11 00:00"),
        overdue("t1", "FEEDBACK", "2023-03-11 00:05"),  # told again: counts once
        # Late to feed back only.
        routed("t2", "2023-03-01 09:00", department="JTJ"),
        signed("t2", "2023-03-02 09:00"),
        overdue("t2", "FEEDBACK", "2023-03-11 00:00"),
        # Signed for in time, judged overdue on a lagging read model: void.
        routed("t3", "2023-03-01 09:00", department="ZJJ"),
        signed("t3", "2023-03-02 09:00"),
        overdue("t3", "SIGN_FOR", "2023-03-04 00:00", department="ZJJ"),
    ]


def test_a_push_overdue_on_both_deadlines_is_one_push_overdue() -> None:
    ledger = fold(*_ledger_items())
    assert figure(ledger, "pushes_to_handle", "2023-H1", department="JTJ") == 2
    assert figure(ledger, "pushes_overdue", "2023-H1") == 2
    assert figure(ledger, "pushes_overdue", "2023-H1", department="JTJ") == 2
    assert figure(ledger, "pushes_overdue", "2023-H1", department="ZJJ") == 0
    missed = "push_deadlines_overdue"
    assert figure(ledger, missed, "2023-H1") == 3
    assert figure(ledger, missed, "2023-H1", deadline="SIGN_FOR") == 1
    assert figure(ledger, missed, "2023-H1", deadline="FEEDBACK", department="JTJ") == 2


def test_a_push_first_overdue_on_a_void_deadline_counts_at_its_first_real_one() -> None:
    ledger = fold(
        routed("t4", "2023-03-01 09:00", department="JTJ"),
        signed("t4", "2023-03-02 09:00"),
        overdue("t4", "SIGN_FOR", "2023-03-04 00:00"),  # void: signed for in time
        overdue("t4", "FEEDBACK", "2023-03-11 00:00"),
    )
    assert figure(ledger, "pushes_overdue", "2023-H1", department="JTJ") == 1
    assert figure(ledger, "push_deadlines_overdue", "2023-H1") == 1


def test_the_bulletin_s_overdue_pushes_do_not_exceed_the_pushes_to_handle() -> None:
    text = bulletin_text(half_year_bulletin(*_ledger_items()))
    assert ",超期2次" in text
    assert "超期推送分部门:JTJ2次" in text


def escalated(push: str, deadline: str, when: str, to: str, level: int) -> facts.Fact:
    return facts.PushEscalatedFact(event_id(), push, at(when), deadline, to, level)


def test_an_in_time_step_arriving_after_the_watch_judged_takes_the_counts_back() -> None:
    """A migration posts a push's history after the watch judged it: the sign-for dated before
    the due arrives after PushOverdue and PushEscalated. Abnormal push folds the overdue and its
    escalation as void (OVERDUE_VOID); the counts are taken back under the values they were
    counted with, and the feedback's later escalation takes level 1 again."""
    ledger = fold(
        routed("t5", "2023-03-01 09:00", department="ZJJ-LX"),
        overdue("t5", "SIGN_FOR", "2023-03-03 18:00", department="ZJJ-LX"),
        escalated("t5", "SIGN_FOR", "2023-03-03 18:00", "ZJJ", 1),
        signed("t5", "2023-03-02 09:00"),  # in time, but told late
    )
    for metric in ("pushes_overdue", "push_deadlines_overdue", "pushes_escalated"):
        assert figure(ledger, metric, "2023-H1") == 0, metric
    assert figure(ledger, "pushes_signed_for", "2023-H1") == 1
    later = fold(
        routed("t5", "2023-03-01 09:00", department="ZJJ-LX"),
        overdue("t5", "SIGN_FOR", "2023-03-03 18:00", department="ZJJ-LX"),
        escalated("t5", "SIGN_FOR", "2023-03-03 18:00", "ZJJ", 1),
        signed("t5", "2023-03-02 09:00"),
        overdue("t5", "FEEDBACK", "2023-03-10 18:00", department="ZJJ-LX"),
        escalated("t5", "FEEDBACK", "2023-03-10 18:00", "ZJJ", 1),
    )
    assert figure(later, "pushes_overdue", "2023-H1", department="ZJJ-LX") == 1
    assert figure(later, "push_deadlines_overdue", "2023-H1", deadline="FEEDBACK") == 1
    assert figure(later, "push_deadlines_overdue", "2023-H1", deadline="SIGN_FOR") == 0
    assert figure(later, "pushes_escalated", "2023-H1", level="1") == 1
    assert figure(later, "pushes_escalated", "2023-H1", deadline="FEEDBACK") == 1
    assert figure(later, "pushes_escalated", "2023-H1", deadline="SIGN_FOR") == 0


def test_a_step_in_time_for_one_deadline_leaves_the_other_overdue_counted() -> None:
    """Overdue on both, each escalated; a transfer dated before the feedback due (after the
    sign-for due) voids the feedback's overdue and escalation only: the push stays overdue."""
    ledger = fold(
        routed("t6", "2023-03-01 09:00", department="JTJ"),
        overdue("t6", "SIGN_FOR", "2023-03-03 18:00"),
        escalated("t6", "SIGN_FOR", "2023-03-03 18:00", "FGW", 1),
        overdue("t6", "FEEDBACK", "2023-03-10 18:00"),
        escalated("t6", "FEEDBACK", "2023-03-10 18:00", "FGW", 2),
        transferred("t6", "2023-03-09 09:00", to="ZJJ", department="JTJ"),
    )
    assert figure(ledger, "pushes_overdue", "2023-H1", department="JTJ") == 1
    assert figure(ledger, "push_deadlines_overdue", "2023-H1", deadline="SIGN_FOR") == 1
    assert figure(ledger, "push_deadlines_overdue", "2023-H1", deadline="FEEDBACK") == 0
    assert figure(ledger, "pushes_escalated", "2023-H1", level="1") == 1
    assert figure(ledger, "pushes_escalated", "2023-H1", level="2") == 0
