"""The bulletin states the computed figures, in the source's structure, each with its source."""

from __future__ import annotations

import io
from datetime import date

from docx import Document

from services.reporting.bulletin_render import SOURCES_COLUMNS, to_docx, to_markdown
from services.reporting.domain.bulletin import (
    SECTION_HEADINGS,
    Bulletin,
    Labels,
    compose_bulletin,
    format_fen_as_wan_yuan,
)
from services.reporting.domain.ledger import Ledger
from services.reporting.domain.periods import parse_period
from tests.unit.reporting.factories import completed, registered

LABELS = Labels(regions={"370117": "钢城区", "370100": "市本级"}, departments={"GZW": "市国资委"})


def _bulletin() -> Bulletin:
    ledger = Ledger()
    for n in range(9):
        ledger.apply(
            registered(f"s{n}", "2023-02-01 09:00", "370100", "SOE_PROPERTY_RIGHTS", 10, "GZW")
        )
        ledger.apply(completed(f"s{n}", "2023-03-01 09:00", on_platform=n < 2))
    ledger.apply(
        registered("r1", "2023-04-01 09:00", "370117", "RURAL_COLLECTIVE_PROPERTY", 3_600_000)
    )
    ledger.apply(completed("r1", "2023-05-01 09:00"))
    ledger.apply(completed("late", "2023-07-01 09:00"))  # H2: not in the H1 bulletin
    return compose_bulletin(
        ledger.figures(),
        parse_period("2023-H1"),
        LABELS,
        issuer="济南市公共资源交易管理工作联席会议办公室",
        document_number="济公管办〔2023〕16号",
        issued_on=date(2023, 8, 22),
        seal_note="(济南市发展和改革委员会代章)",
    )


def _text(bulletin: Bulletin, section: int) -> str:
    return "".join(
        part if isinstance(part, str) else part.text
        for paragraph in bulletin.sections[section].paragraphs
        for part in paragraph.parts
    )


def test_the_bulletin_states_computed_figures_in_the_source_structure() -> None:
    bulletin = _bulletin()
    assert bulletin.title == "2023年全市上半年公共资源交易工作情况通报"
    assert [s.heading for s in bulletin.sections] == list(SECTION_HEADINGS)
    integration = _text(bulletin, 2)
    assert "完成企业国有产权交易9项,其中进场交易2项" in integration
    assert "农村集体产权交易1例(钢城区1例)" in integration
    # The 7 SOE transfers made off the platform count in the SOE figure only; the H2 trade
    # is not counted.
    assert "全市平台成交项目(标段)3个" in integration
    assert "分交易类别:国有产权2个、农村集体产权1个" in integration
    registrations = _text(bulletin, 0)
    assert "完成进场登记项目10个" in registrations
    assert "市本级9个(0.00万元)、钢城区1个(3.60万元)" in registrations


def test_every_figure_names_its_counter_and_evidence() -> None:
    bulletin = _bulletin()
    soe = [f for f in bulletin.figures if f.metric == "soe_property_transactions"]
    assert [(f.raw, f.source) for f in soe] == [
        ("9", "soe_property_transactions|period=2023-H1"),
        ("2", "soe_property_transactions|on_platform=true|period=2023-H1"),
    ]
    assert soe[1].evidence == (
        "/v1/metrics/evidence?metric=soe_property_transactions&period=2023-H1&on_platform=true"
    )


def test_markdown_footnotes_each_figure() -> None:
    bulletin = _bulletin()
    markdown = to_markdown(bulletin, "2023年上半年")
    assert "**济公管办〔2023〕16号**" in markdown
    assert "2023年8月22日" in markdown
    count = len(bulletin.figures)
    assert f"[^{count}]: " in markdown and f"[^{count + 1}]" not in markdown
    assert "9项[^" in markdown


def test_the_word_document_reads_back_with_its_sources_table() -> None:
    bulletin = _bulletin()
    document = Document(io.BytesIO(to_docx(bulletin, "2023年上半年")))
    texts = [paragraph.text for paragraph in document.paragraphs]
    assert "济公管办〔2023〕16号" in texts
    assert all(heading in texts for heading in SECTION_HEADINGS)
    rows = [[cell.text for cell in row.cells] for row in document.tables[0].rows]
    assert tuple(rows[0]) == SOURCES_COLUMNS
    assert len(rows) - 1 == len(bulletin.figures)
    by_source = {row[3]: row for row in rows[1:]}
    soe_on_platform = by_source["soe_property_transactions|on_platform=true|period=2023-H1"]
    assert soe_on_platform[1:3] == ["soe_property_transactions", "2"]


def test_money_is_shown_in_wan_yuan_from_integer_fen() -> None:
    assert format_fen_as_wan_yuan(1_250_000_000) == "1,250.00万元"
    assert format_fen_as_wan_yuan(5_000) == "0.01万元"  # 50 yuan rounds half up
    assert format_fen_as_wan_yuan(0) == "0.00万元"
