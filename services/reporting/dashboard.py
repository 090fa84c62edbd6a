"""The operator dashboard's data: one snapshot of what the page shows, from the read model, and
the cache that lets every open dashboard share it.

The snapshot is made once for everyone (:class:`SnapshotCache`) and holds every open push;
:func:`as_seen_by` then gives each reader its view of it: an operator the whole push board, a
department the open pushes abnormal push lets it read (access.check_may_read_push): those
addressed to it, its district branches' (分级监管: it supervises them), and those escalated to
it (升级督办). Branches come from the departments reference data abnormal push routes by, the
escalation targets from the PushEscalated events; copies (COPY) are never open, so never on the
board. The snapshot indexes the board by reader once, so a reader's view costs its own rows, not
a pass over every open push."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from services.platform_core.auth.principals import Principal, PrincipalKind
from services.platform_core.reference_data import district_branches
from services.reporting.domain.bulletin import (
    BEHAVIOUR_ZH,
    CATEGORY_ZH,
    MEASURE_ZH,
    REPORT_SOURCE_ZH,
    Labels,
    format_wan_yuan,
    rule_label,
)
from services.reporting.domain.figures import select
from services.reporting.domain.metrics import OPEN_PUSHES
from services.reporting.read_model import MetricsReadModel

# The rows of the push board a reader is sent (the nearest deadlines); how many pushes are open
# in all is sent beside it (open_pushes).
BOARD_LIMIT = 100
SHOWN_METRICS = (
    "registrations",
    "registered_amount_fen",
    "remote_evaluations_by_venue",
    "pushes_resolved",
    "transactions_completed",
    "transaction_amount_fen",
    "detected_signals",
    "pushes_escalated",
)
# The shared snapshot's index of the push board by reader: department code -> the positions (in
# the board's order) of the pushes it may see. Internal: as_seen_by never sends it.
BOARD_READERS = "_push_board_readers"
# Snapshots kept per API process: one per period the open dashboards show (all time, the
# current half-year, a few earlier ones); the least recently asked for goes first.
CACHED_PERIODS = 16


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _due_estimated(push: Mapping[str, Any], deadline: str) -> bool:
    """Whether the push's ``deadline`` (SIGN_FOR, FEEDBACK) is an estimate. A push folded
    before the read model kept which (no ``estimated_deadlines``) has one flag for both."""
    if not push.get("deadlines_estimated"):
        return False
    named = push.get("estimated_deadlines")
    return True if named is None else deadline in named


@lru_cache(maxsize=1)
def city_departments_of_branches() -> dict[str, str]:
    """Each district branch's city department, from departments.json's district_branches (the
    ``parent`` abnormal push's RoutingTable.parent_of reads). Read once per process, like the
    rest of the reference data (department_names): reference data changes with a deploy, and
    the dashboard's snapshot is asked for often."""
    return {branch.code: branch.parent for branch in district_branches()}


def push_readers(push: Mapping[str, Any], city_department_of: Mapping[str, str]) -> frozenset[str]:
    """The departments that may read an open push in abnormal push: the one it is addressed to,
    that one's city department if it is a district branch (``city_department_of``), and each it
    was escalated to. A state stored before reporting kept the escalation targets has none (a
    rebuild fills them in): until then it is shown to fewer departments, never to one that may
    not see it."""
    department: str = push["department"]
    readers = {department, *(to for to in push.get("escalated_to", {}).values() if to)}
    city_department = city_department_of.get(department)
    if city_department is not None:
        readers.add(city_department)
    return frozenset(readers)


async def snapshot(model: MetricsReadModel, labels: Labels, period: str | None) -> dict[str, Any]:
    """What the dashboard shows, for every reader: its push board is every open push. Send a
    reader :func:`as_seen_by` of it, never this."""
    version = await model.version()
    counters = await model.counters_in(SHOWN_METRICS, period)
    # The bulletin's 全市平台成交: deals made on the platform (SOE transfers off it left out).
    on_platform = {"on_platform": "true"}
    by_region = [
        {
            "code": dict(f.dimensions)["region"],
            "name": labels.region(dict(f.dimensions)["region"]),
            "value": f.value,
        }
        for f in select(counters, "registrations", frozenset({"region"}), period)
    ]
    by_category = [
        {
            "code": dict(f.dimensions)["category"],
            "name": CATEGORY_ZH.get(dict(f.dimensions)["category"], dict(f.dimensions)["category"]),
            "value": f.value,
        }
        for f in select(counters, "registrations", frozenset({"category"}), period)
    ]
    venue_figures = select(counters, "remote_evaluations_by_venue", frozenset({"venue"}), period)
    venue_ids = [dict(f.dimensions)["venue"] for f in venue_figures]
    venue_states = await model.states("venue", venue_ids)
    by_venue = [
        {
            "code": venue_id,
            # The name the venue published with its capacity, or the directory's (partner
            # venues publish none), or at worst its id.
            "name": venue_states.get(venue_id, {}).get("name")
            or labels.venues.get(venue_id)
            or venue_id,
            "value": figure.value,
        }
        for venue_id, figure in zip(venue_ids, venue_figures, strict=True)
    ]
    # Pushes resolved with the measure taken (已办结), in the period they were routed, and by
    # measure in the bulletin's order.
    resolved_by_measure = {
        dict(f.dimensions)["measure"]: f.value
        for f in select(counters, "pushes_resolved", frozenset({"measure"}), period)
    }
    by_measure = [
        {"code": code, "name": name, "value": resolved_by_measure.get(code, 0)}
        for code, name in MEASURE_ZH.items()
    ]
    # Signals automatic detection raised, by rule (largest first): what the collusion checks
    # and red flags found in the period.
    by_rule = [
        {"code": rule, "name": rule_label(rule, name), "value": f.value}
        for f in sorted(
            select(counters, "detected_signals", frozenset({"rule", "rule_name"}), period),
            key=lambda f: (-f.value, f.dimensions),
        )
        for rule, name in [(dict(f.dimensions)["rule"], dict(f.dimensions)["rule_name"])]
    ]
    # Overdue pushes escalated (升级督办), by level, then the department escalated to.
    tiers = [
        (int(dimensions["level"]), dimensions["to_department"], f.value)
        for f in select(counters, "pushes_escalated", frozenset({"level", "to_department"}), period)
        for dimensions in [dict(f.dimensions)]
    ]
    by_target = [
        {"code": code, "name": labels.department(code), "level": level, "value": value}
        for level, code, value in sorted(tiers, key=lambda t: (t[0], -t[2], t[1]))
    ]
    registered_amount_fen = sum(
        f.value for f in select(counters, "registered_amount_fen", frozenset(), period)
    )
    deal_amount_on_platform_fen = sum(
        f.value
        for f in select(
            counters, "transaction_amount_fen", frozenset({"on_platform"}), period, on_platform
        )
    )
    return {
        "version": version,
        "period": period,
        "generated_at": datetime.now(UTC).isoformat(),
        "totals": {
            "registrations": sum(
                f.value for f in select(counters, "registrations", frozenset(), period)
            ),
            "registered_amount_fen": registered_amount_fen,
            # 万元 as the bulletin prints them (exact decimals, half up; a page's float
            # arithmetic rounds 1,005,000 fen to 1.00, not 1.01): the page shows these.
            "registered_amount_wan_yuan": format_wan_yuan(registered_amount_fen),
            "deals_on_platform": sum(
                f.value
                for f in select(
                    counters,
                    "transactions_completed",
                    frozenset({"on_platform"}),
                    period,
                    on_platform,
                )
            ),
            "deal_amount_on_platform_fen": deal_amount_on_platform_fen,
            "deal_amount_on_platform_wan_yuan": format_wan_yuan(deal_amount_on_platform_fen),
            "pushes_resolved": sum(
                f.value for f in select(counters, "pushes_resolved", frozenset(), period)
            ),
            "detected_signals": sum(
                f.value for f in select(counters, "detected_signals", frozenset(), period)
            ),
            "pushes_escalated": sum(
                f.value for f in select(counters, "pushes_escalated", frozenset(), period)
            ),
        },
        "detected_signals_by_rule": by_rule,
        "pushes_escalated_by_target": by_target,
        "pushes_resolved_by_measure": by_measure,
        "registrations_by_region": by_region,
        "registrations_by_category": by_category,
        "remote_evaluations_by_venue": by_venue,
        **await _push_board_with_readers(model, labels),
    }


def as_seen_by(shared: dict[str, Any], reader: Principal) -> dict[str, Any]:
    """The snapshot as ``reader`` is sent it: the open pushes it may see — all of them for an
    operator, for a department those abnormal push lets it read (:func:`push_readers`) — how
    many they are, and the first ``BOARD_LIMIT`` of them. The figures are the city's, the same
    for every reader. ``shared`` is left as it is (other readers are sent it too)."""
    view = {name: value for name, value in shared.items() if name != BOARD_READERS}
    board: list[dict[str, Any]] = shared["push_board"]
    if reader.kind is not PrincipalKind.OPERATOR:
        readers: Mapping[str, list[int]] = shared.get(BOARD_READERS, {})
        board = [board[position] for position in readers.get(reader.code, ())]
    return {**view, "open_pushes": len(board), "push_board": board[:BOARD_LIMIT]}


async def push_board(model: MetricsReadModel, labels: Labels) -> list[dict[str, Any]]:
    """Every open push (to handle, not resolved), the nearest deadline first."""
    board: list[dict[str, Any]] = (await _push_board_with_readers(model, labels))["push_board"]
    return board


async def _push_board_with_readers(model: MetricsReadModel, labels: Labels) -> dict[str, Any]:
    """The snapshot's ``push_board`` (:func:`push_board`) and its index by reader
    (``BOARD_READERS``)."""
    now = datetime.now(UTC)
    open_ids = sorted(await model.index(OPEN_PUSHES))
    states = await model.states("push", open_ids)
    report_ids = sorted({push["report_id"] for push in states.values() if push.get("report_id")})
    reports = await model.states("report", report_ids)
    board = []
    city_department_of = city_departments_of_branches()
    readers_of: dict[str, frozenset[str]] = {}
    for push_id, push in states.items():
        readers_of[push_id] = push_readers(push, city_department_of)
        report = reports.get(push.get("report_id") or "", {})
        signed = bool(push.get("signed_at"))
        # 立案 (a case filed) met the feedback deadline, as abnormal push judges it: nothing is
        # due any more, the push waits for the measure taken.
        case_filed = bool(push.get("case_filed_at"))
        due = (
            None
            if case_filed
            else _instant(push.get("feedback_due") if signed else push.get("sign_for_due"))
        )
        estimated = due is not None and _due_estimated(push, "FEEDBACK" if signed else "SIGN_FOR")
        board.append(
            {
                "push_id": push_id,
                "report_id": push.get("report_id"),
                # Empty for a push whose report reporting has not seen (yet).
                "behaviour": BEHAVIOUR_ZH.get(report.get("behaviour_type", ""), ""),
                "source": REPORT_SOURCE_ZH.get(report.get("source", ""), ""),
                "rule": report.get("rule", ""),
                "department": push["department"],
                "department_name": labels.department(push["department"]),
                "status": "已立案" if case_filed else "待处理" if signed else "待签收",
                "due": due.isoformat() if due else None,
                # This due is an estimate: routed before the holiday calendar covered its year
                # (Monday to Friday counted), until PushDeadlinesSet states the real deadlines.
                # The other deadline may be real all the same (a December push's sign-for).
                "due_estimated": estimated,
                # An estimate is never judged (abnormal push marks no push late against it).
                "overdue": bool(push.get("overdue"))
                or (due is not None and due < now and not estimated),
            }
        )
    board.sort(key=lambda entry: (entry["due"] is None, entry["due"] or ""))
    by_reader: dict[str, list[int]] = {}
    for position, entry in enumerate(board):
        for code in readers_of[entry["push_id"]]:
            by_reader.setdefault(code, []).append(position)
    return {"push_board": board, BOARD_READERS: by_reader}


@dataclass
class _Cached:
    version: int  # the read model's version when the snapshot was begun
    begun: float  # time.monotonic() then
    task: asyncio.Task[dict[str, Any]]


class SnapshotCache:
    """The latest snapshot per period, shared by every open dashboard stream of the process.

    A snapshot reads and sums the counters of eight metrics (about 25 ms of the API and Redis
    with the demo half-year; it was 0.1 s before counters_in), and each stream used to make its
    own whenever an event was applied: twenty dashboards open while departments worked kept
    most of a core busy (bench/reporting_dashboard_streams.py). Now it is made once per period
    when the read model's version moves, and at most once per ``min_interval_s`` (a dashboard
    need not redraw faster than that); a stream asking meanwhile gets the one made or being
    made."""

    def __init__(self, min_interval_s: float) -> None:
        self._min_interval_s = min_interval_s
        self._cached: OrderedDict[str | None, _Cached] = OrderedDict()

    async def latest(
        self, model: MetricsReadModel, labels: Labels, period: str | None
    ) -> dict[str, Any]:
        version = await model.version()
        now = time.monotonic()
        cached = self._cached.get(period)
        if cached is None or (
            cached.version != version and now - cached.begun >= self._min_interval_s
        ):
            task = asyncio.ensure_future(snapshot(model, labels, period))
            # Retrieved even if every stream that waited for it has gone meanwhile.
            task.add_done_callback(lambda done: done.cancelled() or done.exception())
            cached = _Cached(version, now, task)
            self._cached[period] = cached
            while len(self._cached) > CACHED_PERIODS:
                self._cached.popitem(last=False)
        self._cached.move_to_end(period)
        try:
            # Shielded: a stream whose browser goes away must not cancel the others' snapshot.
            return await asyncio.shield(cached.task)
        except Exception:
            if self._cached.get(period) is cached:  # the next ask tries again
                del self._cached[period]
            raise
