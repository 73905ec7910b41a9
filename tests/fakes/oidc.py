"""Google's OpenID Connect provider as far as autorig sees it, for tests: a real local HTTP
server with the discovery document, an authorization endpoint that signs the person in at once
and redirects back with a code, a token endpoint (client secret and PKCE checked) that returns an
RS256-signed ID token, and the JWKS.

    idp = FakeOidcProvider(client_id="cid", client_secret="sec").start()
    idp.next_person = {"email": "a@example.com", "email_verified": True, "name": "A"}
    ... GOOGLE_DISCOVERY_URL=idp.discovery_url ...
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey


class FakeOidcProvider:
    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})
        self.next_person: dict[str, Any] = {"email": "g@example.com", "email_verified": True, "name": "G Person"}
        self.codes: dict[str, dict[str, Any]] = {}
        self.token_requests = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (http.server's hook name)
                url = urlparse(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    return self._json(200, fake.metadata())
                if url.path == "/jwks":
                    return self._json(200, {"keys": [fake.key.as_dict(private=False)]})
                if url.path == "/authorize":
                    if q.get("client_id") != fake.client_id or q.get("response_type") != "code":
                        return self._json(400, {"error": "invalid_request"})
                    code = secrets.token_urlsafe(16)
                    fake.codes[code] = {**q, "person": dict(fake.next_person)}
                    target = q["redirect_uri"] + "?" + urlencode({"code": code, "state": q.get("state", "")})
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:  # noqa: N802 (http.server's hook name)
                if urlparse(self.path).path != "/token":
                    return self._json(404, {"error": "not_found"})
                fake.token_requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                cid, secret = form.get("client_id"), form.get("client_secret")
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                if cid != fake.client_id or secret != fake.client_secret:
                    return self._json(401, {"error": "invalid_client"})
                grant = fake.codes.pop(form.get("code", ""), None)
                if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
                    return self._json(400, {"error": "invalid_grant"})
                if grant.get("code_challenge"):
                    digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
                    if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant["code_challenge"]:
                        return self._json(400, {"error": "invalid_grant", "error_description": "PKCE"})
                now = int(time.time())
                claims = {
                    "iss": fake.issuer,
                    "aud": fake.client_id,
                    "sub": "g-" + grant["person"]["email"],
                    "iat": now,
                    "exp": now + 600,
                    "nonce": grant.get("nonce"),
                    **grant["person"],
                }
                id_token = jwt.encode({"alg": "RS256", "kid": "test-key-1"}, claims, fake.key)
                return self._json(
                    200,
                    {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 3600, "id_token": id_token},
                )

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.discovery_url = self.issuer + "/.well-known/openid-configuration"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }

    def start(self) -> FakeOidcProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
