"""Our murmur2 partitioner must place every key where aiokafka's (and Java's) would."""

from __future__ import annotations

import os
import random
import uuid

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2

from services.platform_core.events.ids import new_event_id
from services.platform_core.kafka.partitioning import default_partitioner, murmur2


def test_the_hash_equals_aiokafkas_for_every_length_and_byte() -> None:
    rng = random.Random(2023)
    keys = [bytes(rng.randrange(256) for _ in range(length)) for length in range(0, 300)]
    keys += [os.urandom(rng.randrange(1, 80)) for _ in range(5_000)]
    keys += [bytes([b]) * n for b in (0, 0x7F, 0x80, 0xFF) for n in range(1, 12)]
    for key in keys:
        assert murmur2(key) == aiokafka_murmur2(key), key


def test_javas_published_values() -> None:
    # From the Java client's UtilsTest.testMurmur2 (signed ints there; unsigned here).
    cases = {
        b"21": -973932308,
        b"foobar": -790332482,
        b"a-little-bit-long-string": -985981536,
        b"a-little-bit-longer-string": -1486304829,
        b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
        bytes([ord("a"), ord("b"), ord("c")]): 479470107,
    }
    for key, signed in cases.items():
        assert murmur2(key) == signed & 0xFFFFFFFF, key


def test_keys_land_on_aiokafkas_partitions() -> None:
    partitions = list(range(6))
    theirs = DefaultPartitioner()
    for key in [new_event_id().encode() for _ in range(2_000)] + [
        str(uuid.uuid4()).encode() for _ in range(2_000)
    ]:
        assert default_partitioner(key, partitions, partitions) == theirs(
            key, partitions, partitions
        )


def test_a_keyless_record_goes_to_an_available_partition() -> None:
    assert default_partitioner(None, [0, 1, 2], [2]) == 2
    assert default_partitioner(None, [0, 1, 2], []) in (0, 1, 2)
