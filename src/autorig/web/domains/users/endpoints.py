"""Sign-in and the signed-in person.

POST /api/auth/email          send a one-time sign-in link (valid LOGIN_LINK_MINUTES)
GET  /auth/email/{token}      the emailed link: signs in, sets the cookie, redirects
GET  /auth/google             to Google's sign-in page (404 when not configured)
GET  /auth/google/callback    back from Google: signs in, redirects
POST /api/auth/logout         ends the session
GET  /api/auth/config         which sign-in methods exist (the pages hide Google when absent)
GET  /api/me                  the signed-in person and balance
GET  /api/me/tasks            their tasks
"""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from autorig.web.deps import CurrentUserDep, ReadSessionDep, SessionDep, SettingsDep, UserServiceDep, ViewerDep
from autorig.web.domains.users.schemas import AuthConfig, EmailSignIn, LinkSent, Me, MyTasks, SignedOut, me_view, task_summary
from autorig.web.domains.users.security import OIDC_COOKIE, OIDC_STATE_S
from autorig.web.errors import BadRequest, NotFound

api = APIRouter(prefix="/api", tags=["account"])
browser = APIRouter(prefix="/auth", tags=["account"])


def _problem_page(message: str, status: int = 400) -> HTMLResponse:
    """The emailed link and Google's redirect are opened by people, not scripts: a short page."""
    body = (
        "<!doctype html><meta charset=utf-8><title>Sign-in problem - autorig</title>"
        f'<p>{html.escape(message)}</p><p><a href="/login">Sign in again</a> or <a href="/">go home</a>.</p>'
    )
    return HTMLResponse(body, status_code=status)


@api.post("/auth/email", response_model=LinkSent, status_code=202)
async def send_sign_in_link(body: EmailSignIn, session: SessionDep, users: UserServiceDep) -> LinkSent:
    """Email a one-time sign-in link; the first sign-in creates the account."""
    link = await users.send_link(session, body.email, body.next)
    return LinkSent(email=link.email, expires_in_minutes=users.settings.login_link_minutes)


@browser.get("/email/{token}", response_class=RedirectResponse, status_code=303)
async def use_sign_in_link(
    token: str, request: Request, session: SessionDep, users: UserServiceDep, viewer: ViewerDep
) -> Response:
    """The link in the email: signs in (moving this browser's anonymous tasks), then redirects."""
    try:
        link = await users.use_link(session, token)
    except BadRequest as exc:
        return _problem_page(exc.detail)
    _, cookie = await users.sign_in(session, link.email, "email", anon_id=viewer.anon_id)
    response = RedirectResponse(link.next_path or "/", status_code=303)
    users.set_session_cookie(response, cookie)
    return response


@browser.get("/google", response_class=RedirectResponse, status_code=302)
async def google_start(users: UserServiceDep, next: str | None = None) -> Response:
    """To Google's sign-in page (404 when Google sign-in is not configured)."""
    url, state = await users.google.start(next)
    response = RedirectResponse(url, status_code=302)
    users.signer.set_cookie(response, OIDC_COOKIE, state, OIDC_STATE_S)
    return response


@browser.get("/google/callback", response_class=RedirectResponse, status_code=303)
async def google_callback(request: Request, session: SessionDep, users: UserServiceDep, viewer: ViewerDep) -> Response:
    try:
        who, next_path = await users.google.finish(dict(request.query_params), request.cookies.get(OIDC_COOKIE))
    except NotFound:
        raise
    except BadRequest as exc:
        problem = _problem_page(exc.detail)
        users.signer.clear_cookie(problem, OIDC_COOKIE)
        return problem
    _, cookie = await users.sign_in(session, who.email, "google", anon_id=viewer.anon_id, name=who.name)
    response = RedirectResponse(next_path, status_code=303)
    users.set_session_cookie(response, cookie)
    users.signer.clear_cookie(response, OIDC_COOKIE)
    return response


@api.post("/auth/logout", response_model=SignedOut)
async def sign_out(session: SessionDep, users: UserServiceDep, viewer: ViewerDep, response: Response) -> SignedOut:
    await users.sign_out(session, viewer, response)
    return SignedOut()


@api.get("/auth/config", response_model=AuthConfig)
async def auth_config(users: UserServiceDep, settings: SettingsDep) -> AuthConfig:
    return AuthConfig(
        google=users.google.enabled,
        google_url=f"{settings.base_url}/auth/google" if users.google.enabled else None,
        anon_free_limit=settings.anon_free_limit,
        user_free_limit=settings.user_free_limit,
    )


@api.get("/me", response_model=Me)
async def me(viewer: CurrentUserDep, session: ReadSessionDep, users: UserServiceDep) -> Me:
    return me_view(await users.account(session, viewer.user_id or ""), is_admin=viewer.is_admin, via=viewer.via)


@api.get("/me/tasks", response_model=MyTasks)
async def my_tasks(
    viewer: CurrentUserDep,
    session: ReadSessionDep,
    users: UserServiceDep,
    settings: SettingsDep,
    limit: int = 100,
    offset: int = 0,
) -> MyTasks:
    tasks = await users.tasks_of(session, viewer.user_id or "", min(max(limit, 1), 500), max(offset, 0))
    return MyTasks(tasks=[task_summary(t, settings.base_url) for t in tasks])
