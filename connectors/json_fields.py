"""Defensive readers for untrusted API JSON, shared by the connectors' mapping modules."""

from __future__ import annotations

from typing import Any

from connectors.base import PermanentError


def obj(value: Any, what: str) -> dict[str, Any]:
    """A JSON object, or PermanentError naming what was expected."""
    if not isinstance(value, dict):
        raise PermanentError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def text(value: Any) -> str:
    """A string field, or "" for anything else (null, numbers, objects)."""
    return value if isinstance(value, str) else ""


def count(value: Any) -> int:
    """A non-negative integer count, or 0 (booleans, negatives and strings are not counts)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return 0
    return value
