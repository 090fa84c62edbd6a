"""Production refuses a secret that is empty or shorter than 32 characters, not only the
development defaults: an empty API-key pepper or draw secret makes what it protects public."""

from __future__ import annotations

import base64

import pytest

from services.platform_core.errors import SettingsError
from services.platform_core.settings import (
    MIN_PRODUCTION_SECRET_LENGTH,
    PlatformSettings,
    SecretName,
)

SECRETS: list[tuple[SecretName, str]] = [
    ("api_key_pepper", "PRT_API_KEY_PEPPER"),
    ("remote_eval_identity_key", "PRT_REMOTE_EVAL_IDENTITY_KEY"),
    ("remote_eval_draw_secret", "PRT_REMOTE_EVAL_DRAW_SECRET"),
]


@pytest.mark.parametrize(("name", "variable"), SECRETS)
@pytest.mark.parametrize("value", ["", "   ", "a", "x" * (MIN_PRODUCTION_SECRET_LENGTH - 1)])
def test_production_refuses_an_empty_or_short_secret_naming_the_variable_and_the_rule(
    name: SecretName, variable: str, value: str
) -> None:
    settings = PlatformSettings(environment="production").model_copy(update={name: value})
    with pytest.raises(SettingsError, match=rf"{variable} .*at least 32") as refused:
        settings.secret(name)
    if len(value) > 1:
        assert value not in str(refused.value)  # never echoes the secret


@pytest.mark.parametrize(("name", "variable"), SECRETS)
def test_production_takes_a_secret_of_32_characters_or_more(
    name: SecretName, variable: str
) -> None:
    # The identity key is also checked for being base64 of 32 bytes where it is used: 44 chars.
    value = base64.b64encode(bytes(range(32))).decode()
    assert (
        PlatformSettings(environment="production").model_copy(update={name: value}).secret(name)
        == value
    )
    exact = "0123456789abcdefghijklmnopqrstuv"[:MIN_PRODUCTION_SECRET_LENGTH]
    assert (
        PlatformSettings(environment="production").model_copy(update={name: exact}).secret(name)
        == exact
    )


def test_outside_production_short_secrets_serve_local_runs_and_tests() -> None:
    assert PlatformSettings(environment="test", api_key_pepper="p").secret("api_key_pepper") == "p"
    assert (
        PlatformSettings(environment="local", remote_eval_draw_secret="").secret(
            "remote_eval_draw_secret"
        )
        == ""
    )


@pytest.mark.parametrize(("name", "variable"), SECRETS)
@pytest.mark.parametrize(
    "value",
    ["a" * 44, base64.b64encode(bytes(32)).decode(), "abab" * 10],  # an all-zero key: 'AAAA…='
)
def test_production_refuses_a_long_secret_of_a_few_repeated_characters(
    name: SecretName, variable: str, value: str
) -> None:
    settings = PlatformSettings(environment="production").model_copy(update={name: value})
    with pytest.raises(SettingsError, match=rf"{variable} repeats a few characters") as refused:
        settings.secret(name)
    assert value not in str(refused.value)
