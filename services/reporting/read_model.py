"""The metrics read model in Redis.

An event's increments are applied by one Lua script that first records the event id: a
redelivered or replayed event finds its id already there and changes nothing. Script execution
is atomic in Redis, so a worker killed mid-event leaves either all of its increments or none.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from services.reporting.domain.metrics import CounterKey, Increment

COUNTERS_KEY = "prt:reporting:counters"
APPLIED_PREFIX = "prt:reporting:applied:"

_APPLY_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX') == false then
  return 0
end
for i = 1, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
end
return 1
"""


class MetricsReadModel:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._apply_once = redis.register_script(_APPLY_ONCE)

    async def apply(self, event_id: str, increments: list[Increment]) -> bool:
        """Add the increments unless this event was applied before; True when applied now."""
        args: list[str | int] = []
        for increment in increments:
            args.extend((increment.key.encode(), increment.by))
        applied = await self._apply_once(keys=[APPLIED_PREFIX + event_id, COUNTERS_KEY], args=args)
        return bool(applied)

    async def counters(self, metric: str | None = None) -> dict[CounterKey, int]:
        raw: dict[Any, Any] = await self._redis.hgetall(COUNTERS_KEY)
        result: dict[CounterKey, int] = {}
        for field, value in raw.items():
            key = CounterKey.decode(field.decode())
            if metric is None or key.metric == metric:
                result[key] = int(value)
        return result
