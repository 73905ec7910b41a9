"""The database layer on SQLite and PostgreSQL: migrations match the models, SQLite's PRAGMAs,
UTC timestamps, and the queue claim never hands one task to two claimers."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from autorig.web.db import Base, Database, utcnow
from autorig.web.db.dialect import sync_url
from autorig.web.domains.tasks import repository as tasks_repo
from autorig.web.models import Task

pytestmark = pytest.mark.asyncio


def _task(i: int, queued_at: datetime) -> Task:
    return Task(
        id=f"task{i:04d}",
        status="created",
        source_name="m.glb",
        source_format="glb",
        input_url="http://x/m.glb",
        output_name="m",
        options={},
        output_urls=[],
        ready_urls=[],
        missing_files=[],
        failed_workers=[],
        created_at=queued_at,
        queued_at=queued_at,
        updated_at=queued_at,
    )


async def test_migrations_create_exactly_the_models(db_url: str) -> None:
    db = Database(db_url)
    await db.migrate()
    await db.migrate()  # idempotent
    engine = create_engine(sync_url(db_url))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    await db.dispose()
    assert diff == []


async def test_sqlite_pragmas(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    async with db.read_session() as s:
        assert (await s.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await s.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await s.execute(text("PRAGMA busy_timeout"))).scalar() == 30000
    await db.dispose()


async def test_timestamps_come_back_utc_aware(db_url: str) -> None:
    db = Database(db_url)
    await db.migrate()
    t0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    async with db.session() as s:
        s.add(_task(1, t0))
    async with db.read_session() as s:
        got = await s.get(Task, "task0001")
        assert got.queued_at == t0 and got.queued_at.tzinfo is not None
        assert got.queued_at.utcoffset() == timedelta(0)
    await db.dispose()


async def test_concurrent_claims_never_share_a_task(db_url: str) -> None:
    """Two backends (two engines) claiming at once take disjoint tasks, oldest first."""
    a, b = Database(db_url), Database(db_url)
    await a.migrate()
    base = utcnow() - timedelta(hours=1)
    async with a.session() as s:
        s.add_all([_task(i, base + timedelta(seconds=i)) for i in range(40)])

    async def claim(db: Database, who: str) -> list[str]:
        got: list[str] = []
        for _ in range(10):
            now = utcnow()
            async with db.session() as s:
                tasks = await tasks_repo.claim_queued(s, 2, who, now + timedelta(minutes=5), now)
                got += [t.id for t in tasks]
            await asyncio.sleep(0)
        return got

    got_a, got_b = await asyncio.gather(claim(a, "a"), claim(b, "b"))
    assert len(got_a) + len(got_b) == 40
    assert not set(got_a) & set(got_b)
    assert sorted(got_a + got_b) == [f"task{i:04d}" for i in range(40)]
    # An expired lease makes the task claimable again; a live one does not.
    now = utcnow()
    async with a.session() as s:
        assert await tasks_repo.claim_queued(s, 5, "c", now + timedelta(minutes=5), now) == []
    later = now + timedelta(minutes=6)
    async with a.session() as s:
        again = await tasks_repo.claim_queued(s, 3, "c", later + timedelta(minutes=5), later)
        assert [t.id for t in again] == ["task0000", "task0001", "task0002"]
    async with a.session() as s:
        assert await tasks_repo.release_claims_of(s, "c") == 3
    await a.dispose()
    await b.dispose()
