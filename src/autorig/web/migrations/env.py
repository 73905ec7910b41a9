"""Alembic environment: the schema is ``autorig.web.models``; the URL comes from the caller
(``Database.migrate``) or, for the ``alembic`` command line, from ``DATABASE_URL``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from autorig.web import models  # noqa: F401  (registers the tables)
from autorig.web.db.base import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from autorig.config import WebSettings
        from autorig.web.db.dialect import sync_url

        url = sync_url(WebSettings().database_url_resolved)
    return url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = engine_from_config({"sqlalchemy.url": _url()}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        # render_as_batch: SQLite can only ALTER TABLE by copying it; Alembic's batch mode does that.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
