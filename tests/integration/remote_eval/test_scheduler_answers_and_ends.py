"""The scheduler's answers, timeouts and ends on the real broker and Redis (an in-process
scheduler, whose events go to the real evaluations log): a partner answer with a stale time
opens no deadline already passed; an unsealed committee is never re-drawn; a member nobody
can replace leaves the committee, named by pseudonym only; a backfilled termination cancels;
dates out of range, the main venue and an absence nobody confirmed are refused.

Each test registers pools of a specialty of its own (so its draws are its own) and schedules
at the host 370113's main venue with partner 370300's venue as secondary."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from google.protobuf.message import Message
from prt.v1 import intake_pb2, remote_eval_pb2

from services.platform_core.errors import EventRejected
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import to_timestamp
from services.platform_core.events.topics import EVALUATIONS
from services.remote_eval import event_codec
from services.remote_eval.domain.model import SHANGHAI, HalfDay, Slot
from services.remote_eval.http_api.evaluations import evaluation_public
from services.remote_eval.scheduler import COMMITTEE_LISTS_PREFIX
from services.remote_eval.store import DEADLINES_KEY
from tests.integration.remote_eval.scheduler_rig import (
    HOST,
    MAIN_VENUE,
    PARTNER,
    Rig,
    at_main_venue,
    enveloped,
    evaluation_request,
    far_slot,
)

pytestmark = pytest.mark.integration


def _far_slot() -> Slot:
    """An afternoon: this module's evaluations keep out of the mornings other modules book."""
    return far_slot(HalfDay.PM)


async def _fire_timers(rig: Rig, evaluation_id: str, now: datetime) -> int:
    """One timer tick at ``now``; this evaluation's timeouts applied as the worker would."""
    rig.published.sent.clear()
    await rig.scheduler.fire_due_timers(now)
    timeouts = [
        envelope
        for topic, envelope in rig.published.sent
        if topic == EVALUATIONS.name and envelope.subject == evaluation_id
    ]
    for envelope in timeouts:
        await rig.scheduler.apply_evaluation_event(envelope)
    return len(timeouts)


async def test_a_stale_partner_answer_opens_no_deadline_already_passed(rig: Rig) -> None:
    """The partner's decline carries its own ce_time, 30 days old: the substitute's
    confirmation deadline counts from now, so the next ticks draw nobody else."""
    specialty = await rig.fresh_pools({HOST: 2, PARTNER: 20})
    state = await rig.scheduled(specialty, _far_slot())
    evaluation_id = state.request.evaluation_id
    refusing = next(m for m in state.members if m.assignment.pool_code == PARTNER)
    stale = datetime.now(UTC) - timedelta(days=30)
    declined = remote_eval_pb2.ExpertDeclined(
        evaluation_id=evaluation_id, partner_code=PARTNER, expert_pseudonym=refusing.pseudonym
    )
    rig.published.sent.clear()
    await rig.scheduler.apply_partner_answer(
        enveloped(declined, stale), f"partner.{PARTNER}.answers.v1"
    )
    # Applied, and recorded on the log with what it caused (Scheduler.record_partner_answer).
    [recorded] = rig.published.of(evaluation_id, remote_eval_pb2.ExpertDeclined)
    [logged] = [e for t, e in rig.published.sent if e.message is recorded]
    assert logged.time == stale  # the answer keeps the partner's time on the log
    await rig.scheduler.apply_evaluation_event(logged)  # read back from the log: applied once

    state = await rig.state(evaluation_id)
    assert len(state.draws) == 2 and [m.status for m in state.former] == ["declined"]
    soon = datetime.now(UTC) + timedelta(hours=23)
    assert all(d.due > soon for d in state.deadlines), state.deadlines
    for _ in range(3):  # the worker's timer ticks: nothing is due
        assert await _fire_timers(rig, evaluation_id, datetime.now(UTC)) == 0
    state = await rig.state(evaluation_id)
    assert len(state.draws) == 2 and len(state.former) == 1


async def test_an_unsealed_committee_awaits_no_answer_and_is_never_redrawn(rig: Rig) -> None:
    specialty = await rig.fresh_pools({HOST: 4, PARTNER: 8})
    state = await rig.scheduled(specialty, _far_slot())
    evaluation_id = state.request.evaluation_id
    assert state.deadlines  # seat request and confirmations awaited
    award = intake_pb2.ContractAwarded(project_id=state.request.project_id, bid_section_code="001")
    await rig.scheduler.apply_project_event(enveloped(award))
    unsealed = await rig.state(evaluation_id)
    assert unsealed.unsealed and unsealed.deadlines == []
    stored: list[Any] = await rig.redis.zrangebyscore(DEADLINES_KEY, "-inf", "+inf")
    assert not [d for d in stored if evaluation_id.encode() in d]
    document = await rig.redis.get(COMMITTEE_LISTS_PREFIX + evaluation_id)

    # Timeouts of the deadlines as they were (one fired before the award, handled after).
    rig.published.sent.clear()
    late = datetime.now(UTC) + timedelta(days=2)
    for deadline in state.deadlines:
        if deadline.kind.value == "seat":
            await rig.apply(
                remote_eval_pb2.SeatRequestTimedOut(
                    evaluation_id=evaluation_id,
                    partner_code=deadline.partner_code,
                    venue_id=deadline.subject,
                    respond_by=to_timestamp(deadline.due),
                ),
                at=late,
            )
        else:
            await rig.apply(
                remote_eval_pb2.ExpertConfirmationTimedOut(
                    evaluation_id=evaluation_id,
                    partner_code=deadline.partner_code,
                    expert_pseudonym=deadline.subject,
                    confirm_by=to_timestamp(deadline.due),
                ),
                at=late,
            )
    after = await rig.state(evaluation_id)
    assert len(after.draws) == 1 and after.former == []
    assert [m.pseudonym for m in after.members] == [m.pseudonym for m in state.members]
    assert not rig.published.of(evaluation_id, remote_eval_pb2.SubstituteDrawn)
    assert not rig.published.of(evaluation_id, remote_eval_pb2.SchedulingFailed)
    assert await rig.redis.get(COMMITTEE_LISTS_PREFIX + evaluation_id) == document


async def test_a_refusal_nobody_can_replace_empties_the_seat_and_names_no_registry_id(
    rig: Rig,
) -> None:
    """The host's pool has nobody left for a main-venue seat (main seats never move): the
    expert who declined leaves the committee, the seat is flagged unfilled, and the failure
    names the expert by pseudonym; a late confirmation does not bring them back."""
    specialty = await rig.fresh_pools({HOST: 2, PARTNER: 3})
    state = await rig.scheduled(specialty, _far_slot())
    evaluation_id = state.request.evaluation_id
    refusing = at_main_venue(state)
    await rig.apply(
        remote_eval_pb2.ExpertDeclined(
            evaluation_id=evaluation_id, partner_code=HOST, expert_pseudonym=refusing.pseudonym
        )
    )
    state = await rig.state(evaluation_id)
    assert refusing.pseudonym not in [m.pseudonym for m in state.members]
    assert [(m.pseudonym, m.status) for m in state.former] == [(refusing.pseudonym, "declined")]
    assert len(state.members) == 4 and state.unfilled_seats == 1
    view = evaluation_public(state)  # what the host and operators read
    assert (view.expert_count, len(view.committee), view.unfilled_seats) == (5, 4, 1)
    assert state.failure is not None
    assert state.failure["constraint"] == "SUBSTITUTES_EXHAUSTED"
    [failed] = rig.published.of(evaluation_id, remote_eval_pb2.SchedulingFailed)
    for detail in (state.failure["detail"], failed.detail):
        assert f"no substitute for {refusing.pseudonym}" in detail
        assert refusing.assignment.expert_id not in detail
    assert state.slot is not None
    seated = await rig.store.history([state.slot], recent_draw_days=0)
    assert refusing.assignment.expert_id not in seated.busy[state.slot]  # released

    with pytest.raises(EventRejected, match="not drawn"):
        await rig.apply(
            remote_eval_pb2.ExpertConfirmed(
                evaluation_id=evaluation_id, partner_code=HOST, expert_pseudonym=refusing.pseudonym
            )
        )
    assert (await rig.state(evaluation_id)).unfilled_seats == 1


async def test_an_avoided_member_without_substitute_leaves_and_cannot_confirm(rig: Rig) -> None:
    specialty = await rig.fresh_pools({HOST: 2, PARTNER: 3})
    state = await rig.scheduled(specialty, _far_slot())
    evaluation_id = state.request.evaluation_id
    employee = at_main_venue(state)
    bid = intake_pb2.BidSubmitted(project_id=state.request.project_id, bid_section_code="001")
    bid.bidder.unified_social_credit_code = employee.assignment.employer_code
    bid.bidder.name = "某建设有限公司"
    await rig.scheduler.apply_project_event(enveloped(bid))
    state = await rig.state(evaluation_id)
    assert employee.pseudonym not in [m.pseudonym for m in state.members]
    assert [(m.pseudonym, m.status) for m in state.former] == [(employee.pseudonym, "avoided")]
    assert state.unfilled_seats == 1 and state.failure is not None
    with pytest.raises(EventRejected):
        await rig.apply(
            remote_eval_pb2.ExpertConfirmed(
                evaluation_id=evaluation_id, partner_code=HOST, expert_pseudonym=employee.pseudonym
            )
        )
    assert employee.pseudonym not in [m.pseudonym for m in (await rig.state(evaluation_id)).members]


async def test_an_absence_needs_a_confirmation_and_is_listed_as_such_after_the_award(
    rig: Rig,
) -> None:
    specialty = await rig.fresh_pools({HOST: 2, PARTNER: 3})
    state = await rig.scheduled(specialty, _far_slot())
    evaluation_id = state.request.evaluation_id
    absent = at_main_venue(state)

    def no_show() -> Message:
        return remote_eval_pb2.ExpertNoShow(
            evaluation_id=evaluation_id,
            partner_code=HOST,
            expert_pseudonym=absent.pseudonym,
            venue_id=MAIN_VENUE,
        )

    # Never confirmed: not an absence (PRT-EXP-001 counts confirmed experts who did not come).
    with pytest.raises(EventRejected, match="never confirmed"):
        await rig.apply(no_show())
    assert not rig.published.of(evaluation_id, remote_eval_pb2.ExpertAbsenceRecorded)

    await rig.apply(
        remote_eval_pb2.ExpertConfirmed(
            evaluation_id=evaluation_id, partner_code=HOST, expert_pseudonym=absent.pseudonym
        )
    )
    await rig.apply(no_show())  # confirmed, then did not come; nobody left to replace them
    [recorded] = rig.published.of(evaluation_id, remote_eval_pb2.ExpertAbsenceRecorded)
    assert recorded.expert_pseudonym == absent.pseudonym
    state = await rig.state(evaluation_id)
    assert [(m.pseudonym, m.status) for m in state.former] == [(absent.pseudonym, "no_show")]
    assert state.unfilled_seats == 1

    award = intake_pb2.ContractAwarded(project_id=state.request.project_id, bid_section_code="001")
    await rig.scheduler.apply_project_event(enveloped(award))
    stored = await rig.redis.get(COMMITTEE_LISTS_PREFIX + evaluation_id)
    assert stored is not None
    document = json.loads(stored)
    attendance = {m["pseudonym"]: m["attendance"] for m in document["members"]}
    assert attendance.pop(absent.pseudonym) == "NO_SHOW"
    assert set(attendance.values()) == {"SAT"} and len(attendance) == 4


async def test_a_backfilled_termination_of_yesterday_cancels_todays_evaluation(rig: Rig) -> None:
    """Intake records today a termination that happened yesterday (occurred_at): the
    evaluation of today is cancelled (the trade ended before it), not unsealed."""
    specialty = await rig.fresh_pools({HOST: 4, PARTNER: 8})
    today = datetime.now(SHANGHAI).date()
    state = await rig.scheduled(specialty, Slot(today, HalfDay.PM))
    yesterday = datetime.now(UTC) - timedelta(days=1)
    terminated = intake_pb2.ProjectTerminated(
        project_id=state.request.project_id,
        bid_section_code="001",
        occurred_at=to_timestamp(yesterday),
        reason=intake_pb2.TERMINATION_REASON_FAILED_TENDER,
    )
    await rig.scheduler.apply_project_event(enveloped(terminated))  # recorded now
    after = await rig.state(state.request.evaluation_id)
    assert (after.status, after.unsealed) == ("cancelled", False)
    [cancelled] = rig.published.of(state.request.evaluation_id, remote_eval_pb2.EvaluationCancelled)
    assert abs(cancelled.occurred_at.ToDatetime(tzinfo=UTC) - yesterday) < timedelta(seconds=1)


async def test_a_request_out_of_range_is_refused_and_its_batch_planned(rig: Rig) -> None:
    specialty = await rig.fresh_pools({HOST: 4, PARTNER: 8})
    good = _request_event(specialty, _far_slot())
    bad = _request_event(specialty, Slot(date.min, HalfDay.AM))
    await rig.scheduler.plan_requests([good, bad, _request_event(specialty, _far_slot())])
    with pytest.raises(EventRejected, match="outside 2015-01-01 to 2100-12-31"):
        await rig.scheduler.apply_evaluation_event(bad)
    await rig.scheduler.apply_evaluation_event(good)
    assert isinstance(good.message, remote_eval_pb2.EvaluationRequested)
    assert (await rig.state(good.message.evaluation_id)).status == "scheduled"


def _request_event(specialty: str, slot: Slot) -> Envelope[Message]:
    request = evaluation_request(specialty, slot)
    return enveloped(event_codec.evaluation_requested(request, datetime.now(UTC)))


async def test_the_main_venue_cannot_be_declined(rig: Rig) -> None:
    specialty = await rig.fresh_pools({HOST: 2, PARTNER: 6})
    state = await rig.scheduled(specialty, _far_slot())
    evaluation_id = state.request.evaluation_id
    decision = remote_eval_pb2.PartnerVenueDecision(
        evaluation_id=evaluation_id,
        partner_code=HOST,
        venue_id=MAIN_VENUE,
        decision=remote_eval_pb2.VENUE_DECISION_DECLINED,
        reason="自己的主场",
    )
    rig.published.sent.clear()
    with pytest.raises(EventRejected, match="main venue"):
        await rig.scheduler.apply_partner_answer(enveloped(decision), f"partner.{HOST}.answers.v1")
    assert rig.published.sent == []  # refused before the log: nothing recorded
    after = await rig.state(evaluation_id)
    assert after.allocations == state.allocations and after.draws == state.draws
    assert sorted(m.assignment.venue_id for m in after.members) == sorted(
        m.assignment.venue_id for m in state.members
    )


@pytest.mark.parametrize("terminated_section", ["001", ""])
async def test_a_request_decided_after_its_trade_ended_books_nothing(
    rig: Rig, terminated_section: str
) -> None:
    """The termination (of the section, or of the whole project) reached the scheduler before
    the request (the races review: booked and drawn anyway, the committee sealed for good,
    since the termination had come and gone): the request fails, TRADE_ENDED, with no seat
    booked, no expert drawn and no partner asked. An award ends the trade the same way."""
    specialty = await rig.fresh_pools({HOST: 4, PARTNER: 8})
    request = evaluation_request(specialty, _far_slot())
    terminated = intake_pb2.ProjectTerminated(
        project_id=request.project_id,
        bid_section_code=terminated_section,
        occurred_at=to_timestamp(datetime.now(UTC)),
        reason=intake_pb2.TERMINATION_REASON_FAILED_TENDER,
    )
    await rig.scheduler.apply_project_event(enveloped(terminated))
    rig.published.sent.clear()
    await rig.apply(event_codec.evaluation_requested(request, datetime.now(UTC)))
    state = await rig.state(request.evaluation_id)
    assert state.status == "failed" and state.failure is not None
    assert state.failure["constraint"] == "TRADE_ENDED", state.failure
    assert "流标" in state.failure["detail"]
    assert state.allocations == [] and state.members == []
    [failed] = rig.published.of(request.evaluation_id, remote_eval_pb2.SchedulingFailed)
    assert failed.failed_constraint == remote_eval_pb2.SCHEDULING_CONSTRAINT_TRADE_ENDED
    assert not rig.published.of(request.evaluation_id, remote_eval_pb2.ExpertDrawn)

    awarded = evaluation_request(specialty, _far_slot())
    award = intake_pb2.ContractAwarded(project_id=awarded.project_id, bid_section_code="001")
    await rig.scheduler.apply_project_event(enveloped(award))
    await rig.apply(event_codec.evaluation_requested(awarded, datetime.now(UTC)))
    assert (await rig.state(awarded.evaluation_id)).failure["constraint"] == "TRADE_ENDED"  # type: ignore[index]


async def test_history_of_a_sitting_held_before_the_trade_ended_is_scheduled(rig: Rig) -> None:
    """An evaluation entered after the award, for a sitting on or before its day (history
    being entered), was held: it is scheduled, as the award's handling takes a sitting before
    it — only a sitting after the end is refused (diff review: it was refused whatever its day)."""
    specialty = await rig.fresh_pools({HOST: 4, PARTNER: 8})
    request = evaluation_request(specialty, _far_slot())
    award = intake_pb2.ContractAwarded(
        project_id=request.project_id,
        bid_section_code="001",
        occurred_at=to_timestamp(
            datetime.combine(request.slot.day, datetime.min.time(), SHANGHAI) + timedelta(hours=18)
        ),
    )
    await rig.scheduler.apply_project_event(enveloped(award))
    await rig.apply(event_codec.evaluation_requested(request, datetime.now(UTC)))
    assert (await rig.state(request.evaluation_id)).status == "scheduled"
