"""A secured broker (``kafka.sh start --secure``) as tests reach it: its address, the users'
passwords and the CA its TLS certificate is checked against."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.helpers import create_ssl_context

from services.platform_core.settings import PlatformSettings


@dataclass(frozen=True)
class SecureBroker:
    bootstrap: str
    passwords: dict[str, str]
    ca_file: Path  # the CA the broker's certificate is checked against

    def sasl(self, user: str, **extra: Any) -> dict[str, Any]:
        """aiokafka's options for ``user``: TLS (checking the broker), then SCRAM."""
        return {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": "SASL_SSL",
            "ssl_context": create_ssl_context(cafile=str(self.ca_file)),
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": user,
            "sasl_plain_password": self.passwords[user],
            **extra,
        }

    def settings(self, user: str) -> PlatformSettings:
        """The platform's settings for a process running as ``user``."""
        return PlatformSettings(
            environment="test",
            kafka_bootstrap_servers=self.bootstrap,
            kafka_security_protocol="SASL_SSL",
            kafka_ssl_cafile=str(self.ca_file),
            kafka_sasl_username=user,
            kafka_sasl_password=self.passwords[user],
        )
