"""AutoPipelinedRedis against the real Redis: concurrent callers' commands travel together, and
each caller still gets exactly the reply or the error it would get alone."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from services.platform_core.redis_pipelining import AutoPipelinedRedis
from services.platform_core.settings import PlatformSettings

pytestmark = pytest.mark.integration


class CountingRedis(AutoPipelinedRedis):
    """Records the size of every send."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.send_sizes: list[int] = []

    def _write(self, connection: Any, batch: list[Any]) -> None:
        self.send_sizes.append(len(batch))
        super()._write(connection, batch)


def _counting(settings: PlatformSettings) -> CountingRedis:
    client = CountingRedis.from_url(settings.redis_url)
    assert isinstance(client, CountingRedis)
    return client


async def test_concurrent_commands_share_sends_and_keep_their_replies(
    settings: PlatformSettings,
) -> None:
    redis = _counting(settings)
    prefix = f"test:pipelining:{uuid.uuid4().hex}:"
    try:

        async def caller(n: int) -> tuple[Any, ...]:
            # One caller's commands, awaited in turn, must see each other's effects.
            assert await redis.set(f"{prefix}{n}", n, nx=True)
            assert not await redis.set(f"{prefix}{n}", -1, nx=True)
            incremented = await redis.incrby(f"{prefix}{n}", 1000)
            value = await redis.get(f"{prefix}{n}")
            missing = await redis.get(f"{prefix}missing:{n}")
            return incremented, value, missing

        replies = await asyncio.gather(*(caller(n) for n in range(200)))
        assert replies == [(n + 1000, str(n + 1000).encode(), None) for n in range(200)]
        # 5 commands of 200 callers: far fewer sends than commands.
        assert sum(redis.send_sizes) == 1000
        assert len(redis.send_sizes) < 100, redis.send_sizes
        assert max(redis.send_sizes) > 50
    finally:
        await redis.delete(*[f"{prefix}{n}" for n in range(200)])
        await redis.aclose()


async def test_a_lone_command_is_sent_at_once_alone(settings: PlatformSettings) -> None:
    redis = _counting(settings)
    try:
        assert await redis.ping()
        assert await redis.ping()
        assert redis.send_sizes == [1, 1]
    finally:
        await redis.aclose()


async def test_an_error_reaches_only_its_own_caller(settings: PlatformSettings) -> None:
    redis = _counting(settings)
    key = f"test:pipelining:{uuid.uuid4().hex}"
    try:
        await redis.set(key, "not a number")
        outcomes = await asyncio.gather(
            redis.get(key),
            redis.incr(key),  # WRONGTYPE-like: value is not an integer
            redis.strlen(key),
            return_exceptions=True,
        )
        assert outcomes[0] == b"not a number"
        assert isinstance(outcomes[1], ResponseError)
        assert "not an integer" in str(outcomes[1])
        assert outcomes[2] == len("not a number")
        assert max(redis.send_sizes) == 3
    finally:
        await redis.delete(key)
        await redis.aclose()


async def test_scripts_survive_a_flushed_script_cache(settings: PlatformSettings) -> None:
    """redis-py runs a script by EVALSHA and loads it on NOSCRIPT: that error must come back to
    the script's caller even from inside a shared send."""
    redis = AutoPipelinedRedis.from_url(settings.redis_url)
    script = redis.register_script("return tonumber(ARGV[1]) * 2")
    try:
        await redis.script_flush()
        doubled = await asyncio.gather(*(script(keys=[], args=[n]) for n in range(50)))
        assert doubled == [n * 2 for n in range(50)]
    finally:
        await redis.aclose()


async def test_a_connection_failure_fails_every_caller() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redis = AutoPipelinedRedis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=1)
    try:
        outcomes = await asyncio.gather(
            *(redis.get(f"k{n}") for n in range(20)), return_exceptions=True
        )
        assert all(isinstance(outcome, RedisConnectionError) for outcome in outcomes), outcomes
    finally:
        await redis.aclose()


async def test_replies_have_the_shapes_redis_py_gives(settings: PlatformSettings) -> None:
    """redis-py's own connections speak RESP3 and shape replies as RESP2 did; the multiplexed
    connection speaks RESP2: every reply must come out the same either way."""
    ours = AutoPipelinedRedis.from_url(settings.redis_url)
    theirs = Redis.from_url(settings.redis_url)
    prefix = f"test:pipelining:{uuid.uuid4().hex}:"
    h, z, s, lst = (prefix + name for name in ("h", "z", "s", "l"))
    try:
        await theirs.hset(h, mapping={"a": "1", "b": "2"})
        await theirs.zadd(z, {"x": 1.5, "y": 2})
        await theirs.sadd(s, "m", "n")
        await theirs.rpush(lst, "1", "2")
        await theirs.expire(h, 600)
        reads: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
            ("hgetall", (h,), {}),
            ("hmget", (h, ["a", "b", "c"]), {}),
            ("hexists", (h, "a"), {}),
            ("hlen", (h,), {}),
            ("hscan", (h,), {}),
            ("zrange", (z, 0, -1), {"withscores": True}),
            ("zrevrange", (z, 0, -1), {"withscores": True}),
            ("zrangebyscore", (z, 0, 5), {"withscores": True}),
            ("zscore", (z, "x"), {}),
            ("zcard", (z,), {}),
            ("smembers", (s,), {}),
            ("sismember", (s, "m"), {}),
            ("lrange", (lst, 0, -1), {}),
            ("mget", ([prefix + "missing", prefix + "other"],), {}),
            ("exists", (h, z, prefix + "missing"), {}),
            ("type", (z,), {}),
            ("scan", (0,), {"match": prefix + "*", "count": 1000}),
            ("script_exists", ("0" * 40,), {}),
            ("ping", (), {}),
        ]
        for name, args, options in reads:
            mine = await getattr(ours, name)(*args, **options)
            expected = await getattr(theirs, name)(*args, **options)
            if name in ("scan", "smembers"):
                mine, expected = sorted(map(repr, mine)), sorted(map(repr, expected))
            assert mine == expected, name
        assert 0 < await ours.ttl(h) <= 600
        assert await ours.set(prefix + "k", "v", nx=True) is True
        assert await ours.set(prefix + "k", "w", nx=True) is None
        assert await ours.set(prefix + "k", "w", get=True) == b"v"
        assert await ours.zincrby(z, 1, "x") == 2.5
        assert await ours.hincrbyfloat(h, "c", 1.5) == 1.5
        assert await ours.zpopmin(z) == [(b"y", 2.0)]
    finally:
        await theirs.delete(h, z, s, lst, prefix + "k")
        await ours.aclose()
        await theirs.aclose()


def _start_redis(port: int, directory: Path) -> subprocess.Popen[bytes]:
    """A throwaway redis-server (no persistence) on ``port``, answering once it listens."""
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        with socket.socket() as attempt:
            if attempt.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.05)
    raise TimeoutError("redis-server did not start")


async def test_a_restarted_redis_is_used_again_and_the_outage_is_a_connection_error(
    tmp_path: Path,
) -> None:
    """Redis stops under a stream of commands, then starts again on the same port: every
    command meanwhile fails with redis's ConnectionError (an API's 503), none hangs, none fails
    with anything else, and once Redis is back the same client serves again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    server = _start_redis(port, tmp_path)
    redis = AutoPipelinedRedis.from_url(f"redis://127.0.0.1:{port}/0")
    outcomes: Counter[str] = Counter()
    stop = asyncio.Event()

    async def caller(n: int) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(redis.incr(f"k{n % 7}"), timeout=5)
                outcomes["ok"] += 1
            except RedisConnectionError:
                outcomes["connection error"] += 1
                await asyncio.sleep(0.01)
            except Exception as exc:  # counted: the assertion names it
                outcomes[type(exc).__name__] += 1
            await asyncio.sleep(0)

    async def transaction() -> list[Any]:
        # MULTI/EXEC runs on redis-py's pool, which does not retry it on a dead connection.
        async with redis.pipeline(transaction=True) as pipe:
            pipe.incr("tx")
            pipe.incr("tx")
            return list(await pipe.execute())

    try:
        assert await transaction() == [1, 2]  # the pool now holds a connection
        callers = [asyncio.create_task(caller(n)) for n in range(20)]
        await asyncio.sleep(0.3)
        server.terminate()
        server.wait(timeout=10)
        await asyncio.sleep(2.0)  # longer than the client's retries of a refused connection
        down = dict(outcomes)
        server = _start_redis(port, tmp_path)
        await asyncio.sleep(1.0)
        assert await transaction() == [1, 2]  # the first one after the restart, on a new socket
        before_end = outcomes["ok"]
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.gather(*callers)
    finally:
        server.terminate()
        server.wait(timeout=10)
        await redis.aclose()
    assert set(outcomes) <= {"ok", "connection error"}, outcomes
    assert down.get("connection error", 0) > 0, down
    assert outcomes["ok"] > before_end > down["ok"], outcomes  # served again after the restart
