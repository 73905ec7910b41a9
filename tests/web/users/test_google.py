"""Google sign-in (OpenID Connect through authlib) against a local provider that speaks the
protocol: the round trip through the browser, the first sign-in creating the account, an
unverified email or a forged state refused, and Google hidden when not configured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from accountkit import account_settings, balance, client
from fakes.oidc import FakeOidcProvider
from webkit import TINY_GLB, free_port, running_backend

pytestmark = pytest.mark.asyncio


@pytest.fixture
def idp() -> Iterator[FakeOidcProvider]:
    p = FakeOidcProvider("autorig-client", "autorig-secret").start()
    yield p
    p.stop()


def _settings(tmp_path: Path, url: str, smtp, idp: FakeOidcProvider):
    return account_settings(
        tmp_path,
        url,
        [],
        free_port(),
        smtp,
        google_client_id=idp.client_id,
        google_client_secret=idp.client_secret,
        google_discovery_url=idp.discovery_url,
    )


async def _round_trip(browser, next_path: str = "/account"):
    r = await browser.get("/auth/google", params={"next": next_path})
    assert r.status_code == 302 and "autorig_oidc=" in r.headers["set-cookie"]
    at_google = r.headers["location"]
    assert "code_challenge=" in at_google and "nonce=" in at_google and "scope=openid+email+profile" in at_google
    # The browser follows Google's redirect back (httpx does not carry cookies across hosts here).
    async with httpx.AsyncClient() as outside:
        back = await outside.get(at_google)
    assert back.status_code == 302
    return await browser.get(back.headers["location"])


async def test_google_sign_in_creates_the_account_and_moves_anonymous_tasks(
    tmp_path: Path, sqlite_url: str, smtp_server, idp
) -> None:
    async with running_backend(_settings(tmp_path, sqlite_url, smtp_server, idp)) as b, client(b) as browser:
        cfg = (await browser.get("/api/auth/config")).json()
        assert cfg["google"] is True and cfg["google_url"] == f"{b.url}/auth/google"
        tid = (await browser.post("/api/task/create", files={"file": ("a.glb", TINY_GLB)})).json()["task_id"]
        idp.next_person = {"email": "Grace@Example.com", "email_verified": True, "name": "Grace H"}
        r = await _round_trip(browser)
        assert r.status_code == 303 and r.headers["location"] == "/account"
        me = (await browser.get("/api/me")).json()
        assert me["email"] == "grace@example.com" and me["name"] == "Grace H" and await balance(browser) == 30
        assert [t["task_id"] for t in (await browser.get("/api/me/tasks")).json()["tasks"]] == [tid]
        assert idp.token_requests == 1


async def test_unverified_email_and_forged_state_are_refused(tmp_path: Path, sqlite_url: str, smtp_server, idp) -> None:
    async with running_backend(_settings(tmp_path, sqlite_url, smtp_server, idp)) as b, client(b) as browser:
        idp.next_person = {"email": "eve@example.com", "email_verified": False}
        r = await _round_trip(browser)
        assert r.status_code == 400 and "not verified" in r.text
        assert (await browser.get("/api/me")).status_code == 401
        r = await browser.get("/auth/google/callback", params={"code": "x", "state": "forged"})
        assert r.status_code == 400 and (await browser.get("/api/me")).status_code == 401


async def test_google_hidden_when_not_configured(tmp_path: Path, sqlite_url: str, smtp_server) -> None:
    async with running_backend(account_settings(tmp_path, sqlite_url, [], free_port(), smtp_server)) as b:
        assert (await b.http.get("/api/auth/config")).json()["google"] is False
        assert (await b.http.get("/auth/google")).status_code == 404
