"""The bulletin as its readers check it: every breakdown adds up to the figure it breaks down
(no list cut where the codes happen to sort), the 文号 is of the year of issue, the cover notice
reads as the seed's does, and the Word file is an A4 official document with its own properties."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

from docx import Document

from services.reporting.bulletin_render import APPLICATION, to_docx, to_markdown
from services.reporting.domain import facts
from services.reporting.domain.bulletin import Bulletin, FigureRef, format_fen_as_wan_yuan
from services.reporting.domain.ledger import Ledger
from services.reporting.http_api.bulletins import build_bulletin
from tests.unit.reporting.factories import (
    at,
    bulletin_text,
    event_id,
    half_year_bulletin,
    ledger_read_model,
    routed,
)

# More departments than the old cut of 16, each with as many pushes (so the order among them
# is the codes'), and a few with more.
DEPARTMENTS = [f"D{n:02d}" for n in range(24)]


def _many_departments() -> Bulletin:
    pushes = [
        routed(f"p-{department}-{n}", "2023-03-01 09:00", department=department)
        for k, department in enumerate(DEPARTMENTS)
        for n in range(1 + (k % 3 == 0))
    ]
    # Copies for information count in 推送 but not in the breakdown of pushes to handle.
    copies = [
        routed(f"c-{department}", "2023-03-01 09:00", department=department, role="COPY")
        for department in DEPARTMENTS[:5]
    ]
    # Every push is late to be signed for.
    overdue = [
        facts.PushOverdueFact(
            event_id(), push.push_id, at("2023-03-04 00:00"), "SIGN_FOR", push.department
        )
        for push in pushes
    ]
    return half_year_bulletin(*pushes, *copies, *overdue)


def _breakdown(bulletin: Bulletin, metric: str) -> list[FigureRef]:
    return [
        figure
        for figure in bulletin.figures
        if figure.metric == metric and "|department=" in figure.source
    ]


def _total(bulletin: Bulletin, metric: str) -> int:
    (total,) = [
        figure
        for figure in bulletin.figures
        if figure.metric == metric and figure.source == f"{metric}|period=2023-H1"
    ]
    return int(total.raw)


def test_the_department_breakdown_lists_every_department_and_sums_to_its_total() -> None:
    bulletin = _many_departments()
    breakdown = _breakdown(bulletin, "pushes_to_handle")
    assert sorted(re.sub(r".*department=([^|]+).*", r"\1", f.source) for f in breakdown) == (
        DEPARTMENTS
    )
    assert sum(int(f.raw) for f in breakdown) == _total(bulletin, "pushes_to_handle") == 32
    assert _total(bulletin, "pushes_routed") == 37  # the copies too
    text = bulletin_text(bulletin)
    # Said to break down the pushes to handle (32), not all the pushes routed (37).
    assert "推送(含抄送)37次,其中须签收处理32次" in text
    # Copies included, and to departments, not all of them administrative supervisors (the
    # trading centre is not one): the law review found the sentence said otherwise.
    assert "向有关部门推送(含抄送)" in text and "行政监督部门推送" not in text
    assert "。须签收处理的推送分部门:D00" in text
    assert "等" not in text.split("须签收处理的推送分部门:")[1]


def test_the_overdue_breakdown_sums_to_its_total() -> None:
    bulletin = _many_departments()
    overdue = _breakdown(bulletin, "pushes_overdue")
    assert len(overdue) == len(DEPARTMENTS)
    assert sum(int(f.raw) for f in overdue) == _total(bulletin, "pushes_overdue") == 32
    assert "超期推送分部门:" in bulletin_text(bulletin)


async def test_the_document_number_is_of_the_year_of_issue() -> None:
    bulletin, _ = await build_bulletin(ledger_read_model(Ledger()), "2023-H2", 3, date(2024, 2, 10))
    assert bulletin.document_number == "济公管办〔2024〕3号"
    assert bulletin.issued_on == date(2024, 2, 10)
    markdown = to_markdown(bulletin, "2023年下半年")
    assert "**济公管办〔2024〕3号**" in markdown and "2024年2月10日" in markdown


def test_the_cover_notice_says_what_it_sends_between_addressees_and_attachment() -> None:
    bulletin = half_year_bulletin()
    assert f"形成了《{bulletin.title}》,现印发给你们" in bulletin.notice_body
    lines = to_markdown(bulletin, "2023年上半年").splitlines()
    addressees, body, attachment = (
        lines.index(bulletin.addressees),
        lines.index(bulletin.notice_body),
        lines.index(f"附件:{bulletin.title}"),
    )
    assert addressees < body < attachment
    texts = [p.text for p in Document(io.BytesIO(to_docx(bulletin, "2023年上半年"))).paragraphs]
    assert texts.index(bulletin.addressees) + 1 == texts.index(bulletin.notice_body)
    assert texts.index(bulletin.notice_body) + 1 == texts.index(f"附件:{bulletin.title}")


def test_the_word_file_is_a4_with_official_margins_and_its_own_properties() -> None:
    bulletin = half_year_bulletin()
    document = Document(io.BytesIO(to_docx(bulletin, "2023年上半年")))
    for section in document.sections:
        # Stored in twips (1/1440 inch): millimetres to a tenth.
        page = (section.page_width, section.page_height)
        margins = (
            section.top_margin,
            section.bottom_margin,
            section.left_margin,
            section.right_margin,
        )
        assert [round(length.mm, 1) for length in page if length] == [210, 297]
        assert [round(length.mm, 1) for length in margins if length] == [37, 35, 28, 26]
    properties = document.core_properties
    assert properties.title == bulletin.title
    assert properties.author == properties.last_modified_by == bulletin.issuer
    assert properties.created.date() == properties.modified.date() == date(2023, 8, 22)
    assert "python-docx" not in (properties.comments + properties.author + properties.subject)


def test_the_word_files_application_properties_are_the_systems_not_the_templates() -> None:
    bulletin = half_year_bulletin()
    with zipfile.ZipFile(io.BytesIO(to_docx(bulletin, "2023年上半年"))) as docx:
        names = docx.namelist()
        app = docx.read("docProps/app.xml").decode()
        package_rels = docx.read("_rels/.rels").decode()
    assert "Macintosh" not in app and "Normal.dotm" not in app
    assert f"<Application>{APPLICATION}</Application>" in app
    assert f"<Company>{bulletin.issuer}</Company>" in app
    assert not [name for name in names if "thumbnail" in name]
    assert "thumbnail" not in package_rels
    Document(io.BytesIO(to_docx(bulletin, "2023年上半年")))  # still opens


def test_wan_yuan_round_half_up_on_the_exact_decimal() -> None:
    assert format_fen_as_wan_yuan(1_005_000) == "1.01万元"  # a float's toFixed(2) says 1.00
