"""Public-records requests: due dates in business days, redactions on the export copy only, the ZIP package, and
verify-export failing on a changed byte."""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime, timezone

import pytest
from sqlmodel import select

from govsocial_app import cli
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import AuditLog, Message, MessageVersion, SavedView
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.errors import UserError
from govsocial_app.services.records import export, requests
from tests.records.conftest import ingest_messages


def test_due_date_counts_business_days():
    # Friday 2026-12-04 + 10 business days, with Christmas (a Friday) a holiday.
    assert requests.business_days_after(date(2026, 12, 4), 10) == date(2026, 12, 18)
    assert requests.business_days_after(date(2026, 12, 18), 5, {date(2026, 12, 25)}) == date(2026, 12, 28)


def _request(officer, text_query="water") -> int:
    with session_scope() as s:
        v = SavedView(user_id=officer.user_id, name="water", query=f"q={text_query}")
        s.add(v)
        s.flush()
        vid = v.id
    return requests.create("Jane Reporter", date(2026, 12, 1), officer, saved_view_id=vid, contact="jane@news.example")


def test_request_scope_preview_and_configured_due_date(officer):
    ingest_messages(3, text="water main break {i}, call +1 555 010 1234 or mail bob@example.org")
    ingest_messages(2, prefix="p", text="parks {i}")
    requests.set_due_rule(5, ["2026-12-03"], officer)
    rid = _request(officer)
    item = requests.get(rid, officer)
    assert item.due_on == date(2026, 12, 9)  # Tue 1 Dec + 5 business days, Thursday 3 Dec a holiday
    total, rows = requests.preview(rid, officer)
    assert total == 3 and all("water" in r.text for r in rows)
    with pytest.raises(UserError):
        requests.create("", date(2026, 12, 1), officer)


def test_other_roles_cannot_touch_requests(actor_factory):
    publisher = actor_factory("publisher")
    with pytest.raises(PermissionDenied):
        requests.create("X", date(2026, 12, 1), publisher)
    with pytest.raises(PermissionDenied):
        requests.list_requests(publisher)


def test_export_package_is_redacted_complete_and_verifiable(any_db, officer, tmp_path, capsys):
    ids = ingest_messages(3, text="water main break {i}, call +1 555 010 1234 or mail bob@example.org. شكرا لكم")
    rid = _request(officer)
    requests.add_redaction(rid, "emails", "personal_privacy", officer)
    requests.add_redaction(rid, "phones", "personal_privacy", officer)
    requests.add_redaction(rid, "text", "law_enforcement", officer, message_id=ids[0], selection="break 0")
    with pytest.raises(UserError):
        requests.add_redaction(rid, "emails", "because", officer)

    res = export.build(rid, officer, out_dir=tmp_path / "out")
    assert res.records == 3 and res.path.exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == [res.path.name]  # no partial file left behind
    with zipfile.ZipFile(res.path) as z:
        names = set(z.namelist())
        lines = [json.loads(x) for x in z.read("records.jsonl").decode().splitlines()]
        csv_text = z.read("records.csv").decode("utf-8-sig")
        manifest = json.loads(z.read("manifest.json"))
        assert z.read("records.pdf").startswith(b"%PDF")
    assert {"records.jsonl", "records.csv", "records.pdf", "manifest.json", "manifest.sha256"} <= names
    assert {f["path"] for f in manifest["files"]} == {"records.jsonl", "records.csv", "records.pdf"}
    blob = json.dumps(lines) + csv_text
    assert "bob@example.org" not in blob and "555 010 1234" not in blob
    assert "[REDACTED: personal_privacy]" in lines[0]["text"] and "[REDACTED: law_enforcement]" in lines[0]["text"]
    assert "break 1" in lines[1]["text"]  # a free selection applies to its own record only
    assert lines[0]["versions"][0]["archive_hash"]
    # the archive itself is untouched
    with session_scope() as s:
        assert all("bob@example.org" in m.text for m in s.exec(select(Message)).all())
        assert all("bob@example.org" in v.text for v in s.exec(select(MessageVersion)).all())
        assert s.exec(select(AuditLog).where(AuditLog.action == "records.request_export")).one().detail["sha256"] == res.sha256

    assert export.verify_export(res.path) == []
    cli.main(["verify-export", str(res.path)])
    assert "OK" in capsys.readouterr().out


def _rewrite(src, dst, change):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))


def test_verify_export_fails_on_a_changed_byte(officer, tmp_path, capsys):
    ingest_messages(2, text="water {i}")
    res = export.build(_request(officer), officer, out_dir=tmp_path / "out")

    # one byte of a record changed, the ZIP rebuilt properly (valid CRCs): the manifest catches it
    changed = tmp_path / "changed.zip"
    _rewrite(res.path, changed, lambda n, b: b.replace(b"water 1", b"water 7") if n == "records.jsonl" else b)
    assert any("records.jsonl: changed" in p for p in export.verify_export(changed))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["verify-export", str(changed)])
    assert exit_.value.code == 1 and "FAILED" in capsys.readouterr().out

    # one raw byte flipped inside the file on disk
    raw = bytearray(res.path.read_bytes())
    with zipfile.ZipFile(res.path) as z:
        info = z.getinfo("records.pdf")
    pos = info.header_offset + 30 + len(info.filename) + len(info.extra) + 100
    raw[pos] ^= 0x01
    flipped = tmp_path / "flipped.zip"
    flipped.write_bytes(bytes(raw))
    assert export.verify_export(flipped)

    # a manifest edited to match a changed file is caught by the manifest's own hash
    def forge(n, b):
        if n == "records.jsonl":
            return b.replace(b"water 1", b"water 7")
        return b
    forged = tmp_path / "forged.zip"
    _rewrite(res.path, forged, forge)
    with zipfile.ZipFile(forged) as z:
        m = json.loads(z.read("manifest.json"))
        data = z.read("records.jsonl")
    import hashlib
    for f in m["files"]:
        if f["path"] == "records.jsonl":
            f["sha256"] = hashlib.sha256(data).hexdigest()
    forged2 = tmp_path / "forged2.zip"
    _rewrite(forged, forged2, lambda n, b: json.dumps(m).encode() if n == "manifest.json" else b)
    assert any("manifest.json was changed" in p for p in export.verify_export(forged2))

    # an added file
    added = tmp_path / "added.zip"
    _rewrite(res.path, added, lambda n, b: b)
    with zipfile.ZipFile(added, "a") as z:
        z.writestr("extra.txt", "x")
    assert any("extra.txt" in p for p in export.verify_export(added))


def test_interrupted_export_leaves_no_package(officer, tmp_path, monkeypatch):
    ingest_messages(2, text="water {i}")
    rid = _request(officer)

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(export.os, "fsync", boom)
    with pytest.raises(OSError):
        export.build(rid, officer, out_dir=tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []
    assert requests.get(rid, officer).export_sha256 == ""


def test_arabic_is_shaped_in_the_pdf(officer, tmp_path):
    import shutil
    import subprocess

    ingest_messages(1, text="الماء مقطوع في الحي {i}")
    res = export.build(_request(officer, "الماء"), officer, out_dir=tmp_path)
    with zipfile.ZipFile(res.path) as z:
        (tmp_path / "r.pdf").write_bytes(z.read("records.pdf"))
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext (poppler-utils) is needed to read the PDF back")
    out = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    # Presentation forms (shaped letters) appear, not the bare logical letters in reading order.
    assert any("\ufe70" <= ch <= "\ufeff" for ch in out), out[:400]
