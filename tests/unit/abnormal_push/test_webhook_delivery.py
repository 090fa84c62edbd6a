"""Webhook signatures and retry timing."""

from __future__ import annotations

from services.abnormal_push.domain.webhook_delivery import (
    MAX_AGE_S,
    GiveUpPolicy,
    retry_delay,
    signature,
    verify,
)


def test_signature_binds_secret_timestamp_and_body() -> None:
    signed = signature("s3cret", "1700000000", b'{"push_id":"p"}')
    assert signed.startswith("sha256=") and len(signed) == 7 + 64
    assert verify("s3cret", "1700000000", b'{"push_id":"p"}', signed)
    assert not verify("other", "1700000000", b'{"push_id":"p"}', signed)
    assert not verify("s3cret", "1700000001", b'{"push_id":"p"}', signed)
    assert not verify("s3cret", "1700000000", b'{"push_id":"q"}', signed)


def test_retry_delay_doubles_up_to_the_cap() -> None:
    assert [retry_delay(n, 2.0, 30.0) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]


def test_retry_delay_stays_at_the_cap_however_many_attempts_failed() -> None:
    # 2.0 * 2**1024 overflowed a float: the attempt was never saved and the delivery stuck.
    assert retry_delay(1025, 2.0, 600.0) == 600.0
    assert retry_delay(10**6, 2.0, 600.0) == 600.0
    assert retry_delay(10**6, 1.0, float("inf")) == 2.0**64  # finite: the doublings stop


def test_a_delivery_is_given_up_after_a_week_or_the_attempts_allowed() -> None:
    policy = GiveUpPolicy(max_attempts=1000, max_age_s=MAX_AGE_S)
    queued = 1_700_000_000.0
    assert policy.gives_up(3, queued, queued + 3600) == ""
    assert policy.gives_up(999, queued, queued + 3600) == ""
    assert "1000 attempts failed" in policy.gives_up(1000, queued, queued + 3600)
    week = queued + 7 * 24 * 3600
    assert policy.gives_up(20, queued, week - 1) == ""
    assert "7.0 days after it was queued" in policy.gives_up(20, queued, week)
    # Queued before the age was kept (the delivery stuck at attempt 1024): the count ends it.
    assert policy.gives_up(20, None, week * 2) == ""
    assert policy.gives_up(1025, None, week) != ""
