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


def dumps(obj: Any) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8 (not \\u escapes), timestamps as `ts()`."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default).encode("utf-8")


def sha256(obj: Any) -> str:
    return hashlib.sha256(dumps(obj)).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def audit_form(seq: int, at: Any, actor_id: Any, actor_label: str, action: str, object_type: str, object_id: str,
               detail: Any, client_ip: str, user_agent: str, prev_hash: str) -> dict:
    """What an audit row's hash covers: every column but the surrogate id and its own hash."""
    return {"seq": seq, "at": ts(at), "actor_id": actor_id, "actor_label": actor_label or "", "action": action,
            "object_type": object_type or "", "object_id": object_id or "", "detail": json_value(detail),
            "client_ip": client_ip or "", "user_agent": user_agent or "", "prev": prev_hash}


def version_form(seq: int, message_id: int, version: int, change: str, text: str, captured_at: Any, raw: Any,
                 prev_hash: str) -> dict:
    """What an archive version's hash covers."""
    return {"seq": seq, "message_id": message_id, "version": version, "change": change, "text": text or "",
            "captured_at": ts(captured_at), "raw": json_value(raw), "prev": prev_hash}
