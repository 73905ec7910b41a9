"""The admin API through HTTP: every ``/api/admin/*`` route refuses non-admins (the test walks
the app's routes, so a new route cannot be forgotten); people and balances, adjustments with
the admin's name in the ledger, a user's tasks, task restart and delete (row and files),
workers with health and queue, and the service restart (a command, or re-executing itself)."""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path

import httpx
import pytest
from accountkit import account_settings, api_key, balance, client, done_task, sign_in
from starlette.routing import Route
from webkit import TINY_GLB, BackendProcess, FakeWorker, free_port, running_backend

from autorig.config import WebSettings
from autorig.web.app import create_app
from autorig.web.db import Database
from autorig.web.domains.apikeys.service import ApiKeyService
from autorig.web.domains.credits.service import CreditService
from autorig.web.domains.users.service import UserService

ADMIN = "admin@example.com"


def _routes(routes) -> list[Route]:
    """Every route of the app, through included routers."""
    out = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            out += _routes(inner.routes)
        elif isinstance(r, Route):
            out.append(r)
    return out


def admin_routes() -> list[tuple[str, str]]:
    app = create_app(WebSettings(_env_file=None))
    found = []
    for r in _routes(app.routes):
        if r.path.startswith("/api/admin"):
            path = re.sub(r"\{[^}]+\}", "x1", r.path)
            found += [(m, path) for m in sorted(r.methods or []) if m != "HEAD"]
    return found


def test_the_walk_finds_the_admin_routes() -> None:
    found = admin_routes()
    assert ("POST", "/api/admin/service/restart") in found and ("DELETE", "/api/admin/task/x1") in found
    assert len(found) >= 10


@pytest.mark.asyncio
async def test_every_admin_route_refuses_non_admins(tmp_path: Path, sqlite_url: str, smtp_server) -> None:
    settings = account_settings(tmp_path, sqlite_url, [], free_port(), smtp_server, admin_emails=[ADMIN])
    async with running_backend(settings) as b:
        user = await sign_in(b, smtp_server, "user@example.com")
        key = await api_key(user)
        async with client(b) as anon, client(b, headers={"Authorization": f"Bearer {key}"}) as script:
            for method, path in admin_routes():
                r = await anon.request(method, path, json={"amount": 5})
                assert r.status_code == 401, (method, path, r.status_code)
                r = await user.request(method, path, json={"amount": 5})
                assert r.status_code == 403, (method, path, r.status_code)
                r = await script.request(method, path, json={"amount": 5})
                assert r.status_code == 403, (method, path, r.status_code)
        assert await balance(user) == 30
        await user.aclose()


@pytest.mark.asyncio
async def test_admin_people_balances_tasks_workers(tmp_path: Path, db_url: str, smtp_server, fake_workers) -> None:
    w = FakeWorker(job_seconds=0.3).start()
    fake_workers.append(w)
    marker = tmp_path / "restarted.txt"
    settings = account_settings(
        tmp_path,
        db_url,
        [w.url, "http://127.0.0.1:9"],
        free_port(),
        smtp_server,
        admin_emails=[ADMIN],
        restart_command=[sys.executable, "-c", f"open({str(marker)!r}, 'w').write('ok')"],
    )
    async with running_backend(settings) as b:
        admin = await sign_in(b, smtp_server, ADMIN)
        alice = await sign_in(b, smtp_server, "alice@example.com")
        bob = await sign_in(b, smtp_server, "bob@example.com")
        await bob.aclose()
        t = await done_task(b, alice)
        tid = t["task_id"]

        users = (await admin.get("/api/admin/users")).json()
        assert users["total"] == 3 and {u["email"]: u["balance_credits"] for u in users["users"]} == {
            ADMIN: 30,
            "alice@example.com": 30,
            "bob@example.com": 30,
        }
        found = (await admin.get("/api/admin/users", params={"q": "ALI"})).json()["users"]
        assert [u["email"] for u in found] == ["alice@example.com"] and found[0]["tasks"] == 1
        alice_id = found[0]["id"]
        tasks = (await admin.get(f"/api/admin/users/{alice_id}/tasks")).json()["tasks"]
        assert [x["task_id"] for x in tasks] == [tid]

        r = await admin.post(f"/api/admin/users/{alice_id}/credits", json={"amount": 12, "note": "support ticket 7"})
        assert r.status_code == 200 and r.json()["balance_credits"] == 42
        assert r.json()["entry"]["actor"] == ADMIN and r.json()["entry"]["reason"] == "admin"
        r = await admin.post(f"/api/admin/users/{alice_id}/credits", json={"amount": -50})
        assert r.status_code == 400 and await balance(alice) == 42
        r = await admin.post(f"/api/admin/users/{alice_id}/credits", json={"amount": -2})
        assert r.json()["balance_credits"] == 40
        detail = (await admin.get(f"/api/admin/users/{alice_id}")).json()
        assert detail["ledger_sum"] == detail["user"]["balance_credits"] == 40
        assert [e["amount"] for e in detail["ledger"]] == [-2, 12, 30]
        assert (await admin.get("/api/admin/users/nobody")).status_code == 404

        workers = (await admin.get("/api/admin/workers")).json()
        assert [x["url"] for x in workers["workers"]] == [w.url, "http://127.0.0.1:9"]
        assert workers["workers"][0]["answering"] is True and workers["workers"][1]["answering"] is False
        assert workers["queue"]["workers"] == "1/2"

        # Restart a finished task at once (people wait for the offer), then delete it with its files.
        r = await admin.post(f"/api/admin/task/{tid}/restart")
        assert r.status_code == 200 and r.json()["status"] == "created" and r.json()["restarts"] == 1
        await b.until(tid, {"done"})
        await alice.get(f"/api/task/{tid}/files/hero.glb")  # a purchase row that must go too
        files_dir = settings.storage_root / "tasks" / tid
        assert any(files_dir.rglob("*.glb"))
        r = await admin.delete(f"/api/admin/task/{tid}")
        assert r.status_code == 200 and r.json()["deleted"] is True
        assert (await admin.get(f"/api/task/{tid}")).status_code == 404
        assert not files_dir.exists()
        assert (await admin.delete(f"/api/admin/task/{tid}")).status_code == 404
        assert await balance(alice) == 39  # the ledger keeps its history

        # Service restart: 202 at once, then RESTART_COMMAND runs.
        r = await admin.post("/api/admin/service/restart")
        assert r.status_code == 202 and r.json()["restarting"] is True
        for _ in range(100):
            if marker.exists():
                break
            await asyncio.sleep(0.05)
        assert marker.read_text() == "ok"
        await admin.aclose()
        await alice.aclose()


def _admin_key(tmp: Path, db_url: str) -> str:
    """An admin with an API key, made in the database before the backend process starts."""
    settings = WebSettings(_env_file=None, data_dir=tmp, database_url=db_url, admin_emails=[ADMIN])

    async def make() -> str:
        db = Database(db_url)
        await db.migrate()
        async with db.session() as s:
            user, _ = await UserService(settings, CreditService(settings)).get_or_create(s, ADMIN)
            _, secret = await ApiKeyService().create(s, user.id, "ops")
        await db.dispose()
        return secret

    return asyncio.run(make())


def test_service_restart_reexecutes_the_process(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'svc.db'}"
    key = _admin_key(tmp_path, db_url)
    port = free_port()
    env = {
        "DATABASE_URL": db_url,
        "AUTORIG_DATA_DIR": str(tmp_path),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ADMIN_EMAILS": ADMIN,
        "WORKERS": "",
        "INSTANCE_ID": "restart-self",
    }
    proc = BackendProcess(env, port, tmp_path).start()
    try:
        auth = {"Authorization": f"Bearer {key}"}
        before = httpx.get(f"{proc.url}/api/admin/service", headers=auth, timeout=10).json()
        tid = httpx.post(f"{proc.url}/api/task/create", files={"file": ("a.glb", TINY_GLB)}, headers=auth, timeout=10).json()[
            "task_id"
        ]
        r = httpx.post(f"{proc.url}/api/admin/service/restart", headers=auth, timeout=10)
        assert r.status_code == 202 and r.json()["how"] == "re-execute"
        deadline = time.monotonic() + 30
        after = before
        while after["started_at"] == before["started_at"]:
            assert time.monotonic() < deadline, "the service did not come back"
            assert proc.proc.poll() is None, "the process exited instead of re-executing"
            try:
                after = httpx.get(f"{proc.url}/api/admin/service", headers=auth, timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.1)
        assert after["pid"] == before["pid"] == proc.proc.pid  # the same process, started afresh
        assert httpx.get(f"{proc.url}/api/task/{tid}", timeout=5).json()["status"] == "created"
    finally:
        proc.stop()
