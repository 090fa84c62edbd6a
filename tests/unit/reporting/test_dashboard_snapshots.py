"""The dashboard's snapshot is made once per period and read-model version for every open
stream of the API process, at most once per refresh interval, and a failed one is not kept."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.reporting import dashboard
from services.reporting.dashboard import CACHED_PERIODS, SnapshotCache
from services.reporting.domain.bulletin import Labels
from services.reporting.read_model import MetricsReadModel


class _Model:
    """Only the version: the snapshot itself is replaced by a counting stand-in."""

    def __init__(self) -> None:
        self.at = 1

    async def version(self) -> int:
        return self.at


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str | None, int]]:
    """The snapshots made: (period, version); each takes a moment, as a real one does."""
    calls: list[tuple[str | None, int]] = []

    async def counting_snapshot(model: Any, labels: Labels, period: str | None) -> dict[str, Any]:
        calls.append((period, model.at))
        await asyncio.sleep(0.01)
        if period == "2099-H1":
            raise ConnectionError("redis went away")
        return {"version": model.at, "period": period}

    monkeypatch.setattr(dashboard, "snapshot", counting_snapshot)
    return calls


def _model() -> tuple[_Model, MetricsReadModel]:
    model = _Model()
    return model, model  # type: ignore[return-value]


async def test_streams_watching_one_period_share_one_snapshot(
    made: list[tuple[str | None, int]],
) -> None:
    cache, (model, read) = SnapshotCache(min_interval_s=0), _model()
    seen = await asyncio.gather(*(cache.latest(read, Labels(), "2023-H1") for _ in range(20)))
    assert made == [("2023-H1", 1)]
    assert all(data == {"version": 1, "period": "2023-H1"} for data in seen)
    await cache.latest(read, Labels(), None)  # another period is a snapshot of its own
    model.at = 2  # an event applied
    assert (await cache.latest(read, Labels(), "2023-H1"))["version"] == 2
    assert made == [("2023-H1", 1), (None, 1), ("2023-H1", 2)]


async def test_a_moving_version_is_followed_at_most_once_per_interval(
    made: list[tuple[str | None, int]],
) -> None:
    cache, (model, read) = SnapshotCache(min_interval_s=0.2), _model()
    await cache.latest(read, Labels(), None)
    model.at = 2
    assert (await cache.latest(read, Labels(), None))["version"] == 1  # too soon: the last one
    await asyncio.sleep(0.2)
    assert (await cache.latest(read, Labels(), None))["version"] == 2
    assert made == [(None, 1), (None, 2)]


async def test_a_failed_snapshot_is_not_kept(made: list[tuple[str | None, int]]) -> None:
    cache, (_, read) = SnapshotCache(min_interval_s=60), _model()
    for _ in range(2):
        with pytest.raises(ConnectionError):
            await cache.latest(read, Labels(), "2099-H1")
    assert made == [("2099-H1", 1), ("2099-H1", 1)]  # tried again, not the failure served


async def test_a_stream_that_goes_away_does_not_cancel_the_others_snapshot(
    made: list[tuple[str | None, int]],
) -> None:
    cache, (_, read) = SnapshotCache(min_interval_s=0), _model()
    leaving = asyncio.ensure_future(cache.latest(read, Labels(), None))
    staying = asyncio.ensure_future(cache.latest(read, Labels(), None))
    await asyncio.sleep(0)
    leaving.cancel()
    assert (await staying)["version"] == 1
    assert made == [(None, 1)]


async def test_only_so_many_periods_are_kept(made: list[tuple[str | None, int]]) -> None:
    cache, (_, read) = SnapshotCache(min_interval_s=60), _model()
    periods = [f"{2000 + n}-H1" for n in range(CACHED_PERIODS + 1)]
    for period in periods:
        await cache.latest(read, Labels(), period)
    await cache.latest(read, Labels(), periods[-1])  # kept
    await cache.latest(read, Labels(), periods[0])  # the least recently asked for: dropped
    assert made.count((periods[-1], 1)) == 1
    assert made.count((periods[0], 1)) == 2
