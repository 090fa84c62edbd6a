"""``python -m services.remote_eval.rebuild --wipe`` asks for the identity key before it deletes
anything: run without it in production (a one-off pod without the identity secret mounted), it
deleted remote evaluation's projections and then failed (found by the docs review). Here Redis
is unreachable: a rebuild that wiped first would fail on the connection, not on the secret."""

from __future__ import annotations

import pytest

from services.platform_core.errors import SettingsError
from services.platform_core.settings import PlatformSettings
from services.remote_eval.rebuild import main, rebuild

UNREACHABLE = {"redis_url": "redis://127.0.0.1:1/0", "kafka_bootstrap_servers": "127.0.0.1:1"}


async def test_the_rebuild_refuses_before_it_wipes() -> None:
    settings = PlatformSettings(environment="production", **UNREACHABLE)  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="PRT_REMOTE_EVAL_IDENTITY_KEY"):
        await rebuild(settings, wipe_first=True)


def test_the_command_says_nothing_was_deleted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRT_ENVIRONMENT", "production")
    monkeypatch.setenv("PRT_REDIS_URL", UNREACHABLE["redis_url"])
    monkeypatch.setenv("PRT_KAFKA_BOOTSTRAP_SERVERS", UNREACHABLE["kafka_bootstrap_servers"])
    monkeypatch.delenv("PRT_REMOTE_EVAL_IDENTITY_KEY", raising=False)
    from services.platform_core.settings import get_settings

    get_settings.cache_clear()
    try:
        assert main(["--wipe"]) == 2
    finally:
        get_settings.cache_clear()
    error = capsys.readouterr().err
    assert error.startswith("nothing deleted:") and "PRT_REMOTE_EVAL_IDENTITY_KEY" in error
