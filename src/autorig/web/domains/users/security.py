"""Signed values and cookies: the session cookie, the anonymous browser id, the emailed sign-in
link and the Google sign-in state. All are signed with ``SECRET_KEY`` (itsdangerous), each with
its own salt, so one kind can never be passed off as another. And the check that state-changing
browser requests come from this site's own pages (``SameOriginOnly``)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from autorig.config import WebSettings
from autorig.web.errors import BadRequest

SESSION_COOKIE = "autorig_session"
ANON_COOKIE = "autorig_anon"
OIDC_COOKIE = "autorig_oidc"

ANON_COOKIE_DAYS = 365
OIDC_STATE_S = 600  # the round trip through Google's sign-in page
MAX_EMAIL_LEN = 320
MAX_NEXT_LEN = 2000
DAY_S = 86400

_SALTS = {"session": "autorig.session", "anon": "autorig.anon", "login": "autorig.login-link", "oidc": "autorig.oidc"}


class Signer:
    """Sign and check the small values that travel through browsers and emails."""

    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings
        self._s = {
            kind: URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=salt) for kind, salt in _SALTS.items()
        }

    def dumps(self, kind: str, value: Any) -> str:
        return self._s[kind].dumps(value)

    def loads(self, kind: str, token: str | None, max_age_s: float) -> Any | None:
        """The signed value, or ``None`` when missing, forged, or older than ``max_age_s``."""
        if not token:
            return None
        try:
            return self._s[kind].loads(token, max_age=int(max_age_s))
        except BadSignature:  # SignatureExpired is a BadSignature too
            return None

    def set_cookie(self, response: Response, name: str, value: str, max_age_s: float) -> None:
        response.set_cookie(
            name,
            value,
            max_age=int(max_age_s),
            path="/",
            httponly=True,
            samesite="lax",  # sent on top-level navigations (the link in the email, Google's redirect), not on cross-site POSTs
            secure=self.settings.secure_cookies,
        )

    def clear_cookie(self, response: Response, name: str) -> None:
        response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=self.settings.secure_cookies)


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def normalize_email(email: str | None) -> str:
    """Lower-cased, trimmed address, or ``BadRequest``; accounts are found by this form."""
    email = (email or "").strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > MAX_EMAIL_LEN or any(c.isspace() for c in email):
        raise BadRequest(f"not an email address: {email[:80]!r}")
    return email


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a path on this site only (never ``//host`` or a full URL)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > MAX_NEXT_LEN:
        return "/"
    return path


# --- cross-site requests ------------------------------------------------------------------------

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Server-to-server callers that are no browser and carry their own secret.
CROSS_SITE_EXEMPT = frozenset({"/api-gumroad"})
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _origin_key(url: str) -> tuple[str, str, int] | None:
    parsed = urlsplit(url.strip())
    if not parsed.scheme or not parsed.hostname:
        return None
    try:
        port = parsed.port or DEFAULT_PORTS.get(parsed.scheme.lower(), 0)
    except ValueError:
        return None
    return parsed.scheme.lower(), parsed.hostname.lower(), port


def cross_site_problem(method: str, path: str, headers: Mapping[str, str], base_url: str, scheme: str) -> str | None:
    """Why a request must be refused as cross-site (a sentence), or None.

    A state-changing request (not GET/HEAD/OPTIONS) from a browser must come from this site's own
    pages: ``Sec-Fetch-Site`` is ``same-origin`` or ``none`` (typed or bookmarked), or, from a
    browser that does not send it, ``Origin`` is this site (``PUBLIC_BASE_URL``, or the host the
    request was sent to). SameSite=Lax cookies are not enough: another port of the same host is
    the same site. Requests with ``Authorization`` (API keys: a page on another site cannot set
    that header without CORS, which this backend never grants) and the Gumroad ping are exempt;
    so are clients that send neither header (scripts, curl: no browser, no ambient cookies)."""
    if method.upper() in SAFE_METHODS or path in CROSS_SITE_EXEMPT or headers.get("authorization"):
        return None
    site = (headers.get("sec-fetch-site") or "").strip().lower()
    if site:
        if site in ("same-origin", "none"):
            return None
        return f"cross-site request refused (Sec-Fetch-Site: {site[:40]}): use this site's own pages, or an API key"
    origin = (headers.get("origin") or "").strip()
    if not origin:
        return None
    got = _origin_key(origin)
    own = {_origin_key(base_url)}
    host = headers.get("host")
    if host:
        own.add(_origin_key(f"{scheme}://{host}"))
    if got is not None and got in own:
        return None
    return f"cross-site request refused (Origin: {origin[:200]}): use this site's own pages, or an API key"


class SameOriginOnly:
    """ASGI middleware: refuses what ``cross_site_problem`` refuses with 403 ``{"error", "detail"}``."""

    def __init__(self, app: ASGIApp, base_url: str) -> None:
        self.app = app
        self.base_url = base_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            problem = cross_site_problem(scope["method"], scope["path"], headers, self.base_url, scope.get("scheme", "http"))
            if problem:
                await JSONResponse({"error": "Forbidden", "detail": problem}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)
