"""One ZIP per public-records request: a readable PDF (Arabic shaped, right to left), JSON Lines, CSV, media, and a
manifest with the SHA-256 of every file. Written under a temporary name and renamed only once complete, so an
interrupted export never leaves a package that looks finished. `verify_export` checks a package byte for byte."""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from sqlmodel import Session, col, select

from govsocial_app.config import get_settings
from govsocial_app.db.engine import session_scope
from govsocial_app.db.models import Message, MessageVersion, RecordsRequest, utcnow
from govsocial_app.services import audit, csv_export
from govsocial_app.services.authz import Actor
from govsocial_app.services.records import canonical
from govsocial_app.services.records.access import require_officer
from govsocial_app.services.records.requests import Redactor, _get, active_redactions, scope_ids_query

MANIFEST, MANIFEST_HASH = "manifest.json", "manifest.sha256"
CHUNK = 1000
CSV_COLUMNS = ["id", "network", "direction", "kind", "created_at", "author_handle", "author_name", "profile_id", "url",
               "status", "versions", "text", "network_deleted_at"]


@dataclass(frozen=True)
class ExportResult:
    path: Path
    sha256: str
    records: int
    files: int


def _records(s: Session, ids: list[int], red: Redactor) -> Iterator[dict]:
    """Each record as exported: metadata, every version, and the moderation history (moderation actions are
    archived as versions whose change is "moderated"), with the request's redactions applied to this copy."""
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        versions: dict[int, list[MessageVersion]] = {}
        for v in s.exec(select(MessageVersion).where(col(MessageVersion.message_id).in_(part)).order_by(MessageVersion.message_id, MessageVersion.version)).all():
            versions.setdefault(v.message_id, []).append(v)
        for m in s.exec(select(Message).where(col(Message.id).in_(part)).order_by(Message.id)).all():
            vs = versions.get(m.id, [])
            yield {
                "id": m.id, "network": m.network, "external_id": m.external_id, "direction": m.direction, "kind": m.kind,
                "profile_id": m.profile_id, "created_at": canonical.ts(m.created_at), "received_at": canonical.ts(m.received_at),
                "author_handle": m.author_handle, "author_name": m.author_name, "url": m.url, "lang": m.lang,
                "status": m.status, "network_deleted_at": canonical.ts(m.network_deleted_at),
                "deleted_in_govsocial_at": canonical.ts(m.deleted_at), "text": red.apply(m.id, m.text),
                "versions": [{"version": v.version, "change": v.change, "captured_at": canonical.ts(v.captured_at),
                              "text": red.apply(m.id, v.text), "archive_seq": v.chain_seq, "archive_hash": v.row_hash} for v in vs],
                "moderation": [{"version": v.version, "captured_at": canonical.ts(v.captured_at), **(v.raw.get("moderation") or {})}
                               for v in vs if v.change == "moderated"],
                "media": [x for v in vs for x in (v.raw.get("media") or []) if isinstance(x, dict)],
            }


def _media_files(records: list[dict]) -> Iterator[tuple[str, Path]]:
    """Media the archive keeps on this server (a version's raw "media" entries with a local path under the media
    folder); anything outside it is left out."""
    root = get_settings().media_dir.resolve()
    for r in records:
        for i, m in enumerate(r["media"]):
            p = m.get("path")
            if not p or root is None:
                continue
            path = Path(p).resolve()
            if root in path.parents and path.is_file():
                yield f"media/{r['id']}-{i}{path.suffix}", path


def _csv(records: list[dict]) -> bytes:
    out = io.StringIO()
    w = csv_export.writer(out)
    w.writerow(CSV_COLUMNS)
    for r in records:
        w.writerow([r["id"], r["network"], r["direction"], r["kind"], r["created_at"], r["author_handle"], r["author_name"],
                    r["profile_id"], r["url"], r["status"], len(r["versions"]), r["text"], r["network_deleted_at"]])
    return out.getvalue().encode("utf-8-sig")


def build(request_id: int, actor: Actor, *, out_dir: Path | None = None,
          progress: Callable[[str], None] | None = None) -> ExportResult:
    """Export a request's records, redacted, as one ZIP; record the file's SHA-256 on the request; audit it."""
    from govsocial_app.services.records import pdf

    out_dir = out_dir or get_settings().data_dir / "exports"
    out_dir.mkdir(parents=True, exist_ok=True)
    with session_scope() as s:
        require_officer(actor, s)
        r = _get(s, request_id)
        ids = list(s.exec(scope_ids_query(s, r)).all())
        red = Redactor(active_redactions(s, request_id))
        records = list(_records(s, ids, red))
        meta = {"request": r.id, "requester": r.requester, "received_on": r.received_on.isoformat(),
                "due_on": r.due_on.isoformat(), "scope": r.scope_query}
    generated = datetime.now(timezone.utc)
    files: dict[str, bytes] = {
        "records.jsonl": b"".join(canonical.dumps(x) + b"\n" for x in records),
        "records.csv": _csv(records),
        "records.pdf": pdf.render(meta, records, generated),
    }
    media = list(_media_files(records))
    entries = [{"path": name, "bytes": len(data), "sha256": canonical.sha256_bytes(data)} for name, data in files.items()]
    for name, path in media:
        data = path.read_bytes()
        files[name] = data
        entries.append({"path": name, "bytes": len(data), "sha256": canonical.sha256_bytes(data)})
    manifest = json.dumps({"format": "govsocial-records-export/1", "generated_at": canonical.ts(generated), **meta,
                           "records": len(records), "redactions": red.codes, "files": entries},
                          ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    final = out_dir / f"records-request-{request_id}-{generated:%Y%m%dT%H%M%S}.zip"
    tmp = out_dir / f".{final.name}.partial"
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as z:
            for name, data in files.items():
                z.writestr(name, data, compress_type=zipfile.ZIP_STORED if name.endswith(".pdf") else zipfile.ZIP_DEFLATED)
            z.writestr(MANIFEST, manifest)
            z.writestr(MANIFEST_HASH, canonical.sha256_bytes(manifest) + "  " + MANIFEST + "\n")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        digest = canonical.sha256_bytes(tmp.read_bytes())
        os.replace(tmp, final)  # only now does a file with the package's name exist
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with session_scope() as s:
        r = _get(s, request_id)
        r.export_path, r.export_sha256, r.exported_at = str(final), digest, utcnow()
        if r.status == "open":
            r.status = "in_review"
        audit.record(s, actor, "records.request_export", "records_request", r.id, records=len(records), sha256=digest,
                     redactions=len(red.items), file=final.name)
    return ExportResult(final, digest, len(records), len(entries))


def verify_export(path: str | Path) -> list[str]:
    """Every problem with a package: a file changed, missing, added, or a manifest that is not its own."""
    problems: list[str] = []
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            if MANIFEST not in names or MANIFEST_HASH not in names:
                return ["the package has no manifest"]
            raw = z.read(MANIFEST)
            noted = z.read(MANIFEST_HASH).decode("utf-8", "replace").split()[0]
            if canonical.sha256_bytes(raw) != noted:
                problems.append("manifest.json was changed (its SHA-256 is not the one recorded beside it)")
            manifest = json.loads(raw)
            listed = {e["path"]: e for e in manifest.get("files", [])}
            for name, e in listed.items():
                if name not in names:
                    problems.append(f"{name}: missing")
                    continue
                try:
                    data = z.read(name)
                except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:  # CRC or deflate error: changed bytes
                    problems.append(f"{name}: unreadable ({exc})")
                    continue
                if canonical.sha256_bytes(data) != e["sha256"] or len(data) != e["bytes"]:
                    problems.append(f"{name}: changed (SHA-256 does not match the manifest)")
            for extra in sorted(names - set(listed) - {MANIFEST, MANIFEST_HASH}):
                problems.append(f"{extra}: not in the manifest (added)")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        problems.append(f"not a readable package: {exc}")
    return problems


def download(request_id: int, actor: Actor) -> tuple[str, bytes]:
    """The latest export's file name and bytes, for a records officer only."""
    with session_scope() as s:
        require_officer(actor, s)
        r: RecordsRequest = _get(s, request_id)
        if not r.export_path or not Path(r.export_path).is_file():
            from govsocial_app.services.errors import UserError

            raise UserError("Export this request first.")
        audit.record(s, actor, "records.request_download", "records_request", r.id, sha256=r.export_sha256)
        path = Path(r.export_path)
    return path.name, path.read_bytes()


__all__ = ["build", "verify_export", "download", "ExportResult", "Any"]
