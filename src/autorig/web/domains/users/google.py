"""Google sign-in: OpenID Connect's authorization-code flow with PKCE, through authlib.

``start`` gives the URL of Google's sign-in page and a signed cookie value holding the state,
nonce, PKCE verifier and where to go afterwards (no server-side session needed); ``finish``
checks the state, trades the code for tokens and verifies the ID token (signature from Google's
JWKS, issuer, audience, expiry, nonce). Only a verified email signs in.

The provider is found through ``GOOGLE_DISCOVERY_URL``, so tests point it at a local server.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from autorig.config import WebSettings
from autorig.web.domains.users.security import OIDC_STATE_S, Signer, safe_next
from autorig.web.errors import BadRequest, NotFound, Unavailable

log = logging.getLogger(__name__)

CALLBACK_PATH = "/auth/google/callback"
SCOPE = "openid email profile"
HTTP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class GoogleIdentity:
    email: str
    name: str | None
    subject: str


class GoogleSignIn:
    def __init__(self, settings: WebSettings, signer: Signer) -> None:
        self.settings = settings
        self.signer = signer
        self._client: Any = None  # authlib's StarletteOAuth2App (authlib has no type hints)
        if settings.google_enabled:
            # authlib ships no type hints and the venv has no types-Authlib stubs
            from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]

            oauth = OAuth()
            oauth.register(
                "google",
                client_id=settings.google_client_id,
                client_secret=settings.google_client_secret.get_secret_value() if settings.google_client_secret else None,
                server_metadata_url=settings.google_discovery_url,
                client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "timeout": HTTP_TIMEOUT_S},
            )
            self._client = oauth.create_client("google")

    @property
    def enabled(self) -> bool:
        return self._client is not None

    @property
    def redirect_uri(self) -> str:
        return self.settings.base_url + CALLBACK_PATH

    def _require(self) -> Any:
        if self._client is None:
            raise NotFound("Google sign-in is not configured on this service")
        return self._client

    async def start(self, next_path: str | None) -> tuple[str, str]:
        """Google's sign-in URL, and the value of the state cookie to set."""
        client = self._require()
        try:
            rv = await client.create_authorization_url(self.redirect_uri)
        except Exception as exc:  # discovery document unreachable or broken
            log.warning("Google sign-in unavailable: %s", exc)
            raise Unavailable("Google sign-in is unavailable right now; try the email link") from None
        state = {"state": rv["state"], "nonce": rv["nonce"], "verifier": rv.get("code_verifier"), "next": safe_next(next_path)}
        return rv["url"], self.signer.dumps("oidc", state)

    async def finish(self, params: dict[str, str], cookie: str | None) -> tuple[GoogleIdentity, str]:
        """The person Google vouches for, and where to send them; ``BadRequest`` otherwise."""
        client = self._require()
        saved = self.signer.loads("oidc", cookie, OIDC_STATE_S)
        if not saved or params.get("state") != saved["state"]:
            raise BadRequest("the Google sign-in expired or did not start here; try again")
        if params.get("error"):
            raise BadRequest(f"Google sign-in was not completed: {params['error']}")
        if not params.get("code"):
            raise BadRequest("Google sent no authorization code")
        try:
            token = await client.fetch_access_token(
                redirect_uri=self.redirect_uri, code=params["code"], code_verifier=saved.get("verifier")
            )
            claims = await client.parse_id_token(token, nonce=saved["nonce"])
        except Exception as exc:  # refused code, bad signature, wrong audience or nonce...
            log.warning("Google sign-in refused: %s: %s", type(exc).__name__, exc)
            raise BadRequest("Google sign-in could not be verified; try again") from None
        if claims is None or not claims.get("email"):
            raise BadRequest("Google did not share an email address")
        if claims.get("email_verified") not in (True, "true"):
            raise BadRequest("this Google account's email address is not verified")
        return GoogleIdentity(str(claims["email"]), claims.get("name"), str(claims.get("sub"))), saved["next"]
