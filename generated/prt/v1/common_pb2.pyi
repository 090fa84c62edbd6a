from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class ProjectCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROJECT_CATEGORY_UNSPECIFIED: _ClassVar[ProjectCategory]
    PROJECT_CATEGORY_HOUSING: _ClassVar[ProjectCategory]
    PROJECT_CATEGORY_MUNICIPAL: _ClassVar[ProjectCategory]
    PROJECT_CATEGORY_TRANSPORT: _ClassVar[ProjectCategory]
    PROJECT_CATEGORY_WATER: _ClassVar[ProjectCategory]
    PROJECT_CATEGORY_LANDSCAPING: _ClassVar[ProjectCategory]
    PROJECT_CATEGORY_GOVERNMENT_PROCUREMENT: _ClassVar[ProjectCategory]
    PROJECT_CATEGORY_LAND_USE_RIGHTS: _ClassVar[ProjectCategory]
    PROJECT_CATEGORY_MINING_RIGHTS: _ClassVar[ProjectCategory]
    PROJECT_CATEGORY_SOE_PROPERTY_RIGHTS: _ClassVar[ProjectCategory]
    PROJECT_CATEGORY_RURAL_COLLECTIVE_PROPERTY: _ClassVar[ProjectCategory]
    PROJECT_CATEGORY_EMISSION_RIGHTS: _ClassVar[ProjectCategory]
    PROJECT_CATEGORY_ASSET_DISPOSAL: _ClassVar[ProjectCategory]
    PROJECT_CATEGORY_OTHER: _ClassVar[ProjectCategory]
PROJECT_CATEGORY_UNSPECIFIED: ProjectCategory
PROJECT_CATEGORY_HOUSING: ProjectCategory
PROJECT_CATEGORY_MUNICIPAL: ProjectCategory
PROJECT_CATEGORY_TRANSPORT: ProjectCategory
PROJECT_CATEGORY_WATER: ProjectCategory
PROJECT_CATEGORY_LANDSCAPING: ProjectCategory
PROJECT_CATEGORY_GOVERNMENT_PROCUREMENT: ProjectCategory
PROJECT_CATEGORY_LAND_USE_RIGHTS: ProjectCategory
PROJECT_CATEGORY_MINING_RIGHTS: ProjectCategory
PROJECT_CATEGORY_SOE_PROPERTY_RIGHTS: ProjectCategory
PROJECT_CATEGORY_RURAL_COLLECTIVE_PROPERTY: ProjectCategory
PROJECT_CATEGORY_EMISSION_RIGHTS: ProjectCategory
PROJECT_CATEGORY_ASSET_DISPOSAL: ProjectCategory
PROJECT_CATEGORY_OTHER: ProjectCategory

class OrganisationRef(_message.Message):
    __slots__ = ("name", "unified_social_credit_code")
    NAME_FIELD_NUMBER: _ClassVar[int]
    UNIFIED_SOCIAL_CREDIT_CODE_FIELD_NUMBER: _ClassVar[int]
    name: str
    unified_social_credit_code: str
    def __init__(self, name: _Optional[str] = ..., unified_social_credit_code: _Optional[str] = ...) -> None: ...

class EvidenceRef(_message.Message):
    __slots__ = ("sha256", "location", "media_type")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    location: str
    media_type: str
    def __init__(self, sha256: _Optional[str] = ..., location: _Optional[str] = ..., media_type: _Optional[str] = ...) -> None: ...

class BidFileFingerprint(_message.Message):
    __slots__ = ("cpu_id", "disk_serial", "mac_address", "ip_address", "document_md5")
    CPU_ID_FIELD_NUMBER: _ClassVar[int]
    DISK_SERIAL_FIELD_NUMBER: _ClassVar[int]
    MAC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    IP_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_MD5_FIELD_NUMBER: _ClassVar[int]
    cpu_id: str
    disk_serial: str
    mac_address: str
    ip_address: str
    document_md5: str
    def __init__(self, cpu_id: _Optional[str] = ..., disk_serial: _Optional[str] = ..., mac_address: _Optional[str] = ..., ip_address: _Optional[str] = ..., document_md5: _Optional[str] = ...) -> None: ...

class LocalDate(_message.Message):
    __slots__ = ("year", "month", "day")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    year: int
    month: int
    day: int
    def __init__(self, year: _Optional[int] = ..., month: _Optional[int] = ..., day: _Optional[int] = ...) -> None: ...
