"""Webhook signing and retry timing (pure).

A delivery is signed with HMAC-SHA256 over ``<timestamp>.<body>`` with the department's secret;
the receiver recomputes it and checks the timestamp is recent, so a captured delivery cannot be
replayed later. Retries wait ``base · 2^(attempt-1)`` seconds, capped.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-PRT-Signature"
TIMESTAMP_HEADER = "X-PRT-Timestamp"
DELIVERY_HEADER = "X-PRT-Delivery"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, presented: str) -> bool:
    return hmac.compare_digest(signature(secret, timestamp, body), presented)


def retry_delay(attempt: int, base_s: float, cap_s: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first)."""
    return float(min(cap_s, base_s * 2 ** max(0, attempt - 1)))
