"""The metrics read model in Redis.

An event is applied by one Lua script that first records the event id: a redelivered or
replayed event finds its id already there and changes nothing. Script execution is atomic in
Redis, so a worker killed mid-event leaves either all of its effects or none: the counters, the
evidence, the aggregate's state and the open-push index move together.

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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from services.reporting.domain.facts import Fact
from services.reporting.domain.metrics import (
    PERIOD,
    Contribution,
    CounterKey,
    State,
    contribute,
    state_key,
)
from services.reporting.domain.periods import parse_period

DEFAULT_PREFIX = "prt:reporting:"

# Returns 1 when applied, 0 when the event was applied before, -1 when the aggregate's state
# changed since it was read (the caller reads it again and recomputes).
_APPLY_ONCE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local current = redis.call('GET', KEYS[3]) or ''
if current ~= ARGV[2] then
  return -1
end
local n_incr, n_cells, n_index = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('SET', KEYS[1], '1')
if ARGV[3] ~= '' then
  redis.call('SET', KEYS[3], ARGV[3])
end
local a = 7
for i = 1, n_incr do
  redis.call('HINCRBY', KEYS[2], ARGV[a], ARGV[a + 1])
  a = a + 2
end
for i = 1, n_cells do
  redis.call('SADD', KEYS[4 + i], ARGV[1])
  redis.call('SADD', KEYS[4 + n_cells + i], ARGV[a])
  a = a + 1
end
for i = 1, n_index do
  if ARGV[a] == '+' then
    redis.call('SADD', KEYS[4 + 2 * n_cells + i], ARGV[a + 1])
  else
    redis.call('SREM', KEYS[4 + 2 * n_cells + i], ARGV[a + 1])
  end
  a = a + 2
end
redis.call('INCR', KEYS[4])
return 1
"""


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
        self._apply_once = redis.register_script(_APPLY_ONCE)

    def _key(self, *parts: str) -> str:
        return self._prefix + ":".join(parts)

    @property
    def counters_key(self) -> str:
        return self._key("counters")

    async def apply_fact(self, fact: Fact) -> bool:
        """Apply a fact's contribution unless its event was applied before; True when now."""
        aggregate = state_key(fact)
        state_redis_key = self._key("state", aggregate) if aggregate else self._key("state-none")
        while True:
            raw = await self._redis.get(state_redis_key) if aggregate else None
            expected = _text(raw) if raw is not None else ""
            state: State | None = json.loads(expected) if expected else None
            contribution = contribute(fact, state)
            result = await self._run(fact.event_id, state_redis_key, expected, contribution)
            if result != -1:
                return result == 1

    async def _run(
        self, event_id: str, state_redis_key: str, expected: str, contribution: Contribution
    ) -> int:
        new_state = (
            ""
            if contribution.new_state is None
            else json.dumps(contribution.new_state, ensure_ascii=False, sort_keys=True)
        )
        cells = [cell.encode() for cell in contribution.evidence]
        keys = [
            self._key("applied", event_id),
            self.counters_key,
            state_redis_key,
            self._key("version"),
            *(self._key("evidence", cell) for cell in cells),
            *(self._key("cells", cell.metric) for cell in contribution.evidence),
            *(self._key("index", change.index) for change in contribution.index_changes),
        ]
        args: list[str | int] = [
            event_id,
            expected,
            new_state,
            len(contribution.increments),
            len(cells),
            len(contribution.index_changes),
        ]
        for increment in contribution.increments:
            args.extend((increment.key.encode(), increment.by))
        args.extend(cells)
        for change in contribution.index_changes:
            args.extend(("+" if change.add else "-", change.member))
        result = await self._apply_once(keys=keys, args=args)
        return int(result)

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
