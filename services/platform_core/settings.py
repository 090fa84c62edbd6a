"""Settings read from the environment (prefix ``PRT_``), one class for every process."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.platform_core.errors import SettingsError

# Secrets that may only be used by local runs and tests; production must set its own.
_DEVELOPMENT_SECRETS = frozenset({"local-development-only-pepper"})


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRT_", frozen=True, extra="ignore")

    environment: Literal["local", "test", "production"] = "local"
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    redis_url: str = "redis://127.0.0.1:16379/0"
    # Partitions for the platform's own topics; 6 lets 6 workers share a topic.
    topic_partitions: int = Field(default=6, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1)
    # Faust waits up to the session timeout on every group join; keep it short locally.
    broker_session_timeout_s: float = Field(default=10.0, gt=0)
    broker_heartbeat_interval_s: float = Field(default=1.0, gt=0)
    # Where Faust keeps its local state (table stores, worker lock files).
    faust_data_dir: str = ".run/faust"
    # How often intake's worker looks for passed 容缺 deadlines.
    intake_deadline_check_interval_s: float = Field(default=30.0, gt=0)
    # Pepper mixed into API-key hashes: a secret.
    api_key_pepper: str = "local-development-only-pepper"

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> PlatformSettings:
        if self.environment == "production" and self.api_key_pepper in _DEVELOPMENT_SECRETS:
            raise SettingsError(
                "PRT_API_KEY_PEPPER still has its development default; set a real secret "
                "for production"
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> PlatformSettings:
    return PlatformSettings()
