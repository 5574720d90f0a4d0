"""Alembic environment: the URL comes from the caller (``pgx.service.db.migrate``), never from a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from pgx.service.db import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or ""


def run() -> None:
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    with engine.connect() as conn:
        # batch mode: SQLite cannot ALTER most things, Alembic rebuilds the table instead
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
