"""How a process connects to Kafka for each security protocol of the settings: nothing added
for PLAINTEXT, SCRAM for SASL_PLAINTEXT, TLS (certificates and host names checked) and SCRAM
for SASL_SSL, for aiokafka's clients and Faust's alike."""

from __future__ import annotations

import ssl

from faust.types.auth import AuthProtocol

from services.platform_core.kafka.clients import security_options
from services.platform_core.kafka.faust_worker import _broker_credentials
from services.platform_core.settings import PlatformSettings


def _settings(protocol: str) -> PlatformSettings:
    return PlatformSettings.model_validate(
        {
            "kafka_security_protocol": protocol,
            "kafka_sasl_username": "intake",
            "kafka_sasl_password": "s3cret",
        }
    )


def test_plaintext_adds_nothing() -> None:
    settings = _settings("PLAINTEXT")
    assert security_options(settings) == {}
    assert _broker_credentials(settings) is None


def test_sasl_plaintext_authenticates_without_tls() -> None:
    settings = _settings("SASL_PLAINTEXT")
    assert security_options(settings) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "intake",
        "sasl_plain_password": "s3cret",
    }
    credentials = _broker_credentials(settings)
    assert credentials is not None and credentials.protocol is AuthProtocol.SASL_PLAINTEXT


def test_sasl_ssl_checks_the_brokers_certificate_and_host_name() -> None:
    settings = _settings("SASL_SSL")
    options = security_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_plain_username"] == "intake"
    context: ssl.SSLContext = options["ssl_context"]
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    credentials = _broker_credentials(settings)
    assert credentials is not None and credentials.protocol is AuthProtocol.SASL_SSL
    assert credentials.ssl_context is not None
    assert credentials.ssl_context.verify_mode is ssl.CERT_REQUIRED
