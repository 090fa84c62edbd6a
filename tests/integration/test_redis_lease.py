"""RedisLease against the real Redis: holders in different processes (separate clients and
leases, so no shared asyncio lock) never overlap, and a holder that outlived its lease writes
nothing under the fence."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from services.platform_core.kafka.retrying import TRANSIENT_INFRASTRUCTURE_ERRORS
from services.platform_core.redis_lease import LeaseLost, RedisLease
from services.platform_core.settings import PlatformSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def clients(settings: PlatformSettings) -> AsyncIterator[tuple[Redis, Redis]]:
    """Two connections, as two worker processes have."""
    first, second = Redis.from_url(settings.redis_url), Redis.from_url(settings.redis_url)
    try:
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()


async def test_holders_in_two_processes_never_overlap(clients: tuple[Redis, Redis]) -> None:
    key = f"test:lease:{uuid.uuid4().hex}"
    leases = [RedisLease(client, key) for client in clients]
    inside, most_inside, turns = 0, 0, 0

    async def hold(lease: RedisLease) -> None:
        nonlocal inside, most_inside, turns
        for _ in range(15):
            async with lease.held():
                inside += 1
                most_inside = max(most_inside, inside)
                await asyncio.sleep(0.002)  # a decision's awaits: the other holder could run
                inside -= 1
                turns += 1

    await asyncio.gather(*(hold(lease) for lease in leases for _ in range(2)))
    assert turns == 60
    assert most_inside == 1
    assert await clients[0].exists(key) == 0  # every holder released it


async def _fenced_write(lease: RedisLease, redis: Redis, key: str, value: str) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        await lease.begin_fenced(pipe)
        pipe.set(key, value)
        await lease.execute_fenced(pipe)


async def test_a_holder_that_outlived_its_lease_writes_nothing(
    clients: tuple[Redis, Redis],
) -> None:
    first, second = clients
    key, data = f"test:lease:{uuid.uuid4().hex}", f"test:data:{uuid.uuid4().hex}"
    slow, other = RedisLease(first, key, lease_ms=150), RedisLease(second, key)
    taken = asyncio.Event()

    async def take_over() -> None:
        async with other.held():  # waits for the slow holder's lease to run out
            taken.set()
            await _fenced_write(other, second, data, "other")
            await asyncio.sleep(0.05)

    async with slow.held():
        racer = asyncio.create_task(take_over())
        await asyncio.wait_for(taken.wait(), timeout=5)  # paused past its lease
        with pytest.raises(LeaseLost, match="expired and was taken"):
            await _fenced_write(slow, first, data, "slow")
    await racer
    assert await first.get(data) == b"other"
    await first.delete(data)
    assert await first.exists(key) == 0  # the other holder released it when done


async def test_a_lease_taken_between_watch_and_exec_aborts_the_write(
    clients: tuple[Redis, Redis],
) -> None:
    first, second = clients
    key, data = f"test:lease:{uuid.uuid4().hex}", f"test:data:{uuid.uuid4().hex}"
    lease = RedisLease(first, key)
    async with lease.held(), first.pipeline(transaction=True) as pipe:
        await lease.begin_fenced(pipe)
        pipe.set(data, "late")
        # Meanwhile the lease expires and another process takes it.
        await second.set(key, "someone-else")
        with pytest.raises(LeaseLost, match="changed hands"):
            await lease.execute_fenced(pipe)
    assert await first.get(data) is None
    assert await second.get(key) == b"someone-else"  # leaving released only our own lease
    await second.delete(key)


async def test_a_lost_lease_is_retried_like_any_transient_error() -> None:
    # Nothing was stored, so the stream worker applies the event again (faust_worker).
    assert issubclass(LeaseLost, TRANSIENT_INFRASTRUCTURE_ERRORS)
