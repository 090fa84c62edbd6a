"""Protobuf events to and from remote evaluation's domain values. Protobuf stops here.

Experts leave the service only as per-evaluation pseudonyms: every function that builds an
event takes the pseudonym, never a registry id, name or ID number.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from datetime import date, datetime

from prt.v1 import common_pb2, intake_pb2, remote_eval_pb2

from services.platform_core.events.proto_values import to_timestamp
from services.remote_eval.domain.conflicts import WHOLE_PROJECT, PartiesLearned
from services.remote_eval.domain.model import (
    EARLIEST_SLOT_DAY,
    LATEST_SLOT_DAY,
    Assignment,
    EvaluationRequest,
    Expert,
    ExpertKind,
    HalfDay,
    Slot,
    SpecialtyNeed,
    VenueAllocation,
    VenueRole,
)
from services.remote_eval.domain.solver import (
    Alternative,
    DrawRecord,
    FailedConstraint,
    Infeasible,
)

_HALF_DAY = {HalfDay.AM: remote_eval_pb2.HALF_DAY_AM, HalfDay.PM: remote_eval_pb2.HALF_DAY_PM}
_HALF_DAY_BACK: dict[int, HalfDay] = {v: k for k, v in _HALF_DAY.items()}
_KIND = {
    ExpertKind.TECHNICAL: remote_eval_pb2.EXPERT_KIND_TECHNICAL,
    ExpertKind.ECONOMIC: remote_eval_pb2.EXPERT_KIND_ECONOMIC,
}
_KIND_BACK: dict[int, ExpertKind] = {v: k for k, v in _KIND.items()}
_ROLE = {
    VenueRole.MAIN: remote_eval_pb2.VENUE_ROLE_MAIN,
    VenueRole.SECONDARY: remote_eval_pb2.VENUE_ROLE_SECONDARY,
}
# SchedulingConstraint values are named like FailedConstraint members, with the enum's prefix.
_CONSTRAINT = {
    member: remote_eval_pb2.SchedulingConstraint.Value(f"SCHEDULING_CONSTRAINT_{member.value}")
    for member in FailedConstraint
}


class UnreadableEvent(ValueError):
    """An event whose fields do not make a valid domain value."""


def slot_message(slot: Slot) -> remote_eval_pb2.HalfDaySlot:
    return remote_eval_pb2.HalfDaySlot(
        date=common_pb2.LocalDate(year=slot.day.year, month=slot.day.month, day=slot.day.day),
        half_day=_HALF_DAY[slot.half],
    )


def slot_from(message: remote_eval_pb2.HalfDaySlot) -> Slot:
    if message.half_day not in _HALF_DAY_BACK:
        raise UnreadableEvent("slot has no half day")
    try:
        day = date(message.date.year, message.date.month, message.date.day)
    except ValueError as exc:
        raise UnreadableEvent(f"slot date is not a date: {exc}") from exc
    if not EARLIEST_SLOT_DAY <= day <= LATEST_SLOT_DAY:
        raise UnreadableEvent(
            f"slot date {day.isoformat()} is outside {EARLIEST_SLOT_DAY.isoformat()} to "
            f"{LATEST_SLOT_DAY.isoformat()}"
        )
    return Slot(day, _HALF_DAY_BACK[message.half_day])


def date_message(day: date) -> common_pb2.LocalDate:
    return common_pb2.LocalDate(year=day.year, month=day.month, day=day.day)


def date_from(message: common_pb2.LocalDate) -> date:
    try:
        return date(message.year, message.month, message.day)
    except ValueError as exc:
        raise UnreadableEvent(f"not a date: {exc}") from exc


def availability_set(
    expert_id: str, pool_code: str, unavailable: list[date], at: datetime
) -> remote_eval_pb2.ExpertAvailabilitySet:
    return remote_eval_pb2.ExpertAvailabilitySet(
        expert_id=expert_id,
        occurred_at=to_timestamp(at),
        pool_code=pool_code,
        unavailable_dates=[date_message(d) for d in sorted(unavailable)],
    )


def expert_registered(
    expert: Expert, sealed_identity: str, at: datetime
) -> remote_eval_pb2.ExpertRegistered:
    return remote_eval_pb2.ExpertRegistered(
        expert_id=expert.expert_id,
        occurred_at=to_timestamp(at),
        pool_code=expert.pool_code,
        kind=_KIND[expert.kind],
        specialties=sorted(expert.specialties),
        employer_code=expert.employer_code,
        unavailable_slots=[slot_message(slot) for slot in sorted(expert.unavailable)],
        sealed_identity=sealed_identity,
    )


def expert_from(message: remote_eval_pb2.ExpertRegistered) -> tuple[Expert, str]:
    """The registered expert and their sealed identity (UnreadableEvent when incomplete)."""
    if not message.expert_id or not message.pool_code or not message.sealed_identity:
        raise UnreadableEvent("an expert registration needs its id, pool and sealed identity")
    expert = Expert(
        expert_id=message.expert_id,
        pool_code=message.pool_code,
        kind=kind_from(message.kind),
        specialties=frozenset(message.specialties),
        employer_code=message.employer_code,
        unavailable=frozenset(slot_from(slot) for slot in message.unavailable_slots),
    )
    return expert, message.sealed_identity


def kind_from(value: int) -> ExpertKind:
    if value not in _KIND_BACK:
        raise UnreadableEvent("expert kind is unspecified")
    return _KIND_BACK[value]


def evaluation_requested(
    request: EvaluationRequest, at: datetime, *, backfilled: bool = False
) -> remote_eval_pb2.EvaluationRequested:
    message = remote_eval_pb2.EvaluationRequested(
        evaluation_id=request.evaluation_id,
        occurred_at=to_timestamp(at),
        host_centre_code=request.host_code,
        project_id=request.project_id,
        bid_section_code=request.bid_section_code,
        slot=slot_message(request.slot),
        committee_size=request.committee_size,
        specialties=[
            remote_eval_pb2.SpecialtyNeed(
                specialty_code=n.specialty_code, kind=_KIND[n.kind], count=n.count
            )
            for n in request.needs
        ],
        main_venue_id=request.main_venue_id,
        preferred_partner_codes=list(request.preferred_partner_codes),
        required_partner_codes=list(request.required_partner_codes),
        avoided_unit_codes=sorted(request.avoided_unit_codes),
        backfilled=backfilled,
    )
    if request.main_venue_experts is not None:
        message.main_venue_experts = request.main_venue_experts
    return message


def request_from(message: remote_eval_pb2.EvaluationRequested) -> EvaluationRequest:
    return EvaluationRequest(
        evaluation_id=message.evaluation_id,
        host_code=message.host_centre_code,
        project_id=message.project_id,
        bid_section_code=message.bid_section_code,
        slot=slot_from(message.slot),
        committee_size=message.committee_size,
        needs=tuple(
            SpecialtyNeed(n.specialty_code, kind_from(n.kind), n.count) for n in message.specialties
        ),
        main_venue_id=message.main_venue_id,
        preferred_partner_codes=tuple(message.preferred_partner_codes),
        required_partner_codes=tuple(message.required_partner_codes),
        avoided_unit_codes=frozenset(message.avoided_unit_codes),
        main_venue_experts=(
            message.main_venue_experts if message.HasField("main_venue_experts") else None
        ),
    )


def role_message(role: VenueRole) -> remote_eval_pb2.VenueRole:
    return _ROLE[role]


def allocation_message(allocation: VenueAllocation) -> remote_eval_pb2.VenueAllocation:
    return remote_eval_pb2.VenueAllocation(
        venue_id=allocation.venue_id,
        partner_code=allocation.partner_code,
        role=_ROLE[allocation.role],
        seats=allocation.seats,
    )


def assignment_message(assignment: Assignment, pseudonym: str) -> remote_eval_pb2.ExpertAssignment:
    return remote_eval_pb2.ExpertAssignment(
        expert_pseudonym=pseudonym,
        pool_partner_code=assignment.pool_code,
        venue_id=assignment.venue_id,
        specialty_code=assignment.specialty_code,
        kind=_KIND[assignment.kind],
    )


def draw_audit(record: DrawRecord) -> remote_eval_pb2.DrawAudit:
    return remote_eval_pb2.DrawAudit(
        seed=record.seed_hex,
        algorithm_version=record.algorithm_version,
        candidate_pool_sha256=record.candidate_pool_sha256,
        inputs_sha256=record.inputs_sha256,
    )


def candidate_pool_recorded(
    pool_sha256: str, raw: bytes, evaluation_id: str, at: datetime
) -> remote_eval_pb2.DrawCandidatePoolRecorded:
    """A draw's candidates for the log, ``raw`` as the store keeps them (store.pool_bytes)."""
    return remote_eval_pb2.DrawCandidatePoolRecorded(
        candidate_pool_sha256=pool_sha256,
        occurred_at=to_timestamp(at),
        evaluation_id=evaluation_id,
        candidates_json_gzip=raw,
    )


def candidate_pool_from(message: remote_eval_pb2.DrawCandidatePoolRecorded) -> tuple[str, bytes]:
    """The pool's hash and stored bytes, once its candidates are checked to have that hash: a
    pool that does not would make every draw naming it fail its proof."""
    try:
        canonical = gzip.decompress(message.candidates_json_gzip)
    except (OSError, EOFError, zlib.error) as exc:
        raise UnreadableEvent(f"candidate pool is not gzip: {exc}") from exc
    actual = hashlib.sha256(canonical).hexdigest()
    if actual != message.candidate_pool_sha256:
        raise UnreadableEvent(
            f"candidate pool {message.candidate_pool_sha256!r} holds candidates of hash {actual}"
        )
    return message.candidate_pool_sha256, message.candidates_json_gzip


def evaluation_scheduled(
    evaluation_id: str,
    at: datetime,
    allocations: tuple[VenueAllocation, ...],
    experts: list[tuple[Assignment, str]],
    record: DrawRecord,
) -> remote_eval_pb2.EvaluationScheduled:
    return remote_eval_pb2.EvaluationScheduled(
        evaluation_id=evaluation_id,
        occurred_at=to_timestamp(at),
        allocations=[allocation_message(a) for a in allocations],
        experts=[assignment_message(a, p) for a, p in experts],
        draw=draw_audit(record),
    )


def alternative_message(alternative: Alternative) -> remote_eval_pb2.NearestAlternative:
    return remote_eval_pb2.NearestAlternative(
        slot=slot_message(alternative.slot),
        allocations=[allocation_message(a) for a in alternative.allocations],
        description=alternative.description,
    )


def scheduling_failed(
    evaluation_id: str, at: datetime, failure: Infeasible
) -> remote_eval_pb2.SchedulingFailed:
    message = remote_eval_pb2.SchedulingFailed(
        evaluation_id=evaluation_id,
        occurred_at=to_timestamp(at),
        failed_constraint=_CONSTRAINT[failure.constraint],  # type: ignore[arg-type]
        detail=failure.detail,
    )
    if failure.alternative is not None:
        message.nearest_alternative.CopyFrom(alternative_message(failure.alternative))
    return message


# --- intake's events: the parties to a trade (回避) -------------------------------------------


def parties_learned_from(message: object) -> PartiesLearned | None:
    """The parties an intake event names: the tenderer and agency of a registration (the whole
    project), the bidder of a bid (its section); None for every other event."""
    if isinstance(message, intake_pb2.ProjectRegistered):
        codes = {
            org.unified_social_credit_code
            for org, present in (
                (message.tenderer, message.HasField("tenderer")),
                (message.agency, message.HasField("agency")),
            )
            if present and org.unified_social_credit_code
        }
        return PartiesLearned(message.project_id, WHOLE_PROJECT, frozenset(codes))
    if isinstance(message, intake_pb2.BidSubmitted):
        code = message.bidder.unified_social_credit_code
        return PartiesLearned(
            message.project_id, message.bid_section_code, frozenset({code} if code else ())
        )
    return None
