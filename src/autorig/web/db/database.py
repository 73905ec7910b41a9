"""The engine, sessions and migrations of one database.

Sessions come in two kinds: ``session()`` for work that writes (on SQLite it takes the write
lock at BEGIN, see ``dialect``) and ``read_session()`` for pages and polling. Whoever opens a
session owns its commit: the request (``deps.SessionDep``) or one loop iteration. Side effects
registered with ``on_commit`` run only after a successful commit.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from autorig.web.cache import Generation
from autorig.web.db import dialect

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
_CALLBACKS = "autorig_on_commit"


def on_commit(session: AsyncSession, fn: Callable[[], Any]) -> None:
    """Run ``fn`` (sync, or returning an awaitable) once this session's transaction commits."""
    session.info.setdefault(_CALLBACKS, []).append(fn)


async def commit(session: AsyncSession) -> None:
    """Commit, then run the side effects registered with ``on_commit``."""
    await session.commit()
    callbacks = session.info.pop(_CALLBACKS, [])
    for fn in callbacks:
        try:
            result = fn()
            if inspect.isawaitable(result):
                await result
        except Exception:  # a side effect must never undo or hide the commit
            log.exception("after-commit callback failed")


async def rollback(session: AsyncSession) -> None:
    session.info.pop(_CALLBACKS, None)
    await session.rollback()


class Database:
    """One database: the async engine, its session factories and its migrations."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        if dialect.is_sqlite(url):
            path = url.split("///", 1)[-1].split("?", 1)[0]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = create_async_engine(dialect.async_url(url), echo=echo, **dialect.engine_kwargs(url))
        dialect.configure_engine(self.engine.sync_engine)
        # Every commit through this engine: cached views loaded before it are stale (web/cache.py).
        self.generation = Generation()
        event.listen(self.engine.sync_engine, "commit", self.generation.bump)
        self.dialect_name = self.engine.dialect.name
        writer = self.engine.execution_options(**{dialect.IMMEDIATE: True})
        self._write = async_sessionmaker(writer, expire_on_commit=False)
        self._read = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A writing session; commits when the block ends without error."""
        async with self._write() as s:
            try:
                yield s
            except BaseException:
                await rollback(s)
                raise
            await commit(s)

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads; anything it wrote is rolled back."""
        async with self._read() as s:
            try:
                yield s
            finally:
                await rollback(s)

    def writer_factory(self) -> async_sessionmaker[AsyncSession]:
        return self._write

    def reader_factory(self) -> async_sessionmaker[AsyncSession]:
        return self._read

    def migrate_sync(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` with Alembic (blocking)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", dialect.sync_url(self.url).replace("%", "%%"))
        command.upgrade(cfg, revision)

    async def migrate(self, revision: str = "head") -> None:
        await asyncio.to_thread(self.migrate_sync, revision)

    async def dispose(self) -> None:
        await self.engine.dispose()
