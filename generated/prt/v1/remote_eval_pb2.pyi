import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from prt.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HalfDay(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HALF_DAY_UNSPECIFIED: _ClassVar[HalfDay]
    HALF_DAY_AM: _ClassVar[HalfDay]
    HALF_DAY_PM: _ClassVar[HalfDay]

class ExpertKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPERT_KIND_UNSPECIFIED: _ClassVar[ExpertKind]
    EXPERT_KIND_TECHNICAL: _ClassVar[ExpertKind]
    EXPERT_KIND_ECONOMIC: _ClassVar[ExpertKind]

class VenueRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VENUE_ROLE_UNSPECIFIED: _ClassVar[VenueRole]
    VENUE_ROLE_MAIN: _ClassVar[VenueRole]
    VENUE_ROLE_SECONDARY: _ClassVar[VenueRole]

class VenueDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VENUE_DECISION_UNSPECIFIED: _ClassVar[VenueDecision]
    VENUE_DECISION_ACCEPTED: _ClassVar[VenueDecision]
    VENUE_DECISION_DECLINED: _ClassVar[VenueDecision]

class ExpertDeclineReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPERT_DECLINE_REASON_UNSPECIFIED: _ClassVar[ExpertDeclineReason]
    EXPERT_DECLINE_REASON_UNAVAILABLE: _ClassVar[ExpertDeclineReason]
    EXPERT_DECLINE_REASON_CONFLICT_OF_INTEREST: _ClassVar[ExpertDeclineReason]
    EXPERT_DECLINE_REASON_NO_RESPONSE: _ClassVar[ExpertDeclineReason]
    EXPERT_DECLINE_REASON_OTHER: _ClassVar[ExpertDeclineReason]

class SubstitutionReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUBSTITUTION_REASON_UNSPECIFIED: _ClassVar[SubstitutionReason]
    SUBSTITUTION_REASON_DECLINED: _ClassVar[SubstitutionReason]
    SUBSTITUTION_REASON_NO_SHOW: _ClassVar[SubstitutionReason]
    SUBSTITUTION_REASON_VENUE_DECLINED: _ClassVar[SubstitutionReason]
    SUBSTITUTION_REASON_NOT_CONFIRMED: _ClassVar[SubstitutionReason]
    SUBSTITUTION_REASON_CONFLICT_OF_INTEREST: _ClassVar[SubstitutionReason]

class SchedulingConstraint(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SCHEDULING_CONSTRAINT_UNSPECIFIED: _ClassVar[SchedulingConstraint]
    SCHEDULING_CONSTRAINT_COMMITTEE_COMPOSITION: _ClassVar[SchedulingConstraint]
    SCHEDULING_CONSTRAINT_SEATS: _ClassVar[SchedulingConstraint]
    SCHEDULING_CONSTRAINT_EXPERT_AVAILABILITY: _ClassVar[SchedulingConstraint]
    SCHEDULING_CONSTRAINT_AVOIDANCE: _ClassVar[SchedulingConstraint]
    SCHEDULING_CONSTRAINT_REQUIRED_PARTNER: _ClassVar[SchedulingConstraint]
    SCHEDULING_CONSTRAINT_SUBSTITUTES_EXHAUSTED: _ClassVar[SchedulingConstraint]
    SCHEDULING_CONSTRAINT_TRADE_ENDED: _ClassVar[SchedulingConstraint]

class UnsealingCause(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNSEALING_CAUSE_UNSPECIFIED: _ClassVar[UnsealingCause]
    UNSEALING_CAUSE_CONTRACT_AWARDED: _ClassVar[UnsealingCause]
    UNSEALING_CAUSE_TRADE_TERMINATED: _ClassVar[UnsealingCause]
HALF_DAY_UNSPECIFIED: HalfDay
HALF_DAY_AM: HalfDay
HALF_DAY_PM: HalfDay
EXPERT_KIND_UNSPECIFIED: ExpertKind
EXPERT_KIND_TECHNICAL: ExpertKind
EXPERT_KIND_ECONOMIC: ExpertKind
VENUE_ROLE_UNSPECIFIED: VenueRole
VENUE_ROLE_MAIN: VenueRole
VENUE_ROLE_SECONDARY: VenueRole
VENUE_DECISION_UNSPECIFIED: VenueDecision
VENUE_DECISION_ACCEPTED: VenueDecision
VENUE_DECISION_DECLINED: VenueDecision
EXPERT_DECLINE_REASON_UNSPECIFIED: ExpertDeclineReason
EXPERT_DECLINE_REASON_UNAVAILABLE: ExpertDeclineReason
EXPERT_DECLINE_REASON_CONFLICT_OF_INTEREST: ExpertDeclineReason
EXPERT_DECLINE_REASON_NO_RESPONSE: ExpertDeclineReason
EXPERT_DECLINE_REASON_OTHER: ExpertDeclineReason
SUBSTITUTION_REASON_UNSPECIFIED: SubstitutionReason
SUBSTITUTION_REASON_DECLINED: SubstitutionReason
SUBSTITUTION_REASON_NO_SHOW: SubstitutionReason
SUBSTITUTION_REASON_VENUE_DECLINED: SubstitutionReason
SUBSTITUTION_REASON_NOT_CONFIRMED: SubstitutionReason
SUBSTITUTION_REASON_CONFLICT_OF_INTEREST: SubstitutionReason
SCHEDULING_CONSTRAINT_UNSPECIFIED: SchedulingConstraint
SCHEDULING_CONSTRAINT_COMMITTEE_COMPOSITION: SchedulingConstraint
SCHEDULING_CONSTRAINT_SEATS: SchedulingConstraint
SCHEDULING_CONSTRAINT_EXPERT_AVAILABILITY: SchedulingConstraint
SCHEDULING_CONSTRAINT_AVOIDANCE: SchedulingConstraint
SCHEDULING_CONSTRAINT_REQUIRED_PARTNER: SchedulingConstraint
SCHEDULING_CONSTRAINT_SUBSTITUTES_EXHAUSTED: SchedulingConstraint
SCHEDULING_CONSTRAINT_TRADE_ENDED: SchedulingConstraint
UNSEALING_CAUSE_UNSPECIFIED: UnsealingCause
UNSEALING_CAUSE_CONTRACT_AWARDED: UnsealingCause
UNSEALING_CAUSE_TRADE_TERMINATED: UnsealingCause

class HalfDaySlot(_message.Message):
    __slots__ = ("date", "half_day")
    DATE_FIELD_NUMBER: _ClassVar[int]
    HALF_DAY_FIELD_NUMBER: _ClassVar[int]
    date: _common_pb2.LocalDate
    half_day: HalfDay
    def __init__(self, date: _Optional[_Union[_common_pb2.LocalDate, _Mapping]] = ..., half_day: _Optional[_Union[HalfDay, str]] = ...) -> None: ...

class VenueCapacityPublished(_message.Message):
    __slots__ = ("venue_id", "occurred_at", "partner_code", "venue_name", "region_code", "slot", "seats", "fee_fen")
    VENUE_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PARTNER_CODE_FIELD_NUMBER: _ClassVar[int]
    VENUE_NAME_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    FEE_FEN_FIELD_NUMBER: _ClassVar[int]
    venue_id: str
    occurred_at: _timestamp_pb2.Timestamp
    partner_code: str
    venue_name: str
    region_code: str
    slot: HalfDaySlot
    seats: int
    fee_fen: int
    def __init__(self, venue_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., partner_code: _Optional[str] = ..., venue_name: _Optional[str] = ..., region_code: _Optional[str] = ..., slot: _Optional[_Union[HalfDaySlot, _Mapping]] = ..., seats: _Optional[int] = ..., fee_fen: _Optional[int] = ...) -> None: ...

class SpecialtyNeed(_message.Message):
    __slots__ = ("specialty_code", "kind", "count")
    SPECIALTY_CODE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    specialty_code: str
    kind: ExpertKind
    count: int
    def __init__(self, specialty_code: _Optional[str] = ..., kind: _Optional[_Union[ExpertKind, str]] = ..., count: _Optional[int] = ...) -> None: ...

class EvaluationRequested(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "host_centre_code", "project_id", "bid_section_code", "slot", "committee_size", "specialties", "main_venue_id", "preferred_partner_codes", "required_partner_codes", "avoided_unit_codes", "main_venue_experts", "backfilled")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    HOST_CENTRE_CODE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    BID_SECTION_CODE_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    COMMITTEE_SIZE_FIELD_NUMBER: _ClassVar[int]
    SPECIALTIES_FIELD_NUMBER: _ClassVar[int]
    MAIN_VENUE_ID_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_PARTNER_CODES_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_PARTNER_CODES_FIELD_NUMBER: _ClassVar[int]
    AVOIDED_UNIT_CODES_FIELD_NUMBER: _ClassVar[int]
    MAIN_VENUE_EXPERTS_FIELD_NUMBER: _ClassVar[int]
    BACKFILLED_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    host_centre_code: str
    project_id: str
    bid_section_code: str
    slot: HalfDaySlot
    committee_size: int
    specialties: _containers.RepeatedCompositeFieldContainer[SpecialtyNeed]
    main_venue_id: str
    preferred_partner_codes: _containers.RepeatedScalarFieldContainer[str]
    required_partner_codes: _containers.RepeatedScalarFieldContainer[str]
    avoided_unit_codes: _containers.RepeatedScalarFieldContainer[str]
    main_venue_experts: int
    backfilled: bool
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., host_centre_code: _Optional[str] = ..., project_id: _Optional[str] = ..., bid_section_code: _Optional[str] = ..., slot: _Optional[_Union[HalfDaySlot, _Mapping]] = ..., committee_size: _Optional[int] = ..., specialties: _Optional[_Iterable[_Union[SpecialtyNeed, _Mapping]]] = ..., main_venue_id: _Optional[str] = ..., preferred_partner_codes: _Optional[_Iterable[str]] = ..., required_partner_codes: _Optional[_Iterable[str]] = ..., avoided_unit_codes: _Optional[_Iterable[str]] = ..., main_venue_experts: _Optional[int] = ..., backfilled: _Optional[bool] = ...) -> None: ...

class VenueAllocation(_message.Message):
    __slots__ = ("venue_id", "partner_code", "role", "seats")
    VENUE_ID_FIELD_NUMBER: _ClassVar[int]
    PARTNER_CODE_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    venue_id: str
    partner_code: str
    role: VenueRole
    seats: int
    def __init__(self, venue_id: _Optional[str] = ..., partner_code: _Optional[str] = ..., role: _Optional[_Union[VenueRole, str]] = ..., seats: _Optional[int] = ...) -> None: ...

class ExpertAssignment(_message.Message):
    __slots__ = ("expert_pseudonym", "pool_partner_code", "venue_id", "specialty_code", "kind")
    EXPERT_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    POOL_PARTNER_CODE_FIELD_NUMBER: _ClassVar[int]
    VENUE_ID_FIELD_NUMBER: _ClassVar[int]
    SPECIALTY_CODE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    expert_pseudonym: str
    pool_partner_code: str
    venue_id: str
    specialty_code: str
    kind: ExpertKind
    def __init__(self, expert_pseudonym: _Optional[str] = ..., pool_partner_code: _Optional[str] = ..., venue_id: _Optional[str] = ..., specialty_code: _Optional[str] = ..., kind: _Optional[_Union[ExpertKind, str]] = ...) -> None: ...

class DrawAudit(_message.Message):
    __slots__ = ("seed", "algorithm_version", "candidate_pool_sha256", "inputs_sha256")
    SEED_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_VERSION_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_POOL_SHA256_FIELD_NUMBER: _ClassVar[int]
    INPUTS_SHA256_FIELD_NUMBER: _ClassVar[int]
    seed: str
    algorithm_version: str
    candidate_pool_sha256: str
    inputs_sha256: str
    def __init__(self, seed: _Optional[str] = ..., algorithm_version: _Optional[str] = ..., candidate_pool_sha256: _Optional[str] = ..., inputs_sha256: _Optional[str] = ...) -> None: ...

class EvaluationScheduled(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "allocations", "experts", "draw")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ALLOCATIONS_FIELD_NUMBER: _ClassVar[int]
    EXPERTS_FIELD_NUMBER: _ClassVar[int]
    DRAW_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    allocations: _containers.RepeatedCompositeFieldContainer[VenueAllocation]
    experts: _containers.RepeatedCompositeFieldContainer[ExpertAssignment]
    draw: DrawAudit
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., allocations: _Optional[_Iterable[_Union[VenueAllocation, _Mapping]]] = ..., experts: _Optional[_Iterable[_Union[ExpertAssignment, _Mapping]]] = ..., draw: _Optional[_Union[DrawAudit, _Mapping]] = ...) -> None: ...

class SeatRequestSent(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "host_centre_code", "partner_code", "venue_id", "slot", "seats", "fee_fen", "respond_by")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    HOST_CENTRE_CODE_FIELD_NUMBER: _ClassVar[int]
    PARTNER_CODE_FIELD_NUMBER: _ClassVar[int]
    VENUE_ID_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    FEE_FEN_FIELD_NUMBER: _ClassVar[int]
    RESPOND_BY_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    host_centre_code: str
    partner_code: str
    venue_id: str
    slot: HalfDaySlot
    seats: int
    fee_fen: int
    respond_by: _timestamp_pb2.Timestamp
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., host_centre_code: _Optional[str] = ..., partner_code: _Optional[str] = ..., venue_id: _Optional[str] = ..., slot: _Optional[_Union[HalfDaySlot, _Mapping]] = ..., seats: _Optional[int] = ..., fee_fen: _Optional[int] = ..., respond_by: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PartnerVenueDecision(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "partner_code", "venue_id", "decision", "reason")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PARTNER_CODE_FIELD_NUMBER: _ClassVar[int]
    VENUE_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    partner_code: str
    venue_id: str
    decision: VenueDecision
    reason: str
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., partner_code: _Optional[str] = ..., venue_id: _Optional[str] = ..., decision: _Optional[_Union[VenueDecision, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class ExpertDrawn(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "assignment", "confirm_by")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_BY_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    assignment: ExpertAssignment
    confirm_by: _timestamp_pb2.Timestamp
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., assignment: _Optional[_Union[ExpertAssignment, _Mapping]] = ..., confirm_by: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExpertConfirmed(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "partner_code", "expert_pseudonym")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PARTNER_CODE_FIELD_NUMBER: _ClassVar[int]
    EXPERT_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    partner_code: str
    expert_pseudonym: str
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., partner_code: _Optional[str] = ..., expert_pseudonym: _Optional[str] = ...) -> None: ...

class ExpertDeclined(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "partner_code", "expert_pseudonym", "reason")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PARTNER_CODE_FIELD_NUMBER: _ClassVar[int]
    EXPERT_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    partner_code: str
    expert_pseudonym: str
    reason: ExpertDeclineReason
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., partner_code: _Optional[str] = ..., expert_pseudonym: _Optional[str] = ..., reason: _Optional[_Union[ExpertDeclineReason, str]] = ...) -> None: ...

class ExpertNoShow(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "partner_code", "expert_pseudonym", "venue_id")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PARTNER_CODE_FIELD_NUMBER: _ClassVar[int]
    EXPERT_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    VENUE_ID_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    partner_code: str
    expert_pseudonym: str
    venue_id: str
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., partner_code: _Optional[str] = ..., expert_pseudonym: _Optional[str] = ..., venue_id: _Optional[str] = ...) -> None: ...

class ExpertAbsenceRecorded(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "partner_code", "expert_pseudonym", "venue_id", "supervision_pseudonym")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PARTNER_CODE_FIELD_NUMBER: _ClassVar[int]
    EXPERT_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    VENUE_ID_FIELD_NUMBER: _ClassVar[int]
    SUPERVISION_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    partner_code: str
    expert_pseudonym: str
    venue_id: str
    supervision_pseudonym: str
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., partner_code: _Optional[str] = ..., expert_pseudonym: _Optional[str] = ..., venue_id: _Optional[str] = ..., supervision_pseudonym: _Optional[str] = ...) -> None: ...

class SubstituteDrawn(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "replaced_expert_pseudonym", "reason", "assignment", "draw", "confirm_by")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    REPLACED_EXPERT_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    DRAW_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_BY_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    replaced_expert_pseudonym: str
    reason: SubstitutionReason
    assignment: ExpertAssignment
    draw: DrawAudit
    confirm_by: _timestamp_pb2.Timestamp
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., replaced_expert_pseudonym: _Optional[str] = ..., reason: _Optional[_Union[SubstitutionReason, str]] = ..., assignment: _Optional[_Union[ExpertAssignment, _Mapping]] = ..., draw: _Optional[_Union[DrawAudit, _Mapping]] = ..., confirm_by: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EmptySeatsRedrawRequested(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "requested_by", "reason")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    requested_by: str
    reason: str
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., requested_by: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class VenueSeatsWithdrawn(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "partner_code", "venue_id", "slot", "role", "seats", "seats_offered", "capacity_event_id")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PARTNER_CODE_FIELD_NUMBER: _ClassVar[int]
    VENUE_ID_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    SEATS_OFFERED_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    partner_code: str
    venue_id: str
    slot: HalfDaySlot
    role: VenueRole
    seats: int
    seats_offered: int
    capacity_event_id: str
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., partner_code: _Optional[str] = ..., venue_id: _Optional[str] = ..., slot: _Optional[_Union[HalfDaySlot, _Mapping]] = ..., role: _Optional[_Union[VenueRole, str]] = ..., seats: _Optional[int] = ..., seats_offered: _Optional[int] = ..., capacity_event_id: _Optional[str] = ...) -> None: ...

class NearestAlternative(_message.Message):
    __slots__ = ("slot", "allocations", "description")
    SLOT_FIELD_NUMBER: _ClassVar[int]
    ALLOCATIONS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    slot: HalfDaySlot
    allocations: _containers.RepeatedCompositeFieldContainer[VenueAllocation]
    description: str
    def __init__(self, slot: _Optional[_Union[HalfDaySlot, _Mapping]] = ..., allocations: _Optional[_Iterable[_Union[VenueAllocation, _Mapping]]] = ..., description: _Optional[str] = ...) -> None: ...

class SchedulingFailed(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "failed_constraint", "detail", "nearest_alternative")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    FAILED_CONSTRAINT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    NEAREST_ALTERNATIVE_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    failed_constraint: SchedulingConstraint
    detail: str
    nearest_alternative: NearestAlternative
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failed_constraint: _Optional[_Union[SchedulingConstraint, str]] = ..., detail: _Optional[str] = ..., nearest_alternative: _Optional[_Union[NearestAlternative, _Mapping]] = ...) -> None: ...

class CommitteeUnsealed(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "project_id", "bid_section_code", "committee_list", "member_count", "cause")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    BID_SECTION_CODE_FIELD_NUMBER: _ClassVar[int]
    COMMITTEE_LIST_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    project_id: str
    bid_section_code: str
    committee_list: _common_pb2.EvidenceRef
    member_count: int
    cause: UnsealingCause
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., project_id: _Optional[str] = ..., bid_section_code: _Optional[str] = ..., committee_list: _Optional[_Union[_common_pb2.EvidenceRef, _Mapping]] = ..., member_count: _Optional[int] = ..., cause: _Optional[_Union[UnsealingCause, str]] = ...) -> None: ...

class EvaluationCancelled(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "project_id", "bid_section_code", "slot", "reason", "released_venue_ids", "released_expert_pseudonyms")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    BID_SECTION_CODE_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RELEASED_VENUE_IDS_FIELD_NUMBER: _ClassVar[int]
    RELEASED_EXPERT_PSEUDONYMS_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    project_id: str
    bid_section_code: str
    slot: HalfDaySlot
    reason: str
    released_venue_ids: _containers.RepeatedScalarFieldContainer[str]
    released_expert_pseudonyms: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., project_id: _Optional[str] = ..., bid_section_code: _Optional[str] = ..., slot: _Optional[_Union[HalfDaySlot, _Mapping]] = ..., reason: _Optional[str] = ..., released_venue_ids: _Optional[_Iterable[str]] = ..., released_expert_pseudonyms: _Optional[_Iterable[str]] = ...) -> None: ...

class SeatRequestTimedOut(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "partner_code", "venue_id", "respond_by")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PARTNER_CODE_FIELD_NUMBER: _ClassVar[int]
    VENUE_ID_FIELD_NUMBER: _ClassVar[int]
    RESPOND_BY_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    partner_code: str
    venue_id: str
    respond_by: _timestamp_pb2.Timestamp
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., partner_code: _Optional[str] = ..., venue_id: _Optional[str] = ..., respond_by: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExpertConfirmationTimedOut(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "partner_code", "expert_pseudonym", "confirm_by")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    PARTNER_CODE_FIELD_NUMBER: _ClassVar[int]
    EXPERT_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_BY_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    partner_code: str
    expert_pseudonym: str
    confirm_by: _timestamp_pb2.Timestamp
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., partner_code: _Optional[str] = ..., expert_pseudonym: _Optional[str] = ..., confirm_by: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExpertAvailabilitySet(_message.Message):
    __slots__ = ("expert_id", "occurred_at", "pool_code", "unavailable_dates")
    EXPERT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    POOL_CODE_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_DATES_FIELD_NUMBER: _ClassVar[int]
    expert_id: str
    occurred_at: _timestamp_pb2.Timestamp
    pool_code: str
    unavailable_dates: _containers.RepeatedCompositeFieldContainer[_common_pb2.LocalDate]
    def __init__(self, expert_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pool_code: _Optional[str] = ..., unavailable_dates: _Optional[_Iterable[_Union[_common_pb2.LocalDate, _Mapping]]] = ...) -> None: ...

class EvaluationStateRecorded(_message.Message):
    __slots__ = ("evaluation_id", "occurred_at", "state_json")
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    STATE_JSON_FIELD_NUMBER: _ClassVar[int]
    evaluation_id: str
    occurred_at: _timestamp_pb2.Timestamp
    state_json: str
    def __init__(self, evaluation_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state_json: _Optional[str] = ...) -> None: ...

class DrawCandidatePoolRecorded(_message.Message):
    __slots__ = ("candidate_pool_sha256", "occurred_at", "evaluation_id", "candidates_json_gzip")
    CANDIDATE_POOL_SHA256_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_JSON_GZIP_FIELD_NUMBER: _ClassVar[int]
    candidate_pool_sha256: str
    occurred_at: _timestamp_pb2.Timestamp
    evaluation_id: str
    candidates_json_gzip: bytes
    def __init__(self, candidate_pool_sha256: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., evaluation_id: _Optional[str] = ..., candidates_json_gzip: _Optional[bytes] = ...) -> None: ...

class ExpertRegistered(_message.Message):
    __slots__ = ("expert_id", "occurred_at", "pool_code", "kind", "specialties", "employer_code", "unavailable_slots", "sealed_identity")
    EXPERT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    POOL_CODE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SPECIALTIES_FIELD_NUMBER: _ClassVar[int]
    EMPLOYER_CODE_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_SLOTS_FIELD_NUMBER: _ClassVar[int]
    SEALED_IDENTITY_FIELD_NUMBER: _ClassVar[int]
    expert_id: str
    occurred_at: _timestamp_pb2.Timestamp
    pool_code: str
    kind: ExpertKind
    specialties: _containers.RepeatedScalarFieldContainer[str]
    employer_code: str
    unavailable_slots: _containers.RepeatedCompositeFieldContainer[HalfDaySlot]
    sealed_identity: str
    def __init__(self, expert_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pool_code: _Optional[str] = ..., kind: _Optional[_Union[ExpertKind, str]] = ..., specialties: _Optional[_Iterable[str]] = ..., employer_code: _Optional[str] = ..., unavailable_slots: _Optional[_Iterable[_Union[HalfDaySlot, _Mapping]]] = ..., sealed_identity: _Optional[str] = ...) -> None: ...
