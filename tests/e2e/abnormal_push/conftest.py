"""Abnormal push's fixtures (see fixtures.py), and remote evaluation's processes and world for
the tests that follow an expert's absence from remote_eval into a report."""

from tests.integration.abnormal_push.fixtures import (
    keys,
    publisher,
    push_api,
    push_worker,
    read_model,
    redis,
)
from tests.integration.remote_eval.conftest import remote_eval_api, remote_eval_worker, world

__all__ = [
    "keys",
    "publisher",
    "push_api",
    "push_worker",
    "read_model",
    "redis",
    "remote_eval_api",
    "remote_eval_worker",
    "world",
]
