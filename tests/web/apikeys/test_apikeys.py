"""API keys through HTTP: create (shown once, stored hashed), name, list, use with
``Authorization: Bearer`` to create a task, read it and download, and revoke."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
from accountkit import account_settings, api_key, client, sign_in
from sqlalchemy import select
from webkit import TINY_GLB, FakeWorker, free_port, running_backend

from autorig.web.models import ApiKey

pytestmark = pytest.mark.asyncio


async def test_api_key_create_use_revoke(tmp_path: Path, db_url: str, fake_workers, smtp_server) -> None:
    w = FakeWorker(job_seconds=0.3).start()
    fake_workers.append(w)
    async with running_backend(account_settings(tmp_path, db_url, [w.url], free_port(), smtp_server)) as b:
        browser = await sign_in(b, smtp_server, "dev@example.com")
        key = await api_key(browser, "build server")
        assert key.startswith("ar_") and len(key) > 40
        listed = (await browser.get("/api/keys")).json()
        assert [(k["name"], k["prefix"]) for k in listed] == [("build server", key[:10])]
        assert "key" not in listed[0] and key not in str(listed)
        async with b.ctx.db.read_session() as s:
            stored = (await s.scalars(select(ApiKey))).one()
            assert stored.token_hash == hashlib.sha256(key.encode()).hexdigest()

        # A script with the key: no cookies at all.
        async with httpx.AsyncClient(base_url=b.url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as script:
            me = (await script.get("/api/me")).json()
            assert me["email"] == "dev@example.com" and me["signed_in_via"] == "api_key"
            r = await script.post("/api/task/create", files={"file": ("bot.glb", TINY_GLB)})
            assert r.status_code == 201
            tid = r.json()["task_id"]
            await b.until(tid, {"done"})
            assert (await script.get(f"/api/task/{tid}")).status_code == 200
            got = await script.get(f"/api/task/{tid}/files/bot.glb")
            assert got.status_code == 200 and got.content.startswith(b"glTF")
            assert (await script.get("/api/me")).json()["balance_credits"] == 29
            assert [x["task_id"] for x in (await script.get("/api/me/tasks")).json()["tasks"]] == [tid]
            listed = (await browser.get("/api/keys")).json()
            assert listed[0]["last_used_at"] is not None

            # Revoked: refused at once, everywhere; the listing keeps it on request.
            r = await browser.delete(f"/api/keys/{listed[0]['id']}")
            assert r.status_code == 200 and r.json()["revoked_at"]
            r = await script.get("/api/me")
            assert r.status_code == 401 and "not valid" in r.json()["detail"]
            assert (await script.post("/api/task/create", files={"file": ("x.glb", TINY_GLB)})).status_code == 401
            assert (await script.get(f"/api/task/{tid}/files/bot.glb")).status_code == 401
        assert (await browser.get("/api/keys")).json() == []
        assert len((await browser.get("/api/keys?include_revoked=true")).json()) == 1

        # Keys need a signed-in person; a wrong scheme or key is a clear 401.
        async with client(b) as anon:
            assert (await anon.post("/api/keys", json={"name": "x"})).status_code == 401
            r = await anon.get("/api/me", headers={"Authorization": "Basic abc"})
            assert r.status_code == 401 and "Bearer" in r.json()["detail"]
            r = await anon.get("/api/me", headers={"Authorization": "Bearer ar_nope"})
            assert r.status_code == 401
        # Someone else cannot revoke my key.
        other = await sign_in(b, smtp_server, "other@example.com")
        second = await api_key(browser, "laptop")
        kid = [k for k in (await browser.get("/api/keys")).json() if k["name"] == "laptop"][0]["id"]
        assert (await other.delete(f"/api/keys/{kid}")).status_code == 404
        async with client(b, headers={"Authorization": f"Bearer {second}"}) as laptop:
            assert (await laptop.get("/api/me")).status_code == 200
        await browser.aclose()
        await other.aclose()
