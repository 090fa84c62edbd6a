"""Request and response bodies of intake's API (separate Create and Public shapes).

Amounts are integer fen (分): ``strict`` refuses 12.5 and "1250", and none may exceed
``MAX_AMOUNT_FEN`` (10^15 fen, 10万亿元). Times are instants with an offset (e.g.
``2023-05-04T09:30:00+08:00``) between 2015-01-01 and 2100-12-31, China time (``EARLIEST_INSTANT``,
``LATEST_INSTANT``): the platform's records start in 2015, and a date outside that span is a typo
(0001-01-01, 9999-12-31) that the event's Timestamp could not even carry.

Each request is also bounded in what it carries, so that its event stays far below the
``MAX_EVENT_BYTES`` (1 MB) a consumer accepts: names of documents and parties at most
``NAME_MAX`` (200) characters, codes ``CODE_MAX`` (64), free text as each field says; at most
``MAX_DOCUMENTS`` (100) documents in a registration's 容缺 or a 补正, ``MAX_BID_SECTIONS`` (50)
sections, ``MAX_PARTIES`` (1,000) bidders opened or ruled out in one step and ``MAX_CANDIDATES``
(50) candidates. The largest body these allow encodes to well under 1 MB; the routes still
measure the encoded event before publishing (``event_too_large``, 413).
"""

from __future__ import annotations

import ipaddress
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
    model_validator,
)

from services.intake.domain.lifecycle import ProjectState, Step
from services.intake.domain.registration import Category, ContractType, TradingMethod
from services.intake.domain.trading_rules import PassedOverReason
from services.platform_core.credit_code import credit_code_problem
from services.platform_core.http.business_time import OCCURRED_AT_DESCRIPTION
from services.platform_core.money import MAX_AMOUNT_FEN
from services.platform_core.telephone import without_notation

CHINA = ZoneInfo("Asia/Shanghai")
# The span of instants a request may state (China time): the platform's records start in 2015
# (as backfill's earliest occurred_at), and nothing it plans reaches beyond 2100.
EARLIEST_INSTANT = datetime(2015, 1, 1, tzinfo=CHINA)
LATEST_INSTANT = datetime(2100, 12, 31, 23, 59, 59, 999999, tzinfo=CHINA)

# What one request may carry (see the module docstring).
NAME_MAX = 200  # a document's or a party's name
CODE_MAX = 64  # a bid section's code, an evaluation's id, a region or department code
REASON_MAX = 200  # why a bidder was ruled out
MAX_DOCUMENTS = 100  # documents missing (容缺) or supplied (补正) in one request
MAX_BID_SECTIONS = 50  # bid sections registered or named by one step
MAX_PARTIES = 1000  # bidders opened or ruled out by one step
MAX_CANDIDATES = 50  # candidates publicised in one step (and so the highest rank)

MAX_AMOUNT_IN_WORDS = f"{MAX_AMOUNT_FEN} fen (10^15 fen = 10万亿元 = 10亿万元)"


def _within_ceiling(fen: int) -> int:
    if fen > MAX_AMOUNT_FEN:
        raise ValueError(
            f"at most {MAX_AMOUNT_IN_WORDS}: far above any single trade, so an amount above it "
            "is a unit slip (fen are 分: 1 元 is 100 fen)"
        )
    return fen


Fen = Annotated[
    StrictInt,
    Field(ge=0, description=f"amount in integer fen (分), zero up to {MAX_AMOUNT_IN_WORDS}"),
    AfterValidator(_within_ceiling),
]
BudgetFen = Annotated[
    StrictInt,
    Field(description=f"amount in integer fen (分), at most {MAX_AMOUNT_IN_WORDS}"),
    AfterValidator(_within_ceiling),
]
AwareDatetime = Annotated[datetime, Field(description="an instant with its UTC offset")]
DocumentName = Annotated[str, Field(max_length=NAME_MAX)]
SectionCode = Annotated[str, Field(max_length=CODE_MAX)]


def _credit_code(code: str) -> str:
    problem = credit_code_problem(code)
    if problem:
        raise ValueError(f"not a unified social credit code: {problem}")
    return code


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("give the UTC offset, e.g. 2023-05-04T09:30:00+08:00")
    # Aware datetimes compare without converting (0001-01-01T00:00+08:00 has no UTC form).
    if not EARLIEST_INSTANT <= moment <= LATEST_INSTANT:
        raise ValueError(
            f"between {EARLIEST_INSTANT.date().isoformat()} and "
            f"{LATEST_INSTANT.date().isoformat()} (China time): the platform's records start "
            "in 2015"
        )
    return moment


CreditCode = Annotated[
    str,
    AfterValidator(_credit_code),
    Field(
        description="统一社会信用代码 with a valid check character", examples=["91110000600037341L"]
    ),
]
Instant = Annotated[AwareDatetime, AfterValidator(_aware)]
# Checked by business_time() in the route, which names who may state it and why a time is refused.
OccurredAt = Annotated[datetime | None, Field(description=OCCURRED_AT_DESCRIPTION)]


class StepCreate(BaseModel):
    """A lifecycle step's body; backfill keys may say when the step happened."""

    model_config = ConfigDict(extra="forbid")

    occurred_at: OccurredAt = None


class TenderObligationCreate(StepCreate):
    """依法必须招标 as the approved tender plan (招标方案核准) says, declared or corrected before
    the first announcement; it replaces what the registration recorded or intake derived."""

    tender_required_by_law: bool
    basis: str = Field(
        min_length=1,
        max_length=500,
        description="on what ground: the approval's document number (核准文号), or why the "
        "project is not one that must be tendered",
        examples=["济发改核准〔2023〕12号", "企业自有资金建设, 不属于必须招标的项目范围"],
    )


class OrganisationIn(BaseModel):
    """An organisation in a registration: its code is checked with the registration's rules."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["济南城市建设集团有限公司"])
    credit_code: str = Field(
        description="统一社会信用代码: 18 characters with a valid check character",
        examples=["91110000600037341L"],
    )


class PartyIn(BaseModel):
    """A trading party (bidder, winner, payee); the credit code is checked on arrival."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["山东黄河建工集团有限公司"])
    credit_code: CreditCode


class BidSectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bid_section_code: str = Field(min_length=1, max_length=64, examples=["001"])
    name: str = Field(min_length=1, max_length=300, examples=["一标段 施工"])
    budget_fen: BudgetFen
    contract_type: ContractType | None = Field(
        default=None,
        description="what the section contracts for: CONSTRUCTION 施工, GOODS 与工程建设有关的"
        "重要设备、材料等货物, SERVICES 勘察、设计、监理等服务 (发改委令第16号 art. 5 sets the "
        "thresholds of 依法必须招标 by it); an engineering section that does not say is taken "
        "as CONSTRUCTION",
        examples=["CONSTRUCTION"],
    )


class DeficiencyIn(BaseModel):
    """容缺受理: accepted with documents missing, to be supplied within working days."""

    model_config = ConfigDict(extra="forbid")

    missing_documents: list[DocumentName] = Field(
        min_length=1, max_length=MAX_DOCUMENTS, examples=[["建设工程规划许可证"]]
    )
    supplement_working_days: int = Field(
        ge=1, le=60, description="Chinese working days (法定节假日 off, 调休 on)", examples=[5]
    )


class ProjectCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "tender_project_code": "Z3701130000000001",
                    "name": "长清区文昌街道老旧小区改造工程",
                    "category": "HOUSING",
                    "region_code": "370113",
                    "tenderer": {
                        "name": "济南市长清区住房和城乡建设局",
                        "credit_code": "91110000600037341L",
                    },
                    "agency": {
                        "name": "山东泉城招标代理有限公司",
                        "credit_code": "91110000600037341L",
                    },
                    "budget_fen": 1_250_000_000,
                    "trading_method": "OPEN_TENDER",
                    "bid_sections": [
                        {
                            "bid_section_code": "001",
                            "name": "施工",
                            "budget_fen": 1_250_000_000,
                            "contract_type": "CONSTRUCTION",
                        }
                    ],
                    "key_project": True,
                    "green_channel": True,
                    "deficiency": {
                        "missing_documents": ["建设工程规划许可证"],
                        "supplement_working_days": 5,
                    },
                    "commitment_pledged": True,
                    "tender_required_by_law": True,
                }
            ]
        },
    )

    tender_project_code: str | None = Field(
        default=None, max_length=64, description="TENDER_PROJECT_CODE of the national standard"
    )
    unified_deal_code: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Za-z-]{6,64}$",
        description="统一交易标识码; assigned by intake when absent; unique",
    )
    name: str = Field(min_length=1, max_length=300)
    category: Category
    region_code: str = Field(
        max_length=CODE_MAX, description="GB/T 2260 region code, e.g. 370113 长清区"
    )
    tenderer: OrganisationIn
    agency: OrganisationIn | None = None
    supervise_dept_code: str | None = Field(
        default=None,
        max_length=CODE_MAX,
        description="SUPERVISE_DEPT_CODE; derived from the category when absent",
    )
    budget_fen: BudgetFen
    trading_method: TradingMethod = TradingMethod.OPEN_TENDER
    bid_sections: list[BidSectionIn] | None = Field(
        default=None,
        max_length=MAX_BID_SECTIONS,
        description="one section with the whole budget when absent",
    )
    key_project: bool = Field(default=False, description="重点项目")
    green_channel: bool = Field(default=False, description="绿色通道; key projects only")
    deficiency: DeficiencyIn | None = Field(default=None, description="容缺受理")
    commitment_pledged: bool = Field(default=False, description="告知承诺")
    tender_required_by_law: bool | None = Field(
        default=None,
        description="依法必须招标, as the approved tender plan (招标方案核准) states it: binds "
        "the tender to a bidding period of at least 20 days (招标投标法 art. 24). When absent, "
        "intake derives it: true for an open or invited tender of an engineering category "
        "(房建, 市政, 交通, 水利, 园林绿化) whose sections of one contract type reach together "
        "施工 400万元, 货物 200万元 or 服务 100万元 (国家发展改革委令第16号 art. 5: procurements "
        "of one project made together count together), false otherwise. Government "
        "procurement tenders keep "
        "20 days whatever it says (政府采购法 art. 35)",
        examples=[True],
    )
    occurred_at: OccurredAt = None


class PartyPublic(BaseModel):
    name: str = Field(examples=["山东黄河建工集团有限公司"])
    credit_code: str = Field(examples=["91110000600037341L"])


class DealPublic(BaseModel):
    party: PartyPublic = Field(description="中标人 or the trade's counterparty (受让方)")
    amount_fen: int = Field(description="中标/成交金额, integer fen")
    at: datetime = Field(description="when the award or completion took effect")


class SectionPublic(BaseModel):
    """One bid section (标段/包): its own place in the lifecycle."""

    bid_section_code: str
    state: ProjectState
    allowed_next_steps: list[Step] = Field(description="the trading steps this section allows")
    submission_deadline: datetime | None = Field(
        default=None,
        description="投标截止时间 as announced: bids after it are refused, bids are opened at it",
    )
    publicity_ends_at: datetime | None = Field(
        default=None, description="end of the candidates' publicity: the award waits for it"
    )
    bids_received: int | None = Field(
        default=None,
        description="how many bidders bid: told from the bid opening on (before it, even their "
        "number stays confidential, 招标投标法 art. 22); null before",
    )
    evaluation_id: str | None = Field(
        default=None, description="the remote evaluation (远程异地评标) that evaluated it, if any"
    )
    deal: DealPublic | None = Field(
        default=None,
        description="成交: the award's winner (中标人) and amount, or a completed trade's "
        "counterparty; null until then",
    )


class ProjectPublic(BaseModel):
    project_id: str
    unified_deal_code: str
    name: str
    category: Category
    region_code: str
    registering_department: str
    supervise_dept_code: str
    tenderer_name: str
    tenderer_credit_code: str
    budget_fen: int
    trading_method: TradingMethod | None = Field(
        description="the registered trading method (null for a record that predates it)"
    )
    key_project: bool
    green_channel: bool
    commitment_pledged: bool
    tender_required_by_law: bool | None = Field(
        description="依法必须招标: its tenders keep a bidding period of at least 20 days (null for "
        "a record that predates it)"
    )
    tender_obligation_derived: bool = Field(
        description="true when intake derived tender_required_by_law from the section budgets "
        "because the registering department did not state it"
    )
    registered_at: datetime
    state: ProjectState
    version: int
    outstanding_documents: list[str]
    supplement_deadline: date | None = Field(
        description="容缺: the last day to supply the outstanding documents (补正); null without "
        "容缺, once every document is supplied, and while the deadline is pending"
    )
    supplement_working_days: int | None = Field(
        description="容缺: the Chinese working days given, counted from the day after the "
        "registration's China date (null without 容缺, and for registrations that predate it)"
    )
    supplement_deadline_pending: bool = Field(
        description="容缺 accepted before the working-day calendar covered the deadline: no "
        "deadline yet, so none can be breached; set (DeficiencyDeadlineSet) once it does"
    )
    supplement_deadline_pending_reason: str | None = Field(
        description="why the deadline is pending, in words (null when it is not)"
    )
    deadline_breached: bool
    allowed_next_steps: list[Step] = Field(
        description="what may be asked for now: the steps any open section allows, and the "
        "project steps (补正, historical refunds) its state allows"
    )
    sections: list[SectionPublic] = Field(
        description="the bid sections, each moving through the lifecycle on its own; the "
        "project's state is its least advanced open section's (or, when all are final, the "
        "deal or the termination)"
    )


class RegistrationAccepted(ProjectPublic):
    event_id: str


class HistoryEntry(BaseModel):
    event_id: str
    type: str
    step: Step
    occurred_at: datetime
    actor_department: str
    state_after: ProjectState
    bid_section_codes: list[str] = Field(
        description="the sections the step named; empty: every open section, or a project step"
    )


class ProjectDetail(ProjectPublic):
    history: list[HistoryEntry]


class ProjectList(BaseModel):
    projects: list[ProjectPublic]
    next_offset: int | None
    total: int | None = Field(
        default=None, description="how many projects match in all (asked with with_total=true)"
    )


class StepAccepted(BaseModel):
    project_id: str
    event_id: str
    step: Step
    state: ProjectState
    allowed_next_steps: list[Step]
    sections: list[SectionPublic]


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
    )
    location: str = Field(
        min_length=1, max_length=500, examples=["docstore://jyzx/2023/05/zbwj-001.pdf"]
    )
    media_type: str = Field(default="", max_length=255, examples=["application/pdf"])


def _mac(value: str) -> str:
    parts = value.replace("-", ":").upper().split(":")
    if len(parts) != 6 or any(
        len(p) != 2 or not all(c in "0123456789ABCDEF" for c in p) for p in parts
    ):
        raise ValueError("a MAC address reads AA:BB:CC:DD:EE:FF")
    return ":".join(parts)


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        raise ValueError("an IPv4 or IPv6 address, e.g. 10.12.0.7") from exc


def _phone(value: str) -> str:
    """A telephone number as digits only: 0531-8888 6666, (0531)88886666 and +86 0531 8888 6666
    are one number. Mobile numbers have 11 digits, landlines 7 to 8 with a 3- or 4-digit area
    code (which may be left out)."""
    digits = without_notation(value)
    if not (digits.isascii() and digits.isdigit()) or not 7 <= len(digits) <= 12:
        raise ValueError(
            "a telephone number of 7 to 12 digits, e.g. 13812345678 or 0531-88886666 "
            "(spaces, hyphens, brackets and a +86 prefix are allowed)"
        )
    return digits


class FingerprintIn(BaseModel):
    """The bid file's fingerprint from the e-bidding system (read by collusion detection)."""

    model_config = ConfigDict(extra="forbid")

    cpu_id: str = Field(min_length=1, max_length=128, examples=["BFEBFBFF000906EA"])
    disk_serial: str = Field(min_length=1, max_length=128, examples=["WD-WCC6Y3LX0123"])
    mac_address: Annotated[str, AfterValidator(_mac)] = Field(examples=["3C:7C:3F:1A:2B:4D"])
    ip_address: Annotated[str, AfterValidator(_ip)] = Field(examples=["10.12.0.7"])
    document_md5: str = Field(
        pattern=r"^[0-9a-f]{32}$", examples=["0cc175b9c0f1b6a831c399e269772661"]
    )


class SectionsScope(StepCreate):
    model_config = ConfigDict(extra="forbid")

    bid_section_codes: list[SectionCode] = Field(
        default_factory=list,
        max_length=MAX_BID_SECTIONS,
        description="sections concerned; empty means all",
    )


class PrePublicationCreate(SectionsScope):
    """招标文件预公示."""

    document: EvidenceIn
    comments_close_at: Instant


class AnnouncementCreate(SectionsScope):
    """招标公告 / 出让公告 / 挂牌公告."""

    title: str = Field(
        min_length=1, max_length=300, examples=["长清区文昌街道老旧小区改造工程招标公告"]
    )
    announcement: EvidenceIn
    submission_deadline: Instant
    opening_at: Instant


class BidCreate(StepCreate):
    """A bid submitted through the e-bidding system, with its file fingerprint."""

    model_config = ConfigDict(extra="forbid")

    bidder: PartyIn
    bid_section_code: str = Field(min_length=1, max_length=CODE_MAX, examples=["001"])
    bid_price_fen: Fen
    fingerprint: FingerprintIn
    deposit_account: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="account the deposit was paid from; required when deposit_fen is above 0, "
        "may be left out when no deposit was paid (waived, or covered by a guarantee)",
        examples=["37001618801050123456"],
    )
    deposit_fen: Fen = 0
    project_manager_certificate_no: str = Field(
        default="", max_length=64, examples=["鲁137060812345"]
    )
    bidder_address: str = Field(
        default="",
        max_length=200,
        description="the bidder's address as its bid states it (shared-address check, R044)",
        examples=["济南市历下区经十路12345号"],
    )
    bidder_contact_phone: Annotated[str, AfterValidator(_phone)] | None = Field(
        default=None,
        description="the contact telephone its bid states (shared-contact check, R044)",
        examples=["0531-88886666"],
    )

    @model_validator(mode="after")
    def _deposit_paid_from_an_account(self) -> BidCreate:
        # A deposit paid came from an account (the shared-account check reads it); a bid that
        # paid none has none to name.
        if self.deposit_fen > 0 and self.deposit_account is None:
            raise ValueError(
                "deposit_account: name the account the deposit was paid from (deposit_fen is "
                f"{self.deposit_fen}); leave it out only when no deposit was paid (deposit_fen 0)"
            )
        return self


class BidOpeningCreate(StepCreate):
    model_config = ConfigDict(extra="forbid")

    bid_section_code: str = Field(min_length=1, max_length=CODE_MAX, examples=["001"])
    opened_bidder_codes: list[CreditCode] = Field(default_factory=list, max_length=MAX_PARTIES)


class DisqualificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bidder_code: CreditCode
    reason: str = Field(min_length=1, max_length=REASON_MAX, examples=["投标保证金未按要求缴纳"])


class EvaluationCreate(StepCreate):
    model_config = ConfigDict(extra="forbid")

    bid_section_code: str = Field(min_length=1, max_length=CODE_MAX, examples=["001"])
    evaluation_id: str = Field(
        default="", max_length=CODE_MAX, description="the remote evaluation, if any"
    )
    disqualifications: list[DisqualificationIn] = Field(
        default_factory=list, max_length=MAX_PARTIES
    )
    report: EvidenceIn


class CandidateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rank: int = Field(ge=1, le=MAX_CANDIDATES)
    bidder: PartyIn
    bid_price_fen: Fen


class CandidatesCreate(StepCreate):
    model_config = ConfigDict(extra="forbid")

    bid_section_code: str = Field(min_length=1, max_length=CODE_MAX, examples=["001"])
    candidates: list[CandidateIn] = Field(min_length=1, max_length=MAX_CANDIDATES)
    publicity_ends_at: Instant

    @field_validator("candidates")
    @classmethod
    def _ranks_unique(cls, candidates: list[CandidateIn]) -> list[CandidateIn]:
        # The committee ranks its candidates (实施条例 art. 53); who is first decides the award
        # of a project bound to tender (art. 55), so two candidates cannot share a rank.
        ranks = [c.rank for c in candidates]
        shared = sorted({r for r in ranks if ranks.count(r) > 1})
        if shared:
            raise ValueError(f"ranks must differ: {', '.join(map(str, shared))} given twice")
        return candidates


class AwardCreate(StepCreate):
    model_config = ConfigDict(extra="forbid")

    bid_section_code: str = Field(min_length=1, max_length=CODE_MAX, examples=["001"])
    winner: PartyIn
    amount_fen: Fen
    passed_over_reason: PassedOverReason | None = Field(
        default=None,
        description="when the winner is not the first-ranked candidate of a project that must "
        "by law be tendered: why the candidates ranked above it do not win (招标投标法实施条例 "
        "art. 55): GAVE_UP 放弃中标, FORCE_MAJEURE 因不可抗力不能履行合同, "
        "NO_PERFORMANCE_SECURITY 不按照招标文件要求提交履约保证金, UNLAWFUL_CONDUCT 被查实存在"
        "影响中标结果的违法行为",
    )


class TransactionCreate(StepCreate):
    """成交; property rights record whether the trade was on the platform."""

    model_config = ConfigDict(extra="forbid")

    bid_section_code: str = Field(default="", max_length=CODE_MAX)
    counterparty: PartyIn
    amount_fen: Fen
    on_platform: bool = True


class DepositReliefKind(StrEnum):
    WAIVED = "WAIVED"  # 免收
    REDUCED = "REDUCED"  # 减收


class DepositReliefCreate(StepCreate):
    model_config = ConfigDict(extra="forbid")

    bid_section_code: str = Field(default="", max_length=CODE_MAX)
    bidder: PartyIn | None = None
    kind: DepositReliefKind
    amount_saved_fen: Fen


class HistoricalRefundCreate(StepCreate):
    model_config = ConfigDict(extra="forbid")

    payee: PartyIn
    amount_fen: Fen
    paid_at: Instant


class SupplementCreate(StepCreate):
    model_config = ConfigDict(extra="forbid")

    supplemented_documents: list[DocumentName] = Field(
        min_length=1, max_length=MAX_DOCUMENTS, examples=[["建设工程规划许可证"]]
    )
    documents: list[EvidenceIn] = Field(default_factory=list, max_length=MAX_DOCUMENTS)


class TerminationReason(StrEnum):
    FAILED_TENDER = "FAILED_TENDER"  # 流标
    TERMINATED = "TERMINATED"  # 终止


class TerminationCreate(StepCreate):
    model_config = ConfigDict(extra="forbid")

    bid_section_code: str = Field(default="", max_length=CODE_MAX)
    reason: TerminationReason
    explanation: str = Field(
        min_length=1, max_length=2000, examples=["有效投标人不足三家,依法流标"]
    )


class CatalogueEntry(BaseModel):
    code: str
    name: str
    regions: list[str]
    categories: list[Category]


class CataloguePublic(BaseModel):
    default: CatalogueEntry
    regional: list[CatalogueEntry]


def json_body(model: BaseModel) -> dict[str, Any]:
    """The body as JSON values, for the idempotency fingerprint."""
    return model.model_dump(mode="json")
