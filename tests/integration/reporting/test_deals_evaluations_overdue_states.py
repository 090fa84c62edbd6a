"""The states the fixed figures need, through the read model on a real Redis, one event at a time
(each event reads the state the one before stored there as JSON): the sections a whole-project
completion concludes, an evaluation counted once scheduled and taken back when cancelled, a push
overdue counted once however many of its deadlines it missed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.message import Message
from prt.v1 import abnormal_push_pb2, common_pb2, intake_pb2, remote_eval_pb2

from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope
from services.platform_core.events.proto_values import to_timestamp
from services.reporting.domain.metrics import CounterKey
from services.reporting.event_codec import fact_from_envelope
from services.reporting.read_model import MetricsReadModel

pytestmark = pytest.mark.integration

START = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


async def _apply_one_by_one(model: MetricsReadModel, *messages: Message) -> None:
    for n, message in enumerate(messages):
        envelope: Envelope[Message] = Envelope(message=message, source="/tests", subject="x")
        value, headers = encode_envelope(envelope)
        fact = fact_from_envelope(decode_record(value, headers))
        assert fact is not None, f"event {n} counts nothing"
        assert await model.apply_fact(fact)


async def _total(model: MetricsReadModel, metric: str, **dimensions: str) -> int:
    counters = await model.counters(metric)
    return counters.get(CounterKey(metric, tuple(dimensions.items())), 0)


async def test_a_whole_project_completion_after_a_section_s_deal_counts_the_other(
    model: MetricsReadModel,
) -> None:
    project = f"P-{uuid.uuid4().hex[:8]}"
    buyer = common_pb2.OrganisationRef(
        name="买受人", unified_social_credit_code="91370100MA3C1XQ21U"
    )
    await _apply_one_by_one(
        model,
        intake_pb2.ProjectRegistered(
            project_id=project,
            occurred_at=to_timestamp(START),
            actor_department="GZW",
            category=common_pb2.PROJECT_CATEGORY_ASSET_DISPOSAL,
            region_code="370102",
            budget_fen=300_000_000,
            trading_method=intake_pb2.TRADING_METHOD_AUCTION,
            bid_sections=[
                intake_pb2.BidSection(bid_section_code="001"),
                intake_pb2.BidSection(bid_section_code="002"),
            ],
        ),
        intake_pb2.AnnouncementPublished(project_id=project, occurred_at=to_timestamp(START)),
        intake_pb2.TransactionCompleted(
            project_id=project,
            occurred_at=to_timestamp(START + timedelta(days=20)),
            bid_section_code="001",
            counterparty=buyer,
            amount_fen=90_000_000,
            on_platform=True,
        ),
        intake_pb2.TransactionCompleted(
            project_id=project,
            occurred_at=to_timestamp(START + timedelta(days=21)),
            counterparty=buyer,
            amount_fen=180_000_000,
            on_platform=True,
        ),
    )
    assert await _total(model, "transactions_completed") == 2
    assert await _total(model, "transaction_amount_fen") == 270_000_000


async def test_an_evaluation_counts_once_scheduled_and_not_once_cancelled(
    model: MetricsReadModel,
) -> None:
    evaluation = f"EV-{uuid.uuid4().hex[:8]}"
    failed = f"EV-{uuid.uuid4().hex[:8]}"
    at = to_timestamp(START)
    allocations = [
        remote_eval_pb2.VenueAllocation(
            venue_id="JN-1", partner_code="370100", role=remote_eval_pb2.VENUE_ROLE_MAIN
        ),
        remote_eval_pb2.VenueAllocation(
            venue_id="ZB-1", partner_code="370300", role=remote_eval_pb2.VENUE_ROLE_SECONDARY
        ),
    ]
    await _apply_one_by_one(
        model,
        remote_eval_pb2.EvaluationRequested(
            evaluation_id=failed, occurred_at=at, host_centre_code="370100", main_venue_id="JN-1"
        ),
        remote_eval_pb2.EvaluationRequested(
            evaluation_id=evaluation,
            occurred_at=at,
            host_centre_code="370100",
            main_venue_id="JN-1",
        ),
        remote_eval_pb2.EvaluationScheduled(
            evaluation_id=evaluation, occurred_at=at, allocations=allocations
        ),
        remote_eval_pb2.PartnerVenueDecision(
            evaluation_id=evaluation,
            occurred_at=at,
            partner_code="370300",
            venue_id="ZB-1",
            decision=remote_eval_pb2.VENUE_DECISION_ACCEPTED,
        ),
        remote_eval_pb2.ExpertConfirmed(
            evaluation_id=evaluation, occurred_at=at, partner_code="370300", expert_pseudonym="X1"
        ),
        remote_eval_pb2.ExpertConfirmed(
            evaluation_id=evaluation, occurred_at=at, partner_code="370300", expert_pseudonym="X2"
        ),
        remote_eval_pb2.ExpertNoShow(
            evaluation_id=evaluation, occurred_at=at, partner_code="370300", expert_pseudonym="X2"
        ),
    )
    assert await _total(model, "remote_evaluations_hosted") == 1  # the failed one is not
    assert await _total(model, "remote_evaluations_by_venue") == 2
    assert await _total(model, "remote_evaluations_served") == 1
    assert await _total(model, "experts_shared") == 1  # X2 did not come
    await _apply_one_by_one(
        model, remote_eval_pb2.EvaluationCancelled(evaluation_id=evaluation, occurred_at=at)
    )
    for metric in (
        "remote_evaluations_hosted",
        "remote_evaluations_by_venue",
        "remote_evaluations_served",
        "experts_shared",
    ):
        assert await _total(model, metric) == 0, metric


async def test_a_push_overdue_on_both_deadlines_is_one_push_overdue(
    model: MetricsReadModel,
) -> None:
    push = f"U-{uuid.uuid4().hex[:8]}"
    routed_at = START
    await _apply_one_by_one(
        model,
        abnormal_push_pb2.PushRouted(
            push_id=push,
            report_id="R-1",
            department="JTJ",
            occurred_at=to_timestamp(routed_at),
            reason=abnormal_push_pb2.ROUTING_REASON_CATEGORY_SUPERVISOR,
            role=abnormal_push_pb2.PUSH_ROLE_HANDLER,
            sign_for_due=to_timestamp(routed_at + timedelta(days=2)),
            feedback_due=to_timestamp(routed_at + timedelta(days=9)),
        ),
        *(
            abnormal_push_pb2.PushOverdue(
                push_id=push,
                occurred_at=to_timestamp(routed_at + timedelta(days=days)),
                deadline=deadline,
                department="JTJ",
            )
            for days, deadline in (
                (3, abnormal_push_pb2.PUSH_DEADLINE_SIGN_FOR),
                (10, abnormal_push_pb2.PUSH_DEADLINE_FEEDBACK),
            )
        ),
    )
    assert await _total(model, "pushes_overdue") == 1
    assert await _total(model, "pushes_overdue", department="JTJ") == 1
    assert await _total(model, "push_deadlines_overdue") == 2
    assert await _total(model, "push_deadlines_overdue", deadline="FEEDBACK") == 1
