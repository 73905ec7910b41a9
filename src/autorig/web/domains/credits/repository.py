"""Queries on ``credit_ledger`` and ``purchases``. The balance itself changes only in
``service.CreditService`` (one conditional UPDATE per change)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from autorig.web.models import CreditEntry, Purchase, User


async def balance(session: AsyncSession, user_id: str) -> int | None:
    return await session.scalar(select(User.balance_credits).where(User.id == user_id))


async def ledger(session: AsyncSession, user_id: str, limit: int, offset: int = 0) -> list[CreditEntry]:
    stmt = select(CreditEntry).where(CreditEntry.user_id == user_id).order_by(CreditEntry.id.desc()).limit(limit).offset(offset)
    return list((await session.scalars(stmt)).all())


async def ledger_sum(session: AsyncSession, user_id: str) -> int:
    return int(
        await session.scalar(select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(CreditEntry.user_id == user_id)) or 0
    )


async def paid_items(session: AsyncSession, user_id: str, task_id: str) -> set[str]:
    rows = await session.scalars(select(Purchase.item).where(Purchase.user_id == user_id, Purchase.task_id == task_id))
    return set(rows.all())
