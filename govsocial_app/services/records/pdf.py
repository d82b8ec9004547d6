"""The readable PDF of a records export: each record with its metadata, versions and moderation history.

Drawn straight on the ReportLab canvas (a request can hold tens of thousands of records; Platypus paragraphs were
the slow part). Arabic lines are broken in reading order first, then shaped and laid out right to left one line at a
time (services/report_pdf.visual), as the reports do."""

from __future__ import annotations

import io
import re
from datetime import datetime

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from govsocial_app.services.reporting.pdf import fonts, visual

_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF]")
W, H = A4
MARGIN = 42
BODY = W - 2 * MARGIN


class _Writer:
    def __init__(self, buf: io.BytesIO, title: str):
        self.regular, self.bold = fonts()
        self.c = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
        self.c.setTitle(title)
        self.title = title
        self.page = 1
        self.y = H - MARGIN

    def _footer(self) -> None:
        self.c.setFont(self.regular, 7)
        self.c.drawString(MARGIN, 24, self.title)
        self.c.drawRightString(W - MARGIN, 24, f"Page {self.page}")

    def need(self, height: float) -> None:
        if self.y - height < MARGIN:
            self._footer()
            self.c.showPage()
            self.page += 1
            self.y = H - MARGIN

    def line(self, text: str, *, size: float = 9, bold: bool = False, indent: float = 0, gap: float = 2) -> None:
        font = self.bold if bold else self.regular
        width = BODY - indent
        for part in (text or "").split("\n") or [""]:
            for ln in simpleSplit(part, font, size, width) or [""]:
                self.need(size + gap)
                self.c.setFont(font, size)
                if _ARABIC.search(ln):
                    self.c.drawRightString(W - MARGIN, self.y - size, visual(ln))
                else:
                    self.c.drawString(MARGIN + indent, self.y - size, ln)
                self.y -= size + gap

    def rule(self) -> None:
        self.need(8)
        self.c.setStrokeColorRGB(0.85, 0.85, 0.88)
        self.c.line(MARGIN, self.y - 4, W - MARGIN, self.y - 4)
        self.y -= 10

    def save(self) -> None:
        self._footer()
        self.c.save()


def render(meta: dict, records: list[dict], generated: datetime) -> bytes:
    buf = io.BytesIO()
    w = _Writer(buf, f"Public records request {meta['request']}")
    w.line(f"Public records request {meta['request']}", size=18, bold=True, gap=6)
    w.line(f"Requester: {meta['requester']}")
    w.line(f"Received: {meta['received_on']}   Due: {meta['due_on']}")
    w.line(f"Scope (saved search): {meta['scope'] or 'every record'}")
    w.line(f"Records: {len(records)}   Generated: {generated:%Y-%m-%d %H:%M} UTC")
    w.line("Redactions apply to this copy only and are marked [REDACTED: reason].", size=8)
    w.rule()
    for r in records:
        w.line(f"Record {r['id']} · {r['network']} · {r['direction']} · {r['kind']} · {r['created_at']}", bold=True)
        w.line(f"Author: {r['author_name']} ({r['author_handle']})   Status: {r['status']}", size=8)
        if r["url"]:
            w.line(r["url"], size=7)
        w.line(r["text"], size=9, indent=8)
        if len(r["versions"]) > 1 or r["network_deleted_at"]:
            w.line("Versions", size=8, bold=True)
            for v in r["versions"]:
                w.line(f"v{v['version']} {v['change']} {v['captured_at']}: {v['text']}", size=8, indent=12)
        for mod in r["moderation"]:
            w.line("Moderation: " + ", ".join(f"{k}={v}" for k, v in mod.items()), size=8, indent=12)
        w.rule()
    w.save()
    return buf.getvalue()
