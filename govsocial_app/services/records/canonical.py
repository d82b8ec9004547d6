"""The one canonical form of a record, and its SHA-256: every chain, certificate and manifest hashes through here."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timezone
from typing import Any


def ts(value: Any) -> str | None:
    """A timestamp as UTC `YYYY-MM-DDTHH:MM:SS.ffffffZ`; naive values (SQLite hands those back) are UTC already."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":  # SQLite's own storage format, UTC
            return value[:10] + "T" + value[11:] + "Z"
        value = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not a timestamp: {value!r}")


def json_value(value: Any) -> Any:
    """A JSON column as the database returned it (a string on SQLite, parsed on PostgreSQL)."""
    if isinstance(value, (str, bytes)):
        return json.loads(value) if value else {}
    return value if value is not None else {}


def _default(o: Any) -> Any:
    if isinstance(o, (datetime, date)):
        return ts(o)
    raise TypeError(f"not JSON: {type(o).__name__}")


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default)


def dumps(obj: Any) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8 (not \\u escapes), timestamps as `ts()`."""
    return _ENCODER.encode(obj).encode("utf-8")


def sha256(obj: Any) -> str:
    return hashlib.sha256(dumps(obj)).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# A chained row's canonical form is a JSON array in a fixed order, led by its format name (an array, not an object:
# verify-audit hashes a million rows, and an array encodes in half the time of an object with sorted keys).
AUDIT_FORMAT = "govsocial.audit/1"  # [format, seq, at, actor_id, actor_label, action, object_type, object_id, detail, client_ip, user_agent, prev]
VERSION_FORMAT = "govsocial.archive/1"  # [format, seq, message_id, version, change, text, captured_at, raw, prev]


def audit_form(seq: int, at: Any, actor_id: Any, actor_label: str, action: str, object_type: str, object_id: str,
               detail: Any, client_ip: str, user_agent: str, prev_hash: str) -> list:
    """What an audit row's hash covers: every column but the surrogate id and its own hash."""
    return [AUDIT_FORMAT, seq, ts(at), actor_id, actor_label or "", action, object_type or "", object_id or "",
            json_value(detail), client_ip or "", user_agent or "", prev_hash]


def version_form(seq: int, message_id: int, version: int, change: str, text: str, captured_at: Any, raw: Any,
                 prev_hash: str) -> list:
    """What an archive version's hash covers."""
    return [VERSION_FORMAT, seq, message_id, version, change, text or "", ts(captured_at), json_value(raw), prev_hash]
