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
