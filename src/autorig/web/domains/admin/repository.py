"""Admin queries over ``users`` and ``tasks``."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from autorig.web.models import Task, TaskStatus, User


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search_users(session: AsyncSession, q: str | None, limit: int, offset: int) -> tuple[list[User], int]:
    where = []
    if q:
        pattern = _like(q.strip().lower())
        where.append(
            or_(
                func.lower(User.email).like(pattern, escape="\\"),
                func.lower(User.gumroad_email).like(pattern, escape="\\"),
                User.id == q.strip(),
            )
        )
    total = int(await session.scalar(select(func.count()).select_from(User).where(*where)) or 0)
    stmt = select(User).where(*where).order_by(User.created_at.desc()).limit(limit).offset(offset)
    return list((await session.scalars(stmt)).all()), total


async def task_counts(session: AsyncSession, user_ids: list[str]) -> dict[str, int]:
    if not user_ids:
        return {}
    rows = await session.execute(select(Task.owner_id, func.count()).where(Task.owner_id.in_(user_ids)).group_by(Task.owner_id))
    return {uid: n for uid, n in rows.all() if uid is not None}


async def tasks_on(session: AsyncSession, worker: str) -> list[str]:
    stmt = select(Task.id).where(Task.worker == worker, Task.status == TaskStatus.processing.value)
    return list((await session.scalars(stmt)).all())
