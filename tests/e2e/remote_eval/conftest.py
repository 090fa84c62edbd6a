"""The remote_eval processes, shared with the integration tests (one API and one worker per
session)."""

from tests.integration.remote_eval.conftest import remote_eval_api, remote_eval_worker

__all__ = ["remote_eval_api", "remote_eval_worker"]
