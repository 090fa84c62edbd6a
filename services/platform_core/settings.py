"""Settings read from the environment (prefix ``PRT_``), one class for every process."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.platform_core.errors import SettingsError

# Secrets that may only be used by local runs and tests; production must set its own.
_DEVELOPMENT_SECRETS = frozenset(
    {
        "local-development-only-pepper",
        # base64 of b"local-dev-only-remote-eval-key!!"
        "bG9jYWwtZGV2LW9ubHktcmVtb3RlLWV2YWwta2V5ISE=",
        "local-development-only-draw-secret",
    }
)
# A production secret shorter than this is refused: an empty or guessable pepper or key would
# make the hashes, seals and seeds it protects as good as public. 32 characters is what
# ``openssl rand -base64 32`` (44) and the webhook key's rule already exceed.
MIN_PRODUCTION_SECRET_LENGTH = 32
# A random secret of that length has dozens of distinct characters; one with fewer than this is
# a placeholder (a repeated character, or a base64-encoded key of zero bytes).
MIN_PRODUCTION_SECRET_DISTINCT_CHARACTERS = 10


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRT_", frozen=True, extra="ignore")

    environment: Literal["local", "test", "production"] = "local"
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    # PLAINTEXT locally; SASL_SSL (TLS, then SCRAM-SHA-512) against `kafka.sh start --secure`
    # and in production, as the process's service's user (its password is a secret);
    # SASL_PLAINTEXT (SCRAM without TLS) only where the network itself is trusted.
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_username: str = ""
    kafka_sasl_password: str = ""
    # SASL_SSL: the CA certificate(s) the brokers' certificates are checked against (PEM file);
    # empty: the system's trusted CAs.
    kafka_ssl_cafile: str = ""
    redis_url: str = "redis://127.0.0.1:16379/0"
    # Partitions for the platform's own topics; 6 lets 6 workers share a topic.
    topic_partitions: int = Field(default=6, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1)
    # min.insync.replicas set on each topic the registry creates; None leaves the broker's
    # default (2 on the 3-node local cluster). With acks=all, a write below it is refused.
    topic_min_insync_replicas: int | None = Field(default=None, ge=1)
    # An API request whose event the broker has not confirmed within this time answers 503
    # (the write goes on; a retry with the same Idempotency-Key gets its outcome). None: wait.
    idempotent_answer_within_s: float | None = Field(default=None, gt=0)
    # FastAPI's OpenTelemetry bridge (traces, metrics and logs to the configured providers).
    # Off unless asked for: it looks for configured providers on every request.
    opentelemetry: bool = False
    # Faust waits up to the session timeout on every group join; keep it short locally.
    broker_session_timeout_s: float = Field(default=10.0, gt=0)
    broker_heartbeat_interval_s: float = Field(default=1.0, gt=0)
    # A stream worker asked to stop (SIGTERM) exits within this many seconds, cleanly or - if
    # the event in hand still waits for Kafka or Redis - without committing it, as a kill would
    # (services/platform_core/kafka/stop_deadline.py).
    worker_stop_grace_s: float = Field(default=10.0, gt=0)
    # Where Faust keeps its local state (table stores, worker lock files).
    faust_data_dir: str = ".run/faust"
    # How often intake's worker looks for passed 容缺 deadlines.
    intake_deadline_check_interval_s: float = Field(default=30.0, gt=0)
    # How long the 容缺 watch waits before breaching a deadline that had passed long before it
    # found it (history being entered, whose 补正 may follow by minutes: intake.deadlines).
    intake_backfill_settle_s: float = Field(default=600.0, ge=0)
    # Pepper mixed into API-key hashes: a secret.
    api_key_pepper: str = "local-development-only-pepper"
    # Remote evaluation: AES-256-GCM key (base64 of 32 bytes) sealing experts' names, phones
    # and ID numbers; a secret.
    remote_eval_identity_key: str = "bG9jYWwtZGV2LW9ubHktcmVtb3RlLWV2YWwta2V5ISE="
    # Remote evaluation: HMAC key deriving draw seeds and per-evaluation expert pseudonyms.
    remote_eval_draw_secret: str = "local-development-only-draw-secret"
    # An expert drawn within this many days is not drawn again.
    remote_eval_recent_draw_days: int = Field(default=7, ge=0)
    # Share of a committee's experts seated at the main venue (主场), percent.
    remote_eval_main_venue_percent: int = Field(default=40, ge=0, le=100)
    # Remote evaluation: a seat request unanswered this long counts as declined (re-plan); a
    # drawn expert who has not confirmed this long is replaced (补抽). Live requests only.
    remote_eval_seat_request_answer_s: float = Field(default=86_400.0, gt=0)
    remote_eval_expert_confirm_s: float = Field(default=86_400.0, gt=0)
    remote_eval_timer_interval_s: float = Field(default=10.0, gt=0)
    # Requests read together (up to this many, waiting at most this long) are planned together.
    remote_eval_batch_size: int = Field(default=200, ge=1)
    remote_eval_batch_within_s: float = Field(default=0.5, gt=0)
    # How often an open partner stream checks that its key has not been revoked or ended (as
    # reporting's dashboard_key_recheck_s does for the dashboard's stream).
    remote_eval_stream_key_recheck_s: float = Field(default=60.0, gt=0)

    def secret(self, name: SecretName) -> str:
        """A secret this process uses, refused in production at its development default, empty
        or shorter than ``MIN_PRODUCTION_SECRET_LENGTH`` characters.

        Asked for by the code that uses it (at the process's start), so a process needs only
        its own secrets set: intake's processes never hold the key that unseals experts'
        identities, and a worker never holds the API-key pepper."""
        value: str = getattr(self, name)
        if self.environment != "production":
            return value
        variable = f"PRT_{name.upper()}"
        if value in _DEVELOPMENT_SECRETS:
            raise SettingsError(
                f"{variable} still has its development default; set a real secret for production"
            )
        if not value.strip():
            raise SettingsError(
                f"{variable} is empty; production needs a secret of at least "
                f"{MIN_PRODUCTION_SECRET_LENGTH} characters (e.g. openssl rand -base64 32)"
            )
        if len(value) < MIN_PRODUCTION_SECRET_LENGTH:
            raise SettingsError(
                f"{variable} has {len(value)} characters; production needs a secret of at least "
                f"{MIN_PRODUCTION_SECRET_LENGTH} (e.g. openssl rand -base64 32)"
            )
        if len(set(value)) < MIN_PRODUCTION_SECRET_DISTINCT_CHARACTERS:
            # 'a' * 32, or an all-zero key in base64 ('AAAA…='): long enough, and guessable.
            raise SettingsError(
                f"{variable} repeats a few characters ({len(set(value))} distinct); production "
                "needs a random secret (e.g. openssl rand -base64 32)"
            )
        return value


SecretName = Literal["api_key_pepper", "remote_eval_identity_key", "remote_eval_draw_secret"]


@lru_cache(maxsize=1)
def get_settings() -> PlatformSettings:
    return PlatformSettings()
