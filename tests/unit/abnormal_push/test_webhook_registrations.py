"""Webhook registrations as events, and secrets derived (never stored) from their ids."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf.message import Message

from services.abnormal_push.domain.webhook_registrations import (
    Webhook,
    WebhookEvent,
    WebhookRegistered,
    WebhookRemoved,
    apply_webhook_event,
    derive_secret,
    key_fingerprint,
)
from services.abnormal_push.event_codec import (
    webhook_event_from_envelope,
    webhook_event_to_message,
)
from services.abnormal_push.service_config import DEVELOPMENT_WEBHOOK_KEY, AbnormalPushSettings
from services.platform_core.errors import EventDecodeError, SettingsError
from services.platform_core.events.envelope import Envelope, decode_record, encode_envelope

T0 = datetime(2024, 9, 20, 2, 0, tzinfo=UTC)
KEY = b"k" * 32
FIRST = WebhookRegistered("e-1", "YLJ", T0, "wh-1", "https://a.example.cn/p", "kid")
SECOND = WebhookRegistered("e-2", "YLJ", T0, "wh-2", "https://b.example.cn/p", "kid")


def test_the_latest_registration_is_in_force_and_a_removal_names_its_registration() -> None:
    hook = apply_webhook_event(None, FIRST)
    assert hook == Webhook("YLJ", "wh-1", "https://a.example.cn/p", "kid", T0)
    hook = apply_webhook_event(hook, SECOND)
    assert hook is not None and hook.webhook_id == "wh-2"
    # Removing the replaced registration leaves the newer one.
    assert apply_webhook_event(hook, WebhookRemoved("e-3", "YLJ", T0, "wh-1")) == hook
    assert apply_webhook_event(hook, WebhookRemoved("e-4", "YLJ", T0, "wh-2")) is None
    assert apply_webhook_event(None, WebhookRemoved("e-5", "YLJ", T0, "wh-2")) is None


def test_a_secret_is_fixed_by_key_and_registration_and_differs_otherwise() -> None:
    secret = derive_secret(KEY, "wh-1")
    assert secret == derive_secret(KEY, "wh-1")
    assert len(secret) == 43  # 32 bytes, base64url without padding
    assert secret != derive_secret(KEY, "wh-2")
    assert secret != derive_secret(b"x" * 32, "wh-1")
    fingerprint = key_fingerprint(KEY)
    assert fingerprint == key_fingerprint(KEY) != key_fingerprint(b"x" * 32)
    assert KEY.decode() not in fingerprint and secret not in fingerprint


@pytest.mark.parametrize("event", [FIRST, WebhookRemoved("e-9", "YLJ", T0, "wh-1")])
def test_registration_events_round_trip_and_carry_no_secret(event: WebhookEvent) -> None:
    message = webhook_event_to_message(event)
    envelope: Envelope[Message] = Envelope(
        message=message, source="/t", subject=event.department, id=event.event_id, time=T0
    )
    value, headers = encode_envelope(envelope)
    assert webhook_event_from_envelope(decode_record(value, headers)) == event
    assert derive_secret(KEY, "wh-1").encode() not in value


def test_a_registration_without_its_url_is_rejected() -> None:
    bad = webhook_event_to_message(WebhookRegistered("e-1", "YLJ", T0, "wh-1", "", "kid"))
    envelope: Envelope[Message] = Envelope(message=bad, source="/t", subject="YLJ", id="e-1")
    with pytest.raises(EventDecodeError, match="lacks"):
        webhook_event_from_envelope(envelope)


def test_production_refuses_the_development_key_and_every_environment_a_short_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PRT_ENVIRONMENT", "production")
    with pytest.raises(SettingsError, match="development default"):
        AbnormalPushSettings()
    monkeypatch.setenv("PRT_ABNORMAL_PUSH_WEBHOOK_KEY", "p" * 40)
    assert AbnormalPushSettings().webhook_key_bytes == b"p" * 40
    monkeypatch.setenv("PRT_ENVIRONMENT", "local")
    monkeypatch.setenv("PRT_ABNORMAL_PUSH_WEBHOOK_KEY", "")
    with pytest.raises(SettingsError, match="at least 32"):
        AbnormalPushSettings()
    monkeypatch.setenv("PRT_ABNORMAL_PUSH_WEBHOOK_KEY", DEVELOPMENT_WEBHOOK_KEY)
    monkeypatch.setenv("PRT_ABNORMAL_PUSH_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8,nonsense")
    with pytest.raises(SettingsError, match="ALLOWED_NETWORKS"):
        AbnormalPushSettings()
