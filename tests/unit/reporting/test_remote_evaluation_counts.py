"""Remote evaluations count what took place, not what was asked for: an evaluation is hosted, and
its venues used, once scheduled (at the venues of its latest schedule, a partner's once it
accepted); a cancelled one counts nothing; an expert who left the committee is not one shared.
Each follows from the evaluation's state, so re-plans, replays and late answers move the
figures to what the events end with."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf.message import Message
from prt.v1 import remote_eval_pb2

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.reporting.domain import facts
from services.reporting.domain.catalogue import BY_KEY
from services.reporting.domain.ledger import Ledger
from services.reporting.domain.metrics import state_key
from services.reporting.event_codec import fact_from_envelope
from tests.unit.reporting.factories import at, event_id, figure, fold

HOST = "370100"
ZIBO, TAIAN = "370300", "370900"
HOSTED = "remote_evaluations_hosted"
SERVED = "remote_evaluations_served"
BY_VENUE = "remote_evaluations_by_venue"
SHARED = "experts_shared"
MAIN_VENUE = ("JN-1", HOST, "MAIN")


def requested(evaluation: str = "ev1") -> facts.EvaluationRequestedFact:
    return facts.EvaluationRequestedFact(
        event_id(), evaluation, at("2026-12-01 09:00"), HOST, "JN-1"
    )


def scheduled(
    *secondary: tuple[str, str], evaluation: str = "ev1"
) -> facts.EvaluationScheduledFact:
    allocations = (MAIN_VENUE, *((venue, partner, "SECONDARY") for venue, partner in secondary))
    return facts.EvaluationScheduledFact(
        event_id(), evaluation, at("2026-12-01 09:00"), allocations
    )


def decision(venue: str, partner: str, accepted: bool = True) -> facts.PartnerVenueDecisionFact:
    return facts.PartnerVenueDecisionFact(
        event_id(), "ev1", at("2026-12-01 10:00"), partner, venue, accepted
    )


def confirmed(expert: str, pool: str = ZIBO) -> facts.ExpertConfirmedFact:
    return facts.ExpertConfirmedFact(event_id(), "ev1", at("2026-12-01 11:00"), pool, expert)


def left(expert: str) -> facts.ExpertLeftFact:
    return facts.ExpertLeftFact(event_id(), "ev1", at("2026-12-03 09:00"), expert)


def cancelled() -> facts.EvaluationCancelledFact:
    return facts.EvaluationCancelledFact(event_id(), "ev1", at("2026-12-02 09:00"))


def test_a_request_never_scheduled_is_no_evaluation_hosted_nor_a_venue_used() -> None:
    """The 2026-12 bulletin: 9 requests, of which only 5 were ever scheduled (the scheduler
    answered the others with SchedulingFailed, which counts nothing)."""
    items: list[facts.Fact] = []
    for n in range(9):
        items.append(requested(f"ev{n}"))
        if n < 5:
            items.append(scheduled(evaluation=f"ev{n}"))
    ledger = fold(*items)
    assert figure(ledger, HOSTED, "2026-12") == 5
    assert figure(ledger, HOSTED, "2026-12", host=HOST) == 5
    assert figure(ledger, BY_VENUE, "2026-12", venue="JN-1", role="MAIN") == 5


def test_a_cancelled_evaluation_is_not_hosted_served_nor_sharing_experts() -> None:
    ledger = fold(
        requested(),
        scheduled(("ZB-1", ZIBO)),
        decision("ZB-1", ZIBO),
        confirmed("X1"),
        cancelled(),  # its trade was terminated before the day
    )
    for metric in (HOSTED, SERVED, BY_VENUE, SHARED):
        assert figure(ledger, metric, "2026-12") == 0, metric
    # Counted in the request's month, taken back there: the evidence says so.
    assert figure(ledger, HOSTED) == 0


def test_a_re_plan_counts_the_venues_the_evaluation_ends_at() -> None:
    """淄博 declines; the re-plan moves the seats to 泰安, which accepts."""
    ledger = fold(
        requested(),
        scheduled(("ZB-1", ZIBO)),
        decision("ZB-1", ZIBO, accepted=False),
        scheduled(("TA-1", TAIAN)),
        decision("TA-1", TAIAN),
    )
    assert figure(ledger, HOSTED, "2026-12") == 1
    assert figure(ledger, BY_VENUE, "2026-12", venue="ZB-1") == 0
    assert figure(ledger, BY_VENUE, "2026-12", venue="TA-1", role="SECONDARY") == 1
    assert figure(ledger, SERVED, "2026-12", partner=TAIAN, host=HOST) == 1
    assert figure(ledger, SERVED, "2026-12", partner=ZIBO) == 0


def test_seats_moved_away_from_a_venue_that_accepted_take_its_use_back() -> None:
    """A substitute seated at another partner's venue (the first had nobody left): the new
    schedule no longer seats anyone at ZB-1. Moved back later, ZB-1 is asked again: its
    earlier acceptance does not count for the new request."""
    ledger = fold(
        requested(),
        scheduled(("ZB-1", ZIBO)),
        decision("ZB-1", ZIBO),
        scheduled(("TA-1", TAIAN)),
    )
    assert figure(ledger, BY_VENUE, "2026-12", role="SECONDARY") == 0
    assert figure(ledger, SERVED, "2026-12") == 0
    ledger.apply(scheduled(("ZB-1", ZIBO)))
    assert figure(ledger, BY_VENUE, "2026-12", venue="ZB-1") == 0
    ledger.apply(decision("ZB-1", ZIBO))
    assert figure(ledger, BY_VENUE, "2026-12", venue="ZB-1") == 1
    assert figure(ledger, SERVED, "2026-12", partner=ZIBO) == 1


def test_a_failure_after_the_schedule_leaves_the_evaluation_hosted() -> None:
    """A re-plan that finds no venue fails (SchedulingFailed) but remote_eval keeps the
    evaluation scheduled; a later EvaluationScheduled resolves it: one evaluation hosted."""
    ledger = fold(
        requested(),
        scheduled(("ZB-1", ZIBO)),
        decision("ZB-1", ZIBO, accepted=False),
        scheduled(("TA-1", TAIAN)),
    )
    assert figure(ledger, HOSTED, "2026-12") == 1
    assert figure(ledger, BY_VENUE, "2026-12", venue="JN-1") == 1


def test_an_expert_who_did_not_come_or_left_is_not_shared() -> None:
    ledger = fold(
        requested(),
        scheduled(("ZB-1", ZIBO)),
        confirmed("X1"),
        confirmed("X2"),
        confirmed("X3", pool=HOST),  # the host's own expert: never shared
        left("X1"),  # ExpertNoShow
        left("X1"),  # and the substitute draw replacing X1: one departure
        confirmed("X9"),  # X1's substitute
        confirmed("X1"),  # remote_eval refuses it: one who left does not come back
    )
    assert figure(ledger, SHARED, "2026-12") == 2  # X2 and X9
    assert figure(ledger, SHARED, "2026-12", partner=ZIBO, host=HOST) == 2


def test_events_told_again_or_replayed_count_once() -> None:
    items: list[facts.Fact] = [
        requested(),
        scheduled(("ZB-1", ZIBO)),
        decision("ZB-1", ZIBO),
        confirmed("X1"),
    ]
    ledger = fold(*items, *items)  # replayed: the same event ids
    again = fold(
        *items,
        scheduled(("ZB-1", ZIBO)),  # the same schedule published again, another id
        decision("ZB-1", ZIBO),
        confirmed("X1"),
    )
    for folded in (ledger, again):
        assert figure(folded, HOSTED, "2026-12") == 1
        assert figure(folded, BY_VENUE, "2026-12") == 2
        assert figure(folded, SERVED, "2026-12") == 1
        assert figure(folded, SHARED, "2026-12") == 1


def test_a_state_stored_when_the_request_counted_goes_on_as_before() -> None:
    """An evaluation requested before this change was counted hosted at its request: its
    later events count as they did (a rebuild counts it anew from the log)."""
    ledger = Ledger()
    ledger.states["evaluation:ev1"] = {
        "host": HOST,
        "requested_at": at("2026-12-01 09:00").isoformat(),
        "venues": ["JN-1"],
        "partners_served": [],
        "experts_counted": [],
    }
    for item in (scheduled(("ZB-1", ZIBO)), decision("ZB-1", ZIBO), confirmed("X1"), left("X1")):
        ledger.apply(item)
    assert figure(ledger, HOSTED, "2026-12") == 0  # counted at the request, before
    assert figure(ledger, SERVED, "2026-12", partner=ZIBO) == 1
    assert figure(ledger, BY_VENUE, "2026-12", venue="ZB-1") == 1
    assert figure(ledger, SHARED, "2026-12") == 1


WHEN = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def _fact(message: Message) -> facts.Fact | None:
    return fact_from_envelope(Envelope(message=message, source="/tests", subject="ev1"))


def test_the_codec_reads_schedules_cancellations_and_departures() -> None:
    stamp = to_timestamp(WHEN)
    schedule = _fact(
        remote_eval_pb2.EvaluationScheduled(
            evaluation_id="ev1",
            occurred_at=stamp,
            allocations=[
                remote_eval_pb2.VenueAllocation(
                    venue_id="JN-1", partner_code=HOST, role=remote_eval_pb2.VENUE_ROLE_MAIN
                ),
                remote_eval_pb2.VenueAllocation(
                    venue_id="ZB-1", partner_code=ZIBO, role=remote_eval_pb2.VENUE_ROLE_SECONDARY
                ),
            ],
        )
    )
    assert isinstance(schedule, facts.EvaluationScheduledFact)
    assert schedule.allocations == (MAIN_VENUE, ("ZB-1", ZIBO, "SECONDARY"))
    assert state_key(schedule) == "evaluation:ev1"
    cancellation = _fact(
        remote_eval_pb2.EvaluationCancelled(evaluation_id="ev1", occurred_at=stamp)
    )
    assert isinstance(cancellation, facts.EvaluationCancelledFact)
    for message in (
        remote_eval_pb2.ExpertNoShow(evaluation_id="ev1", occurred_at=stamp, expert_pseudonym="X"),
        remote_eval_pb2.ExpertDeclined(
            evaluation_id="ev1", occurred_at=stamp, expert_pseudonym="X"
        ),
        remote_eval_pb2.SubstituteDrawn(
            evaluation_id="ev1", occurred_at=stamp, replaced_expert_pseudonym="X"
        ),
    ):
        departure = _fact(message)
        assert isinstance(departure, facts.ExpertLeftFact)
        assert departure.expert_pseudonym == "X" and state_key(departure) == "evaluation:ev1"
    failure = remote_eval_pb2.SchedulingFailed(evaluation_id="ev1", occurred_at=stamp)
    assert _fact(failure) is None


@pytest.mark.parametrize("metric", [HOSTED, SERVED, BY_VENUE, SHARED])
def test_the_catalogue_names_the_events_that_take_a_count_back(metric: str) -> None:
    assert "prt.v1.EvaluationCancelled" in BY_KEY[metric].source_events


def _withdrawn(venue: str, partner: str, role: remote_eval_pb2.VenueRole) -> facts.Fact | None:
    return _fact(
        remote_eval_pb2.VenueSeatsWithdrawn(
            evaluation_id="ev1",
            occurred_at=to_timestamp(WHEN),
            partner_code=partner,
            venue_id=venue,
            role=role,
            seats=3,
        )
    )


def test_seats_withdrawn_at_a_secondary_venue_take_its_use_back_until_the_re_plan() -> None:
    """淄博 accepted, then cut its seats below the bookings: the worker withdrew them (as a
    decline) and re-planned at 泰安."""
    withdrawn = _withdrawn("ZB-1", ZIBO, remote_eval_pb2.VENUE_ROLE_SECONDARY)
    assert isinstance(withdrawn, facts.PartnerVenueDecisionFact) and not withdrawn.accepted
    ledger = fold(requested(), scheduled(("ZB-1", ZIBO)), decision("ZB-1", ZIBO), withdrawn)
    assert figure(ledger, BY_VENUE, "2026-12", venue="ZB-1") == 0
    assert figure(ledger, SERVED, "2026-12", partner=ZIBO) == 0
    assert figure(ledger, HOSTED, "2026-12") == 1
    ledger.apply(scheduled(("TA-1", TAIAN)))
    ledger.apply(decision("TA-1", TAIAN))
    assert figure(ledger, SERVED, "2026-12", partner=TAIAN) == 1


def test_seats_withdrawn_at_the_main_venue_leave_an_evaluation_that_will_not_sit() -> None:
    """The host's own venue cannot move: remote evaluation fails the evaluation, which hosts
    nothing and uses no venue."""
    withdrawn = _withdrawn("JN-1", HOST, remote_eval_pb2.VENUE_ROLE_MAIN)
    assert isinstance(withdrawn, facts.EvaluationCancelledFact)
    ledger = fold(requested(), scheduled(("ZB-1", ZIBO)), decision("ZB-1", ZIBO), withdrawn)
    for metric in (HOSTED, SERVED, BY_VENUE):
        assert figure(ledger, metric, "2026-12") == 0, metric
