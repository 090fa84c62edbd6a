"""A comparable copy of a service's Redis projections: every key matching some patterns, read by
its type (string, hash, set, sorted set, list), so two copies taken before and after a rebuild
can be diffed key by key."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from redis.asyncio import Redis

Snapshot = dict[str, Any]


async def snapshot(
    redis: Redis, patterns: Iterable[str], *, exclude: Iterable[str] = ()
) -> Snapshot:
    excluded = list(exclude)
    keys: set[bytes] = set()
    for pattern in patterns:
        async for key in redis.scan_iter(match=pattern, count=2000):
            if not any(fnmatchcase(key.decode(), skip) for skip in excluded):
                keys.add(key)
    ordered = sorted(keys)
    found: Snapshot = {}
    for start in range(0, len(ordered), 1000):
        chunk = ordered[start : start + 1000]
        async with redis.pipeline(transaction=False) as pipe:
            for key in chunk:
                pipe.type(key)
            types = await pipe.execute()
        async with redis.pipeline(transaction=False) as pipe:
            for key, kind in zip(chunk, types, strict=True):
                _read(pipe, key, kind.decode() if isinstance(kind, bytes) else kind)
            values = await pipe.execute()
        for key, kind, value in zip(chunk, types, values, strict=True):
            found[key.decode()] = _comparable(kind, value)
    return found


def _read(pipe: Any, key: bytes, kind: str) -> None:
    if kind == "string":
        pipe.get(key)
    elif kind == "hash":
        pipe.hgetall(key)
    elif kind == "set":
        pipe.smembers(key)
    elif kind == "zset":
        pipe.zrange(key, 0, -1, withscores=True)
    elif kind == "list":
        pipe.lrange(key, 0, -1)
    else:  # gone since the scan, or a type projections do not use
        pipe.type(key)


def _comparable(kind: Any, value: Any) -> Any:
    kind = kind.decode() if isinstance(kind, bytes) else kind
    if kind == "set":
        return sorted(value)
    if kind == "zset":
        return [(member, score) for member, score in value]
    return value


@dataclass(frozen=True)
class SnapshotDiff:
    only_before: list[str]
    only_after: list[str]
    changed: list[str]

    @property
    def count(self) -> int:
        return len(self.only_before) + len(self.only_after) + len(self.changed)

    def describe(self, before: Snapshot, after: Snapshot, show: int = 5) -> str:
        lines = [
            f"{len(self.only_before)} keys only before, {len(self.only_after)} only after, "
            f"{len(self.changed)} changed"
        ]
        lines += [f"  only before: {key}" for key in self.only_before[:show]]
        lines += [f"  only after: {key}" for key in self.only_after[:show]]
        for key in self.changed[:show]:
            lines.append(f"  {key}: {_where_they_differ(str(before[key]), str(after[key]))}")
        return "\n".join(lines)


def _where_they_differ(before: str, after: str, context: int = 80, width: int = 300) -> str:
    """The two values from a little before their first difference (values are often long
    JSON documents that differ in one field near the end)."""
    first = next(
        (i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
        min(len(before), len(after)),
    )
    start = max(0, first - context)
    cut = "…" if start else ""
    return f"{cut}{before[start : start + width]} != {cut}{after[start : start + width]}"


def compare(before: Snapshot, after: Snapshot, ignore: Iterable[str] = ()) -> SnapshotDiff:
    skipped = list(ignore)

    def kept(key: str) -> bool:
        return not any(fnmatchcase(key, pattern) for pattern in skipped)

    return SnapshotDiff(
        only_before=sorted(k for k in before.keys() - after.keys() if kept(k)),
        only_after=sorted(k for k in after.keys() - before.keys() if kept(k)),
        changed=sorted(
            k for k in before.keys() & after.keys() if kept(k) and before[k] != after[k]
        ),
    )
