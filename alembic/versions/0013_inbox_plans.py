"""inbox plans that stay flat at any size: the VIP filter walks each member's newest messages, and text search
filters by status and profile inside its GIN index

Revision ID: 0013_inbox_plans
Revises: 0012_rule_log

- ix_message_author_key becomes (author_key, network, id), partial on inbound, not deleted messages: each VIP
  list member's newest messages are the last entries of their key, read backwards without touching other authors
  (author_key first: an index led by network would be chosen by SQLite for the network filter, sorting every match)
  (services/inbox/stream.page_statement). The old (network, author_key) index served only the VIP filter.
- PostgreSQL: the text search reads a stored tsvector column, message.search_tsv (generated from search_text), not
  to_tsvector(search_text) worked out again for every row: when the planner walks the newest messages checking each
  (a common word), a row costs a lookup instead of ~6 us of parsing, so a page stays cheap even when the planner's
  guess of how common a word is turns out wrong.
- PostgreSQL: ix_message_search is on search_tsv and also holds status and profile_id (btree_gin), so "open messages
  matching 'bins'" is one GIN scan intersecting the posting lists, not a bitmap of every open message ANDed with the
  matches. Its pending list is capped at 512 kB (the default 4 MB is read in full by every search until vacuum merges
  it: 2.4 ms per search at 200,000 messages for a word that matches nothing). Without btree_gin (an extension the
  database user cannot create) the index is on search_tsv alone, with the smaller pending list.
- PostgreSQL: ANALYZE message afterwards (when it has rows): the planner's word frequencies come from the column's statistics, and a
  plan made without them (2 % of rows assumed to match any word) walks the whole table for a word nobody wrote.
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_inbox_plans"
down_revision = "0012_rule_log"
branch_labels = None
depends_on = None

_INBOUND = sa.text("direction = 'in' AND deleted_at IS NULL")
_TSV = "to_tsvector('simple', search_text)"


def upgrade() -> None:
    op.drop_index("ix_message_author_key", table_name="message")
    op.create_index("ix_message_author_key", "message", ["author_key", "network", "id"],
                    postgresql_where=_INBOUND, sqlite_where=_INBOUND)
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    has_btree_gin = False
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS btree_gin")
        has_btree_gin = True
    except sa.exc.DBAPIError:  # no privilege to create it: search still works, status filters on the rows
        pass
    op.execute("DROP INDEX IF EXISTS ix_message_search")
    op.execute(f"ALTER TABLE message ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS ({_TSV}) STORED")
    columns = "search_tsv, status, profile_id" if has_btree_gin else "search_tsv"
    op.execute(f"CREATE INDEX ix_message_search ON message USING gin ({columns}) WITH (gin_pending_list_limit = 512)")
    if bind.exec_driver_sql("SELECT EXISTS (SELECT 1 FROM message)").scalar():
        op.execute("ANALYZE message")  # an empty table stays "never analysed": ingest analyses it on first rows


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_message_search")
        op.execute("ALTER TABLE message DROP COLUMN IF EXISTS search_tsv")
        op.execute(f"CREATE INDEX ix_message_search ON message USING gin ({_TSV})")
    op.drop_index("ix_message_author_key", table_name="message")
    op.create_index("ix_message_author_key", "message", ["network", "author_key"])
