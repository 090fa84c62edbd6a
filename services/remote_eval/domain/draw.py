"""The verifiable random draw (随机抽取): same recorded inputs and seed, same experts.

The randomness is a SHA-256 counter stream over the recorded seed, so an auditor can repeat a
draw in any language without our Python version's PRNG: value_i = SHA-256(seed || i as 8 bytes
big-endian) read as a big-endian integer, rejection-sampled to be uniform below n. Candidates
are always considered in expert-id order, and every choice the algorithm makes is recorded in
:data:`ALGORITHM_VERSION`'s description below, so the inputs fully decide the result.

Placement: items (one per expert to draw) are taken scarcest first (fewest eligible candidates
over all venues, then request order). Each goes to the main venue while its quota lasts and it
has a candidate there, else to a secondary venue — one already used by the committee first, then
in the venues' recorded order — that has quota left and a candidate. Within the chosen venue's
pool, one eligible candidate is drawn uniformly. A candidate is eligible for an item when kind
and specialty match, they are not on the committee already, and no committee member has the
same employer. Required venues first receive the scarcest item they can take.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from services.remote_eval.domain.model import Assignment, Expert, ExpertKind, VenueRole

ALGORITHM_VERSION = "prt-draw/1 sha256-counter scarcest-first"


class DrawRandom:
    """Uniform integers from a SHA-256 counter stream over the seed."""

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._counter = 0

    def below(self, n: int) -> int:
        if n <= 0:
            raise ValueError("n must be positive")
        space = 1 << 256
        limit = space - space % n
        while True:
            block = hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            value = int.from_bytes(block, "big")
            if value < limit:
                return value % n


@dataclass(frozen=True)
class DrawItem:
    specialty_code: str
    kind: ExpertKind


@dataclass(frozen=True)
class DrawVenue:
    venue_id: str
    pool_code: str
    role: VenueRole
    max_seats: int


@dataclass(frozen=True)
class Candidate:
    """An eligible expert as the draw records them: registry id and the attributes it uses."""

    expert_id: str
    pool_code: str
    kind: ExpertKind
    specialties: tuple[str, ...]
    employer_code: str

    @classmethod
    def of(cls, expert: Expert) -> Candidate:
        return cls(
            expert.expert_id,
            expert.pool_code,
            expert.kind,
            tuple(sorted(expert.specialties)),
            expert.employer_code,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "expert_id": self.expert_id,
            "pool_code": self.pool_code,
            "kind": self.kind._value_,
            "specialties": list(self.specialties),
            "employer_code": self.employer_code,
        }

    def fits(self, item: DrawItem) -> bool:
        return self.kind is item.kind and item.specialty_code in self.specialties


@dataclass(frozen=True)
class DrawInputs:
    """Everything a draw depends on besides the seed; recorded for the draw proof."""

    items: tuple[DrawItem, ...]
    venues: tuple[DrawVenue, ...]
    main_quota: int
    secondary_quota: int
    candidates: tuple[Candidate, ...]  # sorted by expert id
    excluded_expert_ids: tuple[str, ...] = ()  # already involved in this evaluation
    committee_employer_codes: tuple[str, ...] = ()  # employers of members who stay
    required_venue_ids: tuple[str, ...] = ()

    def to_json(self, *, candidates: bool = True) -> dict[str, Any]:
        # Written out by hand: dataclasses.asdict deep-copies and is 20x slower on big pools.
        return {
            "items": [
                {"specialty_code": i.specialty_code, "kind": i.kind.value} for i in self.items
            ],
            "venues": [
                {
                    "venue_id": v.venue_id,
                    "pool_code": v.pool_code,
                    "role": v.role.value,
                    "max_seats": v.max_seats,
                }
                for v in self.venues
            ],
            "main_quota": self.main_quota,
            "secondary_quota": self.secondary_quota,
            "candidates": [c.to_json() for c in self.candidates] if candidates else None,
            "excluded_expert_ids": list(self.excluded_expert_ids),
            "committee_employer_codes": list(self.committee_employer_codes),
            "required_venue_ids": list(self.required_venue_ids),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DrawInputs:
        return cls(
            items=tuple(
                DrawItem(i["specialty_code"], ExpertKind(i["kind"])) for i in data["items"]
            ),
            venues=tuple(
                DrawVenue(v["venue_id"], v["pool_code"], VenueRole(v["role"]), v["max_seats"])
                for v in data["venues"]
            ),
            main_quota=data["main_quota"],
            secondary_quota=data["secondary_quota"],
            # None in a state's draw: the candidates are kept once, apart (candidate_pool_json).
            candidates=candidates_from_json(data["candidates"] or []),
            excluded_expert_ids=tuple(data["excluded_expert_ids"]),
            committee_employer_codes=tuple(data["committee_employer_codes"]),
            required_venue_ids=tuple(data["required_venue_ids"]),
        )

    def with_candidates(self, candidates: tuple[Candidate, ...]) -> DrawInputs:
        """The inputs with the candidates of the pool a stored draw names by its hash (an
        evaluation's state keeps each pool once, apart, not in every draw)."""
        return replace(self, candidates=candidates)


def candidates_from_json(data: list[dict[str, Any]]) -> tuple[Candidate, ...]:
    return tuple(
        Candidate(
            c["expert_id"],
            c["pool_code"],
            ExpertKind(c["kind"]),
            tuple(c["specialties"]),
            c["employer_code"],
        )
        for c in data
    )


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _digest(value: Any) -> str:
    return hashlib.sha256(_canonical(value)).hexdigest()


def candidate_pool_json(candidates: tuple[Candidate, ...]) -> bytes:
    """The candidates' canonical JSON: the bytes :func:`candidate_pool_sha256` hashes, so a
    stored pool is checked against the hash a draw recorded with nothing but SHA-256."""
    return _canonical([candidate.to_json() for candidate in candidates])


def candidates_from_pool_json(raw: bytes) -> tuple[Candidate, ...]:
    return candidates_from_json(json.loads(raw))


def candidate_pool_sha256(candidates: tuple[Candidate, ...]) -> str:
    return hashlib.sha256(candidate_pool_json(candidates)).hexdigest()


def inputs_sha256(inputs: DrawInputs, pool_sha256: str | None = None) -> str:
    """SHA-256 of the canonical inputs, the candidates standing in by their pool's hash."""
    data = inputs.to_json(candidates=False)
    data["candidates"] = pool_sha256 or candidate_pool_sha256(inputs.candidates)
    return _digest(data)


@dataclass(frozen=True)
class DrawShortage:
    """The draw could not place an item: no venue with quota has an eligible candidate."""

    item: DrawItem
    venue_ids: tuple[str, ...]


@dataclass(frozen=True)
class DrawResult:
    assignments: tuple[Assignment, ...]
    seats_by_venue: tuple[tuple[str, int], ...]  # venues used, in recorded order


def run_draw(inputs: DrawInputs, seed: bytes) -> DrawResult | DrawShortage:
    """The draw itself: pure and deterministic in (inputs, seed)."""
    rng = DrawRandom(seed)
    excluded = set(inputs.excluded_expert_ids)
    employers = set(inputs.committee_employer_codes)
    by_pool: dict[tuple[str, ExpertKind, str], list[Candidate]] = {}
    for candidate in sorted(inputs.candidates, key=lambda c: c.expert_id):
        for specialty in candidate.specialties:
            by_pool.setdefault((candidate.pool_code, candidate.kind, specialty), []).append(
                candidate
            )
    used: dict[str, int] = {}
    main_left = inputs.main_quota
    secondary_left = inputs.secondary_quota
    assignments: list[Assignment] = []

    def eligible(venue: DrawVenue, item: DrawItem) -> list[Candidate]:
        return [
            c
            for c in by_pool.get((venue.pool_code, item.kind, item.specialty_code), ())
            if c.expert_id not in excluded and c.employer_code not in employers
        ]

    def has_quota(venue: DrawVenue) -> bool:
        if used.get(venue.venue_id, 0) >= venue.max_seats:
            return False
        return main_left > 0 if venue.role is VenueRole.MAIN else secondary_left > 0

    def place(venue: DrawVenue, item: DrawItem, pool: list[Candidate]) -> None:
        nonlocal main_left, secondary_left
        chosen = pool[rng.below(len(pool))]
        excluded.add(chosen.expert_id)
        employers.add(chosen.employer_code)
        used[venue.venue_id] = used.get(venue.venue_id, 0) + 1
        if venue.role is VenueRole.MAIN:
            main_left -= 1
        else:
            secondary_left -= 1
        assignments.append(
            Assignment(
                chosen.expert_id,
                chosen.pool_code,
                venue.venue_id,
                item.specialty_code,
                item.kind,
                chosen.employer_code,
            )
        )

    def scarcity(indexed: tuple[int, DrawItem]) -> tuple[int, int]:
        index, item = indexed
        total = sum(len(eligible(v, item)) for v in inputs.venues)
        return (total, index)

    pending = [item for _, item in sorted(enumerate(inputs.items), key=scarcity)]
    for required_id in inputs.required_venue_ids:
        venue = next((v for v in inputs.venues if v.venue_id == required_id), None)
        if venue is None or not has_quota(venue):
            continue
        for position, item in enumerate(pending):
            pool = eligible(venue, item)
            if pool:
                place(venue, item, pool)
                del pending[position]
                break

    for item in pending:
        options = [v for v in inputs.venues if has_quota(v) and eligible(v, item)]
        main = [v for v in options if v.role is VenueRole.MAIN]
        opened = [v for v in options if v.role is VenueRole.SECONDARY and v.venue_id in used]
        fresh = [v for v in options if v.role is VenueRole.SECONDARY and v.venue_id not in used]
        ordered = main + opened + fresh
        if not ordered:
            return DrawShortage(item, tuple(v.venue_id for v in inputs.venues if has_quota(v)))
        place(ordered[0], item, eligible(ordered[0], item))
    seats = tuple((v.venue_id, used[v.venue_id]) for v in inputs.venues if v.venue_id in used)
    return DrawResult(tuple(assignments), seats)
