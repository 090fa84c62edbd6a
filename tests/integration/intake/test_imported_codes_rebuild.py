"""The bulk import's set of imported deal codes lives in Redis only: lost with it, it comes back
from intake.large-amount-records.v1 with intake's rebuild, and importing the same file again
then publishes nothing, on the real broker and Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
from redis.asyncio import Redis

from services.intake.bulk_import import IMPORTED_CODES, BulkImporter, ImportFormat, split_lines
from services.intake.domain.large_amount import SourceLevel
from services.intake.rebuild import RebuildReport, rebuild, rebuild_imported_codes
from services.platform_core.events.topics import LARGE_AMOUNT_RECORDS
from services.platform_core.kafka.clients import create_producer
from services.platform_core.kafka.topic_admin import ensure_topics
from services.platform_core.settings import PlatformSettings
from tests.integration.intake.conftest import raw_records

pytestmark = pytest.mark.integration


def _lines(prefix: str, count: int) -> list[bytes]:
    return [
        orjson.dumps(
            {
                "unified_deal_code": f"{prefix}-{n:03d}",
                "tender_project_code": f"TP-{n:03d}",
                "name": f"大额交易项目 {n}",
                "category": "HOUSING",
                "region_code": "370102",
                "tenderer_name": "济南城市建设集团有限公司",
                "tenderer_credit_code": "91110000600037341L",
                "winner_name": "山东黄河建工集团有限公司",
                "winner_credit_code": "91110000600037341L",
                "trading_method": "OPEN_TENDER",
                "amount_fen": 5_000_000_000 + n,
                "deal_at": "2022-09-01T10:00:00+08:00",
                "source_platform_code": "SD-GGZY",
            }
        )
        for n in range(count)
    ]


@pytest.fixture
async def redis(settings: PlatformSettings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


async def _import(settings: PlatformSettings, redis: Redis, lines: list[bytes]) -> tuple[int, int]:
    """(imported, duplicates) of one import of ``lines``, as the CLI and the API run it."""
    await ensure_topics(settings, [LARGE_AMOUNT_RECORDS])
    producer = create_producer(settings, client_id="imported-codes-rebuild-test")
    await producer.start()
    try:

        async def chunks() -> AsyncIterator[bytes]:
            yield b"\n".join(lines) + b"\n"

        importer = BulkImporter(
            producer, redis, source_level=SourceLevel.PROVINCIAL, actor_department="JYZX"
        )
        report = await importer.run(split_lines(chunks()), ImportFormat.NDJSON)
        return report.imported, report.duplicates
    finally:
        await producer.stop()


async def _on_the_topic(settings: PlatformSettings, prefix: str) -> int:
    return sum(
        1
        for key, _, _ in await raw_records(settings, LARGE_AMOUNT_RECORDS)
        if key.decode().startswith(prefix)
    )


async def test_lost_imported_codes_come_back_with_the_rebuild_and_a_reimport_adds_nothing(
    settings: PlatformSettings, redis: Redis
) -> None:
    prefix = f"REBUILD{uuid.uuid4().hex[:10].upper()}"
    lines = _lines(prefix, 5)
    codes = [f"{prefix}-{n:03d}" for n in range(5)]
    assert await _import(settings, redis, lines) == (5, 0)
    assert await _on_the_topic(settings, prefix) == 5

    # Redis lost the set (these codes, as far as this test may wipe a shared Redis).
    await redis.srem(IMPORTED_CODES, *codes)
    report = await rebuild(settings, wipe_first=False)
    assert report.imported_codes_restored >= 5
    assert report.large_amount.records >= 5
    assert all(await redis.smismember(IMPORTED_CODES, codes))

    assert await _import(settings, redis, lines) == (0, 5)
    assert await _on_the_topic(settings, prefix) == 5


async def test_with_wipe_the_set_is_deleted_and_rebuilt_from_the_topic(
    settings: PlatformSettings, redis: Redis
) -> None:
    prefix = f"REBUILD{uuid.uuid4().hex[:10].upper()}"
    lines = _lines(prefix, 3)
    codes = [f"{prefix}-{n:03d}" for n in range(3)]
    assert await _import(settings, redis, lines) == (3, 0)
    # A code the topic does not have (its publishing failed and was not taken back, say):
    # --wipe leaves the set as the topic says, so a retry would publish it.
    stray = f"{prefix}-NOT-ON-THE-TOPIC"
    await redis.sadd(IMPORTED_CODES, stray)

    report = RebuildReport()
    await rebuild_imported_codes(settings, redis, report, wipe_first=True)
    assert report.wiped_keys == 1
    assert report.imported_codes_restored == await redis.scard(IMPORTED_CODES)
    assert all(await redis.smismember(IMPORTED_CODES, codes))
    assert not await redis.sismember(IMPORTED_CODES, stray)
    assert await _import(settings, redis, lines) == (0, 3)
