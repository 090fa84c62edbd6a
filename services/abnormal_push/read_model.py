"""Abnormal push's projections in Redis: reports, pushes, inboxes, entity records, deadlines.

Every write is keyed by the event that caused it: an event whose id is already marked applied
changes nothing, so Faust's redeliveries and a full replay of the topics leave the same state.
The state and the marker are written in one MULTI/EXEC transaction. Each push is written only by
the agent consuming abnormal.pushes.v1 (one partition per push id, concurrency 1), and each
report only by the agent consuming abnormal.reports.v1, so there is one writer per key.

Rebuild: delete the ``prt:abnormal_push:`` keys listed in :data:`PROJECTION_PATTERNS` and reset
the worker's consumer group to the earliest offsets.
"""

from __future__ import annotations

import base64
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from redis.asyncio import Redis

from services.abnormal_push.domain.pushes import (
    Deadline,
    Feedback,
    HandlingResult,
    Push,
    PushEvent,
    PushStatus,
    Step,
    apply_push_event,
)
from services.abnormal_push.domain.reports import (
    AbnormalReport,
    BehaviourType,
    DetectionTrail,
    Evidence,
    ReportSource,
    Severity,
    Subject,
    SubjectKind,
)
from services.abnormal_push.domain.routing import PushRole, RoutingReason

PREFIX = "prt:abnormal_push:"
APPLIED = PREFIX + "applied:"
REPORT = PREFIX + "report:"
REPORT_PUSHES = PREFIX + "report-pushes:"
ROUTED_REPORTS = PREFIX + "routed-reports"
PUSH = PREFIX + "push:"
INBOX = PREFIX + "inbox:"
ALL_PUSHES = PREFIX + "pushes"
RECORD = PREFIX + "record:"
DUE = PREFIX + "due"
# Handler pushes whose deadlines are still estimates (the watch states the real ones).
ESTIMATED = PREFIX + "estimated-deadlines"
# Per-department and global indexes for the lists (sorted sets by routed_at; see index_key).
INDEX = PREFIX + "index:"
DEPARTMENTS = PREFIX + "departments"
# Wall-clock instant each push was last projected (for the deadline watch's backfill grace).
CHANGED = PREFIX + "changed"
PROJECTION_PATTERNS = (
    APPLIED + "*",
    REPORT + "*",
    REPORT_PUSHES + "*",
    ROUTED_REPORTS,
    PUSH + "*",
    INBOX + "*",
    ALL_PUSHES,
    RECORD + "*",
    DUE,
    ESTIMATED,
    INDEX + "*",
    DEPARTMENTS,
    CHANGED,
)

ALL_DEPARTMENTS = "_all"


class Facet(StrEnum):
    """What an index holds; status indexes are ``status:<STATUS>``."""

    ALL = "all"
    OPEN = "open"  # handler pushes not yet answered or transferred
    OPEN_OVERDUE = "open-overdue"
    OVERDUE = "overdue"  # past a deadline, open or not
    ESCALATED = "escalated"


def status_facet(status: PushStatus) -> str:
    return f"status:{status.value}"


def index_key(department: str | None, facet: str) -> str:
    """The sorted set (push id by routed_at) of one department's pushes, or all (None)."""
    if facet == Facet.ALL:
        return ALL_PUSHES if department is None else INBOX + department
    return f"{INDEX}{department or ALL_DEPARTMENTS}:{facet}"


def push_facets(push: Push) -> dict[str, bool]:
    """Every facet but ALL, and whether ``push`` belongs in it."""
    facets = {status_facet(status): push.status is status for status in PushStatus}
    facets[Facet.OPEN] = push.is_open
    facets[Facet.OPEN_OVERDUE] = push.is_open and bool(push.overdue)
    facets[Facet.OVERDUE] = bool(push.overdue)
    facets[Facet.ESCALATED] = bool(push.escalation_levels)
    return facets


@dataclass(frozen=True)
class PageCursor:
    """Where a page ended: the last push's routed_at score and id. Lists run newest first, ties
    by push id descending (Redis's own order for equal scores), so pages neither skip nor repeat
    a push even when several share a routing time."""

    score: float
    push_id: str

    def encode(self) -> str:
        raw = json.dumps([self.score, self.push_id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> PageCursor:
        """ValueError for anything this class did not encode."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            score, push_id = json.loads(raw)
        except (ValueError, TypeError) as exc:
            raise ValueError("not a cursor of this list") from exc
        # JSON admits NaN, Infinity and integers beyond a float; none is a routing time, and
        # Redis refuses a NaN score (bool is an int to Python, not a score either).
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise ValueError("not a cursor of this list")
        if not isinstance(push_id, str):
            raise ValueError("not a cursor of this list")
        try:
            value = float(score)
        except OverflowError as exc:
            raise ValueError("not a cursor of this list") from exc
        if not math.isfinite(value):
            raise ValueError("not a cursor of this list")
        return cls(value, push_id)

    def admits(self, score: float, push_id: str) -> bool:
        """Whether (score, push_id) comes after the cursor in the list's order."""
        return score < self.score or (score == self.score and push_id < self.push_id)


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _must(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- JSON shapes ----------------------------------------------------------------------------


def _evidence_json(evidence: tuple[Evidence, ...]) -> list[dict[str, str]]:
    return [
        {"sha256": e.sha256, "location": e.location, "media_type": e.media_type} for e in evidence
    ]


def _evidence_from(data: list[dict[str, str]]) -> tuple[Evidence, ...]:
    return tuple(Evidence(e["sha256"], e["location"], e.get("media_type", "")) for e in data)


def report_to_json(report: AbnormalReport) -> dict[str, Any]:
    trail = report.detection
    return {
        "report_id": report.report_id,
        "filed_at": _time(report.filed_at),
        "reporting_department": report.reporting_department,
        "source": report.source.value,
        "subjects": [
            {
                "kind": s.kind.value,
                "credit_code": s.credit_code,
                "name": s.name,
                "expert_pseudonym": s.expert_pseudonym,
            }
            for s in report.subjects
        ],
        "project_id": report.project_id,
        "bid_section_code": report.bid_section_code,
        "project_category": report.project_category,
        "region_code": report.region_code,
        "behaviour_type": report.behaviour_type.value,
        "severity": report.severity.value,
        "description": report.description,
        "evidence": _evidence_json(report.evidence),
        "act_at": _time(report.act_at),
        "detection": None
        if trail is None
        else {
            "rule_id": trail.rule_id,
            "rule_version": trail.rule_version,
            "rule_name": trail.rule_name,
            "legal_basis": trail.legal_basis,
            "source_event_ids": list(trail.source_event_ids),
            "evidence_values": dict(trail.evidence_values),
        },
        "suspected_crime": report.suspected_crime,
        "suspected_official_misconduct": report.suspected_official_misconduct,
        "suspected_misuse_of_funds": report.suspected_misuse_of_funds,
    }


def report_from_json(data: dict[str, Any]) -> AbnormalReport:
    trail = data.get("detection")
    return AbnormalReport(
        report_id=data["report_id"],
        filed_at=_must(data["filed_at"]),
        reporting_department=data["reporting_department"],
        source=ReportSource(data["source"]),
        subjects=tuple(
            Subject(SubjectKind(s["kind"]), s["credit_code"], s["name"], s["expert_pseudonym"])
            for s in data["subjects"]
        ),
        project_id=data["project_id"],
        bid_section_code=data["bid_section_code"],
        project_category=data["project_category"],
        region_code=data.get("region_code", ""),  # absent from reports stored before it
        behaviour_type=BehaviourType(data["behaviour_type"]),
        severity=Severity(data["severity"]),
        description=data["description"],
        evidence=_evidence_from(data["evidence"]),
        act_at=_must(data["act_at"]),
        detection=None
        if trail is None
        else DetectionTrail(
            rule_id=trail["rule_id"],
            rule_version=trail["rule_version"],
            rule_name=trail["rule_name"],
            legal_basis=trail["legal_basis"],
            source_event_ids=tuple(trail["source_event_ids"]),
            evidence_values=tuple(sorted(trail["evidence_values"].items())),
        ),
        suspected_crime=data["suspected_crime"],
        suspected_official_misconduct=data["suspected_official_misconduct"],
        suspected_misuse_of_funds=data["suspected_misuse_of_funds"],
    )


def push_to_json(push: Push) -> dict[str, Any]:
    return {
        "push_id": push.push_id,
        "report_id": push.report_id,
        "department": push.department,
        "reason": push.reason.value,
        "role": push.role.value,
        "severity": push.severity.value,
        "status": push.status.value,
        "routed_at": _time(push.routed_at),
        "sign_for_due": _time(push.sign_for_due),
        "feedback_due": _time(push.feedback_due),
        "deadlines_estimated": push.deadlines_estimated,
        "transferred_from_push_id": push.transferred_from_push_id,
        "signed_for_at": _time(push.signed_for_at),
        "feedback": [
            {
                "result": f.result.value,
                "result_text": f.result_text,
                "at": _time(f.at),
                "evidence": _evidence_json(f.evidence),
            }
            for f in push.feedback
        ],
        "transferred_to": push.transferred_to,
        "overdue": [d.value for d in push.overdue],
        "escalation_levels": list(push.escalation_levels),
        "escalated_to": list(push.escalated_to),
        "escalated_for": [d.value for d in push.escalated_for],
        "steps": [
            {
                "event_id": s.event_id,
                "kind": s.kind,
                "at": _time(s.at),
                "actor": s.actor,
                "detail": s.detail,
            }
            for s in push.steps
        ],
    }


def push_from_json(data: dict[str, Any]) -> Push:
    return Push(
        push_id=data["push_id"],
        report_id=data["report_id"],
        department=data["department"],
        reason=RoutingReason(data["reason"]),
        role=PushRole(data["role"]),
        severity=Severity(data["severity"]),
        status=PushStatus(data["status"]),
        routed_at=_must(data["routed_at"]),
        sign_for_due=_parse(data["sign_for_due"]),
        feedback_due=_parse(data["feedback_due"]),
        deadlines_estimated=data.get("deadlines_estimated", False),
        transferred_from_push_id=data["transferred_from_push_id"],
        signed_for_at=_parse(data["signed_for_at"]),
        feedback=tuple(
            Feedback(
                HandlingResult(f["result"]),
                f["result_text"],
                _must(f["at"]),
                _evidence_from(f["evidence"]),
            )
            for f in data["feedback"]
        ),
        transferred_to=data["transferred_to"],
        overdue=tuple(Deadline(d) for d in data["overdue"]),
        escalation_levels=tuple(data["escalation_levels"]),
        escalated_to=tuple(data.get("escalated_to", ())),  # absent: stored before it was kept
        escalated_for=tuple(Deadline(d) for d in data.get("escalated_for", ())),  # likewise
        steps=tuple(
            Step(s["event_id"], s["kind"], _must(s["at"]), s["actor"], s["detail"])
            for s in data["steps"]
        ),
    )


@dataclass(frozen=True)
class DepartmentCounts:
    department: str
    open: int
    overdue: int
    escalated: int
    total: int


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _due_member(push_id: str, deadline: Deadline) -> str:
    return f"{push_id}|{deadline.value}"


class PushReadModel:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    # --- writes (stream worker only) ---

    async def was_applied(self, event_id: str) -> bool:
        return bool(await self._redis.exists(APPLIED + event_id))

    async def apply_report(self, event_id: str, report: AbnormalReport) -> bool:
        """Store a report and index it by its subjects; False when this event was applied."""
        if await self.was_applied(event_id):
            return False
        score = report.filed_at.timestamp()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(REPORT + report.report_id, json.dumps(report_to_json(report)), nx=True)
            for subject in report.subjects:
                pipe.zadd(RECORD + subject.identity, {report.report_id: score})
            pipe.set(APPLIED + event_id, "1")
            await pipe.execute()
        return True

    async def mark_routed(self, report_id: str) -> None:
        await self._redis.sadd(ROUTED_REPORTS, report_id)

    async def is_routed(self, report_id: str) -> bool:
        return bool(await self._redis.sismember(ROUTED_REPORTS, report_id))

    async def next_state(self, event: PushEvent) -> Push | None:
        """The push after ``event``, or None when the event was applied already.

        Raises PushActionRefused when the push's state contradicts the event.
        """
        if await self.was_applied(event.event_id):
            return None
        return apply_push_event(await self.push(event.push_id), event)

    async def save_push(self, event_id: str, push: Push) -> None:
        """Store the push as of ``event_id`` with its indexes and the applied marker."""
        key = PUSH + push.push_id
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key, json.dumps(push_to_json(push), ensure_ascii=False))
            score = push.routed_at.timestamp()
            for department in (push.department, None):
                pipe.zadd(index_key(department, Facet.ALL), {push.push_id: score})
                for facet, member in push_facets(push).items():
                    if member:
                        pipe.zadd(index_key(department, facet), {push.push_id: score})
                    else:
                        pipe.zrem(index_key(department, facet), push.push_id)
            pipe.sadd(DEPARTMENTS, push.department)
            pipe.hset(CHANGED, push.push_id, str(time.time()))
            pipe.sadd(REPORT_PUSHES + push.report_id, push.push_id)
            pipe.zrem(DUE, *(_due_member(push.push_id, d) for d in Deadline))
            pending = {
                _due_member(push.push_id, d): due.timestamp() for d, due in push.pending_deadlines()
            }
            if pending:
                pipe.zadd(DUE, pending)
            if push.deadlines_estimated and push.role is PushRole.HANDLER:
                pipe.sadd(ESTIMATED, push.push_id)
            else:
                pipe.srem(ESTIMATED, push.push_id)
            pipe.set(APPLIED + event_id, "1")
            await pipe.execute()

    async def forget_due(self, push_id: str, deadline: Deadline) -> None:
        await self._redis.zrem(DUE, _due_member(push_id, deadline))

    # --- reads ---

    async def report(self, report_id: str) -> AbnormalReport | None:
        raw = await self._redis.get(REPORT + report_id)
        return None if raw is None else report_from_json(json.loads(raw))

    async def push(self, push_id: str) -> Push | None:
        raw = await self._redis.get(PUSH + push_id)
        return None if raw is None else push_from_json(json.loads(raw))

    async def pushes(self, push_ids: list[str]) -> list[Push]:
        if not push_ids:
            return []
        raws = await self._redis.mget([PUSH + p for p in push_ids])
        return [push_from_json(json.loads(raw)) for raw in raws if raw is not None]

    async def push_ids(
        self,
        department: str | None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[str]:
        """Push ids of one department's inbox (or of all, for operators), newest first."""
        key = ALL_PUSHES if department is None else INBOX + department
        low = "-inf" if since is None else since.timestamp()
        high = "+inf" if until is None else until.timestamp()
        if limit is None:
            raw = await self._redis.zrevrangebyscore(key, high, low)
        else:
            raw = await self._redis.zrevrangebyscore(key, high, low, start=0, num=limit)
        return [_text(member) for member in raw]

    async def report_push_ids(self, report_id: str) -> set[str]:
        return {_text(m) for m in await self._redis.smembers(REPORT_PUSHES + report_id)}

    async def record(self, identity: str) -> list[str]:
        """Report ids about one organisation (credit code), newest first."""
        return [_text(m) for m in await self._redis.zrevrange(RECORD + identity, 0, -1)]

    async def with_estimated_deadlines(self) -> list[str]:
        """Handler pushes whose deadlines are estimates, waiting for the calendar."""
        return sorted(_text(m) for m in await self._redis.smembers(ESTIMATED))

    async def due_by(self, now: datetime) -> list[tuple[str, Deadline]]:
        raw = await self._redis.zrangebyscore(DUE, "-inf", now.timestamp())
        found = []
        for member in raw:
            push_id, _, deadline = _text(member).partition("|")
            found.append((push_id, Deadline(deadline)))
        return found

    async def departments(self) -> list[str]:
        return sorted(_text(m) for m in await self._redis.smembers(DEPARTMENTS))

    async def counts(self, department: str) -> DepartmentCounts:
        async with self._redis.pipeline(transaction=False) as pipe:
            for facet in (Facet.OPEN, Facet.OPEN_OVERDUE, Facet.ESCALATED, Facet.ALL):
                pipe.zcard(index_key(department, facet))
            open_, overdue, escalated, total = await pipe.execute()
        return DepartmentCounts(department, open_, overdue, escalated, total)

    async def changed_at(self, push_id: str) -> float | None:
        """Wall-clock epoch seconds at which the push was last projected, if known."""
        raw = await self._redis.hget(CHANGED, push_id)
        return None if raw is None else float(raw)

    async def page(
        self,
        department: str | None,
        facet: str,
        *,
        limit: int,
        since: datetime | None = None,
        until: datetime | None = None,
        after: PageCursor | None = None,
        accept: Callable[[Push], bool] = lambda _: True,
    ) -> tuple[list[Push], PageCursor | None]:
        """One page of an index, newest first, and the cursor of the next page (None: last).

        Reads the index in batches from the cursor on; ``accept`` filters what the index does
        not (e.g. overdue=false within a status), so a page may read more than it returns, but
        never more than the one index.
        """
        key = index_key(department, facet)
        low: float | str = "-inf" if since is None else since.timestamp()
        high: float | str = "+inf" if until is None else until.timestamp()
        if after is not None:
            high = after.score if isinstance(high, str) else min(high, after.score)
        batch = max(limit + 1, 50)
        found: list[tuple[Push, float]] = []
        offset = 0
        while len(found) <= limit:
            raw: list[Any] = await self._redis.zrevrangebyscore(
                key, high, low, start=offset, num=batch, withscores=True
            )
            if not raw:
                break
            offset += len(raw)
            # (member, score) pairs: the member a push id, the score its routed_at.
            ranked = [(_text(entry[0]), float(entry[1])) for entry in raw]
            ranked = [(p, sc) for p, sc in ranked if after is None or after.admits(sc, p)]
            pushes = {p.push_id: p for p in await self.pushes([p for p, _ in ranked])}
            for push_id, score in ranked:
                push = pushes.get(push_id)
                if push is not None and accept(push):
                    found.append((push, score))
            if len(raw) < batch:
                break
        if len(found) <= limit:
            return [push for push, _ in found], None
        last, last_score = found[limit - 1]
        return [push for push, _ in found[:limit]], PageCursor(last_score, last.push_id)
