"""Alembic environment: migrates the database named by DATABASE_URL using the SQLModel metadata."""

from alembic import context
from sqlmodel import SQLModel

import govsocial_app.db.models  # noqa: F401  (registers the tables)
from govsocial_app.config import get_settings
from govsocial_app.db.engine import make_engine

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url(), one_shot=True)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration copies a table and drops the original; with foreign keys enforced, dropping a table
            # that other rows reference fails ("FOREIGN KEY constraint failed" on DROP TABLE user). SQLite's own
            # procedure for altering tables: keys off outside the transaction, then check them before committing.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows whose foreign keys point nowhere: {broken[:5]}")
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
