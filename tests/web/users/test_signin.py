"""Sign-in by emailed link through a real SMTP server, the first sign-in creating the account
with 30 credits, sessions and sign-out, and the anonymous limit of 3 tasks whose tasks move to
the account that signs in from the same browser."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from accountkit import account_settings, balance, client, link_in, sign_in, wait_for_mail
from sqlalchemy import select
from webkit import TINY_GLB, free_port, running_backend

from autorig.web.models import CreditEntry, Task

pytestmark = pytest.mark.asyncio


async def test_email_link_signs_in_and_creates_the_account_with_30_credits(tmp_path: Path, db_url: str, smtp_server) -> None:
    settings = account_settings(tmp_path, db_url, [], free_port(), smtp_server)
    async with running_backend(settings) as b, client(b) as browser:
        assert (await browser.get("/api/me")).status_code == 401
        r = await browser.post("/api/auth/email", json={"email": "  Ada@Example.COM ", "next": "/task/abc"})
        assert r.status_code == 202 and r.json()["email"] == "ada@example.com"
        msg = await wait_for_mail(b, smtp_server, "ada@example.com")
        assert "sign-in" in msg["Subject"].lower()
        url = link_in(msg)
        assert url.startswith(f"{b.url}/auth/email/") and "15 minutes" in msg.get_payload(decode=True).decode()

        assert (await b.http.head(url)).status_code == 405  # a mail scanner's HEAD probe does not use it up
        r = await browser.get(url)
        assert r.status_code == 303 and r.headers["location"] == "/task/abc"
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "autorig_session=" in cookie
        me = (await browser.get("/api/me")).json()
        assert me["email"] == "ada@example.com" and me["balance_credits"] == 30 and me["is_admin"] is False
        assert me["signed_in_via"] == "session"

        # The link works once.
        r = await client(b).get(url)
        assert r.status_code == 400 and "already used" in r.text

        # A second sign-in finds the same account: no second gift.
        second = await sign_in(b, smtp_server, "ada@example.com", nth=2)
        assert (await second.get("/api/me")).json()["id"] == me["id"]
        assert await balance(second) == 30
        async with b.ctx.db.read_session() as s:
            rows = (await s.scalars(select(CreditEntry).where(CreditEntry.user_id == me["id"]))).all()
            assert [(e.reason, e.amount, e.balance_after) for e in rows] == [("signup", 30, 30)]

        # Sign-out ends this session only, and a copied cookie stops working with it.
        stolen = browser.cookies.get("autorig_session")
        r = await browser.post("/api/auth/logout")
        assert r.status_code == 200 and (await browser.get("/api/me")).status_code == 401
        async with client(b, cookies={"autorig_session": stolen}) as thief:
            assert (await thief.get("/api/me")).status_code == 401
        assert (await second.get("/api/me")).status_code == 200
        await second.aclose()


async def test_bad_links_and_addresses_are_refused_clearly(tmp_path: Path, sqlite_url: str, smtp_server) -> None:
    settings = account_settings(tmp_path, sqlite_url, [], free_port(), smtp_server, login_link_minutes=0.05)
    async with running_backend(settings) as b, client(b) as browser:
        r = await browser.post("/api/auth/email", json={"email": "not an email"})
        assert r.status_code == 400 and r.json()["error"] == "BadRequest"
        r = await browser.get("/auth/email/forged.token.value")
        assert r.status_code == 400 and "not valid" in r.text
        # Expired: the link is older than LOGIN_LINK_MINUTES (here 3 s).
        await browser.post("/api/auth/email", json={"email": "slow@example.com"})
        url = link_in(await wait_for_mail(b, smtp_server, "slow@example.com"))
        await asyncio.sleep(3.2)
        r = await browser.get(url)
        assert r.status_code == 400 and (await browser.get("/api/me")).status_code == 401
        # Too many links to one address in an hour.
        for _ in range(4):
            assert (await browser.post("/api/auth/email", json={"email": "slow@example.com"})).status_code == 202
        r = await browser.post("/api/auth/email", json={"email": "slow@example.com"})
        assert r.status_code == 429
        # A redirect target off this site is ignored.
        r = await browser.post("/api/auth/email", json={"email": "x@example.com", "next": "//evil.example/"})
        r = await browser.get(link_in(await wait_for_mail(b, smtp_server, "x@example.com")))
        assert r.headers["location"] == "/"


async def test_anonymous_limit_then_tasks_move_to_the_account(tmp_path: Path, db_url: str, smtp_server) -> None:
    settings = account_settings(tmp_path, db_url, [], free_port(), smtp_server)
    async with running_backend(settings) as b, client(b) as browser:
        ids = []
        for i in range(3):
            r = await browser.post("/api/task/create", files={"file": (f"m{i}.glb", TINY_GLB)})
            assert r.status_code == 201, r.text
            ids.append(r.json()["task_id"])
        assert browser.cookies.get("autorig_anon")
        r = await browser.post("/api/task/create", files={"file": ("m4.glb", TINY_GLB)})
        assert r.status_code == 401 and r.json()["sign_in_url"].endswith("/login")
        # A fresh cookie jar on the same IP is still over the limit; so is an URL task.
        async with client(b) as other:
            r = await other.post("/api/task/create", json={"input_url": "http://example.com/a.glb"})
            assert r.status_code == 401
        # Nothing was kept from the refused upload.
        storage = settings.storage_root
        assert len([p for p in storage.rglob("*") if p.is_file()]) == 3
        # Anonymous visitors cannot download.
        r = await browser.get(f"/api/task/{ids[0]}/files/hero.glb")
        assert r.status_code in (401, 404)

        await sign_in(b, smtp_server, "anon@example.com", browser)
        mine = (await browser.get("/api/me/tasks")).json()["tasks"]
        assert sorted(t["task_id"] for t in mine) == sorted(ids)
        # Signed in, the limit no longer applies.
        r = await browser.post("/api/task/create", files={"file": ("m5.glb", TINY_GLB)})
        assert r.status_code == 201
        async with b.ctx.db.read_session() as s:
            t = await s.get(Task, r.json()["task_id"])
            assert t.owner_id is not None and t.anon_id is None and t.client_ip is None
