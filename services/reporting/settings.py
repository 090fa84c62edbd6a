"""Reporting's own settings (prefix ``PRT_REPORTING_``), beside the platform's."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CONSUMER_GROUP = "prt-reporting"


class ReportingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRT_REPORTING_", frozen=True, extra="ignore")

    # Every Redis key of the read model starts with this. A fresh prefix and a fresh consumer
    # group rebuild the read model from the log beside the live one.
    key_prefix: str = "prt:reporting:"
    # The Faust app id, which is the Kafka consumer group of the aggregation worker.
    consumer_group: str = DEFAULT_CONSUMER_GROUP
    # The bulletin's letterhead.
    bulletin_issuer: str = "济南市公共资源交易管理工作联席会议办公室"
    bulletin_seal_note: str = "(济南市发展和改革委员会代章)"
    # {year} and {number} are filled in; the number is given per bulletin (default below).
    bulletin_document_number: str = "济公管办〔{year}〕{number}号"
    bulletin_default_number: int = Field(default=1, ge=1)
    # The worker applies events in batches of up to this many, or what came within the wait.
    # Larger batches write each counter once for more events (Redis CPU per event 27 -> 21 µs
    # from 1,000 to 4,000, bench/reporting_aggregation.py); a 4,000-event script holds Redis
    # for about 0.1 s, and only while a backlog is caught up.
    aggregation_batch_size: int = Field(default=4000, ge=1)
    # The longest an event waits for its batch to fill (Faust) or a fetch to answer (batch).
    aggregation_batch_within_s: float = Field(default=0.1, gt=0)
    # How the worker reads the event topics: "batch" (one consumer of the group fetching whole
    # batches: 22-26k events/s on the 2-CPU test machine) or "faust" (a Faust agent per topic:
    # Faust delivers records one by one, ~90-100 µs each even to an agent that applies nothing,
    # so about 7k events/s applied, 11k at best). Both apply batches the same way and are
    # kill-safe; see bench/reporting_aggregation.py and the module doc of stream_worker.
    aggregation_consumer: Literal["faust", "batch"] = "batch"
    # ECharts' bundle, served with the dashboard (no internet needed). Default: where `npm ci`
    # puts it in a checkout; the container image sets its own path.
    echarts_path: str | None = None
    # How often the dashboard's event stream looks for new figures.
    dashboard_poll_s: float = Field(default=0.5, gt=0)
    # At most one new dashboard snapshot per period this often, however many streams are open
    # and however fast events arrive (dashboard.SnapshotCache).
    dashboard_refresh_s: float = Field(default=1.0, ge=0)
    # How often an open dashboard stream checks that its key has not been revoked meanwhile.
    dashboard_key_recheck_s: float = Field(default=60.0, gt=0)


@lru_cache(maxsize=1)
def get_reporting_settings() -> ReportingSettings:
    return ReportingSettings()
