"""Pushes routed on estimated deadlines (the holiday calendar did not cover their year) and the
PushDeadlinesSet that replaces them: through the codec, into the figures, onto the board."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import pytest
from prt.v1 import abnormal_push_pb2

from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import ABNORMAL_PUSHES
from services.platform_core.kafka.faust_worker import EventRejected
from services.reporting.dashboard import push_board
from services.reporting.domain import facts
from services.reporting.domain.bulletin import Labels, compose_bulletin
from services.reporting.domain.catalogue import BY_KEY
from services.reporting.domain.ledger import Ledger
from services.reporting.domain.metrics import (
    OPEN_PUSHES,
    Contribution,
    CounterKey,
    contribute,
    state_key,
)
from services.reporting.domain.periods import parse_period
from services.reporting.event_codec import fact_from_envelope
from tests.unit.reporting.event_mix import mix_facts
from tests.unit.reporting.factories import (
    at,
    deadlines_set,
    event_id,
    figure,
    fold,
    ledger_read_model,
    routed,
    signed,
)

ON_TIME = "pushes_fed_back_on_time"
# Routed at the end of March: every push outcome counts in 2027-03, whenever it happens.
ROUTED_AT = "2027-03-29 09:00"
ESTIMATED_SIGN_FOR = "2027-03-31 18:00"
ESTIMATED_FEEDBACK = "2027-04-08 18:00"


def _estimated(push: str = "u1", role: str = "HANDLER") -> facts.PushRoutedFact:
    return routed(
        push,
        ROUTED_AT,
        role=role,
        sign_for_due=ESTIMATED_SIGN_FOR,
        feedback_due=ESTIMATED_FEEDBACK,
        deadlines_estimated=True,
    )


def _fed_back(push: str, when: str) -> facts.PushFeedbackGivenFact:
    return facts.PushFeedbackGivenFact(event_id(), push, at(when), "CASE_FILED")


# ── codec ──────────────────────────────────────────────────────────────────────────────────


def _through_the_topic(message: Any, push: str) -> Envelope[Any]:
    envelope = Envelope(message=message, source="/tests", subject=push)
    value, headers = encode_envelope(envelope)
    return decode_record(value, headers, ABNORMAL_PUSHES.message_types)


def _routed_message(estimated: bool) -> abnormal_push_pb2.PushRouted:
    return abnormal_push_pb2.PushRouted(
        push_id="u1",
        occurred_at=to_timestamp(datetime(2026, 12, 30, 1, 0, tzinfo=UTC)),
        report_id="r1",
        department="ZJJ",
        reason=abnormal_push_pb2.ROUTING_REASON_CATEGORY_SUPERVISOR,
        role=abnormal_push_pb2.PUSH_ROLE_HANDLER,
        sign_for_due=to_timestamp(datetime(2027, 1, 4, 10, 0, tzinfo=UTC)),
        feedback_due=to_timestamp(datetime(2027, 1, 13, 10, 0, tzinfo=UTC)),
        deadlines_estimated=estimated,
    )


@pytest.mark.parametrize("estimated", [True, False])
def test_the_codec_carries_whether_routed_deadlines_are_estimated(estimated: bool) -> None:
    fact = fact_from_envelope(_through_the_topic(_routed_message(estimated), "u1"))
    assert isinstance(fact, facts.PushRoutedFact)
    assert fact.deadlines_estimated is estimated


def test_the_codec_carries_which_deadlines_are_estimates() -> None:
    message = _routed_message(True)
    message.estimated_deadlines.append(abnormal_push_pb2.PUSH_DEADLINE_FEEDBACK)
    fact = fact_from_envelope(_through_the_topic(message, "u1"))
    assert isinstance(fact, facts.PushRoutedFact)
    assert fact.estimates() == {"FEEDBACK"}
    # A PushRouted from before the event named them: both.
    older = fact_from_envelope(_through_the_topic(_routed_message(True), "u1"))
    assert isinstance(older, facts.PushRoutedFact)
    assert older.estimates() == {"SIGN_FOR", "FEEDBACK"}
    # A deadline this contract does not know (a newer abnormal push's): all of them, not a
    # refused push (diff review).
    newer = _routed_message(True)
    newer.estimated_deadlines.append(3)  # type: ignore[arg-type]
    unknown = fact_from_envelope(_through_the_topic(newer, "u1"))
    assert isinstance(unknown, facts.PushRoutedFact)
    assert unknown.estimates() == {"SIGN_FOR", "FEEDBACK"}


def test_the_codec_turns_push_deadlines_set_into_a_fact() -> None:
    message = abnormal_push_pb2.PushDeadlinesSet(
        push_id="u1",
        occurred_at=to_timestamp(datetime(2027, 1, 2, 0, 0, tzinfo=UTC)),
        sign_for_due=to_timestamp(datetime(2027, 1, 5, 10, 0, tzinfo=UTC)),
        feedback_due=to_timestamp(datetime(2027, 1, 14, 10, 0, tzinfo=UTC)),
    )
    envelope = _through_the_topic(message, "u1")
    assert fact_from_envelope(envelope) == facts.PushDeadlinesSetFact(
        envelope.id,
        "u1",
        datetime(2027, 1, 2, 0, 0, tzinfo=UTC),
        datetime(2027, 1, 5, 10, 0, tzinfo=UTC),
        datetime(2027, 1, 14, 10, 0, tzinfo=UTC),
    )
    without_dues = abnormal_push_pb2.PushDeadlinesSet(push_id="u1", occurred_at=message.occurred_at)
    fact = fact_from_envelope(_through_the_topic(without_dues, "u1"))
    assert isinstance(fact, facts.PushDeadlinesSetFact)
    assert fact.sign_for_due is None and fact.feedback_due is None
    with pytest.raises(EventRejected):
        fact_from_envelope(
            _through_the_topic(abnormal_push_pb2.PushDeadlinesSet(push_id="u1"), "u1")
        )


# ── figures ────────────────────────────────────────────────────────────────────────────────


def _moves(contribution: Contribution, metric: str) -> list[int]:
    return [counted.by for counted in contribution.counted if counted.fields[0] == metric]


def test_feedback_late_on_the_estimate_turns_on_time_when_the_real_due_is_later() -> None:
    real = deadlines_set("u1", "2027-04-20 00:00", "2027-04-12 18:00", ESTIMATED_SIGN_FOR)
    before = fold(_estimated(), _fed_back("u1", "2027-04-09 10:00"))
    assert figure(before, "pushes_fed_back", "2027-03") == 1
    assert figure(before, ON_TIME, "2027-03") == 0  # judged against the estimate until replaced

    after = fold(_estimated(), _fed_back("u1", "2027-04-09 10:00"), real)
    assert figure(after, ON_TIME, "2027-03", department="ZJJ") == 1  # in the routing period
    assert figure(after, ON_TIME, "2027-04") == 0
    assert figure(after, "pushes_fed_back", "2027-03") == 1
    cell = CounterKey(ON_TIME, (("department", "ZJJ"), ("period", "2027-03")))
    assert after.evidence[cell.encode()] == {real.event_id}
    push = after.states["push:u1"]
    assert push["feedback_due"] == at("2027-04-12 18:00").isoformat()
    assert push["deadlines_estimated"] is False


def test_feedback_on_time_on_the_estimate_turns_late_when_the_real_due_is_earlier() -> None:
    real = deadlines_set("u1", "2027-04-20 00:00", "2027-04-07 18:00", ESTIMATED_SIGN_FOR)
    before = fold(_estimated(), _fed_back("u1", "2027-04-08 10:00"))
    assert figure(before, ON_TIME, "2027-03", department="ZJJ") == 1

    after = fold(_estimated(), _fed_back("u1", "2027-04-08 10:00"), real)
    assert figure(after, ON_TIME, "2027-03", department="ZJJ") == 0
    assert figure(after, ON_TIME) == 0
    assert figure(after, "pushes_fed_back", "2027-03") == 1
    moved = contribute(real, before.states["push:u1"])
    assert _moves(moved, ON_TIME) == [-1]  # one verdict taken back


def test_the_same_verdict_on_the_real_due_moves_nothing() -> None:
    real = deadlines_set("u1", "2027-04-20 00:00", "2027-04-09 18:00", ESTIMATED_SIGN_FOR)
    ledger = fold(_estimated(), _fed_back("u1", "2027-04-08 10:00"))
    assert _moves(contribute(real, ledger.states["push:u1"]), ON_TIME) == []
    ledger.apply(real)
    assert figure(ledger, ON_TIME, "2027-03") == 1


def test_feedback_after_the_real_deadlines_are_set_is_judged_against_them() -> None:
    real = deadlines_set("u1", "2027-04-01 00:00", "2027-04-12 18:00", ESTIMATED_SIGN_FOR)
    ledger = fold(_estimated(), real)
    assert figure(ledger, ON_TIME) == 0 and figure(ledger, "pushes_fed_back") == 0
    ledger.apply(_fed_back("u1", "2027-04-09 10:00"))
    assert figure(ledger, ON_TIME, "2027-03") == 1


ESTIMATED = "pushes_on_estimated_deadlines"


def test_pushes_to_handle_on_estimates_are_counted_until_their_real_deadlines_are_set() -> None:
    ledger = fold(
        _estimated("u1"),
        _estimated("u2"),
        _estimated("c1", role="COPY"),  # nothing to judge on a copy
        routed("u3", ROUTED_AT, feedback_due="2027-04-09 18:00"),  # real deadlines at once
    )
    assert figure(ledger, ESTIMATED, "2027-03", department="ZJJ") == 2
    real = deadlines_set("u1", "2027-04-20 00:00", "2027-04-12 18:00", ESTIMATED_SIGN_FOR)
    ledger.apply(real)
    assert figure(ledger, ESTIMATED, "2027-03", department="ZJJ") == 1  # in the routing period
    again = dataclasses.replace(real, event_id=event_id())  # stated twice: counted once
    ledger.apply(again)
    ledger.apply(deadlines_set("u3", "2027-04-20 00:00", "2027-04-12 18:00"))
    assert figure(ledger, ESTIMATED, "2027-03") == 1


def _h1_bulletin_text(*pushes: facts.Fact) -> str:
    bulletin = compose_bulletin(
        fold(*pushes).figures(),
        parse_period("2027-H1"),
        Labels(),
        issuer="济南市公共资源交易管理工作联席会议办公室",
        document_number="济公管办〔2027〕1号",
        issued_on=date(2027, 7, 20),
        seal_note="",
    )
    return "".join(
        part if isinstance(part, str) else part.text
        for section in bulletin.sections
        for paragraph in section.paragraphs
        for part in paragraph.parts
    )


def test_the_bulletin_says_which_verdicts_are_provisional_only_while_some_are() -> None:
    provisional = _h1_bulletin_text(_estimated("u1"), _estimated("u2"))
    assert "(其中2次推送的办理期限为预计期限," in provisional
    settled = _h1_bulletin_text(
        _estimated("u1"),
        deadlines_set("u1", "2027-04-20 00:00", "2027-04-12 18:00", ESTIMATED_SIGN_FOR),
    )
    assert "预计期限" not in settled and "按时反馈率" in settled


def test_deadlines_set_for_an_unknown_push_change_nothing() -> None:
    real = deadlines_set("nobody", "2027-04-20 00:00", "2027-04-12 18:00")
    assert state_key(real) == "push:nobody"
    assert contribute(real, None) == Contribution()
    ledger = fold(real)
    assert ledger.figures() == {} and ledger.states == {}


def test_deadlines_set_for_a_copy_change_nothing() -> None:
    copy = _estimated("u2", role="COPY")
    before = fold(copy, _fed_back("u2", "2027-04-09 10:00"))
    after = fold(
        copy,
        _fed_back("u2", "2027-04-09 10:00"),
        deadlines_set("u2", "2027-04-20 00:00", "2027-04-12 18:00"),
    )
    assert after.figures() == before.figures()
    assert after.states == before.states


def test_replacing_deadlines_gives_the_figures_of_routing_with_the_real_ones() -> None:
    """Over the synthetic mix (which the live fold and the recompute are compared on, with
    real Kafka and Redis): pushes whose estimated deadlines were replaced, before or after
    their feedback, count as if routed with the real deadlines; some verdicts turn each way."""
    mix = list(mix_facts())
    real_dues = {f.push_id: f for f in mix if isinstance(f, facts.PushDeadlinesSetFact)}
    estimated = [f for f in mix if isinstance(f, facts.PushRoutedFact) and f.deadlines_estimated]
    assert real_dues and {f.push_id for f in estimated} == set(real_dues)

    ledger = Ledger()
    moves: set[int] = set()
    for fact in mix:
        if isinstance(fact, facts.PushDeadlinesSetFact):
            counted = contribute(fact, ledger.states.get(f"push:{fact.push_id}")).counted
            moves.update(c.by for c in counted if c.fields[0] == ON_TIME)
        ledger.apply(fact)
    assert moves == {1, -1}

    def routed_with_real_dues(fact: facts.Fact) -> facts.Fact:
        if isinstance(fact, facts.PushRoutedFact) and fact.push_id in real_dues:
            real = real_dues[fact.push_id]
            return dataclasses.replace(
                fact,
                sign_for_due=real.sign_for_due,
                feedback_due=real.feedback_due,
                deadlines_estimated=False,
            )
        return fact

    others = [f for f in mix if not isinstance(f, facts.PushDeadlinesSetFact)]
    assert ledger.figures() == fold(*map(routed_with_real_dues, others)).figures()
    assert ledger.figures() != fold(*others).figures()  # the estimates alone count otherwise


# ── the deadline board ─────────────────────────────────────────────────────────────────────


async def _board(ledger: Ledger) -> dict[str, dict[str, Any]]:
    model = ledger_read_model(ledger)
    return {entry["push_id"]: entry for entry in await push_board(model, Labels())}


async def test_the_board_marks_estimated_dues_until_the_real_ones_are_set() -> None:
    ledger = fold(_estimated("u1"), routed("u2", ROUTED_AT, feedback_due="2027-04-09 18:00"))
    assert ledger.indexes[OPEN_PUSHES] == {"u1", "u2"}
    board = await _board(ledger)
    assert board["u1"]["due_estimated"] is True
    assert board["u1"]["due"] == at(ESTIMATED_SIGN_FOR).isoformat()
    assert board["u2"]["due_estimated"] is False

    ledger.apply(deadlines_set("u1", "2027-03-30 00:00", "2027-04-12 18:00", "2027-04-01 18:00"))
    board = await _board(ledger)
    assert board["u1"]["due_estimated"] is False
    assert board["u1"]["due"] == at("2027-04-01 18:00").isoformat()


def test_the_catalogue_names_the_event_as_a_source_of_the_on_time_figures() -> None:
    for metric in (ON_TIME, "push_on_time_feedback_rate"):
        assert "prt.v1.PushDeadlinesSet" in BY_KEY[metric].source_events


async def test_the_board_never_marks_a_push_late_against_an_estimate() -> None:
    past = routed(
        "u3",
        "2025-03-03 09:00",
        sign_for_due="2025-03-04 18:00",
        feedback_due="2025-03-14 18:00",
        deadlines_estimated=True,
    )
    ledger = fold(past)
    assert (await _board(ledger))["u3"]["overdue"] is False  # the estimate ran out: not judged
    ledger.apply(deadlines_set("u3", "2025-03-05 00:00", "2025-03-17 18:00", "2025-03-05 18:00"))
    assert (await _board(ledger))["u3"]["overdue"] is True  # the real one ran out too


def test_the_real_deadlines_are_stated_once() -> None:
    first = deadlines_set("u1", "2027-04-20 00:00", "2027-04-12 18:00", ESTIMATED_SIGN_FOR)
    ledger = fold(_estimated(), _fed_back("u1", "2027-04-09 10:00"), first)
    again = deadlines_set("u1", "2027-04-21 00:00", "2027-04-07 18:00", ESTIMATED_SIGN_FOR)
    assert contribute(again, ledger.states["push:u1"]) == Contribution()


async def test_the_board_judges_a_real_sign_for_due_beside_an_estimated_feedback_due() -> None:
    # Routed in December 2026 while the calendar covers 2026 only: the sign-for due (this year)
    # is real, the feedback due (next year) an estimate. The board shows the sign-for due as
    # real, late once it passed; signed for, the feedback due it shows is the estimate.
    december = dataclasses.replace(
        routed(
            "u4",
            "2025-12-11 10:00",
            sign_for_due="2025-12-14 18:00",
            feedback_due="2026-01-01 18:00",
            deadlines_estimated=True,
        ),
        estimated_deadlines=frozenset({"FEEDBACK"}),
    )
    ledger = fold(december)
    entry = (await _board(ledger))["u4"]
    assert entry["due"] == at("2025-12-14 18:00").isoformat()
    assert entry["due_estimated"] is False
    assert entry["overdue"] is True  # a real due that passed, before the watch marked it
    ledger.apply(signed("u4", "2025-12-15 09:00"))
    entry = (await _board(ledger))["u4"]
    assert entry["due"] == at("2026-01-01 18:00").isoformat()
    assert entry["due_estimated"] is True
    assert entry["overdue"] is False  # an estimate is never judged
