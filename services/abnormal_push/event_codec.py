"""Protobuf events to abnormal push's domain objects and back. Protobuf stops here."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from prt.v1 import abnormal_push_pb2 as pb
from prt.v1 import common_pb2, intake_pb2, remote_eval_pb2

from services.abnormal_push.domain.detection.intake_facts import (
    AnnouncementSeen,
    BidSeen,
    BreachSeen,
    CandidatesSeen,
    EvaluationSeen,
    IntakeFact,
    ObligationDeclared,
    OpeningSeen,
    ProjectSeen,
    TenderFailedSeen,
)
from services.abnormal_push.domain.detection.model import (
    Bid,
    Disqualification,
    ExpertNoShow,
    Fingerprint,
    Organisation,
    ProjectFacts,
    RankedCandidate,
)
from services.abnormal_push.domain.detection.remote_eval_facts import (
    CommitteeUnsealedSeen,
    NoShowSeen,
    RemoteEvaluationFact,
    RemoteEvaluationSeen,
)
from services.abnormal_push.domain.pushes import (
    Deadline,
    HandlingResult,
    PushDeadlinesSet,
    PushEscalated,
    PushEvent,
    PushFeedbackGiven,
    PushOverdue,
    PushRouted,
    PushSignedFor,
    PushTransferred,
)
from services.abnormal_push.domain.reports import (
    AbnormalReport,
    BehaviourType,
    DetectionTrail,
    Evidence,
    ReportSource,
    Severity,
    Subject,
    SubjectKind,
)
from services.abnormal_push.domain.routing import PushRole, RoutingReason
from services.abnormal_push.domain.webhook_registrations import (
    WebhookEvent,
    WebhookRegistered,
    WebhookRemoved,
)
from services.platform_core.errors import EventDecodeError
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import (
    enum_member,
    enum_number,
    from_timestamp,
    to_timestamp,
)


def _member(enum: object, number: int) -> str:
    descriptor = enum.DESCRIPTOR  # type: ignore[attr-defined]
    return enum_member(descriptor, number) if number else ""


def _number(enum: object, member: str) -> str:
    """The protobuf value name (e.g. SEVERITY_HIGH) of a member named without the prefix."""
    descriptor = enum.DESCRIPTOR  # type: ignore[attr-defined]
    number = enum_number(descriptor, member) if member else 0
    name: str = descriptor.values_by_number[number].name
    return name


def _optional_time(stamp: Timestamp, present: bool) -> datetime | None:
    return from_timestamp(stamp) if present else None


# --- reports ------------------------------------------------------------------------------


def report_to_event(report: AbnormalReport) -> pb.AbnormalReportFiled:
    message = pb.AbnormalReportFiled(
        report_id=report.report_id,
        occurred_at=to_timestamp(report.filed_at),
        actor_department=report.reporting_department,
        source=_number(pb.ReportSource, report.source.value),
        subjects=[_subject_to_proto(s) for s in report.subjects],
        project_id=report.project_id,
        bid_section_code=report.bid_section_code,
        behaviour_type=_number(pb.BehaviourType, report.behaviour_type.value),
        severity=_number(pb.Severity, report.severity.value),
        description=report.description,
        evidence=[_evidence_to_proto(e) for e in report.evidence],
        act_at=to_timestamp(report.act_at),
        suspected_crime=report.suspected_crime,
        suspected_official_misconduct=report.suspected_official_misconduct,
        suspected_misuse_of_funds=report.suspected_misuse_of_funds,
        project_category=_number(common_pb2.ProjectCategory, report.project_category),
        region_code=report.region_code,
    )
    if report.detection is not None:
        trail = report.detection
        message.detection.CopyFrom(
            pb.Detection(
                rule_id=trail.rule_id,
                rule_version=trail.rule_version,
                legal_basis=trail.legal_basis,
                source_event_ids=list(trail.source_event_ids),
                rule_name=trail.rule_name,
                evidence_values=dict(trail.evidence_values),
            )
        )
    return message


def report_from_event(message: pb.AbnormalReportFiled) -> AbnormalReport:
    try:
        detection = None
        if message.HasField("detection"):
            d = message.detection
            detection = DetectionTrail(
                rule_id=d.rule_id,
                rule_version=d.rule_version,
                rule_name=d.rule_name,
                legal_basis=d.legal_basis,
                source_event_ids=tuple(d.source_event_ids),
                evidence_values=tuple(sorted(d.evidence_values.items())),
            )
        return AbnormalReport(
            report_id=message.report_id,
            filed_at=from_timestamp(message.occurred_at),
            reporting_department=message.actor_department,
            source=ReportSource(_member(pb.ReportSource, message.source) or "MANUAL"),
            subjects=tuple(_subject_from_proto(s) for s in message.subjects),
            project_id=message.project_id,
            bid_section_code=message.bid_section_code,
            project_category=_member(common_pb2.ProjectCategory, message.project_category),
            behaviour_type=BehaviourType(
                _member(pb.BehaviourType, message.behaviour_type) or "OTHER"
            ),
            severity=Severity(_member(pb.Severity, message.severity) or "MEDIUM"),
            description=message.description,
            evidence=tuple(_evidence_from_proto(e) for e in message.evidence),
            act_at=from_timestamp(message.act_at),
            detection=detection,
            suspected_crime=message.suspected_crime,
            suspected_official_misconduct=message.suspected_official_misconduct,
            suspected_misuse_of_funds=message.suspected_misuse_of_funds,
            region_code=message.region_code,
        )
    except ValueError as exc:
        raise EventDecodeError(f"AbnormalReportFiled {message.report_id}: {exc}") from exc


def _subject_to_proto(subject: Subject) -> pb.Subject:
    kind = _number(pb.SubjectKind, subject.kind.value)
    if subject.kind is SubjectKind.EXPERT:
        return pb.Subject(kind=kind, expert_pseudonym=subject.expert_pseudonym)
    return pb.Subject(
        kind=kind,
        organisation=common_pb2.OrganisationRef(
            name=subject.name, unified_social_credit_code=subject.credit_code
        ),
    )


def _subject_from_proto(subject: pb.Subject) -> Subject:
    kind = SubjectKind(_member(pb.SubjectKind, subject.kind) or "BIDDER")
    if subject.WhichOneof("identity") == "expert_pseudonym":
        return Subject(kind, expert_pseudonym=subject.expert_pseudonym)
    return Subject(
        kind,
        credit_code=subject.organisation.unified_social_credit_code,
        name=subject.organisation.name,
    )


def _evidence_to_proto(evidence: Evidence) -> common_pb2.EvidenceRef:
    return common_pb2.EvidenceRef(
        sha256=evidence.sha256, location=evidence.location, media_type=evidence.media_type
    )


def _evidence_from_proto(evidence: common_pb2.EvidenceRef) -> Evidence:
    return Evidence(evidence.sha256, evidence.location, evidence.media_type)


# --- pushes -------------------------------------------------------------------------------


def push_event_to_message(event: PushEvent) -> Message:  # noqa: PLR0911 - one per event
    match event:
        case PushRouted():
            routed = pb.PushRouted(
                push_id=event.push_id,
                occurred_at=to_timestamp(event.at),
                report_id=event.report_id,
                department=event.department,
                reason=_number(pb.RoutingReason, event.reason.value),
                role=_number(pb.PushRole, event.role.value),
                transferred_from_push_id=event.transferred_from_push_id,
                severity=_number(pb.Severity, event.severity.value),
                deadlines_estimated=event.deadlines_estimated,
                estimated_deadlines=[
                    _number(pb.PushDeadline, deadline.value)
                    for deadline in event.estimated_deadlines
                ],
            )
            if event.sign_for_due is not None:
                routed.sign_for_due.CopyFrom(to_timestamp(event.sign_for_due))
            if event.feedback_due is not None:
                routed.feedback_due.CopyFrom(to_timestamp(event.feedback_due))
            return routed
        case PushSignedFor():
            return pb.PushSignedFor(
                push_id=event.push_id,
                occurred_at=to_timestamp(event.at),
                actor_department=event.actor_department,
            )
        case PushFeedbackGiven():
            return pb.PushFeedbackGiven(
                push_id=event.push_id,
                occurred_at=to_timestamp(event.at),
                actor_department=event.actor_department,
                result=_number(pb.HandlingResult, event.result.value),
                result_text=event.result_text,
                evidence=[_evidence_to_proto(e) for e in event.evidence],
            )
        case PushTransferred():
            return pb.PushTransferred(
                push_id=event.push_id,
                occurred_at=to_timestamp(event.at),
                actor_department=event.actor_department,
                to_department=event.to_department,
                reason=event.reason,
            )
        case PushDeadlinesSet():
            return pb.PushDeadlinesSet(
                push_id=event.push_id,
                occurred_at=to_timestamp(event.at),
                sign_for_due=to_timestamp(event.sign_for_due),
                feedback_due=to_timestamp(event.feedback_due),
            )
        case PushOverdue():
            return pb.PushOverdue(
                push_id=event.push_id,
                occurred_at=to_timestamp(event.at),
                deadline=_number(pb.PushDeadline, event.deadline.value),
                due_at=to_timestamp(event.due_at),
                department=event.department,
            )
        case _:
            return pb.PushEscalated(
                push_id=event.push_id,
                occurred_at=to_timestamp(event.at),
                deadline=_number(pb.PushDeadline, event.deadline.value),
                to_department=event.to_department,
                level=event.level,
            )


def push_event_from_envelope(envelope: Envelope[Message]) -> PushEvent:
    """The domain event of a record on abnormal.pushes.v1; EventDecodeError when unusable."""
    message = envelope.message
    try:
        return _push_event(envelope.id, message)
    except ValueError as exc:
        raise EventDecodeError(f"{envelope.type} {envelope.subject}: {exc}") from exc


def _push_event(event_id: str, message: Message) -> PushEvent:  # noqa: PLR0911 - one per event
    at = from_timestamp(message.occurred_at)  # type: ignore[attr-defined]
    if isinstance(message, pb.PushRouted):
        return PushRouted(
            event_id=event_id,
            push_id=message.push_id,
            at=at,
            report_id=message.report_id,
            department=message.department,
            reason=RoutingReason(_member(pb.RoutingReason, message.reason)),
            role=PushRole(_member(pb.PushRole, message.role)),
            severity=Severity(_member(pb.Severity, message.severity) or "MEDIUM"),
            sign_for_due=_optional_time(message.sign_for_due, message.HasField("sign_for_due")),
            feedback_due=_optional_time(message.feedback_due, message.HasField("feedback_due")),
            transferred_from_push_id=message.transferred_from_push_id,
            deadlines_estimated=message.deadlines_estimated,
            estimated_deadlines=tuple(
                Deadline(_member(pb.PushDeadline, number)) for number in message.estimated_deadlines
            ),
        )
    if isinstance(message, pb.PushDeadlinesSet):
        if not (message.HasField("sign_for_due") and message.HasField("feedback_due")):
            raise ValueError("PushDeadlinesSet states both deadlines")
        return PushDeadlinesSet(
            event_id,
            message.push_id,
            at,
            from_timestamp(message.sign_for_due),
            from_timestamp(message.feedback_due),
        )
    if isinstance(message, pb.PushSignedFor):
        return PushSignedFor(event_id, message.push_id, at, message.actor_department)
    if isinstance(message, pb.PushFeedbackGiven):
        return PushFeedbackGiven(
            event_id,
            message.push_id,
            at,
            message.actor_department,
            HandlingResult(_member(pb.HandlingResult, message.result)),
            message.result_text,
            tuple(_evidence_from_proto(e) for e in message.evidence),
        )
    if isinstance(message, pb.PushTransferred):
        return PushTransferred(
            event_id,
            message.push_id,
            at,
            message.actor_department,
            message.to_department,
            message.reason,
        )
    if isinstance(message, pb.PushOverdue):
        return PushOverdue(
            event_id,
            message.push_id,
            at,
            Deadline(_member(pb.PushDeadline, message.deadline)),
            from_timestamp(message.due_at),
            message.department,
        )
    if isinstance(message, pb.PushEscalated):
        return PushEscalated(
            event_id,
            message.push_id,
            at,
            Deadline(_member(pb.PushDeadline, message.deadline)),
            message.to_department,
            message.level,
        )
    raise ValueError(f"{type(message).__name__} is not a push event")


# --- webhook registrations -------------------------------------------------------------


def webhook_event_to_message(event: WebhookEvent) -> Message:
    if isinstance(event, WebhookRegistered):
        return pb.WebhookRegistered(
            department=event.department,
            occurred_at=to_timestamp(event.at),
            webhook_id=event.webhook_id,
            url=event.url,
            secret_key_id=event.secret_key_id,
        )
    return pb.WebhookRemoved(
        department=event.department,
        occurred_at=to_timestamp(event.at),
        webhook_id=event.webhook_id,
    )


def webhook_event_from_envelope(envelope: Envelope[Message]) -> WebhookEvent:
    """The domain event of a record on abnormal.webhooks.v1; EventDecodeError when unusable."""
    message = envelope.message
    if isinstance(message, pb.WebhookRegistered):
        if not (message.department and message.webhook_id and message.url):
            raise EventDecodeError(f"WebhookRegistered {envelope.id} lacks department, id or url")
        return WebhookRegistered(
            envelope.id,
            message.department,
            from_timestamp(message.occurred_at),
            message.webhook_id,
            message.url,
            message.secret_key_id,
        )
    if isinstance(message, pb.WebhookRemoved):
        if not (message.department and message.webhook_id):
            raise EventDecodeError(f"WebhookRemoved {envelope.id} lacks department or id")
        return WebhookRemoved(
            envelope.id, message.department, from_timestamp(message.occurred_at), message.webhook_id
        )
    raise EventDecodeError(f"{envelope.type} does not belong on the webhooks topic")


# --- intake's events, for detection -------------------------------------------------------


def _organisation(ref: common_pb2.OrganisationRef) -> Organisation:
    return Organisation(ref.unified_social_credit_code, ref.name)


def intake_fact_from_envelope(envelope: Envelope[Message]) -> IntakeFact | None:  # noqa: PLR0911
    """What detection needs from an intake event, or None for events no rule looks at."""
    message = envelope.message
    if isinstance(message, intake_pb2.ProjectRegistered):
        return ProjectSeen(
            envelope.id,
            ProjectFacts(
                project_id=message.project_id,
                name=message.name,
                category=_member(common_pb2.ProjectCategory, message.category),
                trading_method=_member(intake_pb2.TradingMethod, message.trading_method),
                tenderer=_organisation(message.tenderer) if message.HasField("tenderer") else None,
                region_code=message.region_code,
                tender_required_by_law=(
                    message.tender_required_by_law
                    if message.HasField("tender_required_by_law")
                    else None
                ),
            ),
        )
    if isinstance(message, intake_pb2.BidSubmitted):
        fingerprint = message.fingerprint
        return BidSeen(
            message.project_id,
            Bid(
                event_id=envelope.id,
                bidder=_organisation(message.bidder),
                bid_section_code=message.bid_section_code,
                bid_price_fen=message.bid_price_fen,
                fingerprint=Fingerprint(
                    fingerprint.cpu_id,
                    fingerprint.disk_serial,
                    fingerprint.mac_address,
                    fingerprint.ip_address,
                    fingerprint.document_md5,
                ),
                deposit_account=message.deposit_account,
                submitted_at=from_timestamp(message.occurred_at),
                deposit_fen=message.deposit_fen,
                project_manager_certificate_no=message.project_manager_certificate_no,
                bidder_address=message.bidder_address,
                bidder_contact_phone=message.bidder_contact_phone,
            ),
        )
    if isinstance(message, intake_pb2.TenderObligationDeclared):
        return ObligationDeclared(envelope.id, message.project_id, message.tender_required_by_law)
    if isinstance(message, intake_pb2.AnnouncementPublished) and message.HasField(
        "submission_deadline"
    ):
        return AnnouncementSeen(
            envelope.id,
            from_timestamp(message.occurred_at),
            message.project_id,
            tuple(message.bid_section_codes),
            from_timestamp(message.submission_deadline),
        )
    if isinstance(message, intake_pb2.BidsOpened):
        return OpeningSeen(
            envelope.id,
            from_timestamp(message.occurred_at),
            message.project_id,
            message.bid_section_code,
            tuple(message.opened_bidder_codes),
        )
    if isinstance(message, intake_pb2.EvaluationCompleted):
        return EvaluationSeen(
            envelope.id,
            from_timestamp(message.occurred_at),
            message.project_id,
            message.bid_section_code,
            tuple(Disqualification(d.bidder_code, d.reason) for d in message.disqualifications),
        )
    if isinstance(message, intake_pb2.CandidatesPublicised):
        return CandidatesSeen(
            envelope.id,
            from_timestamp(message.occurred_at),
            message.project_id,
            message.bid_section_code,
            tuple(
                RankedCandidate(c.rank, _organisation(c.bidder), c.bid_price_fen)
                for c in message.candidates
            ),
        )
    if (
        isinstance(message, intake_pb2.ProjectTerminated)
        and message.reason == intake_pb2.TERMINATION_REASON_FAILED_TENDER
    ):
        return TenderFailedSeen(
            envelope.id,
            from_timestamp(message.occurred_at),
            message.project_id,
            message.bid_section_code,
        )
    if isinstance(message, intake_pb2.DeficiencyDeadlineBreached):
        deadline = message.supplement_deadline
        return BreachSeen(
            envelope.id,
            from_timestamp(message.occurred_at),
            message.project_id,
            _organisation(message.tenderer) if message.HasField("tenderer") else None,
            f"{deadline.year:04d}-{deadline.month:02d}-{deadline.day:02d}",
            tuple(message.outstanding_documents),
        )
    # Every other intake event: no rule looks at it. Among them DeficiencyDeadlineSet (a
    # pending 容缺 deadline set once the working-day calendar covers it): nothing to detect
    # until the deadline is breached, and the breach above carries the deadline it broke.
    return None


def evaluation_fact_from_envelope(
    envelope: Envelope[Message],
) -> RemoteEvaluationFact | None:
    """What detection needs from a remote evaluation event: which project an evaluation is for,
    its experts' no-shows, and when its committee was unsealed; None for the rest."""
    message = envelope.message
    if isinstance(message, remote_eval_pb2.EvaluationRequested):
        return RemoteEvaluationSeen(message.evaluation_id, message.project_id)
    # Not ExpertNoShow, the venue owner's claim: remote_eval checks it against the committee
    # and then records the absence under the expert's supervision pseudonym, the same in every
    # evaluation (the per-evaluation pseudonym could never match a second no-show; it is kept as
    # evidence, for the unsealed committee list).
    if isinstance(message, remote_eval_pb2.ExpertAbsenceRecorded):
        if not message.supervision_pseudonym:
            raise EventDecodeError(f"ExpertAbsenceRecorded {envelope.id} names no expert")
        if not message.HasField("occurred_at"):
            # A no-show is judged by when it happened: without a time it has no window.
            raise EventDecodeError(f"ExpertAbsenceRecorded {envelope.id} has no occurred_at")
        return NoShowSeen(
            ExpertNoShow(
                event_id=envelope.id,
                at=from_timestamp(message.occurred_at),
                expert_pseudonym=message.supervision_pseudonym,
                evaluation_id=message.evaluation_id,
                project_id="",
                venue_id=message.venue_id,
                evaluation_pseudonym=message.expert_pseudonym,
            )
        )
    if isinstance(message, remote_eval_pb2.CommitteeUnsealed):
        if not message.evaluation_id:
            raise EventDecodeError(f"CommitteeUnsealed {envelope.id} names no evaluation")
        at = from_timestamp(message.occurred_at) if message.HasField("occurred_at") else None
        return CommitteeUnsealedSeen(message.evaluation_id, at or envelope.time)
    return None
