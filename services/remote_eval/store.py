"""Remote evaluation's Redis state: evaluations, seat offers and bookings, experts' history.

Written only by the scheduler worker (the API reads): an evaluation's JSON and the bookings and
busy marks it implies — with the decision's outbox, applied marker and draw days — are written
in one MULTI, so a killed worker leaves either all of a decision or none. Bookings are stored
per (venue, evaluation), set not incremented, so applying the same decision twice changes
nothing. The projections can be rebuilt from the log (services.remote_eval.rebuild: the
evaluation-state changelog, venue capacity and availability events).
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from services.platform_core.redis_lease import RedisLease
from services.remote_eval.domain.conflicts import WHOLE_PROJECT, PartiesLearned
from services.remote_eval.domain.draw import (
    Candidate,
    DrawInputs,
    candidate_pool_json,
    candidates_from_pool_json,
)
from services.remote_eval.domain.model import (
    SHANGHAI,
    Assignment,
    EvaluationRequest,
    ExpertHistory,
    ExpertKind,
    MarketView,
    SeatOffer,
    Slot,
    SpecialtyNeed,
    VenueAllocation,
    VenueRole,
)
from services.remote_eval.domain.solver import DrawRecord, Schedule
from services.remote_eval.domain.timers import Deadline, DeadlineKind
from services.remote_eval.reference import venue_directory

PREFIX = "prt:remote_eval:"
OFFERS_KEY = PREFIX + "offers"
# One set per day of the experts drawn for it: a decision reads the days around its slot only
# (the draw-frequency rule looks back and forward a few days), never every draw ever made.
DRAWN_ON_PREFIX = PREFIX + "drawn-on:"
# Before: one hash of every expert's draw days (expert id -> JSON list), read whole by every
# decision. A store that still has it is moved to the sets above when the worker starts.
LEGACY_DRAW_DAYS_KEY = PREFIX + "draw-days"
OUTBOX_KEY = PREFIX + "outbox"
# Outbox records the broker refused (too large) or consumers would (over MAX_EVENT_BYTES), by
# outbox name: kept for an operator instead of retried before every decision forever.
SET_ASIDE_OUTBOX_KEY = PREFIX + "outbox-set-aside"
# project|section (or project| for the whole project) -> how and when its trade ended.
TRADES_ENDED_KEY = PREFIX + "trades-ended"
# The candidates of draws, by candidate_pool_sha256 (gzip of their canonical JSON): kept once,
# not in every draw of every state. A projection of the DrawCandidatePoolRecorded records.
DRAW_POOL_PREFIX = PREFIX + "draw-pool:"
DEADLINES_KEY = PREFIX + "deadlines"  # sorted set: deadline JSON by due epoch seconds
AVAILABILITY_KEY = PREFIX + "availability"  # expert id -> {pool_code, dates unavailable}
# Counts changes to the availability: the scheduler re-reads it only when this moved. Never
# reset (a rebuild moves it too), so a count seen once always means the same availability.
AVAILABILITY_VERSION_KEY = PREFIX + "availability-version"


def _evaluation_key(evaluation_id: str) -> str:
    return f"{PREFIX}evaluation:{evaluation_id}"


def _project_key(project_id: str, bid_section_code: str) -> str:
    return f"{PREFIX}by-project:{project_id}|{bid_section_code}"


def _parties_key(project_id: str, bid_section_code: str) -> str:
    return f"{PREFIX}parties:{project_id}|{bid_section_code}"


def _bookings_key(slot: Slot) -> str:
    return f"{PREFIX}bookings:{slot.key()}"


def _busy_key(slot: Slot) -> str:
    return f"{PREFIX}busy:{slot.key()}"


def draw_pool_key(pool_sha256: str) -> str:
    return f"{DRAW_POOL_PREFIX}{pool_sha256}"


def drawn_on_key(day: date) -> str:
    return f"{DRAWN_ON_PREFIX}{day.isoformat()}"


# ---------------------------------------------------------------------------------------------
# JSON forms


def request_to_json(request: EvaluationRequest) -> dict[str, Any]:
    return {
        "evaluation_id": request.evaluation_id,
        "host_code": request.host_code,
        "project_id": request.project_id,
        "bid_section_code": request.bid_section_code,
        "slot": request.slot.key(),
        "committee_size": request.committee_size,
        "needs": [[n.specialty_code, n.kind.value, n.count] for n in request.needs],
        "main_venue_id": request.main_venue_id,
        "preferred_partner_codes": list(request.preferred_partner_codes),
        "required_partner_codes": list(request.required_partner_codes),
        "avoided_unit_codes": sorted(request.avoided_unit_codes),
        "main_venue_experts": request.main_venue_experts,
    }


def request_from_json(data: dict[str, Any]) -> EvaluationRequest:
    return EvaluationRequest(
        evaluation_id=data["evaluation_id"],
        host_code=data["host_code"],
        project_id=data["project_id"],
        bid_section_code=data["bid_section_code"],
        slot=Slot.parse(data["slot"]),
        committee_size=data["committee_size"],
        needs=tuple(SpecialtyNeed(c, ExpertKind(k), n) for c, k, n in data["needs"]),
        main_venue_id=data["main_venue_id"],
        preferred_partner_codes=tuple(data["preferred_partner_codes"]),
        required_partner_codes=tuple(data["required_partner_codes"]),
        avoided_unit_codes=frozenset(data["avoided_unit_codes"]),
        main_venue_experts=data["main_venue_experts"],
    )


# The statuses of a member holding a seat on the committee; every other status (declined,
# no_show, not_confirmed, avoided, replaced) is a former member's.
SEATED_STATUSES = frozenset({"drawn", "confirmed"})
# The statuses of a member who left the committee of their own account (refused, absent, not
# confirmed in time, avoided): a substitute is drawn for their seat, which stays empty when
# none can be. (A member moved by a re-plan, "replaced", always has someone in their place.)
LEFT_STATUSES = frozenset({"declined", "no_show", "not_confirmed", "avoided"})


@dataclass
class Member:
    """A drawn expert on (or formerly on) the committee."""

    assignment: Assignment
    pseudonym: str
    status: str = "drawn"  # drawn | confirmed | declined | no_show | not_confirmed | avoided (回避)

    def to_json(self) -> dict[str, Any]:
        a = self.assignment
        return {
            "expert_id": a.expert_id,
            "pool_code": a.pool_code,
            "venue_id": a.venue_id,
            "specialty_code": a.specialty_code,
            "kind": a.kind.value,
            "employer_code": a.employer_code,
            "pseudonym": self.pseudonym,
            "status": self.status,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Member:
        assignment = Assignment(
            d["expert_id"],
            d["pool_code"],
            d["venue_id"],
            d["specialty_code"],
            ExpertKind(d["kind"]),
            d["employer_code"],
        )
        return cls(assignment, d["pseudonym"], d["status"])


def draw_to_json(record: DrawRecord, purpose: str, event_id: str) -> dict[str, Any]:
    """A draw as the evaluation's state keeps it: its candidates by their pool's hash only
    (the list is stored once, apart: :func:`pool_bytes`). With the list in every draw, each
    substitute on a large pool added it again, until the state record passed what Kafka
    accepts."""
    return {
        "purpose": purpose,
        "event_id": event_id,
        "seed_hex": record.seed_hex,
        "algorithm_version": record.algorithm_version,
        "candidate_pool_sha256": record.candidate_pool_sha256,
        "inputs_sha256": record.inputs_sha256,
        "inputs": record.inputs.to_json(candidates=False),
        "expert_ids": list(record.expert_ids),
    }


def draw_keeps_candidates(data: dict[str, Any]) -> bool:
    """Whether a stored draw holds its candidates itself (a state stored before the pools
    were kept apart), rather than naming their pool."""
    return data["inputs"].get("candidates") is not None


def draw_from_json(
    data: dict[str, Any], candidates: tuple[Candidate, ...] | None = None
) -> DrawRecord:
    """The draw; its inputs' candidates are ``candidates`` (the pool it names) when given,
    else those it holds itself (none, for a draw that names its pool)."""
    inputs = DrawInputs.from_json(data["inputs"])
    if candidates is not None:
        inputs = inputs.with_candidates(candidates)
    return DrawRecord(
        seed_hex=data["seed_hex"],
        algorithm_version=data["algorithm_version"],
        candidate_pool_sha256=data["candidate_pool_sha256"],
        inputs_sha256=data["inputs_sha256"],
        inputs=inputs,
        expert_ids=tuple(data["expert_ids"]),
    )


def pool_bytes(candidates: tuple[Candidate, ...]) -> bytes:
    """A draw's candidates as stored and recorded: gzip of their canonical JSON (the bytes
    their pool's SHA-256 is taken of). No timestamp in the gzip header: the same pool gives
    the same bytes."""
    return gzip.compress(candidate_pool_json(candidates), mtime=0)


def pool_from_bytes(raw: bytes) -> tuple[Candidate, ...]:
    return candidates_from_pool_json(gzip.decompress(raw))


def deadline_to_json(deadline: Deadline) -> list[str]:
    d = deadline
    return [d.due.isoformat(), d.evaluation_id, d.kind.value, d.subject, d.partner_code]


def deadline_from_json(data: list[str]) -> Deadline:
    due, evaluation_id, kind, subject, partner_code = data
    return Deadline(
        datetime.fromisoformat(due), evaluation_id, DeadlineKind(kind), subject, partner_code
    )


@dataclass
class EvaluationState:
    request: EvaluationRequest
    status: str = "requested"  # requested | scheduled | failed | cancelled (trade terminated)
    slot: Slot | None = None
    allocations: list[VenueAllocation] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)  # the committee as it stands
    former: list[Member] = field(default_factory=list)  # replaced or moved away
    draws: list[dict[str, Any]] = field(default_factory=list)
    venue_decisions: dict[str, str] = field(default_factory=dict)
    failure: dict[str, Any] | None = None
    unsealed: bool = False
    backfilled: bool = False  # recorded by a backfill key: no answer deadlines (domain.timers)
    deadlines: list[Deadline] = field(default_factory=list)  # answers still awaited
    # Pseudonyms of former members whose seat is empty: no substitute could be drawn when they
    # left. A redraw (EmptySeatsRedrawRequested) draws for these seats, at their venue and of
    # their specialty and kind.
    vacated: list[str] = field(default_factory=list)

    @property
    def declined_venue_ids(self) -> frozenset[str]:
        return frozenset(
            v
            for v, d in self.venue_decisions.items()
            # WITHDRAWN: its owner offered fewer seats than were booked (the scheduler's
            # _withdraw_overbooked), which counts as a decline.
            if d in {"DECLINED", "TIMED_OUT", "WITHDRAWN"}
        )

    @property
    def involved_expert_ids(self) -> frozenset[str]:
        return frozenset(m.assignment.expert_id for m in [*self.members, *self.former])

    @property
    def unfilled_seats(self) -> int:
        """Experts' seats left empty: a member refused, was absent or avoided (回避) and no
        substitute could be drawn, so they left the committee (to ``former``) with nobody in
        their place. (A state stored before such members left counts them here too.)"""
        sitting = sum(1 for m in self.members if m.status in SEATED_STATUSES)
        return max(0, self.request.expert_count - sitting) if self.slot is not None else 0

    def member_by_pseudonym(self, pseudonym: str) -> Member | None:
        return next((m for m in self.members if m.pseudonym == pseudonym), None)

    def vacated_members(self) -> list[Member]:
        """The former members whose seats are empty, in the order they left."""
        former = {m.pseudonym: m for m in self.former}
        return [former[p] for p in self.vacated if p in former]

    def schedule(self) -> Schedule:
        assert self.slot is not None
        last = draw_from_json(self.draws[-1])
        return Schedule(
            self.slot, tuple(self.allocations), tuple(m.assignment for m in self.members), last
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "request": request_to_json(self.request),
            "status": self.status,
            "slot": self.slot.key() if self.slot else None,
            "allocations": [
                [a.venue_id, a.partner_code, a.role.value, a.seats] for a in self.allocations
            ],
            "members": [m.to_json() for m in self.members],
            "former": [m.to_json() for m in self.former],
            "draws": self.draws,
            "venue_decisions": self.venue_decisions,
            "failure": self.failure,
            "unsealed": self.unsealed,
            "backfilled": self.backfilled,
            "deadlines": [deadline_to_json(d) for d in self.deadlines],
            "vacated": self.vacated,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> EvaluationState:
        state = cls(
            request=request_from_json(d["request"]),
            status=d["status"],
            slot=Slot.parse(d["slot"]) if d["slot"] else None,
            allocations=[VenueAllocation(v, p, VenueRole(r), s) for v, p, r, s in d["allocations"]],
            members=[Member.from_json(m) for m in d["members"]],
            former=[Member.from_json(m) for m in d["former"]],
            draws=d["draws"],
            venue_decisions=d["venue_decisions"],
            failure=d["failure"],
            unsealed=d["unsealed"],
            backfilled=d.get("backfilled", False),
            deadlines=[deadline_from_json(x) for x in d.get("deadlines", [])],
        )
        vacated = d.get("vacated")
        state.vacated = list(vacated) if vacated is not None else vacated_seats_of_legacy(state)
        return state


def vacated_seats_of_legacy(state: EvaluationState) -> list[str]:
    """The empty seats of a state stored before they were kept (``vacated``): the former
    members who left of their own account, latest first, each where both their venue and
    their specialty and kind are short of a seated member. The venue's share comes from its
    allocation (the main venue's includes the tenderer's representatives), the specialty's
    from the request's needs."""
    if state.slot is None or state.status != "scheduled":
        return []
    sitting = [m.assignment for m in state.members if m.status in SEATED_STATUSES]
    venue_short = Counter(
        {
            a.venue_id: a.seats
            - (state.request.representative_count if a.role is VenueRole.MAIN else 0)
            for a in state.allocations
        }
    )
    venue_short.subtract(a.venue_id for a in sitting)
    need_short: Counter[tuple[str, ExpertKind]] = Counter()
    for need in state.request.needs:
        need_short[(need.specialty_code, need.kind)] += need.count
    need_short.subtract((a.specialty_code, a.kind) for a in sitting)
    picked: list[str] = []
    for member in reversed(state.former):
        a = member.assignment
        if (
            member.status in LEFT_STATUSES
            and venue_short[a.venue_id] > 0
            and need_short[(a.specialty_code, a.kind)] > 0
        ):
            picked.append(member.pseudonym)
            venue_short[a.venue_id] -= 1
            need_short[(a.specialty_code, a.kind)] -= 1
    return picked[::-1]


@dataclass(frozen=True)
class Outbox:
    """Events a decision publishes, as encoded records ([topic, key, value b64, headers]), and
    the causing events to mark applied with it."""

    name: str
    records: list[list[Any]]
    applied: tuple[tuple[str, str], ...] = ()


# ---------------------------------------------------------------------------------------------


class RemoteEvalStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    # -- idempotency by event id --------------------------------------------------------------
    async def first_time(self, consumer: str, event_id: str) -> bool:
        """Marks the event as handled by ``consumer``; False if it was already."""
        key = f"{PREFIX}applied:{consumer}:{event_id}"
        return bool(await self._redis.set(key, "1", nx=True))

    # -- evaluations ----------------------------------------------------------------------------
    async def evaluation(self, evaluation_id: str) -> EvaluationState | None:
        raw = await self._redis.get(_evaluation_key(evaluation_id))
        return EvaluationState.from_json(json.loads(raw)) if raw else None

    async def evaluations_for(self, project_id: str, bid_section_code: str) -> list[str]:
        """The evaluations of a section; of every section for WHOLE_PROJECT (evaluations
        stored before this index existed are found there once the store is rebuilt)."""
        raw = await self._redis.smembers(_project_key(project_id, bid_section_code))
        return sorted(value.decode() if isinstance(value, bytes) else value for value in raw)

    # -- trades over, from intake's events: no evaluation is planned for them ------------------
    async def end_trade(
        self, project_id: str, bid_section_code: str, how: str, at: datetime
    ) -> None:
        """Remembers that the section (every section: WHOLE_PROJECT) was awarded or terminated
        at ``at``; the first record stands (a redelivery changes nothing)."""
        await self._redis.hsetnx(
            TRADES_ENDED_KEY,
            f"{project_id}|{bid_section_code}",
            json.dumps({"how": how, "at": at.isoformat()}, ensure_ascii=False),
        )

    async def trade_ended(self, project_id: str, bid_section_code: str, before: date) -> str | None:
        """How and when the section's trade ended (its own, or the whole project's) if it ended
        before the day ``before`` (Beijing dates), else None. A sitting on the day it ended, or
        earlier — history entered after the award — is an evaluation that was held, as the
        termination's handling takes it (it unseals such a committee rather than cancel it)."""
        raw: list[Any] = await self._redis.hmget(
            TRADES_ENDED_KEY,
            [f"{project_id}|{bid_section_code}", f"{project_id}|{WHOLE_PROJECT}"],
        )
        for value in raw:
            if value is None:
                continue
            ended = json.loads(value)
            at = datetime.fromisoformat(ended["at"])
            if at.astimezone(SHANGHAI).date() < before:
                return f"{ended['how']} ({ended['at']})"
        return None

    # -- parties to a trade, from intake's events (回避) -----------------------------------------
    async def add_parties(self, learned: PartiesLearned) -> None:
        """A set: learning a party twice changes nothing."""
        if learned.unit_codes:
            key = _parties_key(learned.project_id, learned.bid_section_code)
            await self._redis.sadd(key, *sorted(learned.unit_codes))

    async def parties(self, project_id: str, bid_section_code: str) -> frozenset[str]:
        """The units known to be parties to the section: its bidders, and the project's
        tenderer and agency."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.smembers(_parties_key(project_id, WHOLE_PROJECT))
            pipe.smembers(_parties_key(project_id, bid_section_code))
            whole, section = await pipe.execute()
        return frozenset(
            value.decode() if isinstance(value, bytes) else value for value in whole | section
        )

    async def save(
        self,
        state: EvaluationState,
        previous: EvaluationState | None,
        *,
        outbox: Outbox | None = None,
        draw_days: tuple[list[str], date] | None = None,
        fence: RedisLease | None = None,
        pools: dict[str, bytes] | None = None,
    ) -> None:
        """Writes the evaluation and replaces its bookings and busy marks, in one MULTI — with
        the events the decision publishes (``outbox``: published after, cleared once acked),
        the cause marked applied and the drawn experts' draw days, so that a crash leaves
        either all of a decision or none; ``pools`` are the candidates of its draws
        (:func:`pool_bytes`, by hash). Under ``fence`` (the scheduler's decision lease) the
        MULTI runs only while the lease is still this decision's: else LeaseLost, nothing
        written."""
        async with self._redis.pipeline(transaction=True) as pipe:
            if fence is not None:
                await fence.begin_fenced(pipe)
            for pool_sha256, raw in (pools or {}).items():
                pipe.set(draw_pool_key(pool_sha256), raw)
            _queue_decision(pipe, state, previous, outbox, draw_days)
            if fence is not None:
                await fence.execute_fenced(pipe)
            else:
                await pipe.execute()

    # -- outbox: events decided and stored, not yet acknowledged by the broker ------------------
    async def pending_outboxes(self) -> dict[str, list[list[Any]]]:
        raw: dict[Any, Any] = await self._redis.hgetall(OUTBOX_KEY)
        return {name.decode(): json.loads(value) for name, value in sorted(raw.items())}

    async def has_pending_outboxes(self) -> bool:
        return bool(await self._redis.hlen(OUTBOX_KEY))

    async def clear_outbox(self, name: str) -> None:
        await self._redis.hdel(OUTBOX_KEY, name)

    async def set_aside_outbox(self, name: str, refused: list[list[Any]], reason: str) -> None:
        """Clears the outbox, keeping the records Kafka would not take under
        SET_ASIDE_OUTBOX_KEY with the reason (one MULTI)."""
        kept = json.dumps({"reason": reason, "records": refused})
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(SET_ASIDE_OUTBOX_KEY, name, kept)
            pipe.hdel(OUTBOX_KEY, name)
            await pipe.execute()

    async def set_aside_outboxes(self) -> dict[str, dict[str, Any]]:
        raw: dict[Any, Any] = await self._redis.hgetall(SET_ASIDE_OUTBOX_KEY)
        return {name.decode(): json.loads(value) for name, value in sorted(raw.items())}

    # -- the candidates of draws, kept once by their hash ---------------------------------------
    async def has_candidate_pool(self, pool_sha256: str) -> bool:
        return bool(await self._redis.exists(draw_pool_key(pool_sha256)))

    async def candidate_pool(self, pool_sha256: str) -> tuple[Candidate, ...] | None:
        raw = await self._redis.get(draw_pool_key(pool_sha256))
        if raw is None:
            return None
        assert isinstance(raw, bytes), "the store's Redis client returns bytes"
        return pool_from_bytes(raw)

    async def save_candidate_pool(self, pool_sha256: str, raw: bytes) -> None:
        """A pool as recorded on the log (the rebuild): the same bytes for the same hash."""
        await self._redis.set(draw_pool_key(pool_sha256), raw)

    # -- deadlines and availability -------------------------------------------------------------
    async def due_deadlines(self, now: datetime) -> list[Deadline]:
        raw: list[Any] = await self._redis.zrangebyscore(DEADLINES_KEY, "-inf", now.timestamp())
        return [deadline_from_json(json.loads(value)) for value in raw]

    async def set_availability(
        self, expert_id: str, pool_code: str, unavailable: list[date]
    ) -> None:
        value = {"pool_code": pool_code, "dates": sorted(d.isoformat() for d in unavailable)}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(AVAILABILITY_KEY, expert_id, json.dumps(value))
            pipe.incr(AVAILABILITY_VERSION_KEY)
            await pipe.execute()

    async def availability_version(self) -> int:
        return int(await self._redis.get(AVAILABILITY_VERSION_KEY) or 0)

    async def availability_changed(self) -> None:
        """Tells the schedulers to re-read the availability (a rebuild replaced it)."""
        await self._redis.incr(AVAILABILITY_VERSION_KEY)

    async def availability(self) -> dict[str, frozenset[date]]:
        """Expert id -> dates unavailable, as the pool owners last set them."""
        raw: dict[Any, Any] = await self._redis.hgetall(AVAILABILITY_KEY)
        return {
            k.decode(): frozenset(date.fromisoformat(d) for d in json.loads(v)["dates"])
            for k, v in raw.items()
        }

    # -- venues ---------------------------------------------------------------------------------
    async def publish_offer(self, offer: SeatOffer) -> None:
        await self._redis.hset(
            OFFERS_KEY,
            f"{offer.venue_id}|{offer.slot.key()}",
            json.dumps({"seats": offer.seats, "fee_fen": offer.fee_fen}),
        )

    async def published_offers(
        self, wanted: Iterable[tuple[str, Slot]]
    ) -> dict[tuple[str, Slot], SeatOffer]:
        """The offers published for the ``wanted`` (venue id, slot) pairs that have one. Only
        those are read: the hash keeps every slot ever published, and a decision needs a few."""
        fields = list(dict.fromkeys(wanted))
        if not fields:
            return {}
        raw: list[Any] = await self._redis.hmget(
            OFFERS_KEY, [f"{venue_id}|{slot.key()}" for venue_id, slot in fields]
        )
        offers: dict[tuple[str, Slot], SeatOffer] = {}
        for (venue_id, slot), value in zip(fields, raw, strict=True):
            if value is not None:
                data = json.loads(value)
                offers[(venue_id, slot)] = SeatOffer(venue_id, slot, data["seats"], data["fee_fen"])
        return offers

    async def bookings(self, slot: Slot) -> dict[str, dict[str, int]]:
        """venue id -> evaluation id -> seats booked in the slot."""
        raw: dict[Any, Any] = await self._redis.hgetall(_bookings_key(slot))
        result: dict[str, dict[str, int]] = {}
        for name, value in raw.items():
            venue_id, _, evaluation_id = name.decode().partition("|")
            result.setdefault(venue_id, {})[evaluation_id] = int(value)
        return result

    async def market(
        self, slots: list[Slot], excluding_evaluation: str | None = None
    ) -> MarketView:
        """Directory, offers (published, else the directory's defaults) and bookings of others."""
        directory = venue_directory()
        published = await self.published_offers(
            (venue_id, slot) for slot in slots for venue_id in directory
        )
        offers: dict[tuple[str, Slot], SeatOffer] = {}
        booked: dict[tuple[str, Slot], int] = {}
        for slot in slots:
            for venue_id, entry in directory.items():
                offers[(venue_id, slot)] = published.get(
                    (venue_id, slot), SeatOffer(venue_id, slot, entry.default_seats, entry.fee_fen)
                )
            for venue_id, by_evaluation in (await self.bookings(slot)).items():
                booked[(venue_id, slot)] = sum(
                    seats for ev, seats in by_evaluation.items() if ev != excluding_evaluation
                )
        return MarketView({v: e.venue for v, e in directory.items()}, offers, booked)

    async def migrate_legacy_draw_days(self) -> int:
        """Moves the draw days of the store's former layout into the per-day sets, in one
        MULTI (a crash leaves the old hash, and the next start moves it again: SADD is
        idempotent). Returns the number of experts moved; 0 when there was nothing to move."""
        raw: dict[Any, Any] = await self._redis.hgetall(LEGACY_DRAW_DAYS_KEY)
        if not raw:
            return 0
        by_day: dict[str, set[str]] = {}
        for expert_id, days in raw.items():
            for day in json.loads(days):
                by_day.setdefault(day, set()).add(expert_id.decode())
        async with self._redis.pipeline(transaction=True) as pipe:
            for day, expert_ids in by_day.items():
                pipe.sadd(drawn_on_key(date.fromisoformat(day)), *sorted(expert_ids))
            pipe.delete(LEGACY_DRAW_DAYS_KEY)
            await pipe.execute()
        return len(raw)

    async def history(self, slots: list[Slot], recent_draw_days: int) -> ExpertHistory:
        """Who sits in each of ``slots``, and who was drawn for a day less than
        ``recent_draw_days`` from any of them (the draw-frequency rule's window)."""
        busy: dict[Slot, frozenset[str]] = {}
        for slot in slots:
            members: dict[Any, Any] = await self._redis.hgetall(_busy_key(slot))
            busy[slot] = frozenset(k.decode() for k in members)
        if not slots or recent_draw_days <= 0:
            return ExpertHistory(busy, {})
        # The days within the window of some slot: a batch's slots may lie months apart. The
        # domain keeps slots far from the calendar's ends (model.EARLIEST_SLOT_DAY); a day past
        # them has no draws to read, and must not end the decision with an OverflowError.
        reach = range(1 - recent_draw_days, recent_draw_days)
        around = (_days_from(s.day, n) for s in slots for n in reach)
        days = sorted({day for day in around if day is not None})
        async with self._redis.pipeline(transaction=False) as pipe:
            for day in days:
                pipe.smembers(drawn_on_key(day))
            drawn: list[set[Any]] = await pipe.execute()
        draw_days: dict[str, list[date]] = {}
        for day, expert_ids in zip(days, drawn, strict=True):
            for expert_id in expert_ids:
                draw_days.setdefault(expert_id.decode(), []).append(day)
        return ExpertHistory(busy, {k: tuple(v) for k, v in draw_days.items()})


def _days_from(day: date, days: int) -> date | None:
    """``day`` moved by ``days``; None past the calendar's ends."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return None


def _queue_decision(
    pipe: Any,
    state: EvaluationState,
    previous: EvaluationState | None,
    outbox: Outbox | None,
    draw_days: tuple[list[str], date] | None,
) -> None:
    """Queues one decision's writes on ``pipe`` (see RemoteEvalStore.save)."""
    request = state.request
    if outbox is not None:
        pipe.hset(OUTBOX_KEY, outbox.name, json.dumps(outbox.records))
        for consumer, event_id in outbox.applied:
            pipe.set(f"{PREFIX}applied:{consumer}:{event_id}", "1")
    if draw_days is not None and draw_days[0]:
        expert_ids, day = draw_days
        pipe.sadd(drawn_on_key(day), *expert_ids)
    pipe.set(_evaluation_key(request.evaluation_id), json.dumps(state.to_json()))
    pipe.sadd(_project_key(request.project_id, request.bid_section_code), request.evaluation_id)
    # And under the whole project, for what concerns all its sections (its tenderer's 回避).
    pipe.sadd(_project_key(request.project_id, WHOLE_PROJECT), request.evaluation_id)
    if previous is not None and previous.deadlines:
        pipe.zrem(DEADLINES_KEY, *(json.dumps(deadline_to_json(d)) for d in previous.deadlines))
    if state.deadlines:
        pipe.zadd(
            DEADLINES_KEY,
            {json.dumps(deadline_to_json(d)): d.due.timestamp() for d in state.deadlines},
        )
    if previous is not None and previous.slot is not None:
        for allocation in previous.allocations:
            pipe.hdel(
                _bookings_key(previous.slot),
                f"{allocation.venue_id}|{request.evaluation_id}",
            )
        for member in previous.members:
            pipe.hdel(_busy_key(previous.slot), member.assignment.expert_id)
    if state.slot is not None and state.status == "scheduled":
        for allocation in state.allocations:
            pipe.hset(
                _bookings_key(state.slot),
                f"{allocation.venue_id}|{request.evaluation_id}",
                allocation.seats,
            )
        for member in state.members:
            pipe.hset(_busy_key(state.slot), member.assignment.expert_id, request.evaluation_id)
