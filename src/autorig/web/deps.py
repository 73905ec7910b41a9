"""Request dependencies as ``Annotated`` aliases. The request owns the commit of ``SessionDep``:
it commits after the endpoint returns (before the response is sent), then runs side effects.

Every dependency is ``async def``, even the trivial ones: FastAPI runs a plain ``def`` dependency
in a thread pool, a thread hop per dependency per request (it was most of the CPU of a poll).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from autorig.config import WebSettings
from autorig.web.context import AppContext
from autorig.web.db.database import commit, rollback
from autorig.web.domains.queue.service import QueueService
from autorig.web.domains.tasks.service import TaskService
from autorig.web.storage import Storage


async def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


ContextDep = Annotated[AppContext, Depends(get_ctx)]


async def get_session(ctx: ContextDep) -> AsyncIterator[AsyncSession]:
    async with ctx.db.writer_factory()() as session:
        try:
            yield session
        except BaseException:
            await rollback(session)
            raise
        await commit(session)


async def get_read_session(ctx: ContextDep) -> AsyncIterator[AsyncSession]:
    async with ctx.db.reader_factory()() as session:
        try:
            yield session
        finally:
            await rollback(session)


# scope="function": the commit happens before the response goes out, so a client that gets a
# task_id can read the task at once.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]


async def get_settings(ctx: ContextDep) -> WebSettings:
    return ctx.settings


async def get_storage(ctx: ContextDep) -> Storage:
    return ctx.storage


async def get_task_service(ctx: ContextDep) -> TaskService:
    return ctx.tasks


async def get_queue_service(ctx: ContextDep) -> QueueService:
    return ctx.queue


SettingsDep = Annotated[WebSettings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
TaskServiceDep = Annotated[TaskService, Depends(get_task_service)]
QueueServiceDep = Annotated[QueueService, Depends(get_queue_service)]
