"""The database boundary: every timestamp column hands back aware UTC on SQLite and PostgreSQL (db/types.py),
the stored column type is unchanged (no migration), and the audit-log CSV export is a checked, audited service."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime, func, inspect, text
from sqlmodel import SQLModel, col, select

from govsocial_app.db.engine import get_engine, session_scope
from govsocial_app.db.models import AuditLog, Post, PostTarget
from govsocial_app.db.types import UtcDateTime
from govsocial_app.services import audit, textnorm, timefmt
from govsocial_app.services.authz import PermissionDenied
from govsocial_app.services.publishing import actions, composer, views

DUBAI = timezone(timedelta(hours=4))


def test_every_timestamp_column_uses_the_utc_type():
    plain = [f"{t.name}.{c.name}" for t in SQLModel.metadata.tables.values() for c in t.columns
             if isinstance(c.type, DateTime) and not isinstance(c.type, UtcDateTime)]
    assert plain == []
    assert any(isinstance(c.type, UtcDateTime) for c in AuditLog.__table__.columns)


def _round_trip(actor) -> None:
    """Write aware values in two zones and one naive (UTC) value; every read path returns the same aware UTC instants."""
    at = datetime(2026, 11, 24, 14, 30, 5, tzinfo=DUBAI)  # 10:30:05 UTC
    r = composer.save(actor, composer.ComposerInput(text="Boundary check", profile_ids=[]), action="draft")
    with session_scope() as s:
        post = s.get(Post, r.post_id)
        post.scheduled_at = at
        post.updated_at = datetime(2026, 11, 24, 10, 30, 5)  # naive: the app's convention, UTC
    with session_scope() as s:
        post = s.get(Post, r.post_id)
        for value in (post.scheduled_at, post.updated_at):
            assert value.tzinfo is not None and value.utcoffset() == timedelta(0)
            assert value == datetime(2026, 11, 24, 10, 30, 5, tzinfo=timezone.utc)
        # aggregates keep the column type, so they are converted too
        latest = s.exec(select(func.max(Post.scheduled_at))).one()
        assert latest == at and latest.utcoffset() == timedelta(0)
        # comparisons bind through the type: an aware bound in another zone finds the row
        found = s.exec(select(Post.id).where(col(Post.scheduled_at) == at.astimezone(DUBAI))).all()
        assert r.post_id in found
    assert views.post_view(r.post_id).scheduled_at == at


def test_aware_utc_round_trip_sqlite(actor_factory):
    _round_trip(actor_factory("publisher"))
    # stored as UTC wall-clock text on SQLite (what DateTime(timezone=True) stored for UTC values before)
    with get_engine().connect() as c:
        raw = c.execute(text("SELECT scheduled_at FROM post ORDER BY id DESC LIMIT 1")).scalar_one()
    assert str(raw).startswith("2026-11-24 10:30:05")


def test_aware_utc_round_trip_postgresql(pg_db, actor_factory):
    _round_trip(actor_factory("publisher"))
    cols = {c["name"]: c["type"] for c in inspect(get_engine()).get_columns("post")}
    assert isinstance(cols["scheduled_at"], DateTime) and cols["scheduled_at"].timezone  # still timestamptz: no migration


def test_reschedule_compares_database_times_without_repair(actor_factory):
    actor = actor_factory("publisher")
    r = composer.save(actor, composer.ComposerInput(text="Move me", profile_ids=[]), action="draft")
    when = datetime.now(timezone.utc) + timedelta(days=2)
    moved = actions.reschedule(actor, r.post_id, when)
    assert moved.when == when
    with session_scope() as s:
        assert s.get(Post, r.post_id).scheduled_at == when
        assert s.exec(select(PostTarget).where(PostTarget.post_id == r.post_id)).all() == []


def test_audit_csv_export_is_checked_and_audited(actor_factory):
    admin, viewer = actor_factory("admin"), actor_factory("viewer")
    with pytest.raises(PermissionDenied):
        audit.export_for(viewer, audit.AuditFilter())
    data = audit.export_for(admin, audit.AuditFilter())
    rows = list(csv.reader(io.StringIO(data)))
    assert rows[0][:4] == ["id", "at_utc", "actor", "action"] and len(rows) > 1
    with session_scope() as s:
        last = s.exec(select(AuditLog).order_by(col(AuditLog.id).desc())).first()
    assert last.action == "audit.export" and last.actor_label == admin.label
    assert last.detail["rows"] == len(rows) - 1


def test_one_excerpt_and_one_zone_home():
    assert textnorm.excerpt("  a   b\n c ", 80) == "a b c"
    assert textnorm.excerpt("word " * 10, 12) == "word word w…"
    assert len(textnorm.excerpt("x" * 500, 140)) == 140
    assert timefmt.zone("Not/AZone").key == "UTC" and timefmt.zone("Asia/Dubai").key == "Asia/Dubai"
    assert timefmt.local_to_utc("2026-11-24", "14:30", "Asia/Dubai") == datetime(2026, 11, 24, 10, 30, tzinfo=timezone.utc)
