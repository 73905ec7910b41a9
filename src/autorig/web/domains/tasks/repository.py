"""Queries on ``tasks``. The queue is ``status = 'created'`` ordered by ``queued_at``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from autorig.web.db.dialect import claim_rows
from autorig.web.models import FbxStatus, Task, TaskStatus


async def get(session: AsyncSession, task_id: str) -> Task | None:
    if not task_id or len(task_id) > 64:
        return None
    return await session.get(Task, task_id)


async def get_many(session: AsyncSession, ids: Sequence[str]) -> list[Task]:
    out: list[Task] = []
    for i in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        out += (await session.scalars(select(Task).where(Task.id.in_(ids[i : i + 500])))).all()
    return out


async def claim_queued(session: AsyncSession, limit: int, instance: str, lease_until: datetime, now: datetime) -> list[Task]:
    """Take the ``limit`` oldest waiting tasks that nobody is working on, for ``instance``.

    The caller's session must be a writing one (SQLite: ``BEGIN IMMEDIATE``); on PostgreSQL the
    rows are locked ``FOR UPDATE SKIP LOCKED`` so two backends never take the same task.
    """
    if limit <= 0:
        return []
    free = or_(Task.claimed_by.is_(None), Task.claim_until.is_(None), Task.claim_until < now)
    stmt = select(Task).where(Task.status == TaskStatus.created.value, free).order_by(Task.queued_at, Task.id).limit(limit)
    tasks = list((await session.scalars(claim_rows(stmt, session.get_bind().dialect.name))).all())
    for t in tasks:
        t.claimed_by = instance
        t.claim_until = lease_until
    await session.flush()
    return tasks


async def release_claims_of(session: AsyncSession, instance: str) -> int:
    """At start-up: whatever this instance was doing before it stopped is not happening any more."""
    await session.execute(
        update(Task)
        .where(Task.claimed_by == instance, Task.fbx_status == FbxStatus.running.value)
        .values(fbx_status=FbxStatus.pending.value)
    )
    result = await session.execute(update(Task).where(Task.claimed_by == instance).values(claimed_by=None, claim_until=None))
    return cast("CursorResult[Any]", result).rowcount or 0  # an UPDATE's result is a CursorResult


async def processing_ids(session: AsyncSession) -> list[str]:
    return list((await session.scalars(select(Task.id).where(Task.status == TaskStatus.processing.value))).all())


async def processing(session: AsyncSession) -> list[Task]:
    return list((await session.scalars(select(Task).where(Task.status == TaskStatus.processing.value))).all())


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    rows = (await session.execute(select(Task.status, func.count()).group_by(Task.status))).all()
    return {status: n for status, n in rows}


async def position(session: AsyncSession, task: Task) -> int:
    """1 for the next task out of the queue."""
    ahead = await session.scalar(
        select(func.count())
        .select_from(Task)
        .where(
            Task.status == TaskStatus.created.value,
            or_(Task.queued_at < task.queued_at, and_(Task.queued_at == task.queued_at, Task.id < task.id)),
        )
    )
    return int(ahead or 0) + 1


async def recent_job_seconds(session: AsyncSession, limit: int, since: datetime) -> list[float]:
    rows = (
        await session.execute(
            select(Task.started_at, Task.finished_at)
            .where(Task.status == TaskStatus.done.value, Task.finished_at >= since, Task.started_at.is_not(None))
            .order_by(Task.finished_at.desc())
            .limit(limit)
        )
    ).all()
    return [max(0.0, (f - s).total_seconds()) for s, f in rows if s and f]


def lease(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
