"""Creates the registry's topics explicitly, with their partition counts and configs.

Auto-created topics would get the broker's default partition count and break Faust's
co-partitioning of streams and tables, so the broker runs with auto-create off and every
process that needs a topic ensures it here first.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, TopicAuthorizationFailedError

from services.platform_core.errors import PlatformError
from services.platform_core.events.topics import TopicSpec
from services.platform_core.kafka.clients import security_options
from services.platform_core.settings import PlatformSettings

log = logging.getLogger(__name__)


class TopicMismatchError(PlatformError):
    """An existing topic has another partition count than the registry says."""


async def ensure_topics(settings: PlatformSettings, specs: Iterable[TopicSpec]) -> None:
    wanted = {spec.name: spec for spec in specs}
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id="prt-topic-admin",
        **security_options(settings),
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for name, spec in wanted.items() if name not in existing]
        if missing:
            new_topics = [
                NewTopic(
                    name=spec.name,
                    num_partitions=spec.partitions or settings.topic_partitions,
                    replication_factor=settings.topic_replication_factor,
                    topic_configs=_topic_config(spec, settings),
                )
                for spec in missing
            ]
            response = await admin.create_topics(new_topics)
            for name, code, message in _topic_errors(response):
                if code == TopicAuthorizationFailedError.errno:
                    raise PlatformError(
                        f"cannot create topic {name}: the broker refused it to user "
                        f"'{settings.kafka_sasl_username}' (no Create ACL on the topic; the "
                        "services' ACLs are in services/kafka_access_plan.py)"
                    )
                if code and code != TopicAlreadyExistsError.errno:
                    raise PlatformError(f"cannot create topic {name}: {code} {message}")
            log.info("created topics %s", ", ".join(spec.name for spec in missing))
        described = await _described_when_ready(admin, list(wanted))
        for topic in described:
            spec = wanted[topic["topic"]]
            expected = spec.partitions or settings.topic_partitions
            actual = len(topic["partitions"])
            if actual != expected:
                raise TopicMismatchError(
                    f"topic {spec.name} has {actual} partitions, the registry says {expected}"
                )
    finally:
        await admin.close()


def _topic_config(spec: TopicSpec, settings: PlatformSettings) -> dict[str, str]:
    config = spec.config()
    if settings.topic_min_insync_replicas is not None:
        config.setdefault("min.insync.replicas", str(settings.topic_min_insync_replicas))
    return config


# A topic another process created a moment ago can describe with 0 partitions until its
# metadata reaches the broker answering; wait for it rather than report a false mismatch.
_METADATA_WAIT_S = 15.0


async def _described_when_ready(admin: AIOKafkaAdminClient, names: list[str]) -> list[Any]:
    deadline = time.monotonic() + _METADATA_WAIT_S
    while True:
        described: list[Any] = await admin.describe_topics(names)
        if all(topic["partitions"] for topic in described) or time.monotonic() > deadline:
            return described
        await asyncio.sleep(0.2)


def _topic_errors(response: object) -> list[tuple[str, int, str | None]]:
    errors = getattr(response, "topic_errors", [])
    result: list[tuple[str, int, str | None]] = []
    for entry in errors:
        name, code = entry[0], entry[1]
        message = entry[2] if len(entry) > 2 else None
        result.append((name, code, message))
    return result
