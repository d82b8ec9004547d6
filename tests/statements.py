"""What a piece of code sends to the database: every statement through SQLAlchemy's engine, and each commit.

    with sent_statements() as seen:
        do_something()
    assert seen.count("commit") == 2

Statements are whitespace-collapsed and lower-case; a commit is the entry "commit"."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def sent_statements(engine=None) -> Iterator[list[str]]:
    from govsocial_app.db.engine import get_engine

    engine = engine or get_engine()
    seen: list[str] = []

    def statement(_conn, _cursor, sql, *_args):
        seen.append(" ".join(sql.split()).lower())

    def commit(_conn):
        seen.append("commit")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
