"""Reads and writes of the ``workers`` table, and the leases that split the progress work
between backends (``backends`` holds their heartbeats)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from autorig import protocol
from autorig.web.db import utcnow
from autorig.web.db.dialect import claim_rows, insert_ignoring_conflicts
from autorig.web.models import BackendInstance, WorkerNode


async def get_all(session: AsyncSession, urls: Iterable[str]) -> dict[str, WorkerNode]:
    """The rows of the configured workers, created on first sight (by whichever backend gets
    there first: several may start together on one database)."""
    urls = list(urls)
    rows = {w.url: w for w in (await session.scalars(select(WorkerNode).where(WorkerNode.url.in_(urls)))).all()}
    missing = [u for u in urls if u not in rows]
    if missing:
        now = utcnow()
        insert = insert_ignoring_conflicts(WorkerNode, session.get_bind().dialect.name)
        await session.execute(
            insert.values(
                [
                    {
                        "url": u,
                        "created_at": now,
                        "online": False,
                        "accepting": False,
                        "capacity": 0,
                        "free_slots": 0,
                        "active_jobs": 0,
                    }
                    for u in missing
                ]
            ).on_conflict_do_nothing(index_elements=["url"])
        )
        rows.update({w.url: w for w in (await session.scalars(select(WorkerNode).where(WorkerNode.url.in_(missing)))).all()})
    return rows


async def list_configured(session: AsyncSession, urls: Sequence[str]) -> list[WorkerNode]:
    rows = {w.url: w for w in (await session.scalars(select(WorkerNode).where(WorkerNode.url.in_(list(urls))))).all()}
    return [rows.get(url) or WorkerNode(url=url, online=False, capacity=0, free_slots=0) for url in urls]


def record_status(row: WorkerNode, status: protocol.WorkerStatus, now: datetime) -> None:
    row.online = status.online
    row.accepting = status.accepting
    row.capacity = status.capacity
    row.free_slots = status.free_slots if status.accepting else 0
    row.active_jobs = status.active_jobs
    row.avg_job_seconds = status.avg_job_seconds
    row.version = status.version[:64]
    row.last_seen_at = now
    row.last_checked_at = now
    row.last_error = None


def record_failure(row: WorkerNode, error: str, now: datetime) -> None:
    row.online = False
    row.free_slots = 0
    row.last_checked_at = now
    row.last_error = error[:2000]


async def touch_seen(session: AsyncSession, urls: Iterable[str], now: datetime) -> None:
    """Workers that answered a progress request are alive, whatever their last status said."""
    for row in (await get_all(session, urls)).values():
        row.last_seen_at = now
        row.online = True


# --- sharing the progress work between backends --------------------------------------------


async def heartbeat(session: AsyncSession, instance: str, now: datetime) -> None:
    """This backend is alive (one row per instance id)."""
    row = await session.get(BackendInstance, instance)
    if row is None:
        session.add(BackendInstance(instance_id=instance, started_at=now, seen_at=now))
    else:
        row.seen_at = now
    await session.flush()


async def live_backends(session: AsyncSession, since: datetime) -> int:
    n = await session.scalar(select(func.count()).select_from(BackendInstance).where(BackendInstance.seen_at >= since))
    return max(1, int(n or 0))


async def lease_for_progress(
    session: AsyncSession, urls: Sequence[str], instance: str, now: datetime, until: datetime, live: int
) -> list[str]:
    """The workers whose jobs ``instance`` follows until ``until``: an equal share of ``urls``
    among the ``live`` backends. Its own leases are renewed (extras beyond the share released
    for the others), then free or expired ones are taken, locked ``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL so two backends never take the same worker; a dead holder's lease expires."""
    await get_all(session, urls)
    share = math.ceil(len(urls) / max(1, live))
    dialect = session.get_bind().dialect.name
    mine = select(WorkerNode).where(WorkerNode.url.in_(list(urls)), WorkerNode.progress_owner == instance)
    if dialect == "postgresql":
        # Waits for a backend taking one of them right now; a row it took no longer matches.
        mine = mine.with_for_update()
    kept: list[WorkerNode] = []
    for row in (await session.scalars(mine.order_by(WorkerNode.url))).all():
        # Still ours even if it lapsed: nobody else took it.
        if len(kept) < share:
            kept.append(row)
        else:
            row.progress_owner = row.progress_until = None  # beyond the share: for the others
    free = or_(WorkerNode.progress_owner.is_(None), WorkerNode.progress_until.is_(None), WorkerNode.progress_until < now)
    need = share - len(kept)
    if need > 0:
        stmt = (
            select(WorkerNode)
            .where(WorkerNode.url.in_(list(urls)), free, WorkerNode.url.notin_([r.url for r in kept] or [""]))
            .order_by(WorkerNode.url)
            .limit(need)
        )
        kept += list((await session.scalars(claim_rows(stmt, dialect))).all())
    for row in kept:
        row.progress_owner = instance
        row.progress_until = until
    await session.flush()
    return [r.url for r in kept]


async def release_progress_leases(session: AsyncSession, instance: str) -> None:
    """On a clean stop: the other backends may take this one's workers at once."""
    for row in (await session.scalars(select(WorkerNode).where(WorkerNode.progress_owner == instance))).all():
        row.progress_owner = row.progress_until = None
