"""Protobuf events from other services to reporting's facts. Protobuf stops here."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from google.protobuf.descriptor import EnumDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from prt.v1 import abnormal_push_pb2, common_pb2, intake_pb2, remote_eval_pb2

from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import enum_member, from_timestamp
from services.platform_core.kafka.faust_worker import EventRejected
from services.platform_core.money import MAX_AMOUNT_FEN
from services.reporting.domain import facts
from services.reporting.domain.facts import Fact

_CATEGORY = common_pb2.ProjectCategory.DESCRIPTOR
_VENUE_ROLE = remote_eval_pb2.VenueRole.DESCRIPTOR


def _trading_method(number: int) -> str:
    """TradingMethod's value without its prefix ('' unspecified, or a number this contract
    lacks): only whether it is a tender matters to reporting, so an unknown one is not refused."""
    name = _enum_member(intake_pb2.TradingMethod.DESCRIPTOR, number)
    return "" if name is None or name == "UNSPECIFIED" else name


def _enum(descriptor: EnumDescriptor, number: int) -> str:
    name = _enum_member(descriptor, number)
    if name is None:  # an open proto3 enum may carry a number our contract lacks
        raise EventRejected(f"{number} is not a value of {descriptor.full_name}")
    return name


@lru_cache(maxsize=4096)
def _enum_member(descriptor: EnumDescriptor, number: int) -> str | None:
    try:
        return enum_member(descriptor, number)
    except ValueError:
        return None


def _estimated_deadlines(routed: abnormal_push_pb2.PushRouted) -> frozenset[str]:
    """The deadlines a push was routed with as estimates, as the event names them. A deadline
    this contract does not know (abnormal push's, newer) is not a reason to refuse the push:
    an empty set then reads as "all its deadlines are estimates" (PushRoutedFact.estimates)."""
    named = [
        _enum_member(abnormal_push_pb2.PushDeadline.DESCRIPTOR, number)
        for number in routed.estimated_deadlines
    ]
    if any(name is None for name in named):
        return frozenset()
    return frozenset(name for name in named if name is not None)


def _time(stamp: Timestamp, what: str) -> datetime:
    if stamp.seconds == 0 and stamp.nanos == 0:
        raise EventRejected(f"{what} has no occurred_at")
    return from_timestamp(stamp)


def _amount(fen: int, field: str, what: str) -> int:
    """A money amount within the platform's ceiling (either side of zero): one past it is a
    mistake upstream, and near int64's limit it would overflow the read model's counters."""
    if not -MAX_AMOUNT_FEN <= fen <= MAX_AMOUNT_FEN:
        raise EventRejected(f"{what} {field} {fen} is beyond the ceiling of {MAX_AMOUNT_FEN} fen")
    return fen


def _optional_time(message: Message, field: str) -> datetime | None:
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    return from_timestamp(stamp)


def fact_from_envelope(envelope: Envelope[Message]) -> Fact | None:  # noqa: PLR0911, PLR0912
    """The fact an event states, or None for events reporting does not count.

    Raises EventRejected for an event that cannot be counted (no time, unknown enum value, a
    money amount beyond MAX_AMOUNT_FEN).
    """
    m = envelope.message
    eid = envelope.id
    what = envelope.type
    match m:
        case intake_pb2.ProjectRegistered():
            return facts.ProjectRegisteredFact(
                event_id=eid,
                project_id=m.project_id,
                region_code=m.region_code,
                category=_enum(_CATEGORY, m.category),
                budget_fen=_amount(m.budget_fen, "budget_fen", what),
                registering_department=m.actor_department,
                registered_at=_time(m.occurred_at, what),
                key_project=m.key_project,
                green_channel=m.green_channel,
                deficiency_accepted=m.HasField("deficiency_acceptance"),
                commitment_pledged=m.commitment_pledged,
                bid_sections=tuple(section.bid_section_code for section in m.bid_sections),
                trading_method=_trading_method(m.trading_method),
            )
        case intake_pb2.TenderDocumentPrePublished():
            return facts.TenderDocumentPrePublishedFact(
                eid, m.project_id, m.actor_department, _time(m.occurred_at, what)
            )
        case intake_pb2.AnnouncementPublished():
            return facts.AnnouncementPublishedFact(
                eid,
                m.project_id,
                m.actor_department,
                _time(m.occurred_at, what),
                tuple(m.bid_section_codes),
            )
        case intake_pb2.ProjectTerminated():
            return facts.ProjectTerminatedFact(
                eid,
                m.project_id,
                m.actor_department,
                _time(m.occurred_at, what),
                m.bid_section_code,
            )
        case intake_pb2.ContractAwarded():
            return facts.ContractAwardedFact(
                eid,
                m.project_id,
                m.actor_department,
                _time(m.occurred_at, what),
                m.bid_section_code,
                _amount(m.amount_fen, "amount_fen", what),
            )
        case intake_pb2.TransactionCompleted():
            return facts.TransactionCompletedFact(
                eid,
                m.project_id,
                m.actor_department,
                _time(m.occurred_at, what),
                _amount(m.amount_fen, "amount_fen", what),
                m.on_platform,
                m.bid_section_code,
            )
        case intake_pb2.DepositWaived():
            return facts.DepositWaivedFact(
                eid,
                m.project_id,
                m.actor_department,
                _time(m.occurred_at, what),
                _enum(intake_pb2.DepositReliefKind.DESCRIPTOR, m.kind),
                _amount(m.amount_saved_fen, "amount_saved_fen", what),
            )
        case intake_pb2.HistoricalDepositRefunded():
            return facts.HistoricalDepositRefundedFact(
                eid,
                m.project_id,
                m.actor_department,
                _time(m.occurred_at, what),
                _amount(m.amount_fen, "amount_fen", what),
            )
        case intake_pb2.DeficiencyDeadlineSet():
            # A pending 容缺 deadline set late: no figure counts it (容缺 registrations count
            # at ProjectRegistered, breaches at DeficiencyDeadlineBreached).
            return None
        case intake_pb2.DeficiencyDeadlineBreached():
            return facts.DeficiencyDeadlineBreachedFact(
                eid, m.project_id, _time(m.occurred_at, what)
            )
        case intake_pb2.LargeAmountRecordImported():
            return facts.LargeAmountRecordImportedFact(
                eid,
                m.unified_deal_code,
                m.actor_department,
                _time(m.occurred_at, what),
                _enum(intake_pb2.SourceLevel.DESCRIPTOR, m.source_level),
                m.region_code,
                _enum(_CATEGORY, m.category),
                _amount(m.amount_fen, "amount_fen", what),
            )
        case abnormal_push_pb2.AbnormalReportFiled():
            return facts.AbnormalReportFiledFact(
                eid,
                m.report_id,
                m.actor_department,
                _time(m.occurred_at, what),
                _enum(abnormal_push_pb2.ReportSource.DESCRIPTOR, m.source),
                _enum(abnormal_push_pb2.BehaviourType.DESCRIPTOR, m.behaviour_type),
                rule_id=m.detection.rule_id,
                rule_name=m.detection.rule_name,
            )
        case abnormal_push_pb2.PushRouted():
            return facts.PushRoutedFact(
                eid,
                m.push_id,
                m.report_id,
                m.department,
                _time(m.occurred_at, what),
                _enum(abnormal_push_pb2.RoutingReason.DESCRIPTOR, m.reason),
                _enum(abnormal_push_pb2.PushRole.DESCRIPTOR, m.role),
                _optional_time(m, "sign_for_due"),
                _optional_time(m, "feedback_due"),
                deadlines_estimated=m.deadlines_estimated,
                estimated_deadlines=_estimated_deadlines(m),
            )
        case abnormal_push_pb2.PushDeadlinesSet():
            return facts.PushDeadlinesSetFact(
                eid,
                m.push_id,
                _time(m.occurred_at, what),
                _optional_time(m, "sign_for_due"),
                _optional_time(m, "feedback_due"),
            )
        case abnormal_push_pb2.PushSignedFor():
            return facts.PushSignedForFact(eid, m.push_id, _time(m.occurred_at, what))
        case abnormal_push_pb2.PushFeedbackGiven():
            return facts.PushFeedbackGivenFact(
                eid,
                m.push_id,
                _time(m.occurred_at, what),
                _enum(abnormal_push_pb2.HandlingResult.DESCRIPTOR, m.result),
            )
        case abnormal_push_pb2.PushTransferred():
            return facts.PushTransferredFact(
                eid, m.push_id, _time(m.occurred_at, what), m.actor_department, m.to_department
            )
        case abnormal_push_pb2.PushOverdue():
            return facts.PushOverdueFact(
                eid,
                m.push_id,
                _time(m.occurred_at, what),
                _enum(abnormal_push_pb2.PushDeadline.DESCRIPTOR, m.deadline),
                m.department,
            )
        case abnormal_push_pb2.PushEscalated():
            return facts.PushEscalatedFact(
                eid,
                m.push_id,
                _time(m.occurred_at, what),
                _enum(abnormal_push_pb2.PushDeadline.DESCRIPTOR, m.deadline),
                m.to_department,
                m.level,
            )
        case remote_eval_pb2.VenueCapacityPublished():
            return facts.VenueCapacityPublishedFact(
                eid,
                m.venue_id,
                _time(m.occurred_at, what),
                m.partner_code,
                m.venue_name,
                m.region_code,
            )
        case remote_eval_pb2.EvaluationRequested():
            return facts.EvaluationRequestedFact(
                eid,
                m.evaluation_id,
                _time(m.occurred_at, what),
                m.host_centre_code,
                m.main_venue_id,
            )
        case remote_eval_pb2.PartnerVenueDecision():
            return facts.PartnerVenueDecisionFact(
                eid,
                m.evaluation_id,
                _time(m.occurred_at, what),
                m.partner_code,
                m.venue_id,
                m.decision == remote_eval_pb2.VENUE_DECISION_ACCEPTED,
            )
        case remote_eval_pb2.EvaluationScheduled():
            return facts.EvaluationScheduledFact(
                eid,
                m.evaluation_id,
                _time(m.occurred_at, what),
                tuple(
                    (a.venue_id, a.partner_code, _enum(_VENUE_ROLE, a.role)) for a in m.allocations
                ),
            )
        case remote_eval_pb2.EvaluationCancelled():
            return facts.EvaluationCancelledFact(eid, m.evaluation_id, _time(m.occurred_at, what))
        case remote_eval_pb2.ExpertConfirmed():
            return facts.ExpertConfirmedFact(
                eid, m.evaluation_id, _time(m.occurred_at, what), m.partner_code, m.expert_pseudonym
            )
        case remote_eval_pb2.ExpertNoShow() | remote_eval_pb2.ExpertDeclined():
            return facts.ExpertLeftFact(
                eid, m.evaluation_id, _time(m.occurred_at, what), m.expert_pseudonym
            )
        case remote_eval_pb2.VenueSeatsWithdrawn():
            # The venue took back the seats it had offered (its capacity cut below bookings):
            # a secondary venue is then as if it had declined (a re-plan that moves the seats
            # follows as a new EvaluationScheduled); the host's main venue cannot move, so the
            # evaluation will not sit — it counts nothing, as if cancelled.
            if _enum(_VENUE_ROLE, m.role) == "MAIN":
                return facts.EvaluationCancelledFact(
                    eid, m.evaluation_id, _time(m.occurred_at, what)
                )
            return facts.PartnerVenueDecisionFact(
                eid, m.evaluation_id, _time(m.occurred_at, what), m.partner_code, m.venue_id, False
            )
        case remote_eval_pb2.SubstituteDrawn():
            return facts.ExpertLeftFact(
                eid, m.evaluation_id, _time(m.occurred_at, what), m.replaced_expert_pseudonym
            )
        # SchedulingFailed counts nothing: hosting and venue use are counted when an evaluation
        # is scheduled, so a request that never was is not counted, and a failure after the
        # schedule (a re-plan or substitute draw that found nobody) leaves the evaluation
        # scheduled in remote_eval, at the venues of its latest EvaluationScheduled.
    return None
