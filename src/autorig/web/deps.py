"""Every request dependency, as ``Annotated`` aliases: the request's sessions, the settings, each
domain's service from the composition root (``context.AppContext``), and who is asking.

The request owns its sessions: ``SessionDep`` commits after the endpoint returns (before the
response is sent), then runs the side effects registered with ``db.on_commit``; services only
``flush()``. ``ReadSessionDep`` is rolled back. Both take a connection only when first used.

Every dependency is ``async def``, even the trivial ones: FastAPI runs a plain ``def`` dependency
in a thread pool, a thread hop per dependency per request (it was most of the CPU of a poll).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from autorig.config import WebSettings
from autorig.web.context import AppContext
from autorig.web.db.database import commit, rollback
from autorig.web.domains.admin.service import AdminService
from autorig.web.domains.apikeys.service import ApiKeyService
from autorig.web.domains.credits.service import CreditService
from autorig.web.domains.payments.service import PaymentService
from autorig.web.domains.queue.service import QueueService
from autorig.web.domains.tasks.service import TaskService
from autorig.web.domains.users.security import SESSION_COOKIE
from autorig.web.domains.users.service import UserService, Viewer
from autorig.web.errors import Forbidden, SignInRequired


async def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


# For the app's own routes and the two polled views, which read their caches on the context.
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


async def get_tasks(ctx: ContextDep) -> TaskService:
    return ctx.tasks


async def get_queue(ctx: ContextDep) -> QueueService:
    return ctx.queue


async def get_users(ctx: ContextDep) -> UserService:
    return ctx.users


async def get_credits(ctx: ContextDep) -> CreditService:
    return ctx.credits


async def get_apikeys(ctx: ContextDep) -> ApiKeyService:
    return ctx.apikeys


async def get_payments(ctx: ContextDep) -> PaymentService:
    return ctx.payments


async def get_admin(ctx: ContextDep) -> AdminService:
    return ctx.admin


SettingsDep = Annotated[WebSettings, Depends(get_settings)]
TaskServiceDep = Annotated[TaskService, Depends(get_tasks)]
QueueServiceDep = Annotated[QueueService, Depends(get_queue)]
UserServiceDep = Annotated[UserService, Depends(get_users)]
CreditServiceDep = Annotated[CreditService, Depends(get_credits)]
ApiKeyServiceDep = Annotated[ApiKeyService, Depends(get_apikeys)]
PaymentServiceDep = Annotated[PaymentService, Depends(get_payments)]
AdminServiceDep = Annotated[AdminService, Depends(get_admin)]


# --- who is asking: ViewerDep (anyone, maybe anonymous), CurrentUserDep (signed in by session
# cookie or API key, else 401), AdminDep (an admin, else 403) ------------------------------------

# Declared so OpenAPI (/docs) shows both ways in; ``identify`` reads the request itself.
_bearer = HTTPBearer(
    auto_error=False, scheme_name="apiKey", description="`Authorization: Bearer <API key>`; create keys with POST /api/keys"
)
_session = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, scheme_name="session", description="set by signing in")


async def get_viewer(
    request: Request,
    users: UserServiceDep,
    read: ReadSessionDep,
    session: SessionDep,
    _key: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _cookie: Annotated[str | None, Depends(_session)],
) -> AsyncIterator[Viewer]:
    viewer = await users.identify(read, request)
    # End the read now: no connection is held while the endpoint runs (an upload takes minutes).
    await rollback(read)
    yield viewer
    # The API key's use is written with the request's own commit (not when the request fails).
    await users.note_key_use(session, viewer)


ViewerDep = Annotated[Viewer, Depends(get_viewer, scope="function")]


async def require_user(viewer: ViewerDep, users: UserServiceDep) -> Viewer:
    if not viewer.signed_in:
        raise SignInRequired(
            "sign in first (session cookie, or 'Authorization: Bearer <API key>')", sign_in_url=users.sign_in_url
        )
    return viewer


CurrentUserDep = Annotated[Viewer, Depends(require_user)]


async def require_admin(viewer: CurrentUserDep) -> Viewer:
    if not viewer.is_admin:
        raise Forbidden("admins only")
    return viewer


AdminDep = Annotated[Viewer, Depends(require_admin)]


async def poll_viewer(ctx: AppContext, request: Request) -> Viewer:
    """Who is asking, for the polled task view, which takes no dependency but the context (each
    costs CPU on every poll; ``ViewerDep``'s two sessions doubled it). An anonymous poll touches
    no database; one with credentials reads in its own short session and writes an API key's use
    in another, as ``ViewerDep`` does in the request's."""
    viewer = ctx.users.anonymous(request)
    if viewer is not None:
        return viewer
    async with ctx.db.read_session() as read:
        viewer = await ctx.users.identify(read, request)
    if viewer.key_id is not None:
        async with ctx.db.session() as session:
            await ctx.users.note_key_use(session, viewer)
    return viewer
