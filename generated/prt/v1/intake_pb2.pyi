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

class TradingMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRADING_METHOD_UNSPECIFIED: _ClassVar[TradingMethod]
    TRADING_METHOD_OPEN_TENDER: _ClassVar[TradingMethod]
    TRADING_METHOD_INVITED_TENDER: _ClassVar[TradingMethod]
    TRADING_METHOD_COMPETITIVE_NEGOTIATION: _ClassVar[TradingMethod]
    TRADING_METHOD_COMPETITIVE_CONSULTATION: _ClassVar[TradingMethod]
    TRADING_METHOD_REQUEST_FOR_QUOTATION: _ClassVar[TradingMethod]
    TRADING_METHOD_SINGLE_SOURCE: _ClassVar[TradingMethod]
    TRADING_METHOD_AUCTION: _ClassVar[TradingMethod]
    TRADING_METHOD_LISTING: _ClassVar[TradingMethod]
    TRADING_METHOD_ONLINE_BIDDING: _ClassVar[TradingMethod]
    TRADING_METHOD_NEGOTIATED_TRANSFER: _ClassVar[TradingMethod]
    TRADING_METHOD_OTHER: _ClassVar[TradingMethod]

class ContractType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTRACT_TYPE_UNSPECIFIED: _ClassVar[ContractType]
    CONTRACT_TYPE_CONSTRUCTION: _ClassVar[ContractType]
    CONTRACT_TYPE_GOODS: _ClassVar[ContractType]
    CONTRACT_TYPE_SERVICES: _ClassVar[ContractType]

class PassedOverReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PASSED_OVER_REASON_UNSPECIFIED: _ClassVar[PassedOverReason]
    PASSED_OVER_REASON_GAVE_UP: _ClassVar[PassedOverReason]
    PASSED_OVER_REASON_FORCE_MAJEURE: _ClassVar[PassedOverReason]
    PASSED_OVER_REASON_NO_PERFORMANCE_SECURITY: _ClassVar[PassedOverReason]
    PASSED_OVER_REASON_UNLAWFUL_CONDUCT: _ClassVar[PassedOverReason]

class DepositReliefKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEPOSIT_RELIEF_KIND_UNSPECIFIED: _ClassVar[DepositReliefKind]
    DEPOSIT_RELIEF_KIND_WAIVED: _ClassVar[DepositReliefKind]
    DEPOSIT_RELIEF_KIND_REDUCED: _ClassVar[DepositReliefKind]

class TerminationReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TERMINATION_REASON_UNSPECIFIED: _ClassVar[TerminationReason]
    TERMINATION_REASON_FAILED_TENDER: _ClassVar[TerminationReason]
    TERMINATION_REASON_TERMINATED: _ClassVar[TerminationReason]

class SourceLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOURCE_LEVEL_UNSPECIFIED: _ClassVar[SourceLevel]
    SOURCE_LEVEL_PROVINCIAL: _ClassVar[SourceLevel]
    SOURCE_LEVEL_CITY: _ClassVar[SourceLevel]
    SOURCE_LEVEL_COUNTY: _ClassVar[SourceLevel]
TRADING_METHOD_UNSPECIFIED: TradingMethod
TRADING_METHOD_OPEN_TENDER: TradingMethod
TRADING_METHOD_INVITED_TENDER: TradingMethod
TRADING_METHOD_COMPETITIVE_NEGOTIATION: TradingMethod
TRADING_METHOD_COMPETITIVE_CONSULTATION: TradingMethod
TRADING_METHOD_REQUEST_FOR_QUOTATION: TradingMethod
TRADING_METHOD_SINGLE_SOURCE: TradingMethod
TRADING_METHOD_AUCTION: TradingMethod
TRADING_METHOD_LISTING: TradingMethod
TRADING_METHOD_ONLINE_BIDDING: TradingMethod
TRADING_METHOD_NEGOTIATED_TRANSFER: TradingMethod
TRADING_METHOD_OTHER: TradingMethod
CONTRACT_TYPE_UNSPECIFIED: ContractType
CONTRACT_TYPE_CONSTRUCTION: ContractType
CONTRACT_TYPE_GOODS: ContractType
CONTRACT_TYPE_SERVICES: ContractType
PASSED_OVER_REASON_UNSPECIFIED: PassedOverReason
PASSED_OVER_REASON_GAVE_UP: PassedOverReason
PASSED_OVER_REASON_FORCE_MAJEURE: PassedOverReason
PASSED_OVER_REASON_NO_PERFORMANCE_SECURITY: PassedOverReason
PASSED_OVER_REASON_UNLAWFUL_CONDUCT: PassedOverReason
DEPOSIT_RELIEF_KIND_UNSPECIFIED: DepositReliefKind
DEPOSIT_RELIEF_KIND_WAIVED: DepositReliefKind
DEPOSIT_RELIEF_KIND_REDUCED: DepositReliefKind
TERMINATION_REASON_UNSPECIFIED: TerminationReason
TERMINATION_REASON_FAILED_TENDER: TerminationReason
TERMINATION_REASON_TERMINATED: TerminationReason
SOURCE_LEVEL_UNSPECIFIED: SourceLevel
SOURCE_LEVEL_PROVINCIAL: SourceLevel
SOURCE_LEVEL_CITY: SourceLevel
SOURCE_LEVEL_COUNTY: SourceLevel

class BidSection(_message.Message):
    __slots__ = ("bid_section_code", "name", "budget_fen", "contract_type")
    BID_SECTION_CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BUDGET_FEN_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_TYPE_FIELD_NUMBER: _ClassVar[int]
    bid_section_code: str
    name: str
    budget_fen: int
    contract_type: ContractType
    def __init__(self, bid_section_code: _Optional[str] = ..., name: _Optional[str] = ..., budget_fen: _Optional[int] = ..., contract_type: _Optional[_Union[ContractType, str]] = ...) -> None: ...

class DeficiencyAcceptance(_message.Message):
    __slots__ = ("missing_documents", "supplement_deadline", "supplement_working_days")
    MISSING_DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    SUPPLEMENT_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    SUPPLEMENT_WORKING_DAYS_FIELD_NUMBER: _ClassVar[int]
    missing_documents: _containers.RepeatedScalarFieldContainer[str]
    supplement_deadline: _common_pb2.LocalDate
    supplement_working_days: int
    def __init__(self, missing_documents: _Optional[_Iterable[str]] = ..., supplement_deadline: _Optional[_Union[_common_pb2.LocalDate, _Mapping]] = ..., supplement_working_days: _Optional[int] = ...) -> None: ...

class ProjectRegistered(_message.Message):
    __slots__ = ("project_id", "occurred_at", "actor_department", "tender_project_code", "unified_deal_code", "name", "category", "region_code", "tenderer", "agency", "supervise_dept_code", "budget_fen", "trading_method", "bid_sections", "key_project", "green_channel", "deficiency_acceptance", "commitment_pledged", "tender_required_by_law", "tender_obligation_derived")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    TENDER_PROJECT_CODE_FIELD_NUMBER: _ClassVar[int]
    UNIFIED_DEAL_CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    TENDERER_FIELD_NUMBER: _ClassVar[int]
    AGENCY_FIELD_NUMBER: _ClassVar[int]
    SUPERVISE_DEPT_CODE_FIELD_NUMBER: _ClassVar[int]
    BUDGET_FEN_FIELD_NUMBER: _ClassVar[int]
    TRADING_METHOD_FIELD_NUMBER: _ClassVar[int]
    BID_SECTIONS_FIELD_NUMBER: _ClassVar[int]
    KEY_PROJECT_FIELD_NUMBER: _ClassVar[int]
    GREEN_CHANNEL_FIELD_NUMBER: _ClassVar[int]
    DEFICIENCY_ACCEPTANCE_FIELD_NUMBER: _ClassVar[int]
    COMMITMENT_PLEDGED_FIELD_NUMBER: _ClassVar[int]
    TENDER_REQUIRED_BY_LAW_FIELD_NUMBER: _ClassVar[int]
    TENDER_OBLIGATION_DERIVED_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    tender_project_code: str
    unified_deal_code: str
    name: str
    category: _common_pb2.ProjectCategory
    region_code: str
    tenderer: _common_pb2.OrganisationRef
    agency: _common_pb2.OrganisationRef
    supervise_dept_code: str
    budget_fen: int
    trading_method: TradingMethod
    bid_sections: _containers.RepeatedCompositeFieldContainer[BidSection]
    key_project: bool
    green_channel: bool
    deficiency_acceptance: DeficiencyAcceptance
    commitment_pledged: bool
    tender_required_by_law: bool
    tender_obligation_derived: bool
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., tender_project_code: _Optional[str] = ..., unified_deal_code: _Optional[str] = ..., name: _Optional[str] = ..., category: _Optional[_Union[_common_pb2.ProjectCategory, str]] = ..., region_code: _Optional[str] = ..., tenderer: _Optional[_Union[_common_pb2.OrganisationRef, _Mapping]] = ..., agency: _Optional[_Union[_common_pb2.OrganisationRef, _Mapping]] = ..., supervise_dept_code: _Optional[str] = ..., budget_fen: _Optional[int] = ..., trading_method: _Optional[_Union[TradingMethod, str]] = ..., bid_sections: _Optional[_Iterable[_Union[BidSection, _Mapping]]] = ..., key_project: _Optional[bool] = ..., green_channel: _Optional[bool] = ..., deficiency_acceptance: _Optional[_Union[DeficiencyAcceptance, _Mapping]] = ..., commitment_pledged: _Optional[bool] = ..., tender_required_by_law: _Optional[bool] = ..., tender_obligation_derived: _Optional[bool] = ...) -> None: ...

class TenderObligationDeclared(_message.Message):
    __slots__ = ("project_id", "occurred_at", "actor_department", "tender_required_by_law", "basis")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    TENDER_REQUIRED_BY_LAW_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    tender_required_by_law: bool
    basis: str
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., tender_required_by_law: _Optional[bool] = ..., basis: _Optional[str] = ...) -> None: ...

class TenderDocumentPrePublished(_message.Message):
    __slots__ = ("project_id", "occurred_at", "actor_department", "bid_section_codes", "document", "comments_close_at")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    BID_SECTION_CODES_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    COMMENTS_CLOSE_AT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    bid_section_codes: _containers.RepeatedScalarFieldContainer[str]
    document: _common_pb2.EvidenceRef
    comments_close_at: _timestamp_pb2.Timestamp
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., bid_section_codes: _Optional[_Iterable[str]] = ..., document: _Optional[_Union[_common_pb2.EvidenceRef, _Mapping]] = ..., comments_close_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AnnouncementPublished(_message.Message):
    __slots__ = ("project_id", "occurred_at", "actor_department", "bid_section_codes", "title", "announcement", "submission_deadline", "opening_at")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    BID_SECTION_CODES_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCEMENT_FIELD_NUMBER: _ClassVar[int]
    SUBMISSION_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    OPENING_AT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    bid_section_codes: _containers.RepeatedScalarFieldContainer[str]
    title: str
    announcement: _common_pb2.EvidenceRef
    submission_deadline: _timestamp_pb2.Timestamp
    opening_at: _timestamp_pb2.Timestamp
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., bid_section_codes: _Optional[_Iterable[str]] = ..., title: _Optional[str] = ..., announcement: _Optional[_Union[_common_pb2.EvidenceRef, _Mapping]] = ..., submission_deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., opening_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BidSubmitted(_message.Message):
    __slots__ = ("project_id", "occurred_at", "actor_department", "bidder", "bid_section_code", "bid_price_fen", "fingerprint", "deposit_account", "deposit_fen", "project_manager_certificate_no", "bidder_address", "bidder_contact_phone")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    BIDDER_FIELD_NUMBER: _ClassVar[int]
    BID_SECTION_CODE_FIELD_NUMBER: _ClassVar[int]
    BID_PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    DEPOSIT_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    DEPOSIT_FEN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_MANAGER_CERTIFICATE_NO_FIELD_NUMBER: _ClassVar[int]
    BIDDER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    BIDDER_CONTACT_PHONE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    bidder: _common_pb2.OrganisationRef
    bid_section_code: str
    bid_price_fen: int
    fingerprint: _common_pb2.BidFileFingerprint
    deposit_account: str
    deposit_fen: int
    project_manager_certificate_no: str
    bidder_address: str
    bidder_contact_phone: str
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., bidder: _Optional[_Union[_common_pb2.OrganisationRef, _Mapping]] = ..., bid_section_code: _Optional[str] = ..., bid_price_fen: _Optional[int] = ..., fingerprint: _Optional[_Union[_common_pb2.BidFileFingerprint, _Mapping]] = ..., deposit_account: _Optional[str] = ..., deposit_fen: _Optional[int] = ..., project_manager_certificate_no: _Optional[str] = ..., bidder_address: _Optional[str] = ..., bidder_contact_phone: _Optional[str] = ...) -> None: ...

class BidsOpened(_message.Message):
    __slots__ = ("project_id", "occurred_at", "actor_department", "bid_section_code", "opened_bidder_codes")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    BID_SECTION_CODE_FIELD_NUMBER: _ClassVar[int]
    OPENED_BIDDER_CODES_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    bid_section_code: str
    opened_bidder_codes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., bid_section_code: _Optional[str] = ..., opened_bidder_codes: _Optional[_Iterable[str]] = ...) -> None: ...

class Disqualification(_message.Message):
    __slots__ = ("bidder_code", "reason")
    BIDDER_CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    bidder_code: str
    reason: str
    def __init__(self, bidder_code: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class EvaluationCompleted(_message.Message):
    __slots__ = ("project_id", "occurred_at", "actor_department", "bid_section_code", "evaluation_id", "disqualifications", "report")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    BID_SECTION_CODE_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_ID_FIELD_NUMBER: _ClassVar[int]
    DISQUALIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    bid_section_code: str
    evaluation_id: str
    disqualifications: _containers.RepeatedCompositeFieldContainer[Disqualification]
    report: _common_pb2.EvidenceRef
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., bid_section_code: _Optional[str] = ..., evaluation_id: _Optional[str] = ..., disqualifications: _Optional[_Iterable[_Union[Disqualification, _Mapping]]] = ..., report: _Optional[_Union[_common_pb2.EvidenceRef, _Mapping]] = ...) -> None: ...

class Candidate(_message.Message):
    __slots__ = ("rank", "bidder", "bid_price_fen")
    RANK_FIELD_NUMBER: _ClassVar[int]
    BIDDER_FIELD_NUMBER: _ClassVar[int]
    BID_PRICE_FEN_FIELD_NUMBER: _ClassVar[int]
    rank: int
    bidder: _common_pb2.OrganisationRef
    bid_price_fen: int
    def __init__(self, rank: _Optional[int] = ..., bidder: _Optional[_Union[_common_pb2.OrganisationRef, _Mapping]] = ..., bid_price_fen: _Optional[int] = ...) -> None: ...

class CandidatesPublicised(_message.Message):
    __slots__ = ("project_id", "occurred_at", "actor_department", "bid_section_code", "candidates", "publicity_ends_at")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    BID_SECTION_CODE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    PUBLICITY_ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    bid_section_code: str
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    publicity_ends_at: _timestamp_pb2.Timestamp
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., bid_section_code: _Optional[str] = ..., candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ..., publicity_ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ContractAwarded(_message.Message):
    __slots__ = ("project_id", "occurred_at", "actor_department", "bid_section_code", "winner", "amount_fen", "passed_over_reason")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    BID_SECTION_CODE_FIELD_NUMBER: _ClassVar[int]
    WINNER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    PASSED_OVER_REASON_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    bid_section_code: str
    winner: _common_pb2.OrganisationRef
    amount_fen: int
    passed_over_reason: PassedOverReason
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., bid_section_code: _Optional[str] = ..., winner: _Optional[_Union[_common_pb2.OrganisationRef, _Mapping]] = ..., amount_fen: _Optional[int] = ..., passed_over_reason: _Optional[_Union[PassedOverReason, str]] = ...) -> None: ...

class TransactionCompleted(_message.Message):
    __slots__ = ("project_id", "occurred_at", "actor_department", "bid_section_code", "counterparty", "amount_fen", "on_platform")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    BID_SECTION_CODE_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    ON_PLATFORM_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    bid_section_code: str
    counterparty: _common_pb2.OrganisationRef
    amount_fen: int
    on_platform: bool
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., bid_section_code: _Optional[str] = ..., counterparty: _Optional[_Union[_common_pb2.OrganisationRef, _Mapping]] = ..., amount_fen: _Optional[int] = ..., on_platform: _Optional[bool] = ...) -> None: ...

class DepositWaived(_message.Message):
    __slots__ = ("project_id", "occurred_at", "actor_department", "bid_section_code", "bidder", "kind", "amount_saved_fen")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    BID_SECTION_CODE_FIELD_NUMBER: _ClassVar[int]
    BIDDER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_SAVED_FEN_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    bid_section_code: str
    bidder: _common_pb2.OrganisationRef
    kind: DepositReliefKind
    amount_saved_fen: int
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., bid_section_code: _Optional[str] = ..., bidder: _Optional[_Union[_common_pb2.OrganisationRef, _Mapping]] = ..., kind: _Optional[_Union[DepositReliefKind, str]] = ..., amount_saved_fen: _Optional[int] = ...) -> None: ...

class HistoricalDepositRefunded(_message.Message):
    __slots__ = ("project_id", "occurred_at", "actor_department", "payee", "amount_fen", "paid_at")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    PAYEE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    PAID_AT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    payee: _common_pb2.OrganisationRef
    amount_fen: int
    paid_at: _timestamp_pb2.Timestamp
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., payee: _Optional[_Union[_common_pb2.OrganisationRef, _Mapping]] = ..., amount_fen: _Optional[int] = ..., paid_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DocumentsSupplemented(_message.Message):
    __slots__ = ("project_id", "occurred_at", "actor_department", "supplemented_documents", "documents")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    SUPPLEMENTED_DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    supplemented_documents: _containers.RepeatedScalarFieldContainer[str]
    documents: _containers.RepeatedCompositeFieldContainer[_common_pb2.EvidenceRef]
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., supplemented_documents: _Optional[_Iterable[str]] = ..., documents: _Optional[_Iterable[_Union[_common_pb2.EvidenceRef, _Mapping]]] = ...) -> None: ...

class DeficiencyDeadlineSet(_message.Message):
    __slots__ = ("project_id", "occurred_at", "supplement_deadline", "supplement_working_days", "counted_from")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SUPPLEMENT_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    SUPPLEMENT_WORKING_DAYS_FIELD_NUMBER: _ClassVar[int]
    COUNTED_FROM_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    supplement_deadline: _common_pb2.LocalDate
    supplement_working_days: int
    counted_from: _common_pb2.LocalDate
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., supplement_deadline: _Optional[_Union[_common_pb2.LocalDate, _Mapping]] = ..., supplement_working_days: _Optional[int] = ..., counted_from: _Optional[_Union[_common_pb2.LocalDate, _Mapping]] = ...) -> None: ...

class DeficiencyDeadlineBreached(_message.Message):
    __slots__ = ("project_id", "occurred_at", "supplement_deadline", "outstanding_documents", "tenderer")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    SUPPLEMENT_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    OUTSTANDING_DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    TENDERER_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    supplement_deadline: _common_pb2.LocalDate
    outstanding_documents: _containers.RepeatedScalarFieldContainer[str]
    tenderer: _common_pb2.OrganisationRef
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., supplement_deadline: _Optional[_Union[_common_pb2.LocalDate, _Mapping]] = ..., outstanding_documents: _Optional[_Iterable[str]] = ..., tenderer: _Optional[_Union[_common_pb2.OrganisationRef, _Mapping]] = ...) -> None: ...

class ProjectTerminated(_message.Message):
    __slots__ = ("project_id", "occurred_at", "actor_department", "bid_section_code", "reason", "explanation")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    BID_SECTION_CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    bid_section_code: str
    reason: TerminationReason
    explanation: str
    def __init__(self, project_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., bid_section_code: _Optional[str] = ..., reason: _Optional[_Union[TerminationReason, str]] = ..., explanation: _Optional[str] = ...) -> None: ...

class LargeAmountRecordImported(_message.Message):
    __slots__ = ("unified_deal_code", "occurred_at", "actor_department", "source_level", "source_platform_code", "import_batch_id", "tender_project_code", "name", "category", "region_code", "tenderer", "winner", "trading_method", "amount_fen", "deal_at", "source_fields")
    class SourceFieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    UNIFIED_DEAL_CODE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PLATFORM_CODE_FIELD_NUMBER: _ClassVar[int]
    IMPORT_BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    TENDER_PROJECT_CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    TENDERER_FIELD_NUMBER: _ClassVar[int]
    WINNER_FIELD_NUMBER: _ClassVar[int]
    TRADING_METHOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FEN_FIELD_NUMBER: _ClassVar[int]
    DEAL_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELDS_FIELD_NUMBER: _ClassVar[int]
    unified_deal_code: str
    occurred_at: _timestamp_pb2.Timestamp
    actor_department: str
    source_level: SourceLevel
    source_platform_code: str
    import_batch_id: str
    tender_project_code: str
    name: str
    category: _common_pb2.ProjectCategory
    region_code: str
    tenderer: _common_pb2.OrganisationRef
    winner: _common_pb2.OrganisationRef
    trading_method: TradingMethod
    amount_fen: int
    deal_at: _timestamp_pb2.Timestamp
    source_fields: _containers.ScalarMap[str, str]
    def __init__(self, unified_deal_code: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_department: _Optional[str] = ..., source_level: _Optional[_Union[SourceLevel, str]] = ..., source_platform_code: _Optional[str] = ..., import_batch_id: _Optional[str] = ..., tender_project_code: _Optional[str] = ..., name: _Optional[str] = ..., category: _Optional[_Union[_common_pb2.ProjectCategory, str]] = ..., region_code: _Optional[str] = ..., tenderer: _Optional[_Union[_common_pb2.OrganisationRef, _Mapping]] = ..., winner: _Optional[_Union[_common_pb2.OrganisationRef, _Mapping]] = ..., trading_method: _Optional[_Union[TradingMethod, str]] = ..., amount_fen: _Optional[int] = ..., deal_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source_fields: _Optional[_Mapping[str, str]] = ...) -> None: ...
