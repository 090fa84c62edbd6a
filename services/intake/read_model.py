"""Intake's read model in Redis: each project's view and history, folded from intake.projects.v1.

Written by the stream worker (the source of truth: wipe the ``prt:intake:`` keys and replay the
topic to rebuild) and, right after the broker acknowledged an event, by the API that emitted it,
so the department's next request sees its own write. Both go through :meth:`apply`, which is
idempotent by event id: one Lua script records the event id, the new view and the history entry
together, and only if the view is still at the version the new one was computed from.

Also here: the unified deal codes claimed by registrations, the per-project lock the API holds
while it checks a transition and publishes, the due 容缺 deadlines (of open projects only: one
awarded, completed or terminated leaves the set) and the pending ones (accepted before the
working-day calendar covered them).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.intake.domain.lifecycle import (
    FINAL_STATES,
    Deal,
    LifecycleFact,
    ProjectState,
    ProjectView,
    SectionView,
    Step,
    evolve,
)
from services.intake.domain.working_days import CHINA, china_date
from services.platform_core.errors import PlatformError

log = logging.getLogger(__name__)

PREFIX = "prt:intake:"
PROJECTS_INDEX = PREFIX + "projects"  # zset: project id -> registration time (epoch s)
DEADLINES = PREFIX + "deficiency-deadlines"  # zset: project id -> deadline as yyyymmdd
# zset: project id -> the day its pending deadline is counted from, as yyyymmdd
PENDING_DEADLINES = PREFIX + "pending-deficiency-deadlines"
# Longer than a publish may take (the producer's request timeout is 15 s), so a lock never
# expires under a request still checking and publishing.
LOCK_SECONDS = 30
LOCK_WAIT_SECONDS = 5.0


def _view_key(project_id: str) -> str:
    return f"{PREFIX}project:{project_id}"


def _history_key(project_id: str) -> str:
    return f"{PREFIX}project:{project_id}:history"


def _applied_key(project_id: str) -> str:
    return f"{PREFIX}project:{project_id}:applied"


def deal_code_key(code: str) -> str:
    return f"{PREFIX}deal-code:{code}"


class ProjectBusy(PlatformError):
    """Another request holds the project's lock for longer than a request should take."""


class UnknownProject(PlatformError):
    """An event for a project the read model has never seen registered."""


@dataclass(frozen=True)
class HistoryEntry:
    event_id: str
    type: str
    step: Step
    occurred_at: datetime
    actor_department: str
    state_after: ProjectState
    bid_section_codes: tuple[str, ...] = ()  # the sections it named (none: all, or the project)


def view_values(view: ProjectView) -> dict[str, Any]:
    """The view as JSON values (what Redis stores; the API's answer starts from it)."""
    # By hand rather than dataclasses.asdict, whose deep copies cost more than the rest of a
    # registration's serialisation together.
    return {
        "project_id": view.project_id,
        "unified_deal_code": view.unified_deal_code,
        "name": view.name,
        "category": view.category,
        "region_code": view.region_code,
        "registering_department": view.registering_department,
        "supervise_dept_code": view.supervise_dept_code,
        "tenderer_name": view.tenderer_name,
        "tenderer_credit_code": view.tenderer_credit_code,
        "budget_fen": view.budget_fen,
        "key_project": view.key_project,
        "green_channel": view.green_channel,
        "commitment_pledged": view.commitment_pledged,
        "registered_at": view.registered_at.isoformat(),
        "state": view.state.value,
        "version": view.version,
        "outstanding_documents": list(view.outstanding_documents),
        "supplement_deadline": (
            view.supplement_deadline.isoformat() if view.supplement_deadline else None
        ),
        "deadline_breached": view.deadline_breached,
        "updated_at": view.updated_at.isoformat() if view.updated_at else None,
        "supplement_working_days": view.supplement_working_days,
        "supplement_deadline_pending": view.supplement_deadline_pending,
        "sections": [
            {
                "bid_section_code": section.code,
                "state": section.state.value,
                "updated_at": section.updated_at.isoformat() if section.updated_at else None,
                "submission_deadline": (
                    section.submission_deadline.isoformat() if section.submission_deadline else None
                ),
                "bidders": _list_or_none(section.bidders),
                "disqualified": _list_or_none(section.disqualified),
                "candidates": _list_or_none(section.candidates),
                "publicity_ends_at": (
                    section.publicity_ends_at.isoformat() if section.publicity_ends_at else None
                ),
                "evaluation_id": section.evaluation_id,
                "deal": _deal_values(section.deal),
                "budget_fen": section.budget_fen,
            }
            for section in view.sections
        ],
        "trading_method": view.trading_method,
        "tender_required_by_law": view.tender_required_by_law,
        "tender_obligation_derived": view.tender_obligation_derived,
    }


def _deal_values(deal: Deal | None) -> dict[str, Any] | None:
    if deal is None:
        return None
    return {
        "party_code": deal.party_code,
        "party_name": deal.party_name,
        "amount_fen": deal.amount_fen,
        "at": deal.at.isoformat(),
    }


def _deal_or_none(values: dict[str, Any] | None) -> Deal | None:
    if not values:
        return None
    return Deal(
        values["party_code"],
        values["party_name"],
        values["amount_fen"],
        datetime.fromisoformat(values["at"]),
    )


def _list_or_none(codes: tuple[str, ...] | None) -> list[str] | None:
    return None if codes is None else list(codes)


def _tuple_or_none(codes: list[str] | None) -> tuple[str, ...] | None:
    return None if codes is None else tuple(codes)


def view_to_json(view: ProjectView) -> str:
    return orjson.dumps(view_values(view)).decode()


def _instant_or_none(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def view_from_json(raw: str | bytes) -> ProjectView:
    data = json.loads(raw)
    data["registered_at"] = datetime.fromisoformat(data["registered_at"])
    data["updated_at"] = datetime.fromisoformat(data["updated_at"]) if data["updated_at"] else None
    deadline = data["supplement_deadline"]
    data["supplement_deadline"] = date.fromisoformat(deadline) if deadline else None
    data["outstanding_documents"] = tuple(data["outstanding_documents"])
    data["state"] = ProjectState(data["state"])
    # Views stored before these fields existed.
    data.setdefault("supplement_working_days", None)
    data.setdefault("supplement_deadline_pending", False)
    data.setdefault("trading_method", "")
    data.setdefault("tender_required_by_law", None)
    data.setdefault("tender_obligation_derived", False)
    # A section stored before its parties were kept has None for them (trading_rules then skips
    # the rules that need them), which a missing key gives.
    data["sections"] = tuple(
        SectionView(
            section["bid_section_code"],
            ProjectState(section["state"]),
            datetime.fromisoformat(section["updated_at"]) if section["updated_at"] else None,
            _instant_or_none(section.get("submission_deadline")),
            bidders=_tuple_or_none(section.get("bidders")),
            disqualified=_tuple_or_none(section.get("disqualified")),
            candidates=_tuple_or_none(section.get("candidates")),
            publicity_ends_at=_instant_or_none(section.get("publicity_ends_at")),
            evaluation_id=section.get("evaluation_id", ""),
            deal=_deal_or_none(section.get("deal")),
            budget_fen=section.get("budget_fen"),
        )
        for section in data.get("sections", ())
    )
    return ProjectView(**data)


def _entry_to_json(entry: HistoryEntry) -> str:
    data = {
        "event_id": entry.event_id,
        "type": entry.type,
        "step": entry.step.value,
        "occurred_at": entry.occurred_at.isoformat(),
        "actor_department": entry.actor_department,
        "state_after": entry.state_after.value,
        "bid_section_codes": list(entry.bid_section_codes),
    }
    return orjson.dumps(data).decode()


def _entry_from_json(raw: str | bytes) -> HistoryEntry:
    data = json.loads(raw)
    return HistoryEntry(
        event_id=data["event_id"],
        type=data["type"],
        step=Step(data["step"]),
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
        actor_department=data["actor_department"],
        state_after=ProjectState(data["state_after"]),
        bid_section_codes=tuple(data.get("bid_section_codes", ())),
    )


# KEYS: view, history, applied, projects index, deadlines, deal code, pending deadlines
# ARGV: event id, expected version, new view, history entry, index score ('' = leave),
#       deadline score ('' = leave, '-' = remove), project id,
#       pending deadline score ('' = leave, '-' = remove)
_APPLY = """
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return 0 end
local current = redis.call('GET', KEYS[1])
local version = 0
if current then version = cjson.decode(current)['version'] end
if version ~= tonumber(ARGV[2]) then return -1 end
redis.call('SET', KEYS[1], ARGV[3])
redis.call('RPUSH', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[1])
if ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[4], ARGV[5], ARGV[7])
  redis.call('SET', KEYS[6], ARGV[7], 'NX')
end
if ARGV[6] == '-' then
  redis.call('ZREM', KEYS[5], ARGV[7])
elseif ARGV[6] ~= '' then
  redis.call('ZADD', KEYS[5], ARGV[6], ARGV[7])
end
if ARGV[8] == '-' then
  redis.call('ZREM', KEYS[7], ARGV[7])
elseif ARGV[8] ~= '' then
  redis.call('ZADD', KEYS[7], ARGV[8], ARGV[7])
end
return 1
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _yyyymmdd(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


class ProjectReadModel:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._apply = redis.register_script(_APPLY)
        self._release = redis.register_script(_RELEASE)

    async def get(self, project_id: str) -> ProjectView | None:
        raw = await self._redis.get(_view_key(project_id))
        return view_from_json(raw) if raw is not None else None

    async def history(self, project_id: str) -> list[HistoryEntry]:
        raw: list[Any] = await self._redis.lrange(_history_key(project_id), 0, -1)
        return [_entry_from_json(item) for item in raw]

    async def record_after_publish(
        self, event_id: str, event_type: str, change: LifecycleFact | ProjectView
    ) -> None:
        """The API's read-your-writes update, once the broker has the event. If Redis fails now
        the event is still in the log and the worker will fold it in: the caller must not be
        told to retry (a retry would register again), so the failure is logged, not raised."""
        try:
            if isinstance(change, ProjectView):
                await self.record_registration(event_id, event_type, change)
            else:
                await self.record_step(event_id, event_type, change)
        except RedisError as exc:
            log.warning("read model not updated for %s (the worker will): %r", event_id, exc)

    async def record_registration(self, event_id: str, event_type: str, view: ProjectView) -> bool:
        """Store a new project's first view; False when this event was applied before."""
        return await self._store(
            event_id,
            event_type=event_type,
            step=Step.REGISTER,
            before=None,
            after=view,
            actor_department=view.registering_department,
        )

    async def record_step(self, event_id: str, event_type: str, fact: LifecycleFact) -> bool:
        """Fold one lifecycle event into its project's view (raises TransitionRefused when it
        is out of order, UnknownProject when the project was never registered)."""
        for _ in range(50):
            current = await self.get(fact.project_id)
            if current is None:
                raise UnknownProject(f"no registration of project {fact.project_id}")
            if await self._redis.sismember(_applied_key(fact.project_id), event_id):
                return False
            after = evolve(current, fact)
            try:
                return await self._store(
                    event_id,
                    event_type=event_type,
                    step=fact.step,
                    before=current,
                    after=after,
                    actor_department=fact.actor_department,
                    occurred_at=fact.occurred_at,
                    bid_section_codes=fact.bid_section_codes,
                )
            except _VersionMoved:
                continue
        raise ProjectBusy(f"project {fact.project_id} kept changing while applying {event_id}")

    async def _store(
        self,
        event_id: str,
        *,
        event_type: str,
        step: Step,
        before: ProjectView | None,
        after: ProjectView,
        actor_department: str,
        occurred_at: datetime | None = None,
        bid_section_codes: tuple[str, ...] = (),
    ) -> bool:
        entry = HistoryEntry(
            event_id=event_id,
            type=event_type,
            step=step,
            occurred_at=occurred_at or after.registered_at,
            actor_department=actor_department,
            state_after=after.state,
            bid_section_codes=bid_section_codes,
        )
        # A deadline is watched while it can still be met or breached: not once breached, and
        # not once the project is final (awarded, completed, terminated: 补正 is refused then).
        # ZREM of an absent member is a no-op, so applying this again changes nothing.
        deadline_score = ""
        if (
            after.supplement_deadline is not None
            and not after.deadline_breached
            and after.state not in FINAL_STATES
        ):
            deadline_score = str(_yyyymmdd(after.supplement_deadline))
        elif before is not None and before.supplement_deadline is not None:
            deadline_score = "-"
        pending_score = ""
        if after.supplement_deadline_pending:
            pending_score = str(_yyyymmdd(china_date(after.registered_at)))
        elif before is not None and before.supplement_deadline_pending:
            pending_score = "-"
        pid = after.project_id
        result = await self._apply(
            keys=[
                _view_key(pid),
                _history_key(pid),
                _applied_key(pid),
                PROJECTS_INDEX,
                DEADLINES,
                deal_code_key(after.unified_deal_code),
                PENDING_DEADLINES,
            ],
            args=[
                event_id,
                before.version if before is not None else 0,
                view_to_json(after),
                _entry_to_json(entry),
                str(after.registered_at.timestamp()) if before is None else "",
                deadline_score,
                pid,
                pending_score,
            ],
        )
        if result == -1:
            raise _VersionMoved
        return bool(result)

    async def list_views(
        self, where: ProjectFilter, *, offset: int, limit: int, count_all: bool = False
    ) -> tuple[list[ProjectView], int | None, int | None]:
        """Newest first, filtered: the page, the offset of the next one, and (``count_all``)
        how many match in all. A registration-date range is read from the index's scores (the
        registration time), so only the projects registered in it are looked at."""
        matched: list[ProjectView] = []
        position = 0
        next_offset: int | None = None
        newest, oldest = where.registered_bounds()
        cursor = 0
        page = 500
        while True:
            ids: list[Any] = await self._redis.zrevrangebyscore(
                PROJECTS_INDEX, newest, oldest, start=cursor, num=page
            )
            if not ids:
                return matched, next_offset, position if count_all else None
            raws = await self._redis.mget([_view_key(i.decode()) for i in ids])
            for raw in raws:
                if raw is None:
                    continue
                view = view_from_json(raw)
                if not where.matches(view):
                    continue
                if position >= offset:
                    if len(matched) < limit:
                        matched.append(view)
                    elif next_offset is None:
                        next_offset = position
                        if not count_all:
                            return matched, next_offset, None
                position += 1
            cursor += page

    async def due_deadlines(self, today: date) -> list[str]:
        """Projects whose supplement deadline is before ``today`` and still unbreached."""
        ids: list[Any] = await self._redis.zrangebyscore(DEADLINES, "-inf", f"({_yyyymmdd(today)}")
        return [i.decode() for i in ids]

    async def forget_deadline(self, project_id: str) -> None:
        """Stop watching a project's deadline (one that ended before this read model dropped the
        deadlines of final projects itself); a no-op when it is not watched."""
        await self._redis.zrem(DEADLINES, project_id)

    async def pending_deadlines(self) -> list[str]:
        """Projects whose 容缺 deadline is pending (waiting for the working-day calendar),
        oldest count first."""
        ids: list[Any] = await self._redis.zrange(PENDING_DEADLINES, 0, -1)
        return [i.decode() for i in ids]

    async def claim_deal_code(self, code: str, project_id: str) -> str | None:
        """Claim a unified deal code for a project; the holder's project id when taken."""
        key = deal_code_key(code)
        if await self._redis.set(key, project_id, nx=True):
            return None
        holder: Any = await self._redis.get(key)
        if holder is None:
            return await self.claim_deal_code(code, project_id)
        return None if holder.decode() == project_id else holder.decode()

    async def release_deal_code(self, code: str, project_id: str) -> None:
        await self._release(keys=[deal_code_key(code)], args=[project_id])

    @asynccontextmanager
    async def project_lock(self, project_id: str) -> AsyncIterator[None]:
        """Serialises check-then-publish for one project across API processes."""
        key = f"{PREFIX}lock:{project_id}"
        token = secrets.token_hex(8)
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while not await self._redis.set(key, token, nx=True, ex=LOCK_SECONDS):
            if time.monotonic() > deadline:
                raise ProjectBusy(f"project {project_id} is being changed by another request")
            await asyncio.sleep(0.005)
        try:
            yield
        finally:
            await self._release(keys=[key], args=[token])


class _VersionMoved(Exception):
    """The view changed between reading it and storing its successor: fold again."""


@dataclass(frozen=True)
class ProjectFilter:
    """What a project list is filtered by; None (unset) matches any project."""

    regions: frozenset[str] | None = None  # the reader's: None for an operator
    region_code: str | None = None
    category: str | None = None
    state: ProjectState | None = None
    department: str | None = None  # the registering department
    key_project: bool | None = None
    tender_required_by_law: bool | None = None
    # 容缺: documents still outstanding (true) or none (false); its deadline breached or not.
    documents_outstanding: bool | None = None
    deadline_breached: bool | None = None
    # Registered on these China dates (inclusive).
    registered_from: date | None = None
    registered_until: date | None = None

    def matches(self, view: ProjectView) -> bool:
        return (
            (self.regions is None or view.region_code in self.regions)
            and (self.region_code is None or view.region_code == self.region_code)
            and (self.category is None or view.category == self.category)
            and (self.state is None or view.state is self.state)
            and (self.department is None or view.registering_department == self.department)
            and (self.key_project is None or view.key_project is self.key_project)
            and (
                self.tender_required_by_law is None
                or view.tender_required_by_law is self.tender_required_by_law
            )
            and (
                self.documents_outstanding is None
                or bool(view.outstanding_documents) is self.documents_outstanding
            )
            and (self.deadline_breached is None or view.deadline_breached is self.deadline_breached)
            and self._registered_in_range(view)
        )

    def _registered_in_range(self, view: ProjectView) -> bool:
        day = china_date(view.registered_at)
        return (self.registered_from is None or day >= self.registered_from) and (
            self.registered_until is None or day <= self.registered_until
        )

    def registered_bounds(self) -> tuple[str, str]:
        """The index's score range (epoch seconds) for the registration dates, as ZREVRANGEBYSCORE
        takes it: newest (exclusive: the next day's midnight in China), oldest."""
        oldest = "-inf"
        if self.registered_from is not None:
            oldest = str(_china_midnight(self.registered_from))
        newest = "+inf"
        if self.registered_until is not None:
            newest = f"({_china_midnight(self.registered_until + timedelta(days=1))}"
        return newest, oldest


def _china_midnight(day: date) -> float:
    return datetime.combine(day, clock_time.min, CHINA).timestamp()
