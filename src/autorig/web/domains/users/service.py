"""Accounts and sign-in: who is asking (``identify``), emailed links, sessions, the first
sign-in that creates an account (with ``USER_FREE_LIMIT`` credits), anonymous visitors and
their limit, and moving a browser's anonymous tasks to the account it signs in to.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from autorig.config import WebSettings
from autorig.web.db import on_commit, utcnow
from autorig.web.db.dialect import serialize_on
from autorig.web.domains.credits.service import CreditService, Reason
from autorig.web.domains.notifications import service as notifications
from autorig.web.domains.users import repository
from autorig.web.domains.users.google import GoogleSignIn
from autorig.web.domains.users.security import (
    ANON_COOKIE,
    ANON_COOKIE_DAYS,
    DAY_S,
    SESSION_COOKIE,
    Signer,
    new_token,
    normalize_email,
    safe_next,
    sha256_hex,
)
from autorig.web.errors import BadRequest, NotFound, SignInRequired, TooManyRequests
from autorig.web.models import ApiKey, LoginLink, Task, User, UserSession

log = logging.getLogger(__name__)

LINK_PATH = "/auth/email"
SIGN_IN_PATH = "/login"
LINKS_PER_HOUR = 5  # sign-in emails to one address: enough for typos and slow mail, not for spamming someone
KEY_USE_RESOLUTION = timedelta(minutes=1)  # api_keys.last_used_at is written at most this often


@dataclass(frozen=True)
class Viewer:
    """Who sent a request: a person (by session cookie or API key) or an anonymous browser."""

    user_id: str | None = None
    email: str | None = None
    is_admin: bool = False
    via: str = "anonymous"  # "session", "api_key" or "anonymous"
    anon_id: str | None = None  # the signed browser id, when the browser has one
    ip: str | None = None
    session_id: str | None = None
    key_id: str | None = None  # the API key it came with, and when that key was last noted in use
    key_used_at: datetime | None = None

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None


AccountHook = Callable[[AsyncSession, User], Awaitable[object]]


class UserService:
    def __init__(self, settings: WebSettings, credits: CreditService) -> None:
        self.settings = settings
        self.credits = credits
        self.signer = Signer(settings)
        self.google = GoogleSignIn(settings, self.signer)
        self.on_account_created: list[AccountHook] = []  # e.g. payments: credit pings that waited for this email
        self.on_email_queued: list[Callable[[], object]] = []  # after commit: wake the mailer

    def is_admin(self, email: str | None) -> bool:
        return email is not None and email.lower() in self.settings.admin_emails

    @property
    def sign_in_url(self) -> str:
        return self.settings.base_url + SIGN_IN_PATH

    # --- who is asking -------------------------------------------------------------------------

    def anonymous(self, request: Request) -> Viewer | None:
        """The viewer of a request without credentials (no ``Authorization`` header, no validly
        signed session cookie), known without the database; ``None`` when ``identify`` must look."""
        if request.headers.get("authorization"):
            return None
        if self.signer.loads("session", request.cookies.get(SESSION_COOKIE), self.settings.session_days * DAY_S):
            return None
        anon_id = self.signer.loads("anon", request.cookies.get(ANON_COOKIE), ANON_COOKIE_DAYS * DAY_S)
        return Viewer(anon_id=anon_id, ip=request.client.host if request.client else None)

    async def identify(self, session: AsyncSession, request: Request) -> Viewer:
        """The viewer of a request, read in ``session`` (nothing written). A bad ``Authorization``
        header is an error (a script should know its key is wrong); a bad or ended session
        cookie just means anonymous."""
        ip = request.client.host if request.client else None
        auth = request.headers.get("authorization")
        if auth:
            scheme, _, key = auth.partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                raise SignInRequired("send the API key as 'Authorization: Bearer <key>'")
            found = await repository.key_owner(session, sha256_hex(key.strip()))
            if found is None:
                raise SignInRequired("this API key is not valid (unknown or revoked)")
            user, api_key = found
            return Viewer(
                user.id,
                user.email,
                self.is_admin(user.email),
                "api_key",
                None,
                ip,
                key_id=api_key.id,
                key_used_at=api_key.last_used_at,
            )
        anon_id = self.signer.loads("anon", request.cookies.get(ANON_COOKIE), ANON_COOKIE_DAYS * DAY_S)
        sid = self.signer.loads("session", request.cookies.get(SESSION_COOKIE), self.settings.session_days * DAY_S)
        if sid:
            signed = await repository.live_session(session, sid, utcnow())
            if signed is not None:
                return Viewer(signed.id, signed.email, self.is_admin(signed.email), "session", anon_id, ip, sid)
        return Viewer(anon_id=anon_id, ip=ip)

    async def note_key_use(self, session: AsyncSession, viewer: Viewer) -> None:
        """Record that the viewer's API key was used now (at most every ``KEY_USE_RESOLUTION``)."""
        now = utcnow()
        if viewer.key_id is None or (viewer.key_used_at is not None and now - viewer.key_used_at <= KEY_USE_RESOLUTION):
            return
        await session.execute(update(ApiKey).where(ApiKey.id == viewer.key_id).values(last_used_at=now))

    # --- accounts ------------------------------------------------------------------------------

    async def account(self, session: AsyncSession, user_id: str) -> User:
        user = await repository.get(session, user_id)
        if user is None:
            raise NotFound("this account no longer exists")
        return user

    async def get_or_create(self, session: AsyncSession, email: str, *, name: str | None = None) -> tuple[User, bool]:
        """The account of ``email``, created on first sight with the free credits; True if new."""
        email = normalize_email(email)
        created = await repository.insert_if_new(session, uuid.uuid4().hex, email, utcnow())
        user = await repository.by_email(session, email)
        assert user is not None
        if created:
            log.info("new account %s", email)
            if self.settings.user_free_limit > 0:
                await self.credits.add(
                    session, user.id, self.settings.user_free_limit, Reason.signup, note="free credits of a new account"
                )
            for hook in self.on_account_created:
                await hook(session, user)
        if name and not user.name:
            user.name = name[:255]
        await session.flush()
        return user, created

    async def sign_in(
        self, session: AsyncSession, email: str, method: str, *, anon_id: str | None = None, name: str | None = None
    ) -> tuple[User, str]:
        """Sign ``email`` in (creating the account on first sign-in) and move this browser's
        anonymous tasks to it; the account and the session cookie value."""
        user, _ = await self.get_or_create(session, email, name=name)
        now = utcnow()
        user.last_login_at = now
        sid = new_token()
        session.add(
            UserSession(
                id=sid,
                user_id=user.id,
                method=method,
                created_at=now,
                expires_at=now + timedelta(days=self.settings.session_days),
            )
        )
        if anon_id:
            moved = await repository.move_anonymous_tasks(session, anon_id, user.id)
            if moved:
                log.info("moved %d anonymous tasks to %s", moved, user.email)
        await session.flush()
        return user, self.signer.dumps("session", sid)

    def set_session_cookie(self, response: Response, cookie_value: str) -> None:
        self.signer.set_cookie(response, SESSION_COOKIE, cookie_value, self.settings.session_days * DAY_S)

    async def sign_out(self, session: AsyncSession, viewer: Viewer, response: Response) -> None:
        if viewer.session_id:
            await repository.end_session(session, viewer.session_id, utcnow())
        self.signer.clear_cookie(response, SESSION_COOKIE)

    # --- the emailed link ----------------------------------------------------------------------

    async def send_link(self, session: AsyncSession, email: str, next_path: str | None) -> LoginLink:
        """Put a one-time sign-in link in the outbox (sent by the mailer, like task emails)."""
        email = normalize_email(email)
        now = utcnow()
        if await repository.links_since(session, email, now - timedelta(hours=1)) >= LINKS_PER_HOUR:
            raise TooManyRequests("too many sign-in emails to this address in the last hour; use the last one or wait")
        minutes = self.settings.login_link_minutes
        link = LoginLink(
            id=uuid.uuid4().hex,
            email=email,
            next_path=safe_next(next_path),
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        session.add(link)
        await session.flush()
        url = f"{self.settings.base_url}{LINK_PATH}/{self.signer.dumps('login', link.id)}"
        body = (
            "Sign in to autorig with this link:\n\n"
            f"{url}\n\n"
            f"It works once, for {minutes:g} minutes. If you did not ask for it, ignore this email.\n\n"
            "-- autorig\n"
        )
        await notifications.enqueue(session, email, "Your autorig sign-in link", body)
        for fn in self.on_email_queued:
            on_commit(session, fn)
        return link

    async def use_link(self, session: AsyncSession, token: str) -> LoginLink:
        """The link's row, marked used; ``BadRequest`` when forged, expired or used before."""
        link_id = self.signer.loads("login", token, self.settings.login_link_minutes * 60)
        if not isinstance(link_id, str):
            raise BadRequest("this sign-in link is not valid or has expired; ask for a new one")
        link = await repository.use_link(session, link_id, utcnow())
        if link is None:
            raise BadRequest("this sign-in link was already used or has expired; ask for a new one")
        return link

    # --- anonymous visitors ----------------------------------------------------------------------

    def anon_id_for(self, viewer: Viewer, response: Response) -> str:
        """This browser's anonymous id, minted (and its cookie set) on its first task."""
        if viewer.anon_id:
            return viewer.anon_id
        anon_id = new_token(16)
        self.signer.set_cookie(response, ANON_COOKIE, self.signer.dumps("anon", anon_id), ANON_COOKIE_DAYS * DAY_S)
        return anon_id

    async def admit_task(self, session: AsyncSession, viewer: Viewer, *, lock: bool) -> None:
        """Refuse a new task past ``ANON_FREE_LIMIT`` for an anonymous browser (by its cookie and
        by its IP). ``lock``: hold the check until this transaction ends (the creating one)."""
        if viewer.signed_in:
            return
        limit = self.settings.anon_free_limit
        if lock:
            for key in sorted(k for k in (viewer.anon_id, viewer.ip) if k):
                sql = serialize_on(f"autorig-anon:{key}", session.get_bind().dialect.name)
                if sql is not None:
                    await session.execute(text(sql[0]), sql[1])
        used = await repository.anonymous_tasks(session, viewer.anon_id, viewer.ip)
        if used >= limit:
            raise SignInRequired(
                f"without an account you can rig {limit} models; sign in to go on "
                f"(a new account gets {self.settings.user_free_limit} credits)",
                sign_in_url=self.sign_in_url,
            )

    async def anonymous_tasks_left(self, session: AsyncSession, viewer: Viewer) -> int | None:
        """How many more tasks this anonymous browser may create (None when signed in)."""
        if viewer.signed_in:
            return None
        return max(0, self.settings.anon_free_limit - await repository.anonymous_tasks(session, viewer.anon_id, viewer.ip))

    def stamp_task(self, task: Task, viewer: Viewer, anon_id: str | None) -> None:
        """Record who created ``task``: the account, or the anonymous browser and its IP."""
        task.owner_id = viewer.user_id
        task.anon_id = None if viewer.signed_in else anon_id
        task.client_ip = None if viewer.signed_in else viewer.ip

    async def tasks_of(self, session: AsyncSession, user_id: str, limit: int = 100, offset: int = 0) -> list[Task]:
        return await repository.tasks_of(session, user_id, limit, offset)
