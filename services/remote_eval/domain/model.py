"""Remote evaluation's domain values: slots, venues, experts, requests and schedules.

Plain frozen dataclasses; protobuf stays in ``event_codec``. Experts appear here only by their
registry id (pseudonymous) and non-identifying attributes: names, phones and ID numbers live in
the sealed registry and never reach the solver.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class HalfDay(StrEnum):
    AM = "AM"  # 上午
    PM = "PM"  # 下午


# Slots the scheduler reasons about: backfilled history (the centre's records start in 2015)
# and anything planned ahead. Outside is a slip or a probe (0001-01-01, 9999-12-31): near the
# calendar's ends the scheduler's date arithmetic (the draw-frequency window before the slot,
# the nearest-alternative search after it) leaves the dates Python can represent, and one such
# request planned with others once ended the worker's agent. The API refuses the same range.
# A slot's day is a Beijing day: check-in is for today there, and a termination cancels the
# evaluations of a later day.
SHANGHAI = ZoneInfo("Asia/Shanghai")
EARLIEST_SLOT_DAY, LATEST_SLOT_DAY = date(2015, 1, 1), date(2100, 12, 31)


def slot_day_problem(day: date) -> str | None:
    """Why a slot may not fall on ``day``, or None when it may."""
    if EARLIEST_SLOT_DAY <= day <= LATEST_SLOT_DAY:
        return None
    return (
        f"slot date {day.isoformat()} is outside {EARLIEST_SLOT_DAY.isoformat()} to "
        f"{LATEST_SLOT_DAY.isoformat()}"
    )


@dataclass(frozen=True, order=True)
class Slot:
    """A half-day slot: the unit in which seats are offered and committees sit."""

    day: date
    half: HalfDay

    def key(self) -> str:
        return f"{self.day.isoformat()}-{self.half.value}"

    @classmethod
    def parse(cls, text: str) -> Slot:
        day, _, half = text.rpartition("-")
        return cls(date.fromisoformat(day), HalfDay(half))

    def shifted(self, half_days: int) -> Slot:
        """The slot ``half_days`` half-days later (earlier when negative)."""
        index = self.day.toordinal() * 2 + (0 if self.half is HalfDay.AM else 1) + half_days
        return Slot(date.fromordinal(index // 2), HalfDay.AM if index % 2 == 0 else HalfDay.PM)

    def describe(self) -> str:
        return f"{self.day.isoformat()} {'上午' if self.half is HalfDay.AM else '下午'}"


class ExpertKind(StrEnum):
    TECHNICAL = "TECHNICAL"
    ECONOMIC = "ECONOMIC"


class VenueRole(StrEnum):
    MAIN = "MAIN"  # 主场
    SECONDARY = "SECONDARY"  # 副场


@dataclass(frozen=True)
class Venue:
    venue_id: str
    name: str
    owner_code: str  # the centre or partner owning the venue; also its expert pool's code
    region_code: str


@dataclass(frozen=True)
class SeatOffer:
    """Seats a venue offers in one slot, and the fee per seat for the half day."""

    venue_id: str
    slot: Slot
    seats: int
    fee_fen: int


@dataclass(frozen=True)
class Expert:
    """An expert of a regional pool, as the solver sees them: no identity, only attributes."""

    expert_id: str  # registry id, pseudonymous
    pool_code: str  # the region / partner whose pool holds the expert
    kind: ExpertKind
    specialties: frozenset[str]
    employer_code: str  # unified social credit code of the employer
    unavailable: frozenset[Slot] = frozenset()
    active: bool = True


@dataclass(frozen=True)
class SpecialtyNeed:
    specialty_code: str
    kind: ExpertKind
    count: int


@dataclass(frozen=True)
class EvaluationRequest:
    evaluation_id: str
    host_code: str
    project_id: str
    bid_section_code: str
    slot: Slot
    committee_size: int
    needs: tuple[SpecialtyNeed, ...]
    main_venue_id: str
    preferred_partner_codes: tuple[str, ...] = ()
    required_partner_codes: tuple[str, ...] = ()
    avoided_unit_codes: frozenset[str] = frozenset()
    # Experts seated at the main venue; None: the policy's share of the experts.
    main_venue_experts: int | None = None

    @property
    def expert_count(self) -> int:
        return sum(need.count for need in self.needs)

    @property
    def representative_count(self) -> int:
        """Committee members who are not drawn: the tenderer's representatives (main venue)."""
        return self.committee_size - self.expert_count


@dataclass(frozen=True)
class SchedulingPolicy:
    # An expert drawn within this many days of the slot is not drawn again.
    recent_draw_days: int = 7
    # Share of the experts seated at the main venue when the request does not say (percent).
    main_venue_percent: int = 40
    # How many half-days after the requested slot the nearest-alternative search looks.
    alternative_horizon_half_days: int = 10
    # Seats of each venue kept for its own host's main sessions while other venues can take
    # the secondary experts (0: no reservation).
    host_reserve_seats: int = 4


@dataclass(frozen=True)
class VenueAllocation:
    venue_id: str
    partner_code: str
    role: VenueRole
    seats: int


@dataclass(frozen=True)
class Assignment:
    expert_id: str
    pool_code: str
    venue_id: str
    specialty_code: str
    kind: ExpertKind
    employer_code: str


@dataclass(frozen=True)
class MarketView:
    """What the solver knows about seats: the directory, offers and seats already booked."""

    venues: dict[str, Venue]
    offers: dict[tuple[str, Slot], SeatOffer]
    booked: dict[tuple[str, Slot], int] = field(default_factory=dict)

    def free_seats(self, venue_id: str, slot: Slot) -> int:
        offer = self.offers.get((venue_id, slot))
        if offer is None:
            return 0
        return max(0, offer.seats - self.booked.get((venue_id, slot), 0))

    def fee(self, venue_id: str, slot: Slot) -> int:
        offer = self.offers.get((venue_id, slot))
        return offer.fee_fen if offer else 0


@dataclass(frozen=True)
class ExpertHistory:
    """Where experts already sit and when they were last drawn."""

    busy: Mapping[Slot, frozenset[str]] = field(default_factory=dict)
    draw_days: Mapping[str, tuple[date, ...]] = field(default_factory=dict)

    def drawn_recently(self, expert_id: str, day: date, window_days: int) -> bool:
        drawn_days = self.draw_days.get(expert_id)
        if not drawn_days:
            return False
        window = timedelta(days=window_days)
        return any(abs(day - drawn) < window for drawn in drawn_days)


class ExpertDirectory:
    """The experts of every pool, indexed by (pool, kind, specialty) for fast screening."""

    def __init__(self, experts: Iterable[Expert]) -> None:
        self.by_id: dict[str, Expert] = {e.expert_id: e for e in experts}
        self._index: dict[tuple[str, ExpertKind, str], list[Expert]] = {}
        for expert in sorted(self.by_id.values(), key=lambda e: e.expert_id):
            for code in expert.specialties:
                self._index.setdefault((expert.pool_code, expert.kind, code), []).append(expert)

    def __len__(self) -> int:
        return len(self.by_id)

    def fitting(
        self, pools: Iterable[str], needs: Sequence[tuple[ExpertKind, str]]
    ) -> list[Expert]:
        """Experts of these pools with one of these (kind, specialty) pairs, each once."""
        found: dict[str, Expert] = {}
        for pool in sorted(set(pools)):
            for kind, code in needs:
                for expert in self._index.get((pool, kind, code), ()):
                    found.setdefault(expert.expert_id, expert)
        return list(found.values())
