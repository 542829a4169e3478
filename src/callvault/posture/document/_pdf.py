"""PDF rendering with ReportLab (BSD, a self-contained wheel: no system libraries).

Platypus ``Paragraph`` parses a small XML markup, so every text is XML-escaped before it is
handed over; table cells are Paragraphs so long key ids and hashes wrap instead of running
off the page. The document's creation date is the facts' collection time and the PDF is
built with ``invariant=1``, so the same facts give the same bytes.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    ListFlowable,
    ListItem,
    LongTable,
    Paragraph,
    Preformatted,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from callvault.posture.document._blocks import Block, Bullets, Code, Heading, Table
from callvault.posture.document._blocks import Paragraph as Para

__all__ = ["render_pdf"]

_STYLES = getSampleStyleSheet()
_BODY = ParagraphStyle("cv-body", parent=_STYLES["BodyText"], fontSize=9, leading=11.5)
_CELL = ParagraphStyle("cv-cell", parent=_BODY, fontSize=7.5, leading=9, wordWrap="CJK")
_HEAD = ParagraphStyle("cv-head", parent=_CELL, fontName="Helvetica-Bold")
_HEADINGS: dict[int, Any] = {1: _STYLES["Title"], 2: _STYLES["Heading2"], 3: _STYLES["Heading4"]}
_STATUS = {
    "pass": colors.HexColor("#0b6b2b"),
    "fail": colors.HexColor("#a1160a"),
    "no-evidence": colors.HexColor("#8a5a00"),
}
_WIDTH = A4[0] - 30 * mm


def _p(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(escape(" ".join(text.split())), style)


def _table(table: Table) -> LongTable:
    data = [[_p(h, _HEAD) for h in table.headers]]
    style: list[Any] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa3ad")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    for row in table.rows:
        data.append([_cell(c, i == table.status_column) for i, c in enumerate(row)])
    return LongTable(data, colWidths=_widths(table), repeatRows=1, style=TableStyle(style))


def _cell(text: str, status: bool) -> Paragraph:
    """A table cell; a status cell is bold and coloured (unknown values read as fail)."""
    if not status:
        return _p(text, _CELL)
    colour = _STATUS.get(text, _STATUS["fail"])
    style = ParagraphStyle(f"cv-status-{text}", parent=_HEAD, textColor=colour)
    return _p(text.upper(), style)


def _widths(table: Table) -> list[float]:
    """Columns as wide as their longest cell (bounded), so ids and hashes wrap rarely."""
    weights = [
        max(min(max(len(t) for t in (h, *(r[i] for r in table.rows))), 48), 11) + 4
        for i, h in enumerate(table.headers)
    ]
    if table.status_column is not None:  # bold capitals: NO-EVIDENCE on one line
        weights[table.status_column] = max(weights[table.status_column], 20)
    return [_WIDTH * w / sum(weights) for w in weights]


def _flowables(block: Block) -> list[Flowable]:
    if isinstance(block, Heading):
        return [_p(block.text, _HEADINGS.get(block.level, _STYLES["Heading4"]))]
    if isinstance(block, Para):
        return [_p(block.text)]
    if isinstance(block, Bullets):
        items: list[Any] = [ListItem(_p(i)) for i in block.items]
        kind = "1" if block.ordered else "bullet"
        return [ListFlowable(items, bulletType=kind, start="1" if block.ordered else None)]
    if isinstance(block, Code):
        return [Preformatted("\n".join(block.lines), _STYLES["Code"])]
    return [_table(block), Spacer(1, 3 * mm)]


def render_pdf(blocks: list[Block], *, title: str, when: datetime) -> bytes:
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=title,
        author="callvault",
        subject="encryption posture",
        creator="callvault posture",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        invariant=1,
    )
    story: list[Flowable] = []
    for block in blocks:
        story.extend(_flowables(block))

    def footer(canvas: Canvas, document: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        stamp = f"{when:%Y-%m-%d %H:%M:%S} UTC"
        canvas.drawString(15 * mm, 8 * mm, f"{title} - generated {stamp} - page {document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
