"""Database parity: every migration runs up and down on SQLite and PostgreSQL, text search uses its index on both,
and the inbox service's own tests (filters, paging, search, actions, the reply guard) and the sign-in backoff's run again
on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.pool import NullPool

from govsocial_app.db.migrate import downgrade, upgrade
from govsocial_app.db.models import Message
from govsocial_app.services.inbox import stream
from tests.conftest import PG_ADMIN_URL, missing_service, pg_database_name, point_app_at

# The inbox tests are imported, not copied: the same functions, collected again here with `db` on PostgreSQL.
from tests.inbox.conftest import profile, sim_store, store  # noqa: F401  (fixtures used by the imported tests)
from tests.inbox.test_actions_and_replies import (  # noqa: F401
    test_bulk_actions_apply_to_all_or_none,
    test_edit_and_delete_in_one_page_keep_every_version,
    test_every_action_is_audited,
    test_notes_are_kept_with_the_author,
    test_reply_goes_through_the_simulator_and_is_archived,
    test_reply_held_when_someone_else_answered_after_you_opened,
    test_tags_are_created_inline_once_case_insensitively,
    test_two_simultaneous_replies_cannot_both_pass_the_guard,
    test_vip_csv_import_rejects_bad_rows_without_half_importing,
)
from tests.inbox.test_inbox_filters import (  # noqa: F401
    test_arabic_search_ignores_diacritics,
    test_combined_filters,
    test_free_text_search_over_text_and_author,
    test_network_profile_lang_and_date_filters,
    test_newest_first_and_keyset_pages,
    test_pages_are_stable_while_new_messages_arrive,
    test_saved_views_are_per_user,
    test_status_assigned_and_kind_filters,
    test_tag_filter_and_untag,
    test_vip_filter_and_label,
)
from tests.unit.test_sign_in_security import (  # noqa: F401  (the sign-in backoff's counts, on PostgreSQL's types)
    test_after_the_wait_the_right_password_works_and_clears_the_backoff,
    test_an_address_spraying_many_emails_is_slowed_down_itself,
    test_the_wait_after_repeated_failures_says_when_to_try_again,
    test_the_wait_doubles_with_each_further_failure_and_is_capped,
)

pytestmark = pytest.mark.services


def _admin():
    import psycopg

    try:
        return psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True, connect_timeout=3)
    except Exception as exc:  # pragma: no cover - depends on the machine
        missing_service(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc})")


@pytest.fixture(scope="module")
def _pg_template():
    """One migrated PostgreSQL database; each test gets a copy (CREATE DATABASE … TEMPLATE is much faster than migrating)."""
    conn = _admin()
    name = pg_database_name("tmpl")
    conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    from govsocial_app.db import engine

    engine.reset_engine()
    yield conn, name
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture
def db(_pg_template):
    """Overrides tests/conftest.py's SQLite `db` for the tests collected in this module."""
    conn, template = _pg_template
    name = pg_database_name("test")
    conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    point_app_at(url)
    yield url
    from govsocial_app.db import engine

    engine.reset_engine()
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------- migrations, both ways, both databases


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_migrations_run_empty_to_head_to_base_to_head(dialect, tmp_path, request):
    url = f"sqlite:///{tmp_path / 'cycle.db'}" if dialect == "sqlite" else request.getfixturevalue("pg_url")
    upgrade(url)
    at_head = _tables(url)
    from govsocial_app.db.models import SQLModel

    assert set(SQLModel.metadata.tables) <= at_head, "every model table is created by a migration"
    downgrade(url, "base")
    assert _tables(url) == set(), "downgrading to base leaves nothing behind"
    upgrade(url)
    assert _tables(url) == at_head


# ---------------------------------------------------------------- text search goes through its index on both


def test_postgresql_text_search_uses_the_gin_index(db):
    from govsocial_app.db.engine import get_engine

    clause = stream._text_search("flood warning", "postgresql")
    query = select(Message.id).where(clause).compile(get_engine(), compile_kwargs={"literal_binds": True})
    with get_engine().connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))  # an empty table would otherwise be scanned, index or not
        plan = "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN {query}")))
        # on a database partitioned by month each month's copy of the index is its partition
        names = set(conn.execute(text(
            "SELECT relname FROM pg_class WHERE oid = CAST('ix_message_search' AS regclass) OR oid IN "
            "(SELECT inhrelid FROM pg_inherits WHERE inhparent = CAST('ix_message_search' AS regclass))")).scalars())
    assert "Seq Scan" not in plan and any(f" on {n} " in plan or f" on {n}\n" in plan for n in names), plan


def test_sqlite_text_search_uses_fts5(tmp_path):
    url = f"sqlite:///{tmp_path / 'fts.db'}"
    upgrade(url)
    point_app_at(url)
    from govsocial_app.db.engine import get_engine

    clause = stream._text_search("flood warning", "sqlite")
    query = select(Message.id).where(clause).compile(get_engine(), compile_kwargs={"literal_binds": True})
    with get_engine().connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {query}")))
    assert "message_fts VIRTUAL TABLE INDEX" in plan, plan


@pytest.mark.parametrize("query", ["it's", "back\\slash", "(flood", "flood & | ! <-> :*", "o'brien"])
def test_search_syntax_in_user_input_is_taken_literally_on_postgresql(store, query):
    from tests.inbox.conftest import msg

    (obrien,) = store([msg(1, "Thanks to Pat O'Brien for the sandbags")])
    found = [c.id for c in stream.list_page(stream.InboxFilter(q=query), 0).cards]  # never a tsquery syntax error
    assert found == ([obrien] if query == "o'brien" else [])
