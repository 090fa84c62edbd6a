"""Request and response bodies of abnormal push's API (separate Create and Public shapes)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from prt.v1 import common_pb2
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl

from services.abnormal_push.domain.pushes import Deadline, HandlingResult, PushStatus
from services.abnormal_push.domain.reports import BehaviourType, Severity, SubjectKind
from services.abnormal_push.domain.routing import PushRole, RoutingReason
from services.platform_core.events.proto_values import enum_member
from services.platform_core.http.business_time import OCCURRED_AT_DESCRIPTION

ProjectCategory = StrEnum(  # type: ignore[misc]
    "ProjectCategory",
    {
        name: name
        for name in (
            enum_member(common_pb2.ProjectCategory.DESCRIPTOR, value.number)
            for value in common_pb2.ProjectCategory.DESCRIPTOR.values
            if value.number
        )
    },
)


class SubjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SubjectKind
    credit_code: str | None = Field(
        default=None, description="统一社会信用代码 of a bidder, tenderer or agency"
    )
    name: str = Field(default="", max_length=200)
    expert_pseudonym: str | None = Field(
        default=None, description="an expert's pseudonym from the sealed registry; never an ID"
    )


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sha256: str = Field(description="SHA-256 of the stored bytes, lowercase hex")
    location: str = Field(min_length=1, max_length=1000)
    media_type: str = ""


class ReportCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subjects": [
                        {"kind": "BIDDER", "credit_code": "91110000600037341L", "name": "某公司"}
                    ],
                    "project_id": "0193c1de-0000-7000-8000-000000000001",
                    "bid_section_code": "BD01",
                    "project_category": "HOUSING",
                    "region_code": "370113",
                    "behaviour_type": "FALSE_MATERIALS",
                    "severity": "HIGH",
                    "description": "投标文件中的业绩证明经核查为伪造",
                    "evidence": [
                        {
                            "sha256": "0" * 64,
                            "location": "docstore://evidence/2024/0001.pdf",
                            "media_type": "application/pdf",
                        }
                    ],
                    "act_at": "2024-09-20T02:00:00Z",
                }
            ]
        },
    )

    subjects: list[SubjectIn] = Field(min_length=1, max_length=50)
    project_id: str = Field(min_length=1, max_length=100)
    bid_section_code: str = Field(default="", max_length=100)
    project_category: ProjectCategory | None = Field(
        default=None,
        description="the project's trading category (a ProjectCategory of the catalogue); it "
        "decides the supervising department the report is routed to. A project registered in "
        "intake is routed on its registered category: leave this out, or state the registered "
        "one (another is refused, 422 project_mismatch). Required for a project abnormal push "
        "has not seen registered (应进未进, or registered seconds ago)",
    )
    region_code: str | None = Field(
        default=None,
        max_length=12,
        description="the project's region (GB/T 2260 code of regions.json, e.g. 370113 长清区; "
        "370100 市本级). Where the category's supervisor has a branch in that region (长清区住房和"
        "城乡建设局), the branch handles the report and the city department gets a copy. "
        "A project registered in intake is routed on its registered region: leave this out, or "
        "state the registered one (another is refused, 422 project_mismatch). For a project "
        "abnormal push has not seen registered, omitted means the reporting department's region "
        "if it acts for exactly one (a district branch), else the city department handles it",
    )
    behaviour_type: BehaviourType
    severity: Severity
    description: str = Field(min_length=1, max_length=4000)
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=50)
    act_at: AwareDatetime
    suspected_crime: bool = False
    suspected_official_misconduct: bool = False
    suspected_misuse_of_funds: bool = False
    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT_DESCRIPTION)


class RouteTarget(BaseModel):
    department: str
    reason: RoutingReason
    role: PushRole


class ReportFiledPublic(BaseModel):
    report_id: str
    event_id: str
    filed_at: datetime
    routed_to: list[RouteTarget]
    project_registered: bool = Field(
        description="true: routed on the category and region intake registered for the "
        "project. false: abnormal push has not seen the project registered — not registered "
        "(应进未进), or registered seconds before the report and not yet read from intake's "
        "stream — so the report was routed on its own project_category and region_code; check "
        "routed_to"
    )
    project_category: str = Field(description="the category the report was routed on")
    region_code: str = Field(
        description='the region the report was routed on; "" when none (the city '
        "department handles it)"
    )


class ReportPublic(BaseModel):
    """A report as stored, with the pushes it became."""

    report: dict[str, Any]
    push_ids: list[str]


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    result: HandlingResult
    result_text: str = Field(min_length=1, max_length=4000)
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=50)
    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT_DESCRIPTION)


class TransferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_department: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=1000)
    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT_DESCRIPTION)


class SignForCreate(BaseModel):
    """Optional body of a sign-for: only a backfill key's ``occurred_at``."""

    model_config = ConfigDict(extra="forbid")

    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT_DESCRIPTION)


def fingerprint_body(body: BaseModel | None) -> dict[str, Any]:
    """The body as the Idempotency-Key fingerprints it; an absent ``occurred_at`` is left out,
    so a request fingerprints as it did before the field existed."""
    if body is None:
        return {}
    data: dict[str, Any] = body.model_dump(mode="json")
    if data.get("occurred_at") is None:
        data.pop("occurred_at", None)
    return data


class PushStepAccepted(BaseModel):
    push_id: str
    event_id: str
    step: str


class PushPublic(BaseModel):
    push_id: str
    report_id: str
    department: str
    reason: RoutingReason
    role: PushRole
    severity: Severity
    status: PushStatus
    routed_at: datetime
    sign_for_due: datetime | None
    feedback_due: datetime | None
    deadlines_estimated: bool = Field(
        default=False,
        description="True while the two deadlines are estimates (Monday to Friday counted): "
        "the State Council's holiday arrangement for their year is not in the calendar yet. "
        "An estimate is never judged overdue; the real deadlines replace it (a step "
        "DEADLINES_SET) once the calendar covers the year. Which of the two: "
        "estimated_deadlines.",
    )
    estimated_deadlines: list[Deadline] = Field(
        default_factory=list,
        description="The deadlines that are estimates now. A push routed in December may have "
        "a real sign-for deadline this year (judged overdue like any other) and an estimated "
        "feedback deadline next year: only the latter is listed.",
        examples=[["FEEDBACK"]],
    )
    overdue: list[str]
    escalation_levels: list[int]
    escalated_to: list[str] = Field(
        description="the department each escalation went to, in order: a district branch's "
        "first to its city department (分级监管), the others to the joint-conference office "
        "(empty for escalations recorded before the platform kept them: the office's)"
    )
    transferred_to: str
    transferred_from_push_id: str
    feedback: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    report: dict[str, Any] | None = None


class CountsPublic(BaseModel):
    department: str
    open: int
    overdue: int
    escalated: int
    total: int


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: HttpUrl = Field(
        description="http(s), no credentials, resolving to public addresses only (422 otherwise)"
    )
    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT_DESCRIPTION)


class WebhookPublic(BaseModel):
    """The registration's answer: the only place its secret is ever shown."""

    department: str
    url: str
    secret: str = Field(
        description="HMAC-SHA256 key for X-PRT-Signature; shown in this answer only (and to a "
        "retry with the same Idempotency-Key), stored nowhere"
    )
    registered_at: str
    webhook_id: str
    event_id: str


class WebhookRegistrationPublic(BaseModel):
    """The registration in force, without its secret."""

    department: str
    webhook_id: str
    url: str
    registered_at: datetime


class WebhookRemovedPublic(BaseModel):
    department: str
    webhook_id: str
    event_id: str


class RulePublic(BaseModel):
    rule_id: str
    version: str
    name: str
    legal_basis: str
    applies_to: str
    behaviour_type: BehaviourType
    severity: Severity
    parameters: dict[str, Any]
    reports_filed: int


class HeldNoShowPublic(BaseModel):
    """A qualifying no-show whose report waits until the committee is unsealed: by the award,
    or by the trade's termination when no award will come."""

    rule_id: str
    expert_pseudonym: str = Field(description="The expert's supervision pseudonym.")
    evaluation_id: str
    project_id: str
    no_show_at: datetime


class DetectionStatusPublic(BaseModel):
    rules: list[RulePublic]
    price_history_sections: int
    recently_not_applied: list[dict[str, str]]
    held_until_award: list[HeldNoShowPublic] = Field(
        description="Expert no-shows that qualify for PRT-EXP-001, held until their "
        "evaluation's committee is unsealed: by the award (招标投标法 第三十七条), or by the "
        "trade's termination (流标/终止) when no award will come."
    )
