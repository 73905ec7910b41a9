"""Reads and writes of the ``workers`` table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from autorig import protocol
from autorig.web.models import WorkerNode


async def get_all(session: AsyncSession, urls: Iterable[str]) -> dict[str, WorkerNode]:
    """The rows of the configured workers, created on first sight."""
    urls = list(urls)
    rows = {w.url: w for w in (await session.scalars(select(WorkerNode).where(WorkerNode.url.in_(urls)))).all()}
    for url in urls:
        if url not in rows:
            rows[url] = WorkerNode(url=url)
            session.add(rows[url])
    await session.flush()
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
