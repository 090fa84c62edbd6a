"""Webhook signing and retry timing (pure).

A delivery is signed with HMAC-SHA256 over ``<timestamp>.<body>`` with the department's secret;
the receiver recomputes it and checks the timestamp is recent, so a captured delivery cannot be
replayed later. Retries wait ``base · 2^(attempt-1)`` seconds, capped. A delivery still failing
after :data:`MAX_AGE_S` since it was queued, or after :data:`MAX_ATTEMPTS` attempts, is given
up: logged as such, never sent again; the push stays in the department's pull inbox.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

SIGNATURE_HEADER = "X-PRT-Signature"
TIMESTAMP_HEADER = "X-PRT-Timestamp"
DELIVERY_HEADER = "X-PRT-Delivery"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, presented: str) -> bool:
    return hmac.compare_digest(signature(secret, timestamp, body), presented)


# Doubling stops here: any cap is reached long before, and 2**1024 would not fit in a float.
_MAX_DOUBLINGS = 64

# A week: a receiver down over the longest holiday (the Spring Festival's 8 days are mostly
# rest days, with the push in the inbox all along) is not worth more.
MAX_AGE_S = 7 * 24 * 3600.0
# About a week of attempts at the default 10-minute cap; it also ends a delivery queued before
# its age was kept.
MAX_ATTEMPTS = 1000


def retry_delay(attempt: int, base_s: float, cap_s: float) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first)."""
    doublings = min(max(0, attempt - 1), _MAX_DOUBLINGS)
    return float(min(cap_s, base_s * 2**doublings))


@dataclass(frozen=True)
class GiveUpPolicy:
    """When a failing delivery is abandoned: whichever comes first."""

    max_attempts: int = MAX_ATTEMPTS
    max_age_s: float = MAX_AGE_S

    def gives_up(self, attempt: int, queued_at: float | None, now: float) -> str:
        """Why a delivery whose attempt number ``attempt`` just failed is given up, or "" to
        retry it. ``queued_at``: epoch seconds it was queued (None for a delivery queued before
        that was kept)."""
        if attempt >= self.max_attempts:
            return f"{attempt} attempts failed (at most {self.max_attempts})"
        if queued_at is not None and now - queued_at >= self.max_age_s:
            days, limit = (now - queued_at) / 86400, self.max_age_s / 86400
            return f"still failing {days:.1f} days after it was queued (at most {limit:g})"
        return ""
