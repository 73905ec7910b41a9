"""Who is asking, as ``Annotated`` dependencies: ``ViewerDep`` (anyone, maybe anonymous),
``CurrentUserDep`` (signed in by session cookie or API key, else 401), ``AdminDep`` (an admin,
else 403); and the issue-6 services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from autorig.web.deps import ContextDep
from autorig.web.domains.admin.service import AdminService
from autorig.web.domains.apikeys.service import ApiKeyService
from autorig.web.domains.credits.service import CreditService
from autorig.web.domains.payments.service import PaymentService
from autorig.web.domains.users.security import SESSION_COOKIE
from autorig.web.domains.users.service import UserService, Viewer
from autorig.web.errors import Forbidden, SignInRequired

# Declared so OpenAPI (/docs) shows both ways in; ``identify`` reads the request itself.
_bearer = HTTPBearer(
    auto_error=False, scheme_name="apiKey", description="`Authorization: Bearer <API key>`; create keys with POST /api/keys"
)
_session = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, scheme_name="session", description="set by signing in")


async def get_viewer(
    request: Request,
    ctx: ContextDep,
    _key: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _cookie: Annotated[str | None, Depends(_session)],
) -> Viewer:
    return await ctx.users.identify(ctx.db, request)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


async def require_user(viewer: ViewerDep, ctx: ContextDep) -> Viewer:
    if not viewer.signed_in:
        raise SignInRequired("sign in first (session cookie, or 'Authorization: Bearer <API key>')", sign_in_url=ctx.users.sign_in_url)
    return viewer


CurrentUserDep = Annotated[Viewer, Depends(require_user)]


async def require_admin(viewer: CurrentUserDep) -> Viewer:
    if not viewer.is_admin:
        raise Forbidden("admins only")
    return viewer


AdminDep = Annotated[Viewer, Depends(require_admin)]


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


UserServiceDep = Annotated[UserService, Depends(get_users)]
CreditServiceDep = Annotated[CreditService, Depends(get_credits)]
ApiKeyServiceDep = Annotated[ApiKeyService, Depends(get_apikeys)]
PaymentServiceDep = Annotated[PaymentService, Depends(get_payments)]
AdminServiceDep = Annotated[AdminService, Depends(get_admin)]
