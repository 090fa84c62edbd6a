"""Abnormal push's configuration: the routing table and deadline policy (data files) and the
few process settings (environment, prefix ``PRT_ABNORMAL_PUSH_``)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.abnormal_push.domain.deadlines import DeadlinePolicy
from services.abnormal_push.domain.routing import RoutingTable
from services.platform_core.reference_data import load_json

CONFIG_DIR = Path(__file__).parent / "config"


class AbnormalPushSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRT_ABNORMAL_PUSH_", frozen=True, extra="ignore")

    # File with sign-for/feedback limits by severity (working days).
    deadlines_file: Path = CONFIG_DIR / "push_deadlines.json"
    # How often the deadline timer looks for overdue pushes.
    deadline_check_interval_s: float = Field(default=5.0, gt=0)
    # Webhook delivery: first retry delay, doubled per attempt up to the cap.
    webhook_backoff_base_s: float = Field(default=2.0, gt=0)
    webhook_backoff_cap_s: float = Field(default=600.0, gt=0)
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    webhook_poll_interval_s: float = Field(default=0.2, gt=0)


@lru_cache(maxsize=1)
def get_push_settings() -> AbnormalPushSettings:
    return AbnormalPushSettings()


def load_routing_table() -> RoutingTable:
    """Read departments.json afresh: an edit to the data changes routing at the next report."""
    return RoutingTable.from_data(load_json("departments.json"))


def load_deadline_policy(path: Path | None = None) -> DeadlinePolicy:
    file = path or get_push_settings().deadlines_file
    return DeadlinePolicy.from_data(json.loads(file.read_text(encoding="utf-8")))
