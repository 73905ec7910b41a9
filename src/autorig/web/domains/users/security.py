"""Signed values and cookies: the session cookie, the anonymous browser id, the emailed sign-in
link and the Google sign-in state. All are signed with ``SECRET_KEY`` (itsdangerous), each with
its own salt, so one kind can never be passed off as another."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

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
        self._s = {kind: URLSafeTimedSerializer(settings.secret_key, salt=salt) for kind, salt in _SALTS.items()}

    def dumps(self, kind: str, value: Any) -> str:
        return self._s[kind].dumps(value)

    def loads(self, kind: str, token: str | None, max_age_s: float) -> Any | None:
        """The signed value, or ``None`` when missing, forged, or older than ``max_age_s``."""
        if not token:
            return None
        try:
            return self._s[kind].loads(token, max_age=max_age_s)
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
