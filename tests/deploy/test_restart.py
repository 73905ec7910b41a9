"""``POST /api/admin/service/restart`` under the deploy kit's unit: a graceful stop, then exit
status 75, which the unit's ``RestartForceExitStatus=75`` turns into a fresh start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from webkit import REPO, BackendProcess, free_port

from autorig.config import WebSettings
from autorig.web.db import Database
from autorig.web.domains.admin.service import RESTART_EXIT_STATUS
from autorig.web.domains.apikeys.service import ApiKeyService
from autorig.web.domains.credits.service import CreditService
from autorig.web.domains.users.service import UserService

ADMIN = "ops@example.com"


def admin_key(tmp: Path, db_url: str) -> str:
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


def test_restart_under_the_unit_exits_for_systemd_to_start_again(tmp_path: Path) -> None:
    unit = (REPO / "deploy" / "autorig-backend.service.in").read_text()
    assert "Environment=AUTORIG_SYSTEMD_UNIT=autorig-backend.service" in unit
    assert f"RestartForceExitStatus={RESTART_EXIT_STATUS}" in unit
    db_url = f"sqlite:///{tmp_path / 'svc.db'}"
    key = admin_key(tmp_path, db_url)
    port = free_port()
    env = {
        "DATABASE_URL": db_url,
        "AUTORIG_DATA_DIR": str(tmp_path),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "ADMIN_EMAILS": ADMIN,
        "WORKERS": "",
        "AUTORIG_SYSTEMD_UNIT": "autorig-backend.service",
    }
    proc = BackendProcess(env, port, tmp_path).start()
    try:
        auth = {"Authorization": f"Bearer {key}"}
        assert "autorig-backend.service" in httpx.get(f"{proc.url}/api/admin/service", headers=auth, timeout=10).json()["restart"]
        r = httpx.post(f"{proc.url}/api/admin/service/restart", headers=auth, timeout=10)
        assert r.status_code == 202 and "systemd" in r.json()["how"]
        assert proc.proc.wait(30) == RESTART_EXIT_STATUS
    finally:
        proc.stop()
