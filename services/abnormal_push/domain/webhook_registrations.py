"""A department's webhook registration as a fold of its events (pure).

Every registration gets a new id; the signing secret is derived from that id with the
service's webhook key (see :func:`derive_secret`), so neither the event log nor Redis ever holds
the secret itself.

Why derived and not encrypted: an encrypted secret would sit in the event log forever, so the
key that opens it could never retire, and each delivery would decrypt it. Derivation stores
nothing to steal: the secret exists only in the registration's answer (shown once) and,
recomputed, in the deliverer's memory while it signs. Replacing a secret is registering again
(new id, new secret). Rotating the webhook key changes every secret; registrations carry the
key's fingerprint, so after a rotation the deliverer refuses to sign with a secret the
department does not have and logs why, and the department registers again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WebhookRegistered:
    event_id: str
    department: str
    at: datetime
    webhook_id: str
    url: str
    secret_key_id: str


@dataclass(frozen=True)
class WebhookRemoved:
    event_id: str
    department: str
    at: datetime
    webhook_id: str


WebhookEvent = WebhookRegistered | WebhookRemoved


@dataclass(frozen=True)
class Webhook:
    """The registration in force for a department."""

    department: str
    webhook_id: str
    url: str
    secret_key_id: str
    registered_at: datetime


def apply_webhook_event(current: Webhook | None, event: WebhookEvent) -> Webhook | None:
    """The registration after ``event``. A removal names its registration, so removing one
    that was replaced meanwhile leaves the newer in force."""
    if isinstance(event, WebhookRegistered):
        return Webhook(event.department, event.webhook_id, event.url, event.secret_key_id, event.at)
    if current is not None and current.webhook_id == event.webhook_id:
        return None
    return current


def derive_secret(key: bytes, webhook_id: str) -> str:
    """The HMAC signing secret of registration ``webhook_id``: HMAC-SHA256(key, id), base64url."""
    digest = hmac.new(key, b"prt-webhook-secret:" + webhook_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def key_fingerprint(key: bytes) -> str:
    """Names the webhook key without revealing it (a one-way value of the key)."""
    return hmac.new(key, b"prt-webhook-key-id", hashlib.sha256).hexdigest()[:16]
