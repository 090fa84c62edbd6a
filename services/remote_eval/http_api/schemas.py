"""Request and response bodies. Create models validate input; Public models never carry an
expert's name, phone or ID number (only the check-in and unsealed-committee bodies do)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator

from services.platform_core.credit_code import credit_code_problem
from services.platform_core.http.business_time import OCCURRED_AT_DESCRIPTION
from services.platform_core.money import MAX_AMOUNT_FEN
from services.remote_eval.domain.model import (
    EARLIEST_SLOT_DAY,
    LATEST_SLOT_DAY,
    ExpertKind,
    HalfDay,
    Slot,
)

# The days a slot may fall on where a request gives one (an evaluation asked for, a seat offered,
# an expert marked away): 2015-01-01 to 2100-12-31, wide enough for backfilled history and
# anything planned ahead. Outside is a slip or a probe (0001-01-01, 9999-12-31), and near the
# calendar's ends the scheduler's date arithmetic leaves the dates Python can represent: such a
# request was accepted (202) and then failed in the worker, and a capacity query for one was a
# 500. The range is the domain's, which the stream side enforces on the log too, so what the
# API accepts the worker can plan.
EARLIEST_SLOT, LATEST_SLOT = EARLIEST_SLOT_DAY, LATEST_SLOT_DAY
SLOT_RANGE = f"slot dates run from {EARLIEST_SLOT.isoformat()} to {LATEST_SLOT.isoformat()}"


def _slot_day_in_range(day: date) -> date:
    if not EARLIEST_SLOT <= day <= LATEST_SLOT:
        raise ValueError(f"{SLOT_RANGE}, not {day.isoformat()}")
    return day


SlotDay = Annotated[date, AfterValidator(_slot_day_in_range)]
"""A slot's day given in a query: refused (422, naming the range) when outside it."""


class SlotBody(BaseModel):
    """A half-day slot as the API writes it and reads it. The range is checked where a slot is
    given (:data:`RequestedSlot`), not here: answers echo what the store holds, and an answer
    must not fail on a slot recorded before the range was enforced."""

    date: date
    half_day: Literal["AM", "PM"]

    def to_slot(self) -> Slot:
        return Slot(self.date, HalfDay(self.half_day))

    @classmethod
    def of(cls, slot: Slot) -> SlotBody:
        return cls(date=slot.day, half_day=slot.half.value)


def _slot_in_range(slot: SlotBody) -> SlotBody:
    _slot_day_in_range(slot.date)
    return slot


RequestedSlot = Annotated[
    SlotBody, AfterValidator(_slot_in_range), Field(description=f"a half-day slot; {SLOT_RANGE}")
]
"""A slot given in a request body: refused (422, naming the range) when outside it."""


class VenuePublic(BaseModel):
    venue_id: str
    name: str
    owner_code: str
    region_code: str
    default_seats: int
    fee_fen: int


class CapacityCreate(BaseModel):
    slot: RequestedSlot
    seats: int = Field(ge=0, le=500, description="seats offered in the slot; 0 withdraws")
    fee_fen: int = Field(
        ge=0,
        le=MAX_AMOUNT_FEN,
        description=f"fee per seat for the half day, in fen (0 to {MAX_AMOUNT_FEN})",
    )
    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT_DESCRIPTION)


class CapacityAccepted(BaseModel):
    venue_id: str
    slot: SlotBody
    seats: int
    fee_fen: int


class CapacityPublic(BaseModel):
    venue_id: str
    slot: SlotBody
    seats: int
    booked: int
    free: int
    fee_fen: int


def _check_credit_code(code: str) -> str:
    problem = credit_code_problem(code)
    if problem:
        raise ValueError(problem)
    return code


class ExpertCreate(BaseModel):
    pool_code: str = Field(min_length=6, max_length=6)
    kind: ExpertKind
    specialties: list[str] = Field(min_length=1, max_length=20)
    employer_code: str = Field(description="unified social credit code of the employer")
    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(pattern=r"^\+?[0-9-]{7,20}$")
    id_number: str = Field(pattern=r"^[0-9]{17}[0-9Xx]$", description="resident ID number")
    unavailable_slots: list[RequestedSlot] = []

    _employer = field_validator("employer_code")(_check_credit_code)


class ExpertPublic(BaseModel):
    expert_id: str
    pool_code: str
    kind: ExpertKind
    specialties: list[str]


class SpecialtyNeedBody(BaseModel):
    specialty_code: str = Field(min_length=1, max_length=20)
    kind: ExpertKind
    count: int = Field(ge=1, le=50)


# How many items a request's lists may hold. Unbounded, a request could grow its event past
# what the log takes (MAX_EVENT_BYTES): 70,000 avoided units were answered 503 "retry later",
# which no retry could ever pass. The bounds are far above real use and keep every request's
# event well under the limit: a committee has at most 99 members, so at most 99 specialty needs
# of one expert each; the partner directory has 15 regions; a section's avoided units are its
# tenderer, agency, bidders and their affiliates, a few hundred at the most.
MAX_SPECIALTY_NEEDS = 99
MAX_PARTNER_CODES = 50
MAX_AVOIDED_UNITS = 2_000
_PARTNER_CODE = Annotated[str, Field(min_length=1, max_length=20)]


class EvaluationCreate(BaseModel):
    project_id: str = Field(min_length=1, max_length=64)
    bid_section_code: str = Field(min_length=1, max_length=64)
    slot: RequestedSlot
    committee_size: int = Field(ge=1, le=99)
    specialties: list[SpecialtyNeedBody] = Field(
        min_length=1, max_length=MAX_SPECIALTY_NEEDS, description="at most 99 needs"
    )
    main_venue_id: str = Field(max_length=64)
    preferred_partner_codes: list[_PARTNER_CODE] = Field(
        default=[],
        max_length=MAX_PARTNER_CODES,
        description="partners whose venues are used first if they can take the seats; each "
        "must be able to serve the host (a partner region only the centres it signed with, "
        f"else 422 no_partner_agreement); at most {MAX_PARTNER_CODES}",
    )
    required_partner_codes: list[_PARTNER_CODE] = Field(
        default=[],
        max_length=MAX_PARTNER_CODES,
        description="partners whose venues must be used; the same agreement rule as "
        f"preferred_partner_codes; at most {MAX_PARTNER_CODES}",
    )
    avoided_unit_codes: list[str] = Field(
        default=[],
        max_length=MAX_AVOIDED_UNITS,
        description="units whose employees may not evaluate (回避), by credit code. The "
        "tenderer, agency and bidders of the section that intake has registered are avoided "
        "without being listed, and a drawn expert whose employer bids later is replaced (补抽); "
        "list here the others, and parties of trades intake does not hold; at most "
        f"{MAX_AVOIDED_UNITS}",
    )
    main_venue_experts: int | None = Field(default=None, ge=0)
    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT_DESCRIPTION)

    @field_validator("avoided_unit_codes")
    @classmethod
    def _codes(cls, codes: list[str]) -> list[str]:
        return [_check_credit_code(code) for code in codes]


class EvaluationAccepted(BaseModel):
    evaluation_id: str
    status: Literal["requested"]


MAX_REDRAW_REASON = 500


class RedrawCreate(BaseModel):
    """Asks for the committee's empty seats to be drawn again (补抽)."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "reason": "两名给排水专业专家已于12月3日入库，请对空缺席位重新补抽",
                }
            ]
        }
    }

    reason: str | None = Field(
        default=None,
        max_length=MAX_REDRAW_REASON,
        description="why, in the asker's words; recorded with the request "
        f"(at most {MAX_REDRAW_REASON} characters)",
    )
    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT_DESCRIPTION)


class RedrawAccepted(BaseModel):
    """The redraw is recorded; the scheduler draws for each empty seat (GET the evaluation for
    the outcome: the committee, unfilled_seats and failure)."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "evaluation_id": "EV-01938f6e-6c1a-7d2b-9a41-3f0c2e8b5d17",
                    "empty_seats": 2,
                    "empty_seat_pseudonyms": ["EXP-5c1e9a0b7d2f4e68", "EXP-a83f2d6e41c09b75"],
                    "status": "redraw_requested",
                }
            ]
        }
    }

    evaluation_id: str
    empty_seats: int = Field(description="seats empty when the redraw was asked")
    empty_seat_pseudonyms: list[str] = Field(
        description="the members (this evaluation's pseudonyms) whose seats are drawn again"
    )
    status: Literal["redraw_requested"]


class AllocationPublic(BaseModel):
    venue_id: str
    partner_code: str
    role: str
    seats: int
    decision: str | None = None


class MemberPublic(BaseModel):
    expert_pseudonym: str
    pool_partner_code: str
    venue_id: str
    specialty_code: str
    kind: str
    status: str


class FailurePublic(BaseModel):
    constraint: str
    detail: str
    alternative: dict[str, object] | None = None


class EvaluationPublic(BaseModel):
    evaluation_id: str
    project_id: str
    bid_section_code: str
    status: str
    slot: SlotBody | None
    allocations: list[AllocationPublic]
    expert_count: int = Field(description="the committee's size, as requested")
    committee: list[MemberPublic]
    unfilled_seats: int = Field(
        description="experts' seats left empty: a member declined, did not come or had to be "
        "avoided (回避) and no substitute could be drawn; the failure says why, and the "
        "committee cannot sit complete until the seat is filled"
    )
    replaced: list[MemberPublic]
    draws: int
    failure: FailurePublic | None
    unsealed: bool


class VenueDecisionCreate(BaseModel):
    venue_id: str
    decision: Literal["ACCEPTED", "DECLINED"]
    reason: str = Field(default="", max_length=500)
    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT_DESCRIPTION)


class ExpertAnswerCreate(BaseModel):
    confirmed: bool
    reason: Literal["UNAVAILABLE", "CONFLICT_OF_INTEREST", "NO_RESPONSE", "OTHER"] | None = None
    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT_DESCRIPTION)


class NoShowCreate(BaseModel):
    venue_id: str
    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT_DESCRIPTION)


class AnswerRecorded(BaseModel):
    evaluation_id: str
    event_type: str


class DrawPublic(BaseModel):
    index: int
    purpose: str
    seed: str
    algorithm_version: str
    candidate_pool_sha256: str
    inputs_sha256: str
    expert_ids: list[str]
    inputs: dict[str, object]


class DrawProofPublic(BaseModel):
    index: int
    identical: bool
    recorded_expert_ids: list[str]
    rerun_expert_ids: list[str]
    recorded_inputs_sha256: str
    recomputed_inputs_sha256: str
    recorded_candidate_pool_sha256: str
    recomputed_candidate_pool_sha256: str
    algorithm_version: str


class CheckInExpert(BaseModel):
    """An expert as the venue's staff check them in: the name to call, and the ID number and
    phone masked — enough to compare with the card and the person, never the whole number."""

    expert_pseudonym: str
    name: str
    phone_masked: str = Field(description="first 3 and last 4 digits: 139****5678")
    id_number_masked: str = Field(
        description="first 6 and last 4 characters of the ID-card number: 370102********012X"
    )
    specialty_code: str


class CheckInReadPublic(BaseModel):
    """One check-in list shown: who was shown identities, of which evaluation, where, when."""

    read_at: datetime
    principal_kind: str
    principal_code: str
    key_id: str
    evaluation_id: str
    venue_id: str
    identities: int = Field(description="how many experts' identities the list showed")


class CommitteeMemberNamed(BaseModel):
    pseudonym: str
    name: str
    specialty_code: str
    kind: str
    venue_id: str
    attendance: Literal["SAT", "NO_SHOW"] = Field(
        "SAT",
        description="SAT: on the committee as it sat. NO_SHOW: confirmed, did not come, "
        "replaced (补抽) — listed so a no-show report's pseudonym can be matched to a name.",
    )


class PoolExpertPublic(BaseModel):
    """An expert of a pool as the pool's owner sees it: no name, phone or ID number."""

    expert_id: str = Field(description="pseudonymous registry id")
    kind: ExpertKind
    specialties: list[str]
    employer_code: str
    active: bool
    unavailable_slots: list[SlotBody]
    unavailable_dates: list[date] = Field(description="as the pool owner last set them")


class PoolExpertPage(BaseModel):
    pool_code: str
    total: int
    offset: int
    limit: int
    experts: list[PoolExpertPublic]


class AvailabilityCreate(BaseModel):
    unavailable_dates: list[date] = Field(
        max_length=366, description="the whole list of dates the expert cannot sit (replaces it)"
    )
    occurred_at: datetime | None = Field(default=None, description=OCCURRED_AT_DESCRIPTION)


class AvailabilityAccepted(BaseModel):
    expert_id: str
    pool_code: str
    unavailable_dates: list[date]
