"""The metrics read model in Redis.

Events are applied by one Lua script that first records each event id: a redelivered or
replayed event finds its id already there and changes nothing. Script execution is atomic in
Redis, so a worker killed mid-batch leaves either all of a batch's effects or none: the
counters, the evidence, the aggregates' states and the open-push index move together.

Keys (prefix ``prt:reporting:`` by default):
- ``counters``                 hash: counter key → value (all metrics, all periods)
- ``applied:<event id>``       marker: the event was applied
- ``state:<aggregate>``        JSON: what later events of a project/push/evaluation need
- ``evidence:<cell>``          set of event ids behind an evidence cell (metric+dims+month)
- ``cells:<metric>``           set of a metric's evidence cells
- ``index:<name>``             set, e.g. the open pushes of the deadline board
- ``version``                  incremented by every applied event (the dashboard watches it)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from services.reporting.domain.facts import Fact
from services.reporting.domain.metrics import PERIOD, CounterKey, contribute, state_key
from services.reporting.domain.periods import parse_period

DEFAULT_PREFIX = "prt:reporting:"

# Applies a batch of events in order; returns, per event, 1 (applied now), 0 (applied before)
# or -1 (its aggregate's state is not the one its contribution was computed from: the caller
# reads it again and recomputes). Increments are summed per counter over the batch and written
# once each. Keys are built here from the prefix (ARGV[1]): the read model needs a standalone
# Redis (or one hash slot), as a Redis Cluster requires every key to be declared.
# Per event, 7 arguments: id, aggregate ('' none), expected state, new state ('' unchanged),
# increments "field\31by\30…", evidence "metric\31cell\30…", index ops "op\31index\31member\30…".
_APPLY_BATCH = r"""
local prefix = ARGV[1]
local sums, results, applied = {}, {}, 0
for b = 2, #ARGV, 7 do
  local id, aggregate, expected, new_state = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  local result = 0
  if redis.call('EXISTS', prefix .. 'applied:' .. id) == 0 then
    local current = ''
    if aggregate ~= '' then
      current = redis.call('GET', prefix .. 'state:' .. aggregate) or ''
    end
    if current ~= expected then
      result = -1
    else
      result = 1
      applied = applied + 1
      redis.call('SET', prefix .. 'applied:' .. id, '1')
      if aggregate ~= '' and new_state ~= '' then
        redis.call('SET', prefix .. 'state:' .. aggregate, new_state)
      end
      for field, by in string.gmatch(ARGV[b + 4], '([^\30]+)\31([^\30]+)') do
        sums[field] = (sums[field] or 0) + tonumber(by)
      end
      for metric, cell in string.gmatch(ARGV[b + 5], '([^\30]+)\31([^\30]+)') do
        redis.call('SADD', prefix .. 'evidence:' .. cell, id)
        redis.call('SADD', prefix .. 'cells:' .. metric, cell)
      end
      for op, index, member in string.gmatch(ARGV[b + 6], '([+-])\31([^\31]+)\31([^\30]+)') do
        if op == '+' then
          redis.call('SADD', prefix .. 'index:' .. index, member)
        else
          redis.call('SREM', prefix .. 'index:' .. index, member)
        end
      end
    end
  end
  results[#results + 1] = result
end
for field, total in pairs(sums) do
  if total ~= 0 then
    redis.call('HINCRBY', prefix .. 'counters', field, string.format('%d', total))
  end
end
if applied > 0 then
  redis.call('INCRBY', prefix .. 'version', applied)
end
return results
"""
RECORD, UNIT = "\x1e", "\x1f"


@dataclass(frozen=True)
class EvidencePage:
    event_ids: list[str]
    next_cursor: str | None
    total: int


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


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
        """Apply facts in order — one state read and one atomic script per call — with the
        outcome of applying them one by one. Returns how many were applied now."""
        pending = list(facts)
        applied = 0
        while pending:
            results = await self._apply_batch(pending)
            applied += sum(1 for result in results if result == 1)
            # A state that moved under us (e.g. a redelivered event already applied): redo
            # those events, in order, from the states as they are now.
            pending = [fact for fact, result in zip(pending, results, strict=True) if result == -1]
        return applied

    async def _apply_batch(self, facts: Sequence[Fact]) -> list[int]:
        aggregates = [state_key(fact) for fact in facts]
        unique = sorted({aggregate for aggregate in aggregates if aggregate})
        raw_states = (
            await self._redis.mget([self._key("state", a) for a in unique]) if unique else []
        )
        current = {
            aggregate: _text(raw) if raw is not None else ""
            for aggregate, raw in zip(unique, raw_states, strict=True)
        }
        args: list[str] = [self._prefix]
        for fact, aggregate in zip(facts, aggregates, strict=True):
            expected = current.get(aggregate, "") if aggregate else ""
            c = contribute(fact, json.loads(expected) if expected else None)
            new_state = (
                ""
                if c.new_state is None
                else json.dumps(c.new_state, ensure_ascii=False, sort_keys=True)
            )
            if aggregate and new_state:
                current[aggregate] = new_state  # what the next event of this aggregate sees
            args.extend(
                (
                    fact.event_id,
                    aggregate or "",
                    expected,
                    new_state,
                    RECORD.join(f"{i.field}{UNIT}{i.by}" for i in c.increments),
                    RECORD.join(f"{cell.metric}{UNIT}{cell.encode()}" for cell in c.evidence),
                    RECORD.join(
                        f"{'+' if x.add else '-'}{UNIT}{x.index}{UNIT}{x.member}"
                        for x in c.index_changes
                    ),
                )
            )
        results = await self._apply_batch_script(keys=[self.counters_key], args=args)
        return [int(result) for result in results]

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
        """The ids of the events behind a figure, in event-id (time) order, a page at a time."""
        wanted_period = parse_period(period) if period else None
        raw_cells = await self._redis.smembers(self._key("cells", metric))
        matching: list[str] = []
        for raw in raw_cells:
            cell = CounterKey.decode(_text(raw))
            dimensions = dict(cell.dimensions)
            if any(dimensions.get(name) != value for name, value in where.items()):
                continue
            if wanted_period and not wanted_period.contains_month(dimensions.get(PERIOD, "")):
                continue
            matching.append(self._key("evidence", _text(raw)))
        if not matching:
            return EvidencePage([], None, 0)
        members = await self._redis.sunion(matching)
        ids = sorted(_text(member) for member in members)
        start = 0
        if after is not None:
            start = next((n for n, event_id in enumerate(ids) if event_id > after), len(ids))
        page = ids[start : start + limit]
        more = start + limit < len(ids)
        return EvidencePage(page, page[-1] if more and page else None, len(ids))
