"""Fifty requests at once for one person's downloads (issue 11: 36 of 50 "download all"
answered 500 after 30 s when the connection pool ran dry while ZIPs were built inside held
sessions). On SQLite and PostgreSQL: every answer is 200 or 402, the ZIP is built once and is
the same for everyone, and the ledger explains the balance."""

from __future__ import annotations

import asyncio
import io
import zipfile
from pathlib import Path

from accountkit import account_settings, balance, done_task, sign_in
from webkit import FakeWorker, free_port, running_backend

from autorig.web.domains.credits import repository as credits_repo
from autorig.web.domains.users import repository as users_repo

PARALLEL = 50


async def _ledger_balance(b, email: str) -> int:
    async with b.ctx.db.read_session() as s:
        user = await users_repo.by_email(s, email)
        assert user.balance_credits == await credits_repo.ledger_sum(s, user.id)
        return user.balance_credits


async def test_fifty_parallel_downloads_answer_200_or_402_and_charge_right(
    tmp_path: Path, db_url: str, fake_workers, smtp_server
) -> None:
    w = FakeWorker(job_seconds=0.3).start()
    fake_workers.append(w)
    settings = account_settings(tmp_path, db_url, [w.url], free_port(), smtp_server, user_free_limit=4)
    async with running_backend(settings) as b:
        rich = await sign_in(b, smtp_server, "rich@example.com")
        t = await done_task(b, rich)
        tid = t["task_id"]
        downloads = [f["name"] for f in t["files"] if f["kind"] == "download"]

        # One person, 50 "download all" at once: all served, charged once, one ZIP for all.
        rs = await asyncio.gather(*(rich.get(f"/api/task/{tid}/download-all") for _ in range(PARALLEL)))
        assert [r.status_code for r in rs] == [200] * PARALLEL, {r.status_code: r.text[:200] for r in rs}
        assert len({r.content for r in rs}) == 1
        with zipfile.ZipFile(io.BytesIO(rs[0].content)) as zf:
            assert sorted(zf.namelist()) == sorted(downloads)
        assert await balance(rich) == 1 and await _ledger_balance(b, "rich@example.com") == 1
        zips = list((tmp_path / "storage" / "tasks" / tid / "zip").rglob("*.zip"))
        assert len(zips) == 1, zips

        # Another person with 4 credits: 25 "download all" and 25 single files (9 names) at
        # once. Whatever order they run in, each answer is 200 or 402 and the credits add up.
        poor = await sign_in(b, smtp_server, "poor@example.com")
        urls = [f"/api/task/{tid}/download-all"] * (PARALLEL // 2)
        urls += [f"/api/task/{tid}/files/{downloads[i % len(downloads)]}" for i in range(PARALLEL // 2)]
        rs = await asyncio.gather(*(poor.get(u) for u in urls))
        codes = [r.status_code for r in rs]
        assert set(codes) <= {200, 402}, {r.status_code: r.text[:200] for r in rs}
        left = await _ledger_balance(b, "poor@example.com")
        paid = (await poor.get(f"/api/credits/task/{tid}")).json()
        spent = (3 if paid["all_paid"] else 0) + len(paid["paid"])
        assert left >= 0 and 4 - left == spent, (left, paid)
        # Every file answered 200 was paid for (alone, or with the set).
        for u, r in zip(urls, rs, strict=False):
            if r.status_code == 200 and "/files/" in u:
                assert paid["all_paid"] or u.rsplit("/", 1)[1] in paid["paid"]
            if r.status_code == 200 and u.endswith("download-all"):
                assert paid["all_paid"]
        # The service answers normally afterwards.
        assert (await b.http.get(f"/api/task/{tid}")).status_code == 200
        await rich.aclose()
        await poor.aclose()
