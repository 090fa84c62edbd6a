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

class ReportSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPORT_SOURCE_UNSPECIFIED: _ClassVar[ReportSource]
    REPORT_SOURCE_MANUAL: _ClassVar[ReportSource]
    REPORT_SOURCE_DETECTED: _ClassVar[ReportSource]

class SubjectKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUBJECT_KIND_UNSPECIFIED: _ClassVar[SubjectKind]
    SUBJECT_KIND_BIDDER: _ClassVar[SubjectKind]
    SUBJECT_KIND_TENDERER: _ClassVar[SubjectKind]
    SUBJECT_KIND_AGENCY: _ClassVar[SubjectKind]
    SUBJECT_KIND_EXPERT: _ClassVar[SubjectKind]

class BehaviourType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BEHAVIOUR_TYPE_UNSPECIFIED: _ClassVar[BehaviourType]
    BEHAVIOUR_TYPE_COLLUSION_SAME_PREPARER: _ClassVar[BehaviourType]
    BEHAVIOUR_TYPE_COLLUSION_SAME_AGENT: _ClassVar[BehaviourType]
    BEHAVIOUR_TYPE_COLLUSION_SAME_PROJECT_MANAGER: _ClassVar[BehaviourType]
    BEHAVIOUR_TYPE_COLLUSION_ABNORMAL_SIMILARITY: _ClassVar[BehaviourType]
    BEHAVIOUR_TYPE_COLLUSION_FILES_MIXED: _ClassVar[BehaviourType]
    BEHAVIOUR_TYPE_COLLUSION_SAME_DEPOSIT_ACCOUNT: _ClassVar[BehaviourType]
    BEHAVIOUR_TYPE_FALSE_MATERIALS: _ClassVar[BehaviourType]
    BEHAVIOUR_TYPE_EXPERT_MISCONDUCT: _ClassVar[BehaviourType]
    BEHAVIOUR_TYPE_AGENCY_MISCONDUCT: _ClassVar[BehaviourType]
    BEHAVIOUR_TYPE_DISCRIMINATORY_TERMS: _ClassVar[BehaviourType]
    BEHAVIOUR_TYPE_AWARD_ABANDONED: _ClassVar[BehaviourType]
    BEHAVIOUR_TYPE_DEPOSIT_IRREGULARITY: _ClassVar[BehaviourType]
    BEHAVIOUR_TYPE_COMMITMENT_BREACH: _ClassVar[BehaviourType]
    BEHAVIOUR_TYPE_OTHER: _ClassVar[BehaviourType]

class Severity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEVERITY_UNSPECIFIED: _ClassVar[Severity]
    SEVERITY_LOW: _ClassVar[Severity]
    SEVERITY_MEDIUM: _ClassVar[Severity]
    SEVERITY_HIGH: _ClassVar[Severity]

class RoutingReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROUTING_REASON_UNSPECIFIED: _ClassVar[RoutingReason]
    ROUTING_REASON_CATEGORY_SUPERVISOR: _ClassVar[RoutingReason]
    ROUTING_REASON_OVERSIGHT: _ClassVar[RoutingReason]
    ROUTING_REASON_SUSPECTED_CRIME: _ClassVar[RoutingReason]
    ROUTING_REASON_OFFICIAL_MISCONDUCT: _ClassVar[RoutingReason]
    ROUTING_REASON_MISUSE_OF_FUNDS: _ClassVar[RoutingReason]
    ROUTING_REASON_TRANSFERRED: _ClassVar[RoutingReason]
    ROUTING_REASON_BRANCH_OVERSIGHT: _ClassVar[RoutingReason]

class PushRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PUSH_ROLE_UNSPECIFIED: _ClassVar[PushRole]
    PUSH_ROLE_HANDLER: _ClassVar[PushRole]
    PUSH_ROLE_COPY: _ClassVar[PushRole]

class HandlingResult(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HANDLING_RESULT_UNSPECIFIED: _ClassVar[HandlingResult]
    HANDLING_RESULT_CASE_FILED: _ClassVar[HandlingResult]
    HANDLING_RESULT_PENALISED: _ClassVar[HandlingResult]
    HANDLING_RESULT_INTERVIEWED: _ClassVar[HandlingResult]
    HANDLING_RESULT_REFERRED: _ClassVar[HandlingResult]
    HANDLING_RESULT_NO_ACTION: _ClassVar[HandlingResult]

class PushDeadline(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PUSH_DEADLINE_UNSPECIFIED: _ClassVar[PushDeadline]
    PUSH_DEADLINE_SIGN_FOR: _ClassVar[PushDeadline]
    PUSH_DEADLINE_FEEDBACK: _ClassVar[PushDeadline]
REPORT_SOURCE_UNSPECIFIED: ReportSource
REPORT_SOURCE_MANUAL: ReportSource
REPORT_SOURCE_DETECTED: ReportSource
SUBJECT_KIND_UNSPECIFIED: SubjectKind
SUBJECT_KIND_BIDDER: SubjectKind
SUBJECT_KIND_TENDERER: SubjectKind
SUBJECT_KIND_AGENCY: SubjectKind
SUBJECT_KIND_EXPERT: SubjectKind
BEHAVIOUR_TYPE_UNSPECIFIED: BehaviourType
BEHAVIOUR_TYPE_COLLUSION_SAME_PREPARER: BehaviourType
BEHAVIOUR_TYPE_COLLUSION_SAME_AGENT: BehaviourType
BEHAVIOUR_TYPE_COLLUSION_SAME_PROJECT_MANAGER: BehaviourType
BEHAVIOUR_TYPE_COLLUSION_ABNORMAL_SIMILARITY: BehaviourType
BEHAVIOUR_TYPE_COLLUSION_FILES_MIXED: BehaviourType
BEHAVIOUR_TYPE_COLLUSION_SAME_DEPOSIT_ACCOUNT: BehaviourType
BEHAVIOUR_TYPE_FALSE_MATERIALS: BehaviourType
BEHAVIOUR_TYPE_EXPERT_MISCONDUCT: BehaviourType
BEHAVIOUR_TYPE_AGENCY_MISCONDUCT: BehaviourType
BEHAVIOUR_TYPE_DISCRIMINATORY_TERMS: BehaviourType
BEHAVIOUR_TYPE_AWARD_ABANDONED: BehaviourType
BEHAVIOUR_TYPE_DEPOSIT_IRREGULARITY: BehaviourType
BEHAVIOUR_TYPE_COMMITMENT_BREACH: BehaviourType
BEHAVIOUR_TYPE_OTHER: BehaviourType
SEVERITY_UNSPECIFIED: Severity
SEVERITY_LOW: Severity
SEVERITY_MEDIUM: Severity
SEVERITY_HIGH: Severity
ROUTING_REASON_UNSPECIFIED: RoutingReason
ROUTING_REASON_CATEGORY_SUPERVISOR: RoutingReason
ROUTING_REASON_OVERSIGHT: RoutingReason
ROUTING_REASON_SUSPECTED_CRIME: RoutingReason
ROUTING_REASON_OFFICIAL_MISCONDUCT: RoutingReason
ROUTING_REASON_MISUSE_OF_FUNDS: RoutingReason
ROUTING_REASON_TRANSFERRED: RoutingReason
ROUTING_REASON_BRANCH_OVERSIGHT: RoutingReason
PUSH_ROLE_UNSPECIFIED: PushRole
PUSH_ROLE_HANDLER: PushRole
PUSH_ROLE_COPY: PushRole
HANDLING_RESULT_UNSPECIFIED: HandlingResult
HANDLING_RESULT_CASE_FILED: HandlingResult
HANDLING_RESULT_PENALISED: HandlingResult
HANDLING_RESULT_INTERVIEWED: HandlingResult
HANDLING_RESULT_REFERRED: HandlingResult
HANDLING_RESULT_NO_ACTION: HandlingResult
PUSH_DEADLINE_UNSPECIFIED: PushDeadline
PUSH_DEADLINE_SIGN_FOR: PushDeadline
PUSH_DEADLINE_FEEDBACK: PushDeadline

class Subject(_message.Message):
    __slots__ = ("kind", "organisation", "expert_pseudonym")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    EXPERT_PSEUDONYM_FIELD_NUMBER: _ClassVar[int]
    kind: SubjectKind
    organisation: _common_pb2.OrganisationRef
    expert_pseudonym: str
    def __init__(self, kind: _Optional[_Union[SubjectKind, str]] = ..., organisation: _Optional[_Union[_common_pb2.OrganisationRef, _Mapping]] = ..., expert_pseudonym: _Optional[str] = ...) -> None: ...

class Detection(_message.Message):
    __slots__ = ("rule_id", "rule_version", "legal_basis", "source_event_ids", "rule_name", "evidence_values")
    class EvidenceValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    RULE_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    LEGAL_BASIS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    RULE_NAME_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_VALUES_FIELD_NUMBER: _ClassVar[int]
    rule_id: str
    rule_version: str
    legal_basis: str
    source_event_ids: _containers.RepeatedScalarFieldContainer[str]
    rule_name: str
    evidence_values: _containers.ScalarMap[str, str]
    def __init__(self, rule_id: _Optional[str] = ..., rule_version: _Optional[str] = ..., legal_basis: _Optional[str] = ..., source_event_ids: _Optional[_Iterable[str]] = ..., rule_name: _Optional[str] = ..., evidence_values: _Optional[_Mapping[str, str]] = ...) -> None: ...

class AbnormalReportFiled(_message.Message):
    __slots__ = ("report_id", "occurred_at", "actor_department", "source", "subjects", "project_id", "bid_section_code", "behaviour_type", "severity", "description", "evidence", "act_at", "detection", "suspected_crime", "suspected_official_misconduct", "suspected_misuse_of_funds", "project_category", "region_code")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SUBJECTS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    BID_SECTION_CODE_FIELD_NUMBER: _ClassVar[int]
    BEHAVIOUR_TYPE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    ACT_AT_FIELD_NUMBER: _ClassVar[int]
    DETECTION_FIELD_NUMBER: _ClassVar[int]
    SUSPECTED_CRIME_FIELD_NUMBER: _ClassVar[int]
    SUSPECTED_OFFICIAL_MISCONDUCT_FIELD_NUMBER: _ClassVar[int]
    SUSPECTED_MISUSE_OF_FUNDS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    source: ReportSource
    subjects: _containers.RepeatedCompositeFieldContainer[Subject]
    project_id: str
    bid_section_code: str
    behaviour_type: BehaviourType
    severity: Severity
    description: str
    evidence: _containers.RepeatedCompositeFieldContainer[_common_pb2.EvidenceRef]
    act_at: _timestamp_pb2.Timestamp
    detection: Detection
    suspected_crime: bool
    suspected_official_misconduct: bool
    suspected_misuse_of_funds: bool
    project_category: _common_pb2.ProjectCategory
    region_code: str
    def __init__(self, report_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., source: _Optional[_Union[ReportSource, str]] = ..., subjects: _Optional[_Iterable[_Union[Subject, _Mapping]]] = ..., project_id: _Optional[str] = ..., bid_section_code: _Optional[str] = ..., behaviour_type: _Optional[_Union[BehaviourType, str]] = ..., severity: _Optional[_Union[Severity, str]] = ..., description: _Optional[str] = ..., evidence: _Optional[_Iterable[_Union[_common_pb2.EvidenceRef, _Mapping]]] = ..., act_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., detection: _Optional[_Union[Detection, _Mapping]] = ..., suspected_crime: _Optional[bool] = ..., suspected_official_misconduct: _Optional[bool] = ..., suspected_misuse_of_funds: _Optional[bool] = ..., project_category: _Optional[_Union[_common_pb2.ProjectCategory, str]] = ..., region_code: _Optional[str] = ...) -> None: ...

class PushRouted(_message.Message):
    __slots__ = ("push_id", "occurred_at", "report_id", "department", "reason", "role", "sign_for_due", "feedback_due", "transferred_from_push_id", "severity", "deadlines_estimated", "estimated_deadlines")
    PUSH_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SIGN_FOR_DUE_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_DUE_FIELD_NUMBER: _ClassVar[int]
    TRANSFERRED_FROM_PUSH_ID_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    DEADLINES_ESTIMATED_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_DEADLINES_FIELD_NUMBER: _ClassVar[int]
    push_id: str
    occurred_at: _timestamp_pb2.Timestamp
    report_id: str
    department: str
    reason: RoutingReason
    role: PushRole
    sign_for_due: _timestamp_pb2.Timestamp
    feedback_due: _timestamp_pb2.Timestamp
    transferred_from_push_id: str
    severity: Severity
    deadlines_estimated: bool
    estimated_deadlines: _containers.RepeatedScalarFieldContainer[PushDeadline]
    def __init__(self, push_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., report_id: _Optional[str] = ..., department: _Optional[str] = ..., reason: _Optional[_Union[RoutingReason, str]] = ..., role: _Optional[_Union[PushRole, str]] = ..., sign_for_due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., feedback_due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., transferred_from_push_id: _Optional[str] = ..., severity: _Optional[_Union[Severity, str]] = ..., deadlines_estimated: _Optional[bool] = ..., estimated_deadlines: _Optional[_Iterable[_Union[PushDeadline, str]]] = ...) -> None: ...

class PushDeadlinesSet(_message.Message):
    __slots__ = ("push_id", "occurred_at", "sign_for_due", "feedback_due")
    PUSH_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SIGN_FOR_DUE_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_DUE_FIELD_NUMBER: _ClassVar[int]
    push_id: str
    occurred_at: _timestamp_pb2.Timestamp
    sign_for_due: _timestamp_pb2.Timestamp
    feedback_due: _timestamp_pb2.Timestamp
    def __init__(self, push_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sign_for_due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., feedback_due: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PushSignedFor(_message.Message):
    __slots__ = ("push_id", "occurred_at", "actor_department")
    PUSH_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    push_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    def __init__(self, push_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ...) -> None: ...

class PushFeedbackGiven(_message.Message):
    __slots__ = ("push_id", "occurred_at", "actor_department", "result", "result_text", "evidence")
    PUSH_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    RESULT_TEXT_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    push_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    result: HandlingResult
    result_text: str
    evidence: _containers.RepeatedCompositeFieldContainer[_common_pb2.EvidenceRef]
    def __init__(self, push_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., result: _Optional[_Union[HandlingResult, str]] = ..., result_text: _Optional[str] = ..., evidence: _Optional[_Iterable[_Union[_common_pb2.EvidenceRef, _Mapping]]] = ...) -> None: ...

class PushTransferred(_message.Message):
    __slots__ = ("push_id", "occurred_at", "actor_department", "to_department", "reason")
    PUSH_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    TO_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    push_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    to_department: str
    reason: str
    def __init__(self, push_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., to_department: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class PushOverdue(_message.Message):
    __slots__ = ("push_id", "occurred_at", "deadline", "due_at", "department")
    PUSH_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    push_id: str
    occurred_at: _timestamp_pb2.Timestamp
    deadline: PushDeadline
    due_at: _timestamp_pb2.Timestamp
    department: str
    def __init__(self, push_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[PushDeadline, str]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., department: _Optional[str] = ...) -> None: ...

class PushEscalated(_message.Message):
    __slots__ = ("push_id", "occurred_at", "deadline", "to_department", "level")
    PUSH_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    TO_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    push_id: str
    occurred_at: _timestamp_pb2.Timestamp
    deadline: PushDeadline
    to_department: str
    level: int
    def __init__(self, push_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[PushDeadline, str]] = ..., to_department: _Optional[str] = ..., level: _Optional[int] = ...) -> None: ...

class WebhookRegistered(_message.Message):
    __slots__ = ("department", "occurred_at", "webhook_id", "url", "secret_key_id")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    SECRET_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    department: str
    occurred_at: _timestamp_pb2.Timestamp
    webhook_id: str
    url: str
    secret_key_id: str
    def __init__(self, department: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., webhook_id: _Optional[str] = ..., url: _Optional[str] = ..., secret_key_id: _Optional[str] = ...) -> None: ...

class WebhookRemoved(_message.Message):
    __slots__ = ("department", "occurred_at", "webhook_id")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ID_FIELD_NUMBER: _ClassVar[int]
    department: str
    occurred_at: _timestamp_pb2.Timestamp
    webhook_id: str
    def __init__(self, department: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., webhook_id: _Optional[str] = ...) -> None: ...
