"""Migration 0006_identity on SQLite and PostgreSQL (up, down, up; matches the models), and Arabic for every message."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from govsocial_app.db.migrate import downgrade, upgrade
from govsocial_app.i18n import catalog
from govsocial_app.services.identity import errors

TABLES = {"oidc_login_state", "user_identity", "session_sign_in", "user_totp", "recovery_code", "second_factor_attempt",
          "sign_in_challenge"}


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url.replace("postgresql+psycopg://", "postgresql+psycopg://"))
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _model_diff(url: str) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import govsocial_app.db.models  # noqa: F401

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()

    def names(d) -> set[str]:
        found = set()
        for item in (d if isinstance(d, list) else [d]):
            for part in item if isinstance(item, tuple) else (item,):
                table = getattr(part, "table", None)
                found.add(getattr(part, "name", "") if isinstance(part, sa.Table) else getattr(table, "name", "") or "")
                if isinstance(part, str):
                    found.add(part)
        return found

    return [d for d in diff if names(d) & TABLES]


def _round_trip(url: str) -> None:
    upgrade(url)
    assert TABLES <= _tables(url)
    assert _model_diff(url) == []  # the migration creates exactly what the models say
    downgrade(url, "0005")
    assert not (TABLES & _tables(url))
    upgrade(url)
    assert TABLES <= _tables(url)


def test_migration_round_trips_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.services
def test_migration_round_trips_on_postgresql(pg_url):
    _round_trip(pg_url)


def _msgids() -> set[str]:
    ids = {cls.msgid for _, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, errors.IdentityError)}
    source = "\n".join(p.read_text() for p in Path(errors.__file__).parent.glob("*.py"))
    ids |= set(re.findall(r'(?:Error|Mismatch|Code|Attempts|Expired)\(\s*"([^"]+)"', source))
    from govsocial_app.services.identity import totp

    return ids | {totp.RESET_SUBJECT, totp.RESET_BODY}


def test_every_identity_message_has_arabic_with_the_same_placeholders():
    ar = catalog("ar")
    ids = _msgids()
    assert len(ids) > 30
    missing = sorted(i for i in ids if i not in ar)
    assert missing == []
    for msgid in ids:
        assert set(re.findall(r"\{(\w+)\}", msgid)) == set(re.findall(r"\{(\w+)\}", ar[msgid])), msgid
