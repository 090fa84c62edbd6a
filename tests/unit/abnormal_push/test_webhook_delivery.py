"""Webhook signatures and retry timing."""

from __future__ import annotations

from services.abnormal_push.domain.webhook_delivery import retry_delay, signature, verify


def test_signature_binds_secret_timestamp_and_body() -> None:
    signed = signature("s3cret", "1700000000", b'{"push_id":"p"}')
    assert signed.startswith("sha256=") and len(signed) == 7 + 64
    assert verify("s3cret", "1700000000", b'{"push_id":"p"}', signed)
    assert not verify("other", "1700000000", b'{"push_id":"p"}', signed)
    assert not verify("s3cret", "1700000001", b'{"push_id":"p"}', signed)
    assert not verify("s3cret", "1700000000", b'{"push_id":"q"}', signed)


def test_retry_delay_doubles_up_to_the_cap() -> None:
    assert [retry_delay(n, 2.0, 30.0) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]
