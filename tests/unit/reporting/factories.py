"""Hand-made facts for reporting's unit tests; times are given in Jinan local time."""

from __future__ import annotations

import itertools
from collections.abc import Collection
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from services.reporting.domain import facts
from services.reporting.domain.bulletin import Bulletin, Labels, compose_bulletin
from services.reporting.domain.figures import value_of
from services.reporting.domain.ledger import Ledger
from services.reporting.domain.metrics import CounterKey
from services.reporting.domain.periods import parse_period
from services.reporting.read_model import MetricsReadModel

CHINA = ZoneInfo("Asia/Shanghai")
_ids = itertools.count(1)


def at(text: str) -> datetime:
    """'2023-03-01 09:00' in Jinan, as an aware instant."""
    return datetime.fromisoformat(text).replace(tzinfo=CHINA)


def event_id() -> str:
    return f"e{next(_ids):06d}"


def registered(  # noqa: PLR0917 - reads like the registration it makes
    project: str,
    when: str,
    region: str = "370113",
    category: str = "HOUSING",
    budget: int = 100,
    department: str = "ZJJ",
    *,
    key_project: bool = False,
    green_channel: bool = False,
    deficiency_accepted: bool = False,
    sections: tuple[str, ...] = (),
    method: str = "",
) -> facts.ProjectRegisteredFact:
    """A registration; with no ``sections`` the project's deals are told apart by the codes
    their events name (as for a project state stored before reporting kept sections)."""
    return facts.ProjectRegisteredFact(
        event_id(),
        project,
        region,
        category,
        budget,
        department,
        at(when),
        key_project=key_project,
        green_channel=green_channel,
        deficiency_accepted=deficiency_accepted,
        bid_sections=sections,
        trading_method=method,
    )


def announced(project: str, when: str) -> facts.AnnouncementPublishedFact:
    return facts.AnnouncementPublishedFact(event_id(), project, "JYZX", at(when))


def completed(
    project: str, when: str, amount: int = 1000, on_platform: bool = True, section: str = ""
) -> facts.TransactionCompletedFact:
    return facts.TransactionCompletedFact(
        event_id(), project, "JYZX", at(when), amount, on_platform, section
    )


def awarded(
    project: str, when: str, amount: int = 1000, section: str = "001"
) -> facts.ContractAwardedFact:
    return facts.ContractAwardedFact(event_id(), project, "JYZX", at(when), section, amount)


def routed(
    push: str,
    when: str,
    department: str = "ZJJ",
    role: str = "HANDLER",
    feedback_due: str | None = "2023-03-10 18:00",
    *,
    sign_for_due: str = "2023-03-03 18:00",
    deadlines_estimated: bool = False,
) -> facts.PushRoutedFact:
    return facts.PushRoutedFact(
        event_id(),
        push,
        "r1",
        department,
        at(when),
        "CATEGORY_SUPERVISOR",
        role,
        at(sign_for_due) if role == "HANDLER" else None,
        at(feedback_due) if feedback_due and role == "HANDLER" else None,
        deadlines_estimated=deadlines_estimated and role == "HANDLER",
    )


def transferred(
    push: str, when: str, to: str = "JTJ", department: str = "ZJJ"
) -> facts.PushTransferredFact:
    return facts.PushTransferredFact(event_id(), push, at(when), department, to)


def signed(push: str, when: str) -> facts.PushSignedForFact:
    return facts.PushSignedForFact(event_id(), push, at(when))


def fed_back(push: str, when: str, result: str = "PENALISED") -> facts.PushFeedbackGivenFact:
    return facts.PushFeedbackGivenFact(event_id(), push, at(when), result)


def deadlines_set(
    push: str, when: str, feedback_due: str, sign_for_due: str = "2023-03-03 18:00"
) -> facts.PushDeadlinesSetFact:
    return facts.PushDeadlinesSetFact(
        event_id(), push, at(when), at(sign_for_due), at(feedback_due)
    )


def fold(*items: facts.Fact) -> Ledger:
    """The figures and states of ``items`` folded in order, as the stream worker would."""
    ledger = Ledger()
    for item in items:
        ledger.apply(item)
    return ledger


def figure(ledger: Ledger, metric: str, period: str | None = None, **dimensions: str) -> int:
    return value_of(ledger.figures(), metric, period, **dimensions)


def half_year_bulletin(*items: facts.Fact, labels: Labels | None = None) -> Bulletin:
    """The 2023-H1 bulletin of ``items``, issued as the seed bulletin was."""
    return compose_bulletin(
        fold(*items).figures(),
        parse_period("2023-H1"),
        labels or Labels(),
        issuer="济南市公共资源交易管理工作联席会议办公室",
        document_number="济公管办〔2023〕16号",
        issued_on=date(2023, 8, 22),
        seal_note="",
    )


def bulletin_text(bulletin: Bulletin) -> str:
    """Every section's text, figures as they read."""
    return "".join(
        part if isinstance(part, str) else part.text
        for section in bulletin.sections
        for paragraph in section.paragraphs
        for part in paragraph.parts
    )


class _LedgerReadModel:
    """The reads the dashboard and its deadline board make, from a ledger instead of Redis."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    async def version(self) -> int:
        return len(self._ledger.applied)

    async def counters(self, metric: str | None = None) -> dict[CounterKey, int]:
        figures = self._ledger.figures()
        return {key: value for key, value in figures.items() if metric in (None, key.metric)}

    async def counters_in(
        self, metrics: Collection[str], period: str | None
    ) -> dict[CounterKey, int]:
        return {
            key: value
            for key, value in self._ledger.figures().items()
            if key.metric in metrics and key.period == period
        }

    async def index(self, name: str) -> set[str]:
        return set(self._ledger.indexes[name])

    async def states(self, kind: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        found = {i: self._ledger.states.get(f"{kind}:{i}") for i in ids}
        return {i: state for i, state in found.items() if state is not None}


def ledger_read_model(ledger: Ledger) -> MetricsReadModel:
    """The read model the dashboard reads, answering from ``ledger``."""
    return cast(MetricsReadModel, _LedgerReadModel(ledger))
