"""PushTransferred (移送): abnormal push closes the push and takes the transfer to meet both of
its deadlines; reporting counts it the same way — through the codec, into the figures, off the
board — and agrees with abnormal push's own fold of the same events."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.protobuf.message import Message
from prt.v1 import abnormal_push_pb2

from services.abnormal_push.domain.errors import PushActionRefused
from services.abnormal_push.domain.pushes import (
    Deadline,
    HandlingResult,
    Push,
    PushDeadlinesSet,
    PushEvent,
    PushFeedbackGiven,
    PushRouted,
    PushSignedFor,
    PushStatus,
    PushTransferred,
    apply_push_event,
)
from services.abnormal_push.domain.reports import Severity
from services.abnormal_push.domain.routing import PushRole, RoutingReason
from services.abnormal_push.event_codec import push_event_to_message
from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import ABNORMAL_PUSHES
from services.platform_core.kafka.faust_worker import EventRejected
from services.reporting.dashboard import push_board
from services.reporting.domain import facts
from services.reporting.domain.bulletin import Labels
from services.reporting.domain.catalogue import BY_KEY
from services.reporting.domain.figures import ratio, value_of
from services.reporting.domain.ledger import Ledger
from services.reporting.domain.metrics import OPEN_PUSHES, Contribution, contribute, state_key
from services.reporting.event_codec import fact_from_envelope
from tests.unit.reporting.factories import (
    at,
    bulletin_text,
    deadlines_set,
    fed_back,
    figure,
    fold,
    half_year_bulletin,
    ledger_read_model,
    routed,
    signed,
    transferred,
)

# routed() gives ZJJ's push dues of 3 March 18:00 (sign-for) and 10 March 18:00 (feedback).
ROUTED_AT = "2023-03-01 09:00"
SIGNED = "pushes_signed_for"
FED_BACK = "pushes_fed_back"
ON_TIME = "pushes_fed_back_on_time"
TRANSFERRED = "pushes_transferred"
RESOLVED = "pushes_resolved"
IN_HAND = "pushes_in_hand"


# ── codec ──────────────────────────────────────────────────────────────────────────────────


def _through_the_topic(message: Message, push: str) -> Envelope[Message]:
    envelope: Envelope[Message] = Envelope(message=message, source="/tests", subject=push)
    value, headers = encode_envelope(envelope)
    return decode_record(value, headers, ABNORMAL_PUSHES.message_types)


def test_the_codec_turns_push_transferred_into_a_fact() -> None:
    message = abnormal_push_pb2.PushTransferred(
        push_id="u1",
        occurred_at=to_timestamp(datetime(2023, 3, 2, 1, 0, tzinfo=UTC)),
        actor_department="ZJJ",
        to_department="JTJ",
        reason="属交通工程",
    )
    envelope = _through_the_topic(message, "u1")
    assert fact_from_envelope(envelope) == facts.PushTransferredFact(
        envelope.id, "u1", datetime(2023, 3, 2, 1, 0, tzinfo=UTC), "ZJJ", "JTJ"
    )
    assert state_key(transferred("u1", ROUTED_AT)) == "push:u1"
    with pytest.raises(EventRejected):
        fact_from_envelope(
            _through_the_topic(abnormal_push_pb2.PushTransferred(push_id="u1"), "u1")
        )


# ── the push is closed ─────────────────────────────────────────────────────────────────────


def test_a_transfer_closes_the_push_and_the_receiving_departments_push_is_open() -> None:
    ledger = fold(
        routed("u1", ROUTED_AT),
        transferred("u1", "2023-03-02 09:00", to="JTJ"),
        # What abnormal push routes on (reason TRANSFERRED): a push of its own.
        routed("u1-JTJ", "2023-03-02 09:00", department="JTJ"),
    )
    assert ledger.indexes[OPEN_PUSHES] == {"u1-JTJ"}
    push = ledger.states["push:u1"]
    assert push["resolved"] is True and push["transferred_to"] == "JTJ"
    assert push["transferred_at"] == at("2023-03-02 09:00").isoformat()


async def _board(ledger: Ledger) -> dict[str, dict[str, Any]]:
    model = ledger_read_model(ledger)
    return {entry["push_id"]: entry for entry in await push_board(model, Labels())}


async def test_a_transferred_push_leaves_the_board_instead_of_turning_overdue() -> None:
    ledger = fold(routed("u1", ROUTED_AT))
    assert (await _board(ledger))["u1"]["overdue"] is True  # its 2023 dues have passed
    ledger.apply(transferred("u1", "2023-03-02 09:00"))
    assert "u1" not in await _board(ledger)


# ── it meets the deadlines, as abnormal push judges them ───────────────────────────────────


def test_a_transfer_before_signing_for_counts_as_signed_for() -> None:
    ledger = fold(routed("u1", ROUTED_AT), transferred("u1", "2023-03-02 09:00"))
    assert figure(ledger, SIGNED, "2023-03", department="ZJJ") == 1
    rate = ratio(figure(ledger, SIGNED, "2023-H1"), figure(ledger, "pushes_to_handle", "2023-H1"))
    assert rate == 1.0


@pytest.mark.parametrize(
    ("when", "on_time"),
    [("2023-03-10 18:00", 1), ("2023-03-10 18:01", 0)],  # the feedback due is 10 March 18:00
)
def test_a_transfer_counts_as_feedback_on_time_when_made_by_the_feedback_due(
    when: str, on_time: int
) -> None:
    ledger = fold(
        routed("u1", ROUTED_AT), signed("u1", "2023-03-02 09:00"), transferred("u1", when)
    )
    assert figure(ledger, FED_BACK, "2023-03", department="ZJJ") == 1
    assert figure(ledger, ON_TIME, "2023-03", department="ZJJ") == on_time
    assert figure(ledger, SIGNED, "2023-03") == 1  # signed before: counted once


def test_a_transfer_after_a_case_filed_feedback_changes_no_verdict() -> None:
    # 立案 is the first feedback (late, on 12 March); the push may still be passed on, and the
    # feedback deadline was met when the feedback came, not at the transfer.
    ledger = fold(
        routed("u1", ROUTED_AT),
        signed("u1", "2023-03-02 09:00"),
        fed_back("u1", "2023-03-12 09:00", "CASE_FILED"),
        transferred("u1", "2023-03-13 09:00"),
    )
    assert figure(ledger, FED_BACK, "2023-03") == 1
    assert figure(ledger, ON_TIME, "2023-03") == 0
    assert figure(ledger, TRANSFERRED, "2023-03") == 1
    assert ledger.indexes[OPEN_PUSHES] == set()


def test_sign_for_and_feedback_after_a_transfer_count_nothing() -> None:
    # Abnormal push refuses both (the push is TRANSFERRED): nothing is counted twice.
    ledger = fold(routed("u1", ROUTED_AT), transferred("u1", "2023-03-11 09:00"))
    before = ledger.figures()
    assert figure(ledger, SIGNED) == 1 and figure(ledger, FED_BACK) == 1
    assert figure(ledger, ON_TIME) == 0  # transferred after the feedback due
    for late in (signed("u1", "2023-03-12 09:00"), fed_back("u1", "2023-03-12 10:00")):
        assert contribute(late, ledger.states["push:u1"]) == Contribution()
        ledger.apply(late)
    assert ledger.figures() == before
    assert ledger.indexes[OPEN_PUSHES] == set()


def _state_after(*items: facts.Fact) -> dict[str, Any] | None:
    state: dict[str, Any] | None = fold(*items).states.get("push:u1")
    return state


@pytest.mark.parametrize(
    ("history", "transfer"),
    [
        pytest.param((), transferred("u1", "2023-03-02 09:00"), id="unknown push"),
        pytest.param(
            (routed("u1", ROUTED_AT, role="COPY"),),
            transferred("u1", "2023-03-02 09:00"),
            id="a copy",
        ),
        pytest.param(
            (
                routed("u1", ROUTED_AT),
                signed("u1", "2023-03-02 09:00"),
                fed_back("u1", "2023-03-05 09:00", "NO_ACTION"),
            ),
            transferred("u1", "2023-03-06 09:00"),
            id="fed back with the measure taken",
        ),
        pytest.param(
            (routed("u1", ROUTED_AT), transferred("u1", "2023-03-02 09:00", to="JTJ")),
            transferred("u1", "2023-03-02 10:00", to="SWJ"),
            id="transferred already",
        ),
        pytest.param(
            (routed("u1", ROUTED_AT),),
            transferred("u1", "2023-03-02 09:00", department="CZJ"),
            id="by another department",
        ),
        pytest.param(
            (routed("u1", ROUTED_AT),),
            transferred("u1", "2023-03-02 09:00", to="ZJJ"),
            id="to its own department",
        ),
    ],
)
def test_a_transfer_abnormal_push_refuses_counts_nothing(
    history: tuple[facts.Fact, ...], transfer: facts.PushTransferredFact
) -> None:
    assert contribute(transfer, _state_after(*history)) == Contribution()


def test_transfers_by_department_and_receiving_department_in_the_routing_period() -> None:
    ledger = fold(
        routed("u1", "2023-03-31 09:00"),
        transferred("u1", "2023-04-03 09:00", to="JTJ"),
        routed("u2", "2023-03-31 09:00"),
        transferred("u2", "2023-04-03 09:00", to="SWJ"),
        routed("u3", "2023-03-31 09:00", department="CZJ"),
        transferred("u3", "2023-04-03 09:00", to="JTJ", department="CZJ"),
        routed("u4", "2023-03-31 09:00"),  # not transferred
    )
    assert figure(ledger, TRANSFERRED, "2023-03") == 3
    assert figure(ledger, TRANSFERRED, "2023-04") == 0
    assert figure(ledger, TRANSFERRED, "2023-H1", department="ZJJ") == 2
    assert figure(ledger, TRANSFERRED, "2023-H1", to_department="JTJ") == 2
    assert figure(ledger, TRANSFERRED, "2023-H1", department="ZJJ", to_department="JTJ") == 1
    assert figure(ledger, SIGNED, "2023-03", department="ZJJ") == 2  # u4 unsigned


def test_the_real_deadlines_judge_a_transfer_made_on_estimated_ones_again() -> None:
    estimated = routed(
        "u1",
        "2027-03-29 09:00",
        sign_for_due="2027-03-31 18:00",
        feedback_due="2027-04-08 18:00",
        deadlines_estimated=True,
    )
    ledger = fold(estimated, transferred("u1", "2027-04-09 10:00"))
    assert figure(ledger, ON_TIME, "2027-03") == 0  # late on the estimate
    ledger.apply(deadlines_set("u1", "2027-04-20 00:00", "2027-04-12 18:00", "2027-03-31 18:00"))
    assert figure(ledger, ON_TIME, "2027-03", department="ZJJ") == 1  # on time on the real due
    assert figure(ledger, FED_BACK, "2027-03") == 1


def test_the_catalogue_names_transfers_as_a_source_of_the_figures_they_move() -> None:
    for metric in (SIGNED, FED_BACK, ON_TIME, TRANSFERRED):
        assert "prt.v1.PushTransferred" in BY_KEY[metric].source_events
    assert BY_KEY[TRANSFERRED].dimensions == ("department", "to_department")


def _bulletin_text(*items: facts.Fact) -> str:
    return bulletin_text(half_year_bulletin(*items))


def test_the_bulletin_names_transfers_only_when_there_are_some() -> None:
    text = _bulletin_text(
        routed("u1", ROUTED_AT),
        transferred("u1", "2023-03-02 09:00", to="JTJ"),
        routed("u1-JTJ", "2023-03-02 09:00", department="JTJ"),
    )
    assert "其中须签收处理2次(其中接收部门移送其他部门办理1次),签收率50.0%" in text
    assert "移送" not in _bulletin_text(routed("u1", ROUTED_AT))


# ── the same verdicts as abnormal push's own fold ──────────────────────────────────────────

T0 = datetime(2023, 3, 1, 1, 0, tzinfo=UTC)


def _history(rng: random.Random, n: int) -> list[PushEvent]:
    """A push's events as its department might ask for them, some of which abnormal push
    refuses (those never reach the log: its HTTP edge does not emit them). Each push has a
    department of its own, so the department's figures are the push's verdicts."""
    push_id = f"m{n}"
    department = f"D{n:03d}"
    estimated = rng.random() < 0.3
    events: list[PushEvent] = [
        PushRouted(
            f"{push_id}-routed",
            push_id,
            T0,
            f"r{n}",
            department,
            RoutingReason.CATEGORY_SUPERVISOR,
            PushRole.HANDLER if rng.random() < 0.9 else PushRole.COPY,
            Severity.MEDIUM,
            T0 + timedelta(days=2),
            T0 + timedelta(days=9),
            deadlines_estimated=estimated,
        )
    ]
    when = T0
    for step in range(rng.randrange(0, 8)):
        when += timedelta(hours=rng.randrange(1, 120))
        event_id = f"{push_id}-{step}"
        kind = rng.choice(["sign", "sign", "feedback", "feedback", "transfer", "deadlines"])
        if kind == "sign":
            events.append(PushSignedFor(event_id, push_id, when, department))
        elif kind == "feedback":
            # 立案 half the time (it keeps the push in hand), else the measure taken, which
            # ends the handling: cases are filed, then closed by a measure or a transfer.
            result = rng.choice([HandlingResult.CASE_FILED] * 3 + list(HandlingResult))
            events.append(PushFeedbackGiven(event_id, push_id, when, department, result, "结果"))
        elif kind == "transfer":
            to = rng.choice(["JTJ", "SWJ", department])
            events.append(PushTransferred(event_id, push_id, when, department, to, "移送"))
        elif estimated:
            due = T0 + timedelta(days=rng.randrange(3, 14))
            events.append(PushDeadlinesSet(event_id, push_id, when, T0 + timedelta(days=2), due))
    return events


def _as_reporting_fact(event: PushEvent) -> facts.Fact:
    envelope: Envelope[Message] = Envelope(
        message=push_event_to_message(event), source="/tests", subject=event.push_id
    )
    value, headers = encode_envelope(envelope)
    fact = fact_from_envelope(decode_record(value, headers, ABNORMAL_PUSHES.message_types))
    assert fact is not None
    return fact


def test_reporting_judges_each_push_as_abnormal_push_does() -> None:
    rng = random.Random(20230822)
    ledger = Ledger()
    pushes: list[Push] = []
    for n in range(800):
        push: Push | None = None
        for event in _history(rng, n):
            try:
                push = apply_push_event(push, event)
            except PushActionRefused:
                continue  # never on the log
            ledger.apply(_as_reporting_fact(event))
        assert push is not None
        pushes.append(push)

    figures = ledger.figures()
    measures = [result for result in HandlingResult if result is not HandlingResult.CASE_FILED]
    verdicts: dict[str, int] = {
        "transferred": 0,
        "on time": 0,
        "late": 0,
        "in hand": 0,
        "case filed, then the measure": 0,
        "case filed, then transferred": 0,
        **{measure.value: 0 for measure in measures},
    }
    for push in pushes:
        department = push.department
        handler = push.role is PushRole.HANDLER
        sign_for_met = push.met_at(Deadline.SIGN_FOR)
        feedback_met = push.met_at(Deadline.FEEDBACK)
        on_time = feedback_met is not None and (
            push.feedback_due is None or feedback_met <= push.feedback_due
        )
        expected = {
            "pushes_to_handle": handler,
            SIGNED: handler and sign_for_met is not None,
            FED_BACK: handler and feedback_met is not None,
            ON_TIME: handler and on_time,
            TRANSFERRED: handler and push.transferred_to != "",
            # 已办结: the measure taken ended the handling (FEEDBACK_GIVEN); 立案 alone leaves
            # the push SIGNED_FOR, in hand, with its feedback given.
            RESOLVED: handler and push.status is PushStatus.FEEDBACK_GIVEN,
            IN_HAND: handler and push.status is PushStatus.SIGNED_FOR and push.feedback != (),
        }
        found = {
            metric: value_of(figures, metric, None, department=department) for metric in expected
        }
        assert found == {metric: int(flag) for metric, flag in expected.items()}, push
        # The measure: the last feedback's result (abnormal push takes none after it).
        measure = push.feedback[-1].result if expected[RESOLVED] else None
        by_measure = {
            result: value_of(figures, RESOLVED, None, department=department, measure=result)
            for result in measures
        }
        assert by_measure == {result: int(result is measure) for result in measures}, push
        assert (push.push_id in ledger.indexes[OPEN_PUSHES]) is push.is_open, push
        if measure is not None:
            verdicts[measure.value] += 1
        verdicts["in hand"] += expected[IN_HAND]
        case_filed = any(f.result is HandlingResult.CASE_FILED for f in push.feedback)
        verdicts["case filed, then the measure"] += case_filed and measure is not None
        verdicts["case filed, then transferred"] += case_filed and expected[TRANSFERRED]
        verdicts["transferred"] += expected[TRANSFERRED]
        verdicts["on time"] += handler and on_time
        verdicts["late"] += handler and feedback_met is not None and not on_time
    # The mix exercises each case: transfers, verdicts either way, each measure, cases in hand.
    assert min(verdicts.values()) >= 10, verdicts
