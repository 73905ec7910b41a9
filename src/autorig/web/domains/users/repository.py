"""Queries on ``users``, ``sessions`` and ``login_links``, and the anonymous tasks of a browser."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from autorig.web.db.dialect import insert_ignoring_conflicts
from autorig.web.models import ApiKey, LoginLink, Task, User, UserSession


async def get(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email))


async def insert_if_new(session: AsyncSession, user_id: str, email: str, now: datetime) -> bool:
    """Create the account unless one with this email exists; True when this call created it
    (two first sign-ins at once create one account)."""
    stmt = (
        insert_ignoring_conflicts(User, session.get_bind().dialect.name)
        .values(id=user_id, email=email, created_at=now, balance_credits=0)
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(User.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def live_session(session: AsyncSession, session_id: str, now: datetime) -> User | None:
    stmt = (
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.id == session_id, UserSession.ended_at.is_(None), UserSession.expires_at > now)
    )
    return await session.scalar(stmt)


async def end_session(session: AsyncSession, session_id: str, now: datetime) -> None:
    await session.execute(
        update(UserSession).where(UserSession.id == session_id, UserSession.ended_at.is_(None)).values(ended_at=now)
    )


async def key_owner(session: AsyncSession, token_hash: str) -> tuple[User, ApiKey] | None:
    row = (
        await session.execute(
            select(User, ApiKey)
            .join(ApiKey, ApiKey.user_id == User.id)
            .where(ApiKey.token_hash == token_hash, ApiKey.revoked_at.is_(None))
        )
    ).first()
    return (row[0], row[1]) if row else None


async def use_link(session: AsyncSession, link_id: str, now: datetime) -> LoginLink | None:
    """Mark the link used, once: the row when this call used it, ``None`` when it was already
    used, expired or never existed."""
    stmt = (
        update(LoginLink)
        .where(LoginLink.id == link_id, LoginLink.used_at.is_(None), LoginLink.expires_at > now)
        .values(used_at=now)
        .returning(LoginLink.id)
    )
    if (await session.execute(stmt)).scalar_one_or_none() is None:
        return None
    return await session.get(LoginLink, link_id)


async def links_since(session: AsyncSession, email: str, since: datetime) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(LoginLink).where(LoginLink.email == email, LoginLink.created_at >= since)
        )
        or 0
    )


async def anonymous_tasks(session: AsyncSession, anon_id: str | None, ip: str | None) -> int:
    """Tasks created anonymously by this browser or from this IP (moved ones still count)."""
    who = []
    if anon_id:
        who.append(Task.anon_id == anon_id)
    if ip:
        who.append(Task.client_ip == ip)
    if not who:
        return 0
    stmt = select(func.count()).select_from(Task).where(Task.anon_id.is_not(None), or_(*who))
    return int(await session.scalar(stmt) or 0)


async def move_anonymous_tasks(session: AsyncSession, anon_id: str, user_id: str) -> int:
    result = await session.execute(update(Task).where(Task.anon_id == anon_id, Task.owner_id.is_(None)).values(owner_id=user_id))
    return cast("CursorResult[Any]", result).rowcount or 0  # an UPDATE's result is a CursorResult


async def tasks_of(session: AsyncSession, user_id: str, limit: int, offset: int = 0) -> list[Task]:
    stmt = select(Task).where(Task.owner_id == user_id).order_by(Task.created_at.desc()).limit(limit).offset(offset)
    return list((await session.scalars(stmt)).all())
