"""Queries on ``api_keys``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from autorig.web.models import ApiKey


async def of_user(session: AsyncSession, user_id: str, *, include_revoked: bool) -> list[ApiKey]:
    stmt = select(ApiKey).where(ApiKey.user_id == user_id)
    if not include_revoked:
        stmt = stmt.where(ApiKey.revoked_at.is_(None))
    return list((await session.scalars(stmt.order_by(ApiKey.created_at.desc()))).all())


async def get_of_user(session: AsyncSession, user_id: str, key_id: str) -> ApiKey | None:
    if not key_id or len(key_id) > 64:
        return None
    return await session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id))


async def count_live(session: AsyncSession, user_id: str) -> int:
    return len(await of_user(session, user_id, include_revoked=False))
