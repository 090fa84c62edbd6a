"""The metrics read model in Redis.

Events are applied a batch at a time by one Lua script that records each event id: a
redelivered or replayed event finds its id already there and changes nothing. Script execution
is atomic in Redis, so a worker killed mid-batch leaves either all of a batch's effects or none:
the counters, the evidence, the aggregates' states and the open-push index move together.
A batch that would take a counter past Redis's signed 64 bits writes nothing either; its events
are then applied in smaller batches, each that can be wholly, and the ones that cannot are
reported (:class:`CounterWouldOverflow`) for the worker to dead-letter.

Keys (prefix ``prt:reporting:`` by default):
- ``counters``                 hash: counter key → value (all metrics, all periods)
- ``applied:<event id>``       marker: the event was applied
- ``state:<aggregate>``        JSON: what later events of a project/push/evaluation need
- ``evidence:<cell>``          set of event ids behind an evidence cell (metric+dims+month):
                               those that added to its counters; the cell with the dimension
                               ``subtracted=true`` (metrics.subtracted_cell) those that took
                               from them, e.g. pushes_in_hand at the measure after 立案
- ``cells:<metric>``           set of a metric's evidence cells (both kinds)

Evidence written by a version without subtracted cells lists the events that took from a figure
among those that added to it (their ids carry no sign to sort them by). A rebuild recomputes it:
stop the reporting worker, run ``python -m services.reporting.rebuild --yes``, start the worker
(it replays the log into a new read model, evidence included).
- ``index:<name>``             set, e.g. the open pushes of the deadline board
- ``version``                  incremented by every applied event (the dashboard watches it)
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

from services.reporting.domain.errors import ReportingError
from services.reporting.domain.facts import Fact
from services.reporting.domain.metrics import (
    PERIOD,
    SUBTRACTED,
    CounterKey,
    contribute,
    state_key,
)
from services.reporting.domain.periods import parse_period

DEFAULT_PREFIX = "prt:reporting:"

# Applies a batch of events, all or nothing. ARGV[1] is the key prefix (keys are built here: the
# read model needs a standalone Redis, or one hash slot, as a Redis Cluster requires every key to
# be declared); ARGV[2] the batch as one JSON object (one argument: packing and parsing many
# arguments, or the same counter names once per event, cost more than the work itself):
#   ids      [event id…] in order
#   states   [[aggregate, expected state, state after ('' unchanged)]…], one per aggregate the
#            batch reads or writes: the state before its first event of the batch, and after
#            its last (the events between follow from the first: they need no check)
#   sums     {counter field: "amount"} — the batch's increments, summed by the caller
#   evidence [[cell, [event id…]]…], cells {metric: [index of a cell in evidence…]}
#   index    [[op ('+'/'-'), index, member]…] in order
# The events are checked first: none must have been applied, and each aggregate's state must be
# the one the batch was computed from. If every one passes, everything is applied and the result
# is all 1s; otherwise nothing is, and the result says, per event, 0 (applied before) or -1
# (not applied; a state had moved, or another event was applied before): the caller drops the
# 0s, reads the states again and recomputes.
# Then the counters: a Redis counter is a signed 64-bit integer, and a HINCRBY past it fails
# mid-script with every write before it kept (Redis does not roll a script back), so each sum is
# checked before anything is written. If one would overflow, nothing is applied and the result
# is -2 per event, followed by the counter fields that would overflow (strings): the caller
# applies the events in smaller batches, down to the one event that cannot be applied.
_APPLY_BATCH = r"""
local prefix = ARGV[1]
local batch = cjson.decode(ARGV[2])
local results, conflict = {}, false
-- Each event is marked applied as it is checked (one command, not two): on a conflict the
-- marks set here are taken back before the script returns, so nothing is left applied.
for n, id in ipairs(batch.ids) do
  if redis.call('SET', prefix .. 'applied:' .. id, '1', 'NX') then
    results[n] = 1
  else
    results[n] = 0
    conflict = true
  end
end
for _, state in ipairs(batch.states) do
  if (redis.call('GET', prefix .. 'state:' .. state[1]) or '') ~= state[2] then
    conflict = true
    break
  end
end
-- Takes back the marks set above (nothing is left applied) and says why, per event.
local function refuse(result)
  for n, id in ipairs(batch.ids) do
    if results[n] == 1 then
      redis.call('DEL', prefix .. 'applied:' .. id)
      results[n] = result
    end
  end
  return results
end
if conflict then
  return refuse(-1)
end
-- Lua numbers are doubles: a stored value and a sum (both read from text) near 2^63 are off by
-- at most a few thousand, so the check is |current + sum| >= 9.2e18 rather than > 2^63 - 1
-- (9.223e18): a margin of 2.3e16, far above the rounding, refuses a counter a little before it
-- would overflow, never after. The sums are text (exact past 2^53); a sum past int64 itself
-- (possible once summed over a batch) is refused as well. Both under 19 characters (below
-- 10^18 each, so below 2e18 together) need no arithmetic: nearly every counter, every time.
-- One HMGET per 1,000 counters.
local counters_key = prefix .. 'counters'
local fields, totals = {}, {}
for field, total in pairs(batch.sums) do
  fields[#fields + 1] = field
  totals[#totals + 1] = total
end
local overflowing = {}
for first = 1, #fields, 1000 do
  local last = math.min(first + 999, #fields)
  local stored = redis.call('HMGET', counters_key, unpack(fields, first, last))
  for n = first, last do
    local current, total = stored[n - first + 1], totals[n]
    if (current and #current > 18) or #total > 18 then
      if math.abs((current and tonumber(current) or 0) + tonumber(total)) >= 9.2e18 then
        overflowing[#overflowing + 1] = fields[n]
      end
    end
  end
end
if #overflowing > 0 then
  refuse(-2)
  for _, field in ipairs(overflowing) do
    results[#results + 1] = field
  end
  return results
end
for _, state in ipairs(batch.states) do
  if state[3] ~= '' then
    redis.call('SET', prefix .. 'state:' .. state[1], state[3])
  end
end
local function add_all(key, members)
  for first = 1, #members, 1000 do
    redis.call('SADD', key, unpack(members, first, math.min(first + 999, #members)))
  end
end
for _, cell in ipairs(batch.evidence) do
  add_all(prefix .. 'evidence:' .. cell[1], cell[2])
end
for metric, positions in pairs(batch.cells) do
  local members = {}
  for n, position in ipairs(positions) do
    members[n] = batch.evidence[position][1]
  end
  add_all(prefix .. 'cells:' .. metric, members)
end
for _, change in ipairs(batch.index) do
  if change[1] == '+' then
    redis.call('SADD', prefix .. 'index:' .. change[2], change[3])
  else
    redis.call('SREM', prefix .. 'index:' .. change[2], change[3])
  end
end
for n, field in ipairs(fields) do
  redis.call('HINCRBY', counters_key, field, totals[n])
end
redis.call('INCRBY', prefix .. 'version', #batch.ids)
return results
"""


@dataclass(frozen=True)
class PlannedBatch:
    """A batch ready for the apply script: its facts (each event once, in order), the script's
    argument, and every aggregate's state after it, as planned."""

    facts: list[Fact]
    payload: bytes
    states_after: dict[str, str]


class EventsNotApplied(ReportingError):
    """Events of a batch the read model could not apply; every other event of the batch was
    applied (a batch is never half-applied: each event is, wholly, or is not at all)."""

    def __init__(self, applied: int, refused: tuple[RefusedEvent, ...]) -> None:
        self.applied = applied
        self.refused = refused
        super().__init__(
            f"{len(refused)} event(s) not applied ({applied} applied): "
            + "; ".join(event.reason for event in refused)
        )


class CounterWouldOverflow(EventsNotApplied):
    """Adding these events would take a counter past a signed 64-bit integer (Redis's limit).

    The codec's amount ceiling (services/platform_core/money.py) keeps single events far below
    it; this is the read model's own guard, as an overflow would fail the script mid-way."""


@dataclass(frozen=True)
class RefusedEvent:
    event_id: str
    # The counter fields (encoded counter keys) that would overflow.
    counters: tuple[str, ...]

    @property
    def reason(self) -> str:
        shown = ", ".join(self.counters[:3])
        more = f" and {len(self.counters) - 3} more" if len(self.counters) > 3 else ""
        return f"counter {shown}{more} would overflow a 64-bit integer"


@dataclass(frozen=True)
class _ScriptOutcome:
    results: list[int]  # per event: 1 applied, 0 applied before, -1 conflict, -2 overflow
    overflowing: tuple[str, ...]  # the counters that would overflow (then nothing is applied)


@dataclass(frozen=True)
class EvidencePage:
    """A page of the events behind a figure, in event-id order, and how many there are in all.

    ``added`` counts the events (of every page) that added to the figure's counters,
    ``subtracted`` those that took from them; for a count, added − subtracted is the figure
    where each event moved it by one (most do; an evaluation's cancellation takes back each of
    its shared experts at once).
    An event that did both (in two of the figure's cells) is counted in each, and listed once in
    ``event_ids`` (``total`` counts it once)."""

    event_ids: list[str]
    added_ids: list[str]  # this page's events that added
    subtracted_ids: list[str]  # this page's events that subtracted
    next_cursor: str | None
    total: int
    added: int
    subtracted: int


def _first_of_each_event(facts: Sequence[Fact]) -> list[Fact]:
    """A batch without repeats of an event (a repeat would not apply: its id is applied)."""
    seen: set[str] = set()
    first = []
    for fact in facts:
        if fact.event_id not in seen:
            seen.add(fact.event_id)
            first.append(fact)
    return first


def _state_text(state: Mapping[str, Any]) -> str:
    return orjson.dumps(state, option=orjson.OPT_SORT_KEYS).decode()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def batch_payload(
    facts: Sequence[Fact], aggregates: Sequence[str | None], current: dict[str, str]
) -> bytes:
    """The apply script's batch (see _APPLY_BATCH) for facts in order, given each fact's
    aggregate and the aggregates' states ('' none); ``current`` is moved along to the states
    after the batch."""
    ids: list[str] = []
    expected: dict[str, str] = {}  # each aggregate's state before its first event of the batch
    changed: set[str] = set()
    # Amounts by group of counters moved together (see Ledger), summed per counter below.
    groups: dict[tuple[str, ...], int] = defaultdict(int)
    evidence: dict[str, list[str]] = {}
    cells: dict[str, list[int]] = defaultdict(list)
    index: list[tuple[str, str, str]] = []
    for fact, aggregate in zip(facts, aggregates, strict=True):
        ids.append(fact.event_id)
        state = ""
        if aggregate:
            state = current.get(aggregate, "")
            expected.setdefault(aggregate, state)
        c = contribute(fact, orjson.loads(state) if state else None)
        if aggregate and c.new_state is not None:
            current[aggregate] = _state_text(c.new_state)  # what the aggregate's next event sees
            changed.add(aggregate)
        for counted in c.counted:
            groups[counted.fields] += counted.by
        for cell in c.evidence:
            encoded = cell.encode()
            cell_ids = evidence.get(encoded)
            if cell_ids is None:
                evidence[encoded] = cell_ids = []
                cells[cell.metric].append(len(evidence))  # its position, counted from 1 (Lua)
            cell_ids.append(fact.event_id)
        index.extend(("+" if x.add else "-", x.index, x.member) for x in c.index_changes)
    sums: dict[str, int] = defaultdict(int)
    for fields, amount in groups.items():
        for counter in fields:
            sums[counter] += amount
    batch = {
        "ids": ids,
        "states": [
            (aggregate, state, current[aggregate] if aggregate in changed else "")
            for aggregate, state in expected.items()
        ],
        # As text: a Lua number would lose digits past 2^53 and be written as 1e+17.
        "sums": {counter: str(total) for counter, total in sums.items() if total},
        "evidence": list(evidence.items()),
        "cells": cells,
        "index": index,
    }
    return orjson.dumps(batch)


class MetricsReadModel:
    def __init__(self, redis: Redis, prefix: str = DEFAULT_PREFIX) -> None:
        self._redis = redis
        self._prefix = prefix
        self._apply_batch_script = redis.register_script(_APPLY_BATCH)

    def _key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    @property
    def counters_key(self) -> str:
        return self._key("counters")

    async def apply_fact(self, fact: Fact) -> bool:
        """Apply a fact's contribution unless its event was applied before; True when now."""
        return await self.apply_facts([fact]) == 1

    async def apply_facts(self, facts: Sequence[Fact]) -> int:
        """Apply facts in order — one state read and one atomic script per call, in the common
        case — with the outcome of applying them one by one. Returns how many were applied."""
        if not facts:
            return 0
        return await self.execute(self.plan(facts, await self.read_states(facts)))

    async def read_states(self, facts: Sequence[Fact]) -> dict[str, str]:
        """The stored state ('' none) of every aggregate the facts read or write."""
        unique = list({aggregate for fact in facts if (aggregate := state_key(fact))})
        if not unique:
            return {}
        raw_states = await self._redis.mget([self._key("state", a) for a in unique])
        return {
            aggregate: _text(raw) if raw is not None else ""
            for aggregate, raw in zip(unique, raw_states, strict=True)
        }

    def plan(self, facts: Sequence[Fact], states: Mapping[str, str]) -> PlannedBatch:
        """The script's batch for facts in order (an event's repeats dropped), computed from
        the aggregates' states as given. The states may be assumed rather than read (e.g. as a
        batch still being applied will leave them): the script applies nothing unless every
        one is as assumed, and then :meth:`execute` reads them and computes again."""
        planned = _first_of_each_event(facts)
        after = dict(states)
        payload = batch_payload(planned, [state_key(fact) for fact in planned], after)
        return PlannedBatch(planned, payload, after)

    async def execute(self, planned: PlannedBatch) -> int:
        """Apply a planned batch, all or nothing; when an event had been applied before or a
        state was not as planned, the rest is planned again from the states read now (and so
        on until none is left). Returns how many events were applied.

        When a counter would overflow, the batch is applied in halves, and so on down to
        single events: every event that can be applied is (in order, each wholly), and then
        :class:`CounterWouldOverflow` names the events that were not (wholly not: no counter,
        evidence, state or applied mark of theirs is written, so a replay tries them again)
        and how many were applied. Without an overflow this is one script call per batch."""
        applied, refused = await self._apply(planned.facts, planned.payload)
        if refused:
            raise CounterWouldOverflow(applied, tuple(refused))
        return applied

    async def _apply(self, facts: Sequence[Fact], payload: bytes) -> tuple[int, list[RefusedEvent]]:
        """Apply facts (their events once each, in order) planned as ``payload``: how many
        were applied, and the events refused for a counter that would overflow."""
        pending = list(facts)
        while True:
            outcome = await self._run_script(payload)
            if outcome.overflowing:
                # Nothing was applied. Halves keep the common case of one bad event among
                # thousands to a few dozen calls; one event alone is refused.
                if len(pending) == 1:
                    return 0, [RefusedEvent(pending[0].event_id, outcome.overflowing)]
                applied, refused = 0, []
                middle = len(pending) // 2
                for half in (pending[:middle], pending[middle:]):
                    # Planned from the states now: the first half has moved them.
                    half_planned = self.plan(half, await self.read_states(half))
                    half_applied, half_refused = await self._apply(
                        half_planned.facts, half_planned.payload
                    )
                    applied += half_applied
                    refused.extend(half_refused)
                return applied, refused
            if all(result == 1 for result in outcome.results):
                return len(pending), []
            # Nothing was applied: drop the events applied before (e.g. redelivered after a
            # kill) and compute the rest again from the states as they are now.
            pending = [
                fact for fact, result in zip(pending, outcome.results, strict=True) if result
            ]
            if not pending:
                return 0, []
            payload = self.plan(pending, await self.read_states(pending)).payload

    async def _run_script(self, payload: bytes) -> _ScriptOutcome:
        raw = await self._apply_batch_script(keys=[self.counters_key], args=[self._prefix, payload])
        # One integer per event, then (after an overflow) the counters that would overflow.
        results = [result for result in raw if isinstance(result, int)]
        overflowing = tuple(_text(field) for field in raw[len(results) :])
        return _ScriptOutcome(results, overflowing)

    # ── reading ────────────────────────────────────────────────────────────────────────────

    async def counters(self, metric: str | None = None) -> dict[CounterKey, int]:
        result: dict[CounterKey, int] = {}
        if metric is None:
            raw: dict[Any, Any] = await self._redis.hgetall(self.counters_key)
            items = raw.items()
        else:
            found: dict[Any, Any] = {}
            async for field, value in self._redis.hscan_iter(
                self.counters_key, match=f"{metric}|*", count=2000
            ):
                found[field] = value
            total = await self._redis.hget(self.counters_key, metric)
            if total is not None:
                found[metric.encode()] = total
            items = found.items()
        for field, value in items:
            number = int(value)
            if number:
                result[CounterKey.decode(field.decode())] = number
        return result

    async def counters_in(
        self, metrics: Collection[str], period: str | None
    ) -> dict[CounterKey, int]:
        """The counters of ``metrics`` in ``period`` (None: the all-time ones), from one read
        of the hash: a field is decoded only if it is one of them (the period is a key's last
        part). One HSCAN per metric walked the whole hash each time."""
        raw: dict[Any, Any] = await self._redis.hgetall(self.counters_key)
        exact = {metric.encode() for metric in metrics}
        prefixes = tuple(f"{metric}|".encode() for metric in metrics)
        in_period = f"|period={period}".encode() if period is not None else None
        result: dict[CounterKey, int] = {}
        for field, value in raw.items():
            if not (field in exact or field.startswith(prefixes)):
                continue
            if in_period is None and b"|period=" in field:
                continue
            if in_period is not None and not field.endswith(in_period):
                continue
            if number := int(value):
                result[CounterKey.decode(field.decode())] = number
        return result

    async def version(self) -> int:
        raw = await self._redis.get(self._key("version"))
        return int(raw) if raw is not None else 0

    async def states(self, kind: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        raw = await self._redis.mget([self._key("state", f"{kind}:{i}") for i in ids])
        return {i: json.loads(value) for i, value in zip(ids, raw, strict=True) if value}

    async def index(self, name: str) -> set[str]:
        members = await self._redis.smembers(self._key("index", name))
        return {_text(member) for member in members}

    async def evidence(
        self,
        metric: str,
        period: str | None,
        where: Mapping[str, str],
        after: str | None,
        limit: int,
    ) -> EvidencePage:
        """The ids of the events behind a figure, in event-id (time) order, a page at a time,
        those that added to it apart from those that subtracted from it."""
        wanted_period = parse_period(period) if period else None
        raw_cells = await self._redis.smembers(self._key("cells", metric))
        adding: list[str] = []
        subtracting: list[str] = []
        for raw in raw_cells:
            cell = CounterKey.decode(_text(raw))
            dimensions = dict(cell.dimensions)
            took_from = dimensions.pop(SUBTRACTED, None) is not None
            if any(dimensions.get(name) != value for name, value in where.items()):
                continue
            if wanted_period and not wanted_period.contains_month(dimensions.get(PERIOD, "")):
                continue
            (subtracting if took_from else adding).append(self._key("evidence", _text(raw)))
        added = await self._members(adding)
        subtracted = await self._members(subtracting)
        ids = sorted(added | subtracted)
        start = 0
        if after is not None:
            start = next((n for n, event_id in enumerate(ids) if event_id > after), len(ids))
        page = ids[start : start + limit]
        more = start + limit < len(ids)
        return EvidencePage(
            event_ids=page,
            added_ids=[event_id for event_id in page if event_id in added],
            subtracted_ids=[event_id for event_id in page if event_id in subtracted],
            next_cursor=page[-1] if more and page else None,
            total=len(ids),
            added=len(added),
            subtracted=len(subtracted),
        )

    async def _members(self, keys: list[str]) -> set[str]:
        """The members of the union of sets ``keys``."""
        if not keys:
            return set()
        return {_text(member) for member in await self._redis.sunion(keys)}
