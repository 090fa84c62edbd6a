"""Per-evaluation expert pseudonyms and draw seeds, keyed by the service's secret.

A pseudonym is meaningless outside its evaluation: the same expert has unrelated pseudonyms in
two evaluations, so partners cannot link an expert's committees. Supervision alone gets a
pseudonym stable across evaluations, for an expert's recorded absences. Seeds are derived from the
triggering event's id, so a redelivered event draws the same experts; without the secret no one
can predict a seed before it is recorded.
"""

from __future__ import annotations

import hashlib
import hmac


def expert_pseudonym(secret: str, evaluation_id: str, expert_id: str) -> str:
    digest = hmac.new(
        secret.encode(), f"pseudonym|{evaluation_id}|{expert_id}".encode(), hashlib.sha256
    ).hexdigest()
    return f"EXP-{digest[:16]}"


def supervision_pseudonym(secret: str, expert_id: str) -> str:
    """The expert's pseudonym for the supervision of experts' conduct: the same in every
    evaluation (so repeated no-shows are recognised), in its own domain of the secret (so it
    matches none of the per-evaluation pseudonyms partners see), and only on the internal
    evaluations topic."""
    digest = hmac.new(
        secret.encode(), f"supervision|{expert_id}".encode(), hashlib.sha256
    ).hexdigest()
    return f"SUP-{digest[:16]}"


def draw_seed(secret: str, event_id: str) -> bytes:
    return hmac.new(secret.encode(), f"seed|{event_id}".encode(), hashlib.sha256).digest()
