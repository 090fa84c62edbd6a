"""Reporting's response bodies. Money stays integer fen; ratios are floats in [0, 1]."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class CounterPublic(BaseModel):
    metric: str
    dimensions: dict[str, str]
    period: str | None = Field(description="YYYY, YYYY-Hn, YYYY-Qn or YYYY-MM; null: all time")
    value: int
    evidence: str = Field(description="the query listing the events behind this figure")


class DerivedPublic(BaseModel):
    """A figure derived from counters: a ratio, or a distribution's median and p90."""

    metric: str
    dimensions: dict[str, str]
    period: str | None
    value: float | None = Field(description="the ratio, or the median; null when undefined")
    numerator: int | None = None
    denominator: int | None = None
    count: int | None = None
    median: float | None = None
    p90: float | None = None


class MetricsPublic(BaseModel):
    counters: list[CounterPublic]
    derived: list[DerivedPublic] = []


class MetricDefinitionPublic(BaseModel):
    key: str
    name_zh: str
    name_en: str
    definition: str
    source_events: list[str]
    dimensions: list[str]
    cuts: list[list[str]]
    unit: str
    kind: str
    numerator: str | None = None
    denominator: str | None = None


class CataloguePublic(BaseModel):
    metrics: list[MetricDefinitionPublic]
    periods: str = "YYYY (year), YYYY-H1/H2, YYYY-Q1..Q4, YYYY-MM; Asia/Shanghai calendar"


class EvidencePublic(BaseModel):
    """The events behind one figure, those that added to it apart from those that subtracted
    from it (a push leaves pushes_in_hand at its measure; real deadlines take a push off
    pushes_on_estimated_deadlines, or move it out of pushes_fed_back_on_time). For a count,
    ``added`` − ``subtracted`` is the figure; for an amount (fen), the events that moved it."""

    metric: str
    period: str | None
    dimensions: dict[str, str]
    total: int = Field(
        description="how many events are listed, over all pages (each once): the events that "
        "added and those that subtracted (a count is added − subtracted where each event moved "
        "it by one, as most do)"
    )
    added: int = Field(description="how many events added to the figure (over all pages)")
    subtracted: int = Field(
        description="how many events subtracted from the figure (over all pages); an event "
        "that did both, in two cells of the figure, is counted in each and nets to nothing"
    )
    event_ids: list[str] = Field(description="this page's events, in event-id (time) order")
    added_ids: list[str] = Field(description="those of event_ids that added to the figure")
    subtracted_ids: list[str] = Field(
        description="those of event_ids that subtracted from the figure"
    )
    next: str | None = Field(description="the URL of the next page; null on the last")


class StreamTicketPublic(BaseModel):
    ticket: str = Field(
        description="opens one event stream as GET /v1/dashboard/stream?ticket=…",
        examples=["st_3q2-7Xk1mZ9v0bWf4hYtR8aLcD5eN6gJ"],
    )
    expires_at: datetime = Field(description="unused by then, the ticket opens nothing")
