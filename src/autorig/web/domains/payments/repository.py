"""Queries on ``gumroad_events``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from autorig.web.db.dialect import insert_ignoring_conflicts
from autorig.web.models import GumroadEvent


async def insert_new(session: AsyncSession, values: dict[str, Any]) -> GumroadEvent | None:
    """Insert the event unless its ``event_key`` is known; the new row, or ``None`` for a replay."""
    stmt = (
        insert_ignoring_conflicts(GumroadEvent, session.get_bind().dialect.name)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["event_key"])
        .returning(GumroadEvent.id)
    )
    new_id = (await session.execute(stmt)).scalar_one_or_none()
    return None if new_id is None else await session.get(GumroadEvent, new_id)


async def by_key(session: AsyncSession, event_key: str) -> GumroadEvent | None:
    return await session.scalar(select(GumroadEvent).where(GumroadEvent.event_key == event_key))


async def pending_for(session: AsyncSession, email: str) -> list[GumroadEvent]:
    stmt = select(GumroadEvent).where(GumroadEvent.email == email, GumroadEvent.status == "pending").order_by(GumroadEvent.id)
    return list((await session.scalars(stmt)).all())


async def recent(session: AsyncSession, limit: int, email: str | None = None) -> list[GumroadEvent]:
    stmt = select(GumroadEvent).order_by(GumroadEvent.id.desc()).limit(limit)
    if email:
        stmt = stmt.where(GumroadEvent.email == email)
    return list((await session.scalars(stmt)).all())
