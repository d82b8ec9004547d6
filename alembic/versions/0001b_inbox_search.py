"""inbox free-text search: FTS5 on SQLite, a tsvector GIN index on PostgreSQL

Revision ID: 0001b
Revises: 0001
"""
from alembic import op

revision = "0001b"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # External-content FTS5 over message.search_text, kept in step by triggers.
        # '#', '@' and '_' stay inside tokens so "#floodwatch" and "@dana_reports" are searchable as written.
        op.execute(
            "CREATE VIRTUAL TABLE message_fts USING fts5(search_text, content='message', content_rowid='id', "
            "tokenize=\"unicode61 remove_diacritics 2 tokenchars '#@_'\")"
        )
        op.execute(
            "CREATE TRIGGER message_fts_ai AFTER INSERT ON message BEGIN "
            "INSERT INTO message_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
        )
        op.execute(
            "CREATE TRIGGER message_fts_ad AFTER DELETE ON message BEGIN "
            "INSERT INTO message_fts(message_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END"
        )
        op.execute(
            "CREATE TRIGGER message_fts_au AFTER UPDATE OF search_text ON message BEGIN "
            "INSERT INTO message_fts(message_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
            "INSERT INTO message_fts(rowid, search_text) VALUES (new.id, new.search_text); END"
        )
        op.execute("INSERT INTO message_fts(message_fts) VALUES ('rebuild')")
    else:
        op.execute("CREATE INDEX ix_message_search ON message USING gin (to_tsvector('simple', search_text))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trig in ("message_fts_ai", "message_fts_ad", "message_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trig}")
        op.execute("DROP TABLE IF EXISTS message_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_message_search")
