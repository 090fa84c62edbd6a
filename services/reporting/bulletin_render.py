"""The bulletin as Markdown and as a Word document (.docx, python-docx).

Every figure carries a footnote number; the footnotes (Markdown) and the 数据来源 table (Word)
give, for each, the counter it was read from and the evidence query listing the events behind it.
"""

from __future__ import annotations

import io
from datetime import date

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.run import Run

from services.reporting.domain.bulletin import Bulletin, FigureRef, Paragraph

INTRO = (
    "为及时总结各有关部门和区县(功能区)好经验、好做法,现将{label}全市公共资源交易工作情况"
    "通报如下。本通报所列数据均由全市公共资源交易平台事件实时计算生成,每项数据均标注来源,"
    "可查询其所依据的全部事件。"
)
SOURCES_HEADING = "数据来源"
SOURCES_COLUMNS = ("序号", "指标", "数值", "计数器", "证据查询")


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _numbered(bulletin: Bulletin) -> dict[int, int]:
    """Footnote number of each figure, by identity, in reading order."""
    return {id(figure): n for n, figure in enumerate(bulletin.figures, start=1)}


def _paragraph_markdown(paragraph: Paragraph, numbers: dict[int, int]) -> str:
    return "".join(
        f"{part.text}[^{numbers[id(part)]}]" if isinstance(part, FigureRef) else part
        for part in paragraph.parts
    )


def to_markdown(bulletin: Bulletin, label: str) -> str:
    numbers = _numbered(bulletin)
    lines = [
        f"# {bulletin.notice_title}",
        "",
        f"**{bulletin.document_number}**",
        "",
        bulletin.addressees,
        "",
        f"附件:{bulletin.title}",
        "",
        bulletin.issuer,
        bulletin.seal_note,
        chinese_date(bulletin.issued_on),
        "",
        f"## {bulletin.title}",
        "",
        INTRO.format(label=label),
        "",
    ]
    for section in bulletin.sections:
        lines.extend((f"### {section.heading}", ""))
        for paragraph in section.paragraphs:
            lines.extend((_paragraph_markdown(paragraph, numbers), ""))
    for figure in bulletin.figures:
        lines.append(
            f"[^{numbers[id(figure)]}]: {figure.metric} = {figure.raw or '—'} "
            f"(`{figure.source}`; evidence: {figure.evidence})"
        )
    return "\n".join(lines) + "\n"


def _font(run: Run, east_asian: str, size: float, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    # Word picks Chinese glyphs from the East Asian font slot, which python-docx does not expose.
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asian)


def _centred(document: DocxDocument, text: str, east_asian: str, size: float, bold: bool) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(paragraph.add_run(text), east_asian, size, bold)


def to_docx(bulletin: Bulletin, label: str) -> bytes:
    numbers = _numbered(bulletin)
    document = Document()
    document.core_properties.title = bulletin.title
    document.core_properties.identifier = bulletin.document_number
    _centred(document, bulletin.notice_title, "方正小标宋简体", 18, True)
    _centred(document, bulletin.document_number, "仿宋_GB2312", 16, False)
    for text in (bulletin.addressees, f"附件:{bulletin.title}"):
        _font(document.add_paragraph().add_run(text), "仿宋_GB2312", 16)
    for text in (bulletin.issuer, bulletin.seal_note, chinese_date(bulletin.issued_on)):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        _font(paragraph.add_run(text), "仿宋_GB2312", 16)
    document.add_page_break()  # type: ignore[no-untyped-call]
    _centred(document, bulletin.title, "方正小标宋简体", 18, True)
    _font(document.add_paragraph().add_run(INTRO.format(label=label)), "仿宋_GB2312", 16)
    for section in bulletin.sections:
        _font(document.add_paragraph().add_run(section.heading), "黑体", 16, True)
        for composed in section.paragraphs:
            body = document.add_paragraph()
            body.paragraph_format.first_line_indent = Pt(32)
            for part in composed.parts:
                if isinstance(part, FigureRef):
                    _font(body.add_run(part.text), "仿宋_GB2312", 16)
                    marker = body.add_run(f"[{numbers[id(part)]}]")
                    marker.font.superscript = True
                else:
                    _font(body.add_run(part), "仿宋_GB2312", 16)
    _font(document.add_paragraph().add_run(SOURCES_HEADING), "黑体", 14, True)
    table = document.add_table(rows=1, cols=len(SOURCES_COLUMNS))
    table.style = "Table Grid"
    for cell, heading in zip(table.rows[0].cells, SOURCES_COLUMNS, strict=True):
        cell.text = heading
    for figure in bulletin.figures:
        row = table.add_row().cells
        values = (
            str(numbers[id(figure)]),
            figure.metric,
            figure.raw,
            figure.source,
            figure.evidence,
        )
        for cell, value in zip(row, values, strict=True):
            cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
