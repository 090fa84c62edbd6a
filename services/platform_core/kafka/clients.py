"""aiokafka clients with the settings this platform relies on.

aiokafka's defaults are weak for an event log that is the source of truth: acks=1 and no
idempotence can lose or duplicate on a leader change. Every producer here waits for all
in-sync replicas and is idempotent; consumers read only committed records and commit by hand.
"""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.helpers import create_ssl_context

from services.platform_core.kafka.partitioning import default_partitioner
from services.platform_core.settings import PlatformSettings

PRODUCER_SETTINGS: dict[str, Any] = {
    "acks": "all",
    "enable_idempotence": True,
    # A small linger batches concurrent API requests without adding visible latency.
    "linger_ms": 2,
    "request_timeout_ms": 15_000,
    # Kafka's murmur2 placement, hashed at half aiokafka's cost (see partitioning.py).
    "partitioner": default_partitioner,
}

CONSUMER_SETTINGS: dict[str, Any] = {
    "enable_auto_commit": False,
    "isolation_level": "read_committed",
    "auto_offset_reset": "earliest",
}


def kafka_ssl_context(settings: PlatformSettings) -> ssl.SSLContext | None:
    """For SASL_SSL: a client TLS context that checks the brokers' certificates and host names
    against the configured CA (or the system's); None for the other protocols."""
    if settings.kafka_security_protocol != "SASL_SSL":
        return None
    context: ssl.SSLContext = create_ssl_context(cafile=settings.kafka_ssl_cafile or None)
    return context


def security_options(settings: PlatformSettings) -> dict[str, Any]:
    """aiokafka's authentication options: none for PLAINTEXT, SCRAM-SHA-512 for SASL (over TLS
    for SASL_SSL)."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {
        "security_protocol": settings.kafka_security_protocol,
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": settings.kafka_sasl_username,
        "sasl_plain_password": settings.kafka_sasl_password,
    }
    if (context := kafka_ssl_context(settings)) is not None:
        options["ssl_context"] = context
    return options


def create_producer(settings: PlatformSettings, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=client_id,
        **PRODUCER_SETTINGS,
        **security_options(settings),
    )


def create_consumer(
    settings: PlatformSettings, *topics: str, group_id: str | None, client_id: str
) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        client_id=client_id,
        **CONSUMER_SETTINGS,
        **security_options(settings),
    )
