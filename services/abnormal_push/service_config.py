"""Abnormal push's configuration: the routing table and deadline policy (data files) and the
few process settings (environment, prefix ``PRT_ABNORMAL_PUSH_``)."""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.abnormal_push.domain.deadlines import DeadlinePolicy
from services.abnormal_push.domain.routing import RoutingTable
from services.abnormal_push.domain.webhook_targets import IPNetwork, parse_networks
from services.platform_core.errors import SettingsError
from services.platform_core.reference_data import load_json

CONFIG_DIR = Path(__file__).parent / "config"

# Usable by local runs and tests only; production must set PRT_ABNORMAL_PUSH_WEBHOOK_KEY.
DEVELOPMENT_WEBHOOK_KEY = "local-development-only-webhook-key-0123456789"
MIN_WEBHOOK_KEY_LENGTH = 32


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
    # Key the webhook signing secrets are derived from (HMAC-SHA256(key, registration id)):
    # a secret, at least 32 characters; the development default is refused in production.
    webhook_key: str = DEVELOPMENT_WEBHOOK_KEY
    # Networks webhook URLs may resolve into although not public (comma-separated CIDRs, e.g.
    # "127.0.0.0/8" for the tests' local receivers). Empty in production: public addresses only.
    webhook_allowed_networks: str = ""
    # A push whose deadline had already passed when its latest step arrived is history being
    # backfilled: the deadline watch waits this long after that step before judging it, so the
    # backfill's next (dated) step can arrive first.
    backfill_settle_s: float = Field(default=600.0, ge=0)
    # The platform-wide PRT_ENVIRONMENT, read here to refuse development secrets in production.
    environment: Literal["local", "test", "production"] = Field(
        default="local", validation_alias="PRT_ENVIRONMENT"
    )

    @model_validator(mode="after")
    def _check_webhook_settings(self) -> AbnormalPushSettings:
        if len(self.webhook_key) < MIN_WEBHOOK_KEY_LENGTH:
            raise SettingsError(
                f"PRT_ABNORMAL_PUSH_WEBHOOK_KEY must have at least {MIN_WEBHOOK_KEY_LENGTH} "
                "characters"
            )
        if self.environment == "production" and self.webhook_key == DEVELOPMENT_WEBHOOK_KEY:
            raise SettingsError(
                "PRT_ABNORMAL_PUSH_WEBHOOK_KEY still has its development default; set a real "
                "secret for production"
            )
        try:
            parse_networks(self.webhook_allowed_networks)
        except ValueError as exc:
            raise SettingsError(f"PRT_ABNORMAL_PUSH_WEBHOOK_ALLOWED_NETWORKS: {exc}") from exc
        return self

    @property
    def webhook_key_bytes(self) -> bytes:
        return self.webhook_key.encode()

    @property
    def allowed_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.webhook_allowed_networks)


@lru_cache(maxsize=1)
def get_push_settings() -> AbnormalPushSettings:
    return AbnormalPushSettings()


def load_routing_table() -> RoutingTable:
    """Read departments.json afresh: an edit to the data changes routing at the next report."""
    return RoutingTable.from_data(load_json("departments.json"))


def load_deadline_policy(path: Path | None = None) -> DeadlinePolicy:
    file = path or get_push_settings().deadlines_file
    return DeadlinePolicy.from_data(json.loads(file.read_text(encoding="utf-8")))


@cache
def deadline_policy() -> DeadlinePolicy:
    """The deadline policy, read once per process as the worker reads it at start (the API
    tells which deadlines of a push are estimates by counting them again)."""
    return load_deadline_policy()
