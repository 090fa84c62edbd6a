"""Intake's domain objects and API bodies to protobuf events, and events back to facts.

Protobuf stops here: the rest of intake sees dataclasses (domain) or pydantic bodies (HTTP).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from prt.v1 import common_pb2, intake_pb2

from services.intake.domain.catalogue import Category
from services.intake.domain.large_amount import SOURCE_NAMES, LargeAmountRecord, SourceLevel
from services.intake.domain.lifecycle import Deal, LifecycleFact, ProjectView, SectionView, Step
from services.intake.domain.registration import Organisation, ProjectRegistration, TradingMethod
from services.intake.http_api import schemas
from services.platform_core.errors import ImpossibleEventValue
from services.platform_core.events.envelope import Envelope
from services.platform_core.events.proto_values import enum_member, from_timestamp, to_timestamp

STEP_BY_TYPE: dict[type[Message], Step] = {
    intake_pb2.ProjectRegistered: Step.REGISTER,
    intake_pb2.TenderObligationDeclared: Step.DECLARE_TENDER_OBLIGATION,
    intake_pb2.TenderDocumentPrePublished: Step.PRE_PUBLISH,
    intake_pb2.AnnouncementPublished: Step.ANNOUNCE,
    intake_pb2.BidSubmitted: Step.SUBMIT_BID,
    intake_pb2.BidsOpened: Step.OPEN_BIDS,
    intake_pb2.EvaluationCompleted: Step.COMPLETE_EVALUATION,
    intake_pb2.CandidatesPublicised: Step.PUBLICISE_CANDIDATES,
    intake_pb2.ContractAwarded: Step.AWARD,
    intake_pb2.TransactionCompleted: Step.COMPLETE_TRANSACTION,
    intake_pb2.DepositWaived: Step.RELIEVE_DEPOSIT,
    intake_pb2.HistoricalDepositRefunded: Step.REFUND_HISTORICAL_DEPOSIT,
    intake_pb2.DocumentsSupplemented: Step.SUPPLEMENT_DOCUMENTS,
    intake_pb2.DeficiencyDeadlineSet: Step.SET_DEADLINE,
    intake_pb2.DeficiencyDeadlineBreached: Step.BREACH_DEADLINE,
    intake_pb2.ProjectTerminated: Step.TERMINATE,
}


def _org(organisation: Organisation | schemas.PartyIn) -> common_pb2.OrganisationRef:
    if isinstance(organisation, Organisation):
        return common_pb2.OrganisationRef(
            name=organisation.name, unified_social_credit_code=organisation.credit_code
        )
    return common_pb2.OrganisationRef(
        name=organisation.name, unified_social_credit_code=organisation.credit_code
    )


def _local_date(day: date) -> common_pb2.LocalDate:
    return common_pb2.LocalDate(year=day.year, month=day.month, day=day.day)


def _date(local: common_pb2.LocalDate) -> date:
    try:
        return date(local.year, local.month, local.day)
    except ValueError as exc:
        raise ImpossibleEventValue(
            f"{local.year:04d}-{local.month:02d}-{local.day:02d} is not a date"
        ) from exc


def _evidence(evidence: schemas.EvidenceIn) -> common_pb2.EvidenceRef:
    return common_pb2.EvidenceRef(
        sha256=evidence.sha256, location=evidence.location, media_type=evidence.media_type
    )


def registration_to_event(registration: ProjectRegistration) -> intake_pb2.ProjectRegistered:
    event = intake_pb2.ProjectRegistered(
        project_id=registration.project_id,
        occurred_at=to_timestamp(registration.registered_at),
        actor_department=registration.registering_department,
        tender_project_code=registration.tender_project_code,
        unified_deal_code=registration.unified_deal_code,
        name=registration.name,
        category=f"PROJECT_CATEGORY_{registration.category.value}",
        region_code=registration.region_code,
        tenderer=_org(registration.tenderer),
        supervise_dept_code=registration.supervise_dept_code,
        budget_fen=registration.budget_fen,
        trading_method=f"TRADING_METHOD_{registration.trading_method.value}",
        bid_sections=[
            intake_pb2.BidSection(
                bid_section_code=section.code,
                name=section.name,
                budget_fen=section.budget_fen,
                contract_type=f"CONTRACT_TYPE_{section.contract_type.value}"
                if section.contract_type
                else "CONTRACT_TYPE_UNSPECIFIED",
            )
            for section in registration.bid_sections
        ],
        key_project=registration.key_project,
        green_channel=registration.green_channel,
        commitment_pledged=registration.commitment_pledged,
    )
    if (obligation := registration.tender_obligation) is not None:
        event.tender_required_by_law = obligation.required
        event.tender_obligation_derived = obligation.derived
    if registration.agency is not None:
        event.agency.CopyFrom(_org(registration.agency))
    if (deficiency := registration.deficiency) is not None:
        acceptance = event.deficiency_acceptance
        acceptance.missing_documents.extend(deficiency.missing_documents)
        acceptance.supplement_working_days = deficiency.supplement_working_days
        if deficiency.supplement_deadline is not None:  # None: pending
            acceptance.supplement_deadline.CopyFrom(_local_date(deficiency.supplement_deadline))
    return event


def view_from_registered(message: intake_pb2.ProjectRegistered) -> ProjectView:
    registered_at = from_timestamp(message.occurred_at)
    deficiency = (
        message.deficiency_acceptance if message.HasField("deficiency_acceptance") else None
    )
    # Pending: no deadline, and working days to count it in once the calendar covers it. No
    # deadline and no working days is no date at all (rejected by _date: 0000-00-00).
    pending = (
        deficiency is not None
        and not deficiency.HasField("supplement_deadline")
        and deficiency.supplement_working_days > 0
    )
    return ProjectView(
        project_id=message.project_id,
        unified_deal_code=message.unified_deal_code,
        name=message.name,
        category=enum_member(common_pb2.ProjectCategory.DESCRIPTOR, message.category),
        region_code=message.region_code,
        registering_department=message.actor_department,
        supervise_dept_code=message.supervise_dept_code,
        tenderer_name=message.tenderer.name,
        tenderer_credit_code=message.tenderer.unified_social_credit_code,
        budget_fen=message.budget_fen,
        key_project=message.key_project,
        green_channel=message.green_channel,
        commitment_pledged=message.commitment_pledged,
        registered_at=registered_at,
        outstanding_documents=tuple(deficiency.missing_documents) if deficiency else (),
        supplement_deadline=(
            _date(deficiency.supplement_deadline) if deficiency and not pending else None
        ),
        updated_at=registered_at,
        supplement_working_days=(deficiency.supplement_working_days or None)
        if deficiency
        else None,
        supplement_deadline_pending=pending,
        sections=tuple(
            SectionView(section.bid_section_code, budget_fen=section.budget_fen)
            for section in message.bid_sections
        ),
        trading_method=_trading_method(message.trading_method),
        tender_required_by_law=(
            message.tender_required_by_law if message.HasField("tender_required_by_law") else None
        ),
        tender_obligation_derived=message.tender_obligation_derived,
    )


def _trading_method(number: int) -> str:
    """TradingMethod's value for the enum number; '' when the event names none (or one this
    code does not know yet): the rules that depend on the method then do not apply."""
    value = intake_pb2.TradingMethod.DESCRIPTOR.values_by_number.get(number)
    name = value.name.removeprefix("TRADING_METHOD_") if value is not None else ""
    return name if name in TradingMethod.__members__ else ""


def _sections_named(message: Message) -> tuple[str, ...]:
    """The bid sections an event names: a list (empty: all), one code ('' : all), or none (a
    project step)."""
    if isinstance(
        message, intake_pb2.TenderDocumentPrePublished | intake_pb2.AnnouncementPublished
    ):
        return tuple(message.bid_section_codes)
    code: str = getattr(message, "bid_section_code", "")
    return (code,) if code else ()


def _parties_named(message: Message) -> tuple[str, ...]:
    """The credit codes of the parties a step names (trading_rules checks them)."""
    match message:
        case intake_pb2.BidSubmitted():
            return (message.bidder.unified_social_credit_code,)
        case intake_pb2.BidsOpened():
            return tuple(message.opened_bidder_codes)
        case intake_pb2.EvaluationCompleted():
            return tuple(ruled_out.bidder_code for ruled_out in message.disqualifications)
        case intake_pb2.CandidatesPublicised():
            ranked = sorted(message.candidates, key=lambda candidate: candidate.rank)
            return tuple(candidate.bidder.unified_social_credit_code for candidate in ranked)
        case intake_pb2.ContractAwarded():
            return (message.winner.unified_social_credit_code,)
    return ()


def _deal(message: Message, occurred_at: datetime) -> Deal | None:
    """The deal an award (its winner) or a completed trade (its counterparty) tells."""
    match message:
        case intake_pb2.ContractAwarded():
            party = message.winner
        case intake_pb2.TransactionCompleted():
            party = message.counterparty
        case _:
            return None
    return Deal(party.unified_social_credit_code, party.name, message.amount_fen, occurred_at)


def _instant_field(message: Message, name: str) -> datetime | None:
    return from_timestamp(getattr(message, name)) if message.HasField(name) else None


def fact_from_envelope(envelope: Envelope[Message]) -> LifecycleFact | None:
    """The lifecycle fact of an event on intake.projects.v1 (None for registrations)."""
    message = envelope.message
    step = STEP_BY_TYPE.get(type(message))
    if step is None or step is Step.REGISTER:
        return None
    occurred_at = from_timestamp(message.occurred_at)  # type: ignore[attr-defined]
    supplemented: tuple[str, ...] = ()
    deadline: date | None = None
    if isinstance(message, intake_pb2.DocumentsSupplemented):
        supplemented = tuple(message.supplemented_documents)
    elif isinstance(message, intake_pb2.DeficiencyDeadlineSet):
        deadline = _date(message.supplement_deadline)
    return LifecycleFact(
        project_id=message.project_id,  # type: ignore[attr-defined]
        step=step,
        occurred_at=occurred_at,
        actor_department=getattr(message, "actor_department", ""),
        supplemented_documents=supplemented,
        supplement_deadline=deadline,
        bid_section_codes=_sections_named(message),
        submission_deadline=(
            _instant_field(message, "submission_deadline")
            if isinstance(message, intake_pb2.AnnouncementPublished)
            else None
        ),
        opening_at=(
            _instant_field(message, "opening_at")
            if isinstance(message, intake_pb2.AnnouncementPublished)
            else None
        ),
        party_codes=_parties_named(message),
        publicity_ends_at=(
            _instant_field(message, "publicity_ends_at")
            if isinstance(message, intake_pb2.CandidatesPublicised)
            else None
        ),
        tender_required_by_law=(
            message.tender_required_by_law
            if isinstance(message, intake_pb2.TenderObligationDeclared)
            else None
        ),
        evaluation_id=(
            message.evaluation_id if isinstance(message, intake_pb2.EvaluationCompleted) else ""
        ),
        deal=_deal(message, occurred_at),
        passed_over_reason=(
            _passed_over_reason(message.passed_over_reason)
            if isinstance(message, intake_pb2.ContractAwarded)
            else ""
        ),
        on_platform=(
            message.on_platform if isinstance(message, intake_pb2.TransactionCompleted) else True
        ),
        amount_saved_fen=(
            message.amount_saved_fen if isinstance(message, intake_pb2.DepositWaived) else None
        ),
        relieved_bidder=(
            message.bidder.unified_social_credit_code
            if isinstance(message, intake_pb2.DepositWaived) and message.HasField("bidder")
            else ""
        ),
    )


def _passed_over_reason(number: int) -> str:
    """PassedOverReason's value ('' for UNSPECIFIED, or a number this code does not know)."""
    value = intake_pb2.PassedOverReason.DESCRIPTOR.values_by_number.get(number)
    if value is None or number == 0:
        return ""
    return value.name.removeprefix("PASSED_OVER_REASON_")


def breach_event(view: ProjectView, occurred_at: datetime) -> intake_pb2.DeficiencyDeadlineBreached:
    assert view.supplement_deadline is not None
    return intake_pb2.DeficiencyDeadlineBreached(
        project_id=view.project_id,
        occurred_at=to_timestamp(occurred_at),
        supplement_deadline=_local_date(view.supplement_deadline),
        outstanding_documents=list(view.outstanding_documents),
        tenderer=common_pb2.OrganisationRef(
            name=view.tenderer_name, unified_social_credit_code=view.tenderer_credit_code
        ),
    )


def deadline_set_event(
    view: ProjectView, deadline: date, counted_from: date, occurred_at: datetime
) -> intake_pb2.DeficiencyDeadlineSet:
    assert view.supplement_working_days is not None
    return intake_pb2.DeficiencyDeadlineSet(
        project_id=view.project_id,
        occurred_at=to_timestamp(occurred_at),
        supplement_deadline=_local_date(deadline),
        supplement_working_days=view.supplement_working_days,
        counted_from=_local_date(counted_from),
    )


# Lifecycle events built from the API's bodies: (project id, acting department, time, body).


def pre_published(
    project_id: str, actor: str, at: datetime, body: schemas.PrePublicationCreate
) -> intake_pb2.TenderDocumentPrePublished:
    return intake_pb2.TenderDocumentPrePublished(
        project_id=project_id,
        occurred_at=to_timestamp(at),
        actor_department=actor,
        bid_section_codes=body.bid_section_codes,
        document=_evidence(body.document),
        comments_close_at=to_timestamp(body.comments_close_at),
    )


def announced(
    project_id: str, actor: str, at: datetime, body: schemas.AnnouncementCreate
) -> intake_pb2.AnnouncementPublished:
    return intake_pb2.AnnouncementPublished(
        project_id=project_id,
        occurred_at=to_timestamp(at),
        actor_department=actor,
        bid_section_codes=body.bid_section_codes,
        title=body.title,
        announcement=_evidence(body.announcement),
        submission_deadline=to_timestamp(body.submission_deadline),
        opening_at=to_timestamp(body.opening_at),
    )


def bid_submitted(
    project_id: str, actor: str, at: datetime, body: schemas.BidCreate
) -> intake_pb2.BidSubmitted:
    return intake_pb2.BidSubmitted(
        project_id=project_id,
        occurred_at=to_timestamp(at),
        actor_department=actor,
        bidder=_org(body.bidder),
        bid_section_code=body.bid_section_code,
        bid_price_fen=body.bid_price_fen,
        fingerprint=common_pb2.BidFileFingerprint(
            cpu_id=body.fingerprint.cpu_id,
            disk_serial=body.fingerprint.disk_serial,
            mac_address=body.fingerprint.mac_address,
            ip_address=body.fingerprint.ip_address,
            document_md5=body.fingerprint.document_md5,
        ),
        deposit_account=body.deposit_account or "",  # none: no deposit paid
        deposit_fen=body.deposit_fen,
        project_manager_certificate_no=body.project_manager_certificate_no,
        bidder_address=" ".join(body.bidder_address.split()),
        bidder_contact_phone=body.bidder_contact_phone or "",
    )


def bids_opened(
    project_id: str, actor: str, at: datetime, body: schemas.BidOpeningCreate
) -> intake_pb2.BidsOpened:
    return intake_pb2.BidsOpened(
        project_id=project_id,
        occurred_at=to_timestamp(at),
        actor_department=actor,
        bid_section_code=body.bid_section_code,
        opened_bidder_codes=body.opened_bidder_codes,
    )


def evaluation_completed(
    project_id: str, actor: str, at: datetime, body: schemas.EvaluationCreate
) -> intake_pb2.EvaluationCompleted:
    return intake_pb2.EvaluationCompleted(
        project_id=project_id,
        occurred_at=to_timestamp(at),
        actor_department=actor,
        bid_section_code=body.bid_section_code,
        evaluation_id=body.evaluation_id,
        disqualifications=[
            intake_pb2.Disqualification(bidder_code=d.bidder_code, reason=d.reason)
            for d in body.disqualifications
        ],
        report=_evidence(body.report),
    )


def candidates_publicised(
    project_id: str, actor: str, at: datetime, body: schemas.CandidatesCreate
) -> intake_pb2.CandidatesPublicised:
    return intake_pb2.CandidatesPublicised(
        project_id=project_id,
        occurred_at=to_timestamp(at),
        actor_department=actor,
        bid_section_code=body.bid_section_code,
        candidates=[
            intake_pb2.Candidate(rank=c.rank, bidder=_org(c.bidder), bid_price_fen=c.bid_price_fen)
            for c in body.candidates
        ],
        publicity_ends_at=to_timestamp(body.publicity_ends_at),
    )


def contract_awarded(
    project_id: str, actor: str, at: datetime, body: schemas.AwardCreate
) -> intake_pb2.ContractAwarded:
    return intake_pb2.ContractAwarded(
        project_id=project_id,
        occurred_at=to_timestamp(at),
        actor_department=actor,
        bid_section_code=body.bid_section_code,
        winner=_org(body.winner),
        amount_fen=body.amount_fen,
        passed_over_reason=(
            f"PASSED_OVER_REASON_{body.passed_over_reason.value}"
            if body.passed_over_reason is not None
            else "PASSED_OVER_REASON_UNSPECIFIED"
        ),
    )


def transaction_completed(
    project_id: str, actor: str, at: datetime, body: schemas.TransactionCreate
) -> intake_pb2.TransactionCompleted:
    return intake_pb2.TransactionCompleted(
        project_id=project_id,
        occurred_at=to_timestamp(at),
        actor_department=actor,
        bid_section_code=body.bid_section_code,
        counterparty=_org(body.counterparty),
        amount_fen=body.amount_fen,
        on_platform=body.on_platform,
    )


def deposit_waived(
    project_id: str, actor: str, at: datetime, body: schemas.DepositReliefCreate
) -> intake_pb2.DepositWaived:
    event = intake_pb2.DepositWaived(
        project_id=project_id,
        occurred_at=to_timestamp(at),
        actor_department=actor,
        bid_section_code=body.bid_section_code,
        kind=f"DEPOSIT_RELIEF_KIND_{body.kind.value}",
        amount_saved_fen=body.amount_saved_fen,
    )
    if body.bidder is not None:
        event.bidder.CopyFrom(_org(body.bidder))
    return event


def tender_obligation_declared(
    project_id: str, actor: str, at: datetime, body: schemas.TenderObligationCreate
) -> intake_pb2.TenderObligationDeclared:
    return intake_pb2.TenderObligationDeclared(
        project_id=project_id,
        occurred_at=to_timestamp(at),
        actor_department=actor,
        tender_required_by_law=body.tender_required_by_law,
        basis=body.basis,
    )


def historical_deposit_refunded(
    project_id: str, actor: str, at: datetime, body: schemas.HistoricalRefundCreate
) -> intake_pb2.HistoricalDepositRefunded:
    return intake_pb2.HistoricalDepositRefunded(
        project_id=project_id,
        occurred_at=to_timestamp(at),
        actor_department=actor,
        payee=_org(body.payee),
        amount_fen=body.amount_fen,
        paid_at=to_timestamp(body.paid_at),
    )


def documents_supplemented(
    project_id: str, actor: str, at: datetime, body: schemas.SupplementCreate
) -> intake_pb2.DocumentsSupplemented:
    return intake_pb2.DocumentsSupplemented(
        project_id=project_id,
        occurred_at=to_timestamp(at),
        actor_department=actor,
        supplemented_documents=body.supplemented_documents,
        documents=[_evidence(d) for d in body.documents],
    )


def project_terminated(
    project_id: str, actor: str, at: datetime, body: schemas.TerminationCreate
) -> intake_pb2.ProjectTerminated:
    return intake_pb2.ProjectTerminated(
        project_id=project_id,
        occurred_at=to_timestamp(at),
        actor_department=actor,
        bid_section_code=body.bid_section_code,
        reason=f"TERMINATION_REASON_{body.reason.value}",
        explanation=body.explanation,
    )


@lru_cache(maxsize=4096)
def _cached_timestamp(moment: datetime) -> Timestamp:
    # An import stamps every record of a batch with one time, and deal times repeat; the
    # message constructor copies the value, so sharing the cached one is safe.
    return to_timestamp(moment)


def large_amount_record_event(
    record: LargeAmountRecord,
    *,
    occurred_at: datetime,
    actor_department: str,
    source_level: SourceLevel,
    import_batch_id: str,
) -> intake_pb2.LargeAmountRecordImported:
    event = intake_pb2.LargeAmountRecordImported(
        unified_deal_code=record.unified_deal_code,
        occurred_at=_cached_timestamp(occurred_at),
        actor_department=actor_department,
        source_level=f"SOURCE_LEVEL_{source_level.name}",
        source_platform_code=record.source_platform_code,
        import_batch_id=import_batch_id,
        tender_project_code=record.tender_project_code,
        name=record.name,
        category=f"PROJECT_CATEGORY_{record.category.value}",
        region_code=record.region_code,
        trading_method=f"TRADING_METHOD_{record.trading_method.value}",
        amount_fen=record.amount_fen,
        deal_at=_cached_timestamp(record.deal_at),
        source_fields=dict(record.source_fields),
    )
    if record.tenderer is not None:
        event.tenderer.CopyFrom(_org(record.tenderer))
    if record.winner is not None:
        event.winner.CopyFrom(_org(record.winner))
    return event


_CATEGORY_NAMES = {member: f"PROJECT_CATEGORY_{member.value}" for member in Category}
_TRADING_METHOD_NAMES = {member: f"TRADING_METHOD_{member.value}" for member in TradingMethod}


def large_amount_record_encoder(
    *,
    occurred_at: datetime,
    actor_department: str,
    source_level: SourceLevel,
    import_batch_id: str,
) -> Callable[[LargeAmountRecord], bytes]:
    """The serialised event of each record of one import batch: for every record the bytes of
    ``large_amount_record_event(record, ...).SerializeToString(deterministic=True)``, built
    for the bulk import's millions of records at about half the cost. What the batch's records
    share is set once on a template that each event starts as a copy of; the rest is set field
    by field, without the keyword constructor's per-call work."""
    template = intake_pb2.LargeAmountRecordImported(
        occurred_at=_cached_timestamp(occurred_at),
        actor_department=actor_department,
        source_level=f"SOURCE_LEVEL_{source_level.name}",
        import_batch_id=import_batch_id,
    )
    copy_template = template.__deepcopy__

    def encode(record: LargeAmountRecord) -> bytes:
        event = copy_template()
        event.unified_deal_code = record.unified_deal_code
        event.source_platform_code = record.source_platform_code
        event.tender_project_code = record.tender_project_code
        event.name = record.name
        event.category = _CATEGORY_NAMES[record.category]  # type: ignore[assignment]
        event.region_code = record.region_code
        event.trading_method = _TRADING_METHOD_NAMES[record.trading_method]  # type: ignore[assignment]
        event.amount_fen = record.amount_fen
        event.deal_at.CopyFrom(_cached_timestamp(record.deal_at))
        # record.source_fields, entry by entry: the map's update() is the generic (Python)
        # MutableMapping one, and making the pairs first cost as much again.
        source_fields = event.source_fields
        for name, value in record.source.items():
            source_fields[SOURCE_NAMES[name]] = value if type(value) is str else str(value)
        if (tenderer := record.tenderer) is not None:
            party = event.tenderer
            party.name = tenderer.name
            party.unified_social_credit_code = tenderer.credit_code
        if (winner := record.winner) is not None:
            party = event.winner
            party.name = winner.name
            party.unified_social_credit_code = winner.credit_code
        return event.SerializeToString(deterministic=True)

    return encode
