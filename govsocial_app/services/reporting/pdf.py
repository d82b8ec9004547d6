"""Presentation-ready PDF of a report: agency name and logo, vector charts drawn with reportlab, summary, tables, page numbers."""

from __future__ import annotations

import io
import logging
import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from govsocial_app.config import REPO_ROOT, get_settings
from govsocial_app.services.reporting import reports as R
from govsocial_app.services import settings_store

log = logging.getLogger(__name__)

LOGO_SETTING = "reports.logo_path"  # optional: a PNG or JPEG on the server; the app icon otherwise
DEFAULT_LOGO = REPO_ROOT / "assets" / "icons" / "icon-512.png"
PAGE = landscape(A4)
MARGIN = 14 * mm
CHART_W, CHART_H = PAGE[0] - 2 * MARGIN, 72 * mm
PALETTE = [colors.HexColor(c) for c in ("#3e63dd", "#e5484d", "#30a46c", "#f76b15", "#8e4ec6", "#12a594", "#ffc53d", "#6f6e77")]
INK = colors.HexColor("#1c2024")
MUTED = colors.HexColor("#60646c")
RULE = colors.HexColor("#d9d9e0")
_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF]")
# DejaVu Sans covers Latin and the Arabic presentation forms the reshaper produces; Helvetica is the fallback.
_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


@lru_cache(maxsize=1)
def fonts() -> tuple[str, str]:
    for folder in _FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdfmetrics.registerFont(TTFont("GSSans", str(regular)))
            pdfmetrics.registerFont(TTFont("GSSans-Bold", str(bold)))
            return "GSSans", "GSSans-Bold"
    log.warning("DejaVu Sans is not installed: PDFs fall back to Helvetica, which has no Arabic letters")
    return "Helvetica", "Helvetica-Bold"


def visual(text: str) -> str:
    """Arabic joined into its contextual letter forms and laid out right to left, as PDF text has to be."""
    if not text or not _ARABIC.search(text):
        return text
    import arabic_reshaper
    from bidi import get_display

    return get_display(arabic_reshaper.reshape(text))


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=10, leading=14, textColor=INK, alignment=TA_LEFT)
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontName=bold, fontSize=24, leading=30, spaceAfter=4),
        "sub": ParagraphStyle("sub", parent=base, fontSize=12, leading=16, textColor=MUTED),
        "h2": ParagraphStyle("h2", parent=base, fontName=bold, fontSize=14, leading=18, spaceBefore=6, spaceAfter=6),
        "summary": ParagraphStyle("summary", parent=base, fontSize=12, leading=18),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "cellb": ParagraphStyle("cellb", parent=base, fontName=bold, fontSize=7, leading=9, textColor=colors.white),
        "kn_label": ParagraphStyle("knl", parent=base, fontSize=9, leading=11, textColor=MUTED),
        "kn_value": ParagraphStyle("knv", parent=base, fontName=bold, fontSize=18, leading=22),
    }


def _p(text: str, style: ParagraphStyle, width: float | None = None) -> Paragraph:
    """A paragraph of untrusted text. Lines are broken in reading order first and each line is then laid out for
    display, because right-to-left text reordered as a whole and wrapped afterwards would read bottom line first."""
    if width is None or not _ARABIC.search(text or ""):
        return Paragraph(escape(visual(text)), style)
    lines = simpleSplit(text, style.fontName, style.fontSize, width)
    rtl = ParagraphStyle(f"{style.name}-rtl", parent=style, alignment=TA_RIGHT)
    return Paragraph("<br/>".join(escape(visual(line)) for line in lines), rtl)


def logo_path() -> Path | None:
    configured = settings_store.get(LOGO_SETTING, "") or ""
    for candidate in (Path(configured) if configured else None, DEFAULT_LOGO):
        if candidate and candidate.is_file():
            return candidate
    return None


# ---------------------------------------------------------------- charts


def _tick_labels(x: tuple[str, ...], room: int) -> list[str]:
    """Every nth label, so at most `room` fit along the axis; dates are shortened to day and month."""
    step = max(1, -(-len(x) // room))
    short = [s[8:10] + "/" + s[5:7] if len(s) == 10 and s[4] == "-" else s for s in x]
    return [s if i % step == 0 else "" for i, s in enumerate(short)]


def _series_colors(series) -> list:
    """A series' own colour when it has a meaning (sentiment), else the palette's, for its bars and its legend alike."""
    return [colors.HexColor(s.color) if s.color else PALETTE[i % len(PALETTE)] for i, s in enumerate(series)]


def _legend(d: Drawing, names: list[str], x: float, y: float, swatches: list) -> None:
    if len(names) < 2:
        return
    regular, _bold = fonts()
    leg = Legend()
    leg.x, leg.y = x, y
    leg.fontName, leg.fontSize = regular, 8
    leg.alignment = "right"
    leg.columnMaximum = 1
    labels = [visual(R.short(n, 32)) for n in names]
    leg.deltax = max(stringWidth(label, regular, 8) for label in labels) + 24
    leg.colorNamePairs = [(swatches[i], label) for i, label in enumerate(labels)]
    d.add(leg)


def _axis_fonts(chart, regular: str) -> None:
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName = regular
        axis.labels.fontSize = 7
        axis.strokeColor = RULE
    chart.valueAxis.gridStrokeColor = RULE
    chart.valueAxis.visibleGrid = True


def _values(series: tuple[R.Series, ...], pct: bool) -> list[list[float | None]]:
    return [[(v * 100 if pct and v is not None else v) for v in s.values] for s in series]


def chart_drawing(chart: R.Chart, width: float = CHART_W, height: float = CHART_H) -> Drawing:
    """A chart as reportlab vector graphics: sharp at any zoom and text that stays searchable."""
    regular, bold = fonts()
    d = Drawing(width, height)
    d.add(String(0, height - 12, visual(chart.title), fontName=bold, fontSize=11, fillColor=INK))
    names = [s.name for s in chart.series]
    has_data = any(v for s in chart.series for v in s.values if v)
    if not chart.x or not has_data:
        d.add(String(width / 2, height / 2, "No data in this period", fontName=regular, fontSize=10, fillColor=MUTED, textAnchor="middle"))
        return d
    if chart.kind == "heatmap":
        _heatmap(d, chart, width, height)
        return d
    pct = chart.unit == "%"
    data = _values(chart.series, pct)
    legend_h = 14 if len(names) > 1 else 0
    if chart.kind == "hbar":
        c = HorizontalBarChart()
        c.x, c.y, c.width, c.height = 170, 16 + legend_h, width - 190, height - 40 - legend_h
        c.data = [[v or 0 for v in row] for row in data]
        c.categoryAxis.categoryNames = [visual(R.short(s, 30)) for s in chart.x]
        c.categoryAxis.reverseDirection = True  # the first (largest) bar on top
        c.barSpacing = 1
        c.groupSpacing = 6
    else:
        line = chart.kind == "line"
        c = HorizontalLineChart() if line else VerticalBarChart()
        c.x, c.y, c.width, c.height = 40, 24 + legend_h, width - 50, height - 50 - legend_h
        c.data = data if line else [[v or 0 for v in row] for row in data]
        c.categoryAxis.categoryNames = _tick_labels(chart.x, 16)
        if line:
            c.joinedLines = True
        else:
            c.groupSpacing = 2
            if chart.kind == "stacked":
                c.categoryAxis.style = "stacked"
    _axis_fonts(c, regular)
    c.valueAxis.forceZero = chart.zero
    if pct:
        c.valueAxis.labelTextFormat = "%.1f%%"
    else:
        c.valueAxis.labelTextFormat = lambda v: f"{v:,.0f}"
    series_colors = _series_colors(chart.series)
    for i in range(len(data)):
        color = series_colors[i]
        if chart.kind == "line":
            c.lines[i].strokeColor = color
            c.lines[i].strokeWidth = 1.6
        else:
            c.bars[i].fillColor = color
            c.bars[i].strokeColor = None
    d.add(c)
    _legend(d, names, c.x, 4, series_colors)
    return d


def _heatmap(d: Drawing, chart: R.Chart, width: float, height: float) -> None:
    regular, _bold = fonts()
    rows = [list(s.values) for s in chart.series]
    top = max((v or 0) for row in rows for v in row) or 1
    left, bottom = 40, 18
    cw = (width - left - 10) / len(chart.x)
    ch = (height - 40 - bottom) / len(rows)
    base = colors.HexColor("#edf2fe")
    peak = colors.HexColor("#3e63dd")
    for r, row in enumerate(rows):
        y = bottom + (len(rows) - 1 - r) * ch  # Monday on top
        d.add(String(left - 4, y + ch / 2 - 3, chart.y[r] if r < len(chart.y) else chart.series[r].name, fontName=regular,
                     fontSize=7, fillColor=INK, textAnchor="end"))
        for i, v in enumerate(row):
            share = (v or 0) / top
            fill = colors.linearlyInterpolatedColor(base, peak, 0, 1, share)
            d.add(Rect(left + i * cw, y, cw - 1, ch - 1, fillColor=fill, strokeColor=None))
            if v and cw > 14:
                d.add(String(left + i * cw + cw / 2 - 0.5, y + ch / 2 - 3, f"{int(v)}", fontName=regular, fontSize=6,
                             fillColor=colors.white if share > 0.5 else INK, textAnchor="middle"))
    for i, label in enumerate(chart.x):
        d.add(String(left + i * cw + cw / 2, bottom - 10, label, fontName=regular, fontSize=7, fillColor=MUTED, textAnchor="middle"))


# ---------------------------------------------------------------- tables and key numbers


def _key_numbers(report: R.Report, st: dict) -> Table:
    cells = []
    for k in report.key_numbers():
        change = k.change
        prev = f"Previous: {R.fmt(k.previous, k.kind)} · {R.fmt_change(change)}" if k.previous is not None else "Previous: –"
        cells.append([_p(k.label, st["kn_label"]), _p(R.fmt(k.value, k.kind), st["kn_value"]), _p(prev, st["kn_label"])])
    per_row = 4
    grid, row = [], []
    for c in cells:
        row.append(c)
        if len(row) == per_row:
            grid.append(row)
            row = []
    if row:
        grid.append(row + [""] * (per_row - len(row)))
    t = Table(grid, colWidths=[(PAGE[0] - 2 * MARGIN) / per_row] * per_row)
    t.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BOX", (0, 0), (-1, -1), 0.5, RULE),
        ("INNERGRID", (0, 0), (-1, -1), 0.5, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 8),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
    ]))
    return t


def _table(table: R.Table, st: dict, max_rows: int = 500) -> list:
    width = PAGE[0] - 2 * MARGIN
    special = {"text": 3.4, "network": 1.2}
    weights = [special.get(c.key, 1.6 if c.kind in ("text", "datetime") else 1.4) for c in table.columns]
    unit = width / sum(weights)
    pad = 3
    header = [Paragraph(escape(c.label), st["cellb"]) for c in table.columns]
    body = []
    for row in table.rows[:max_rows]:
        cells = []
        for v, c, w in zip(row, table.columns, weights):
            text = R.fmt(v, c.kind) if c.kind != "datetime" or v is None else f"{v:%-d %b %H:%M}"
            if c.key == "text":
                text = R.short(text, 140)
            cells.append(_p(text, st["cell"], w * unit - 2 * pad))
        body.append(cells)
    t = Table([header, *body], colWidths=[w * unit for w in weights], repeatRows=1)
    t.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#3e63dd")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f7f8fa")]),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), pad),
        ("RIGHTPADDING", (0, 0), (-1, -1), pad),
    ]))
    title = _p(table.title, st["h2"])
    out = [KeepTogether([title, t])] if len(body) < 15 else [title, t]
    if not body:
        out.append(_p("No rows in this period.", st["base"]))
    elif len(table.rows) > max_rows:
        out.append(_p(f"The first {max_rows:,} of {len(table.rows):,} rows; the CSV export has them all.", st["base"]))
    return out


# ---------------------------------------------------------------- document


def _filters_line(f: R.ReportFilters, profile_names: list[str]) -> str:
    parts = [f"Profiles: {', '.join(profile_names)}" if profile_names else "All profiles"]
    parts.append(f"Networks: {', '.join(f.networks)}" if f.networks else "all networks")
    parts.append(f"Time zone: {f.tz}")
    return " · ".join(parts)


def render(report: R.Report, *, agency: str | None = None, logo: Path | str | None = None, profile_names: list[str] | None = None,
           generated_at: datetime | None = None) -> bytes:
    """The report as PDF bytes. Page 1: title, period, summary and key numbers; then the charts, two to a page;
    then every table (with repeated headers). Each page carries the agency, the report and "Page n of N"."""
    st = _styles()
    regular, bold = fonts()
    agency = agency or get_settings().agency_name
    logo = Path(logo) if logo else logo_path()
    generated_at = generated_at or datetime.now(timezone.utc)
    f = report.filters
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + 12 * mm, bottomMargin=MARGIN + 4 * mm,
        title=f"{report.title} · {f.label()}", author=agency, subject=f"{report.title} for {f.label()}", creator="GovSocial",
    )
    story: list = []
    head = [_p(agency, st["sub"]), _p(report.title, st["title"]),
            _p(f"{f.label()} · compared with {f.previous().label()}", st["sub"]),
            _p(_filters_line(f, profile_names or []), st["sub"])]
    if logo:
        cover = Table([[Image(str(logo), width=26 * mm, height=26 * mm), head]], colWidths=[32 * mm, None])
        cover.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
        story.append(cover)
    else:
        story += head
    story += [Spacer(1, 8 * mm), _p("Summary", st["h2"]), _p(report.summary(), st["summary"]), Spacer(1, 6 * mm),
              _key_numbers(report, st)]
    charts = report.charts()
    for i, chart in enumerate(charts):
        if i % 2 == 0:
            story.append(PageBreak())
        story += [chart_drawing(chart), Spacer(1, 6 * mm)]
    story.append(PageBreak())
    for table in report.tables():
        story += _table(table, st)
        story.append(Spacer(1, 6 * mm))

    def decorate(canvas, doc_) -> None:
        canvas.saveState()
        w, h = PAGE
        if logo:
            canvas.drawImage(str(logo), MARGIN, h - MARGIN - 8 * mm, width=8 * mm, height=8 * mm, mask="auto")
        canvas.setFont(bold, 9)
        canvas.setFillColor(INK)
        canvas.drawString(MARGIN + (10 * mm if logo else 0), h - MARGIN - 5 * mm, visual(agency))
        canvas.setFont(regular, 9)
        canvas.setFillColor(MUTED)
        canvas.drawRightString(w - MARGIN, h - MARGIN - 5 * mm, f"{report.title} · {f.label()}")
        canvas.setStrokeColor(RULE)
        canvas.line(MARGIN, h - MARGIN - 9 * mm, w - MARGIN, h - MARGIN - 9 * mm)
        canvas.drawString(MARGIN, MARGIN - 2 * mm, f"Generated {generated_at:%Y-%m-%d %H:%M} UTC by GovSocial")
        canvas.restoreState()

    doc.build(story, onFirstPage=decorate, onLaterPages=decorate, canvasmaker=_NumberedCanvas)
    return buf.getvalue()


class _NumberedCanvas(Canvas):
    """Holds every page until the end so each can say "Page n of N"."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            regular, _bold = fonts()
            self.setFont(regular, 9)
            self.setFillColor(MUTED)
            self.drawRightString(PAGE[0] - MARGIN, MARGIN - 2 * mm, f"Page {self._pageNumber} of {total}")
            super().showPage()
        super().save()


def filename(report: R.Report) -> str:
    return f"{report.kind}-report-{report.filters.start}-{report.filters.end}.pdf"
