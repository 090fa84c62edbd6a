"""Abnormal push's fixtures (see fixtures.py)."""

from tests.integration.abnormal_push.fixtures import (
    keys,
    publisher,
    push_api,
    push_worker,
    read_model,
    redis,
)

__all__ = ["keys", "publisher", "push_api", "push_worker", "read_model", "redis"]
