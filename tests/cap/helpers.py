"""Shared helpers for the CAP tests: fixture loading and a clock."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
SPEC_EXAMPLES = ("a1_homeland_security", "a2_thunderstorm", "a3_earthquake_update", "a4_amber_alert")
FLOOD = ("flood_alert", "flood_update", "flood_cancel")
# 10:00 Pacific on the day of the flood fixtures: after the Alert, before any expiry.
FLOOD_NOW = datetime(2026, 11, 24, 18, 0, tzinfo=timezone.utc)


def fixture(name: str) -> bytes:
    return (FIXTURES / (name if "." in name else f"{name}.xml")).read_bytes()
