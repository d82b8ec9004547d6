"""The PDF of each report: it opens, has the expected pages, carries the key numbers as text, and renders to images."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from govsocial_app.services.reporting import pdf as report_pdf, reports
from tests.reports import factory as F
from tests.reports.conftest import PERIOD, at


def _pdf(kind: str, **kw) -> tuple[reports.Report, PdfReader, bytes]:
    rep = reports.build(kind, PERIOD)
    raw = report_pdf.render(rep, agency="City of Riverton", **kw)
    return rep, PdfReader(io.BytesIO(raw)), raw


@pytest.fixture
def sqlite_data(db):
    from tests.reports.conftest import build_data

    return build_data()


@pytest.mark.parametrize("kind", list(reports.REPORTS))
def test_pdf_pages_and_numbers(sqlite_data, kind):
    rep, pdf, _raw = _pdf(kind)
    # Page 1: title, summary and key numbers; page 2: the two charts; page 3: the tables.
    assert len(pdf.pages) == 3
    first = pdf.pages[0].extract_text()
    assert "City of Riverton" in first and rep.title in first and "11 Nov – 20 Nov 2026" in first
    for k in rep.key_numbers():
        assert k.label in first and reports.fmt(k.value, k.kind) in first
    charts = pdf.pages[1].extract_text()
    for chart in rep.charts():
        assert chart.title in charts  # charts are vector drawings: their text is real text
    for n, page in enumerate(pdf.pages, 1):
        assert f"Page {n} of 3" in page.extract_text()
    assert pdf.metadata.title.startswith(rep.title)


def test_pdf_key_numbers_are_the_hand_checked_ones(sqlite_data):
    _rep, pdf, _raw = _pdf("inbox")
    text = pdf.pages[0].extract_text()
    assert "Inbound messages" in text and "\n4\n" in f"\n{text}\n".replace(" ", "\n")
    assert "43 min" in text  # average first response (1800 + 5400 + 600) / 3 s
    assert "1 hr 30 min" in text  # average completion (7200 + 3600) / 2 s
    tables = pdf.pages[2].extract_text()
    assert "Riley" in tables and "Sam" in tables and "Roads" in tables


def test_pdf_post_table_and_untrusted_text(sqlite_data):
    _rep, pdf, _raw = _pdf("posts")
    tables = "".join(p.extract_text() for p in pdf.pages[2:])
    assert "Roadworks on Mill Lane" in tables and "5.0%" in tables
    assert "=cmd" in tables  # shown as text, not interpreted


def test_pdf_arabic_is_shaped(sqlite_data):
    tag = F.tag("طرق")
    F.message(1, at(14, 9), tags=(tag,))
    _rep, pdf, raw = _pdf("tags")
    text = "".join(p.extract_text() for p in pdf.pages)
    # Stored as joined presentation forms (pypdf gives them back in reading order); never as unjoined letters.
    import arabic_reshaper

    shaped = arabic_reshaper.reshape("طرق")
    assert shaped != "طرق"
    assert shaped in text or report_pdf.visual("طرق") in text
    assert "طرق" not in text


def test_pdf_logo_from_setting_and_fallback(sqlite_data, tmp_path, actor_factory):
    from govsocial_app.services import settings_store

    assert report_pdf.logo_path() == report_pdf.DEFAULT_LOGO
    logo = tmp_path / "logo.png"
    shutil.copy(report_pdf.DEFAULT_LOGO, logo)
    settings_store.set_value(report_pdf.LOGO_SETTING, str(logo), actor_factory("admin"))
    assert report_pdf.logo_path() == logo
    settings_store.set_value(report_pdf.LOGO_SETTING, str(tmp_path / "missing.png"), actor_factory("admin"))
    assert report_pdf.logo_path() == report_pdf.DEFAULT_LOGO


def test_empty_report_pdf(db):
    rep = reports.build("profiles", PERIOD)
    pdf = PdfReader(io.BytesIO(report_pdf.render(rep)))
    assert len(pdf.pages) == 3
    assert "No data in this period" in pdf.pages[1].extract_text()


def test_pdf_pages_render_as_images(sqlite_data, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("poppler-utils (pdftoppm) is not installed")
    _rep, _pdf_reader, raw = _pdf("inbox")
    path = tmp_path / "inbox.pdf"
    path.write_bytes(raw)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True, timeout=60)
    from PIL import Image

    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 3
    for page in pages:
        img = Image.open(page).convert("L")
        assert img.width > img.height  # landscape, like a slide
        lo, hi = img.getextrema()
        assert hi - lo > 100  # something is drawn, not a blank page
