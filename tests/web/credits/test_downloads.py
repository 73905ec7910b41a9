"""Paying for downloads through HTTP, on SQLite and PostgreSQL: 1 credit a file, 3 for the set
as a ZIP, free again once paid, free previews, 402 with the buy link at zero, admins free, and
the parallel cases: 20 requests for one file charge once; 2 credits buy exactly 2 of 5 files."""

from __future__ import annotations

import asyncio
import io
import zipfile
from pathlib import Path

import pytest
from accountkit import account_settings, balance, done_task, sign_in
from webkit import FakeWorker, free_port, running_backend

from autorig import protocol
from autorig.web.domains.credits import repository as credits_repo

pytestmark = pytest.mark.asyncio


def _names(task: dict) -> tuple[list[str], list[str]]:
    downloads = [f["name"] for f in task["files"] if f["kind"] == "download"]
    previews = [f["name"] for f in task["files"] if f["kind"] == "preview"]
    return downloads, previews


async def _ledger_explains_balance(b, email: str) -> int:
    from autorig.web.domains.users import repository as users_repo

    async with b.ctx.db.read_session() as s:
        user = await users_repo.by_email(s, email)
        assert user.balance_credits == await credits_repo.ledger_sum(s, user.id)
        return user.balance_credits


async def test_pay_per_file_and_for_the_set_free_again_402_at_zero(
    tmp_path: Path, db_url: str, fake_workers, smtp_server
) -> None:
    w = FakeWorker(job_seconds=0.3).start()
    fake_workers.append(w)
    settings = account_settings(
        tmp_path, db_url, [w.url], free_port(), smtp_server, user_free_limit=5, admin_emails=["boss@example.com"]
    )
    async with running_backend(settings) as b:
        owner = await sign_in(b, smtp_server, "owner@example.com")
        t = await done_task(b, owner)
        tid = t["task_id"]
        downloads, previews = _names(t)
        assert len(downloads) == 9 and previews == list(protocol.PREVIEWS)
        assert t["download_all_url"] == f"{b.url}/api/task/{tid}/download-all"

        # Previews are free, even anonymously; downloads are not.
        for name in previews:
            assert (await b.http.get(f"/api/task/{tid}/files/{name}")).status_code == 200
        r = await b.http.get(f"/api/task/{tid}/files/{downloads[0]}")
        assert r.status_code == 401 and r.json()["sign_in_url"].endswith("/login")
        # Paid files never leak through the public storage route (only uploads are served there).
        assert (await b.http.get(t["input_url"])).status_code == 200
        assert (await b.http.get(f"/storage/tasks/{tid}/out/{downloads[0]}")).status_code == 404

        # The owner pays like anyone else: 1 credit a file, once.
        r = await owner.get(f"/api/task/{tid}/files/{downloads[0]}")
        assert r.status_code == 200 and r.content.startswith(b"glTF")
        assert await balance(owner) == 4
        for _ in range(3):
            assert (await owner.get(f"/api/task/{tid}/files/{downloads[0]}")).status_code == 200
        assert await balance(owner) == 4
        paid = (await owner.get(f"/api/credits/task/{tid}")).json()
        assert paid["paid"] == [downloads[0]] and paid["all_paid"] is False and paid["balance_credits"] == 4

        # The set: 3 credits, one ZIP with the nine files; then every file is free.
        r = await owner.get(f"/api/task/{tid}/download-all")
        assert r.status_code == 200
        with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
            assert sorted(zf.namelist()) == sorted(downloads)
            direct = (await owner.get(f"/api/task/{tid}/files/{downloads[1]}")).content
            assert zf.read(downloads[1]) == direct
        assert await balance(owner) == 1
        for name in downloads:
            assert (await owner.get(f"/api/task/{tid}/files/{name}")).status_code == 200
        assert (await owner.get(f"/api/task/{tid}/download-all")).status_code == 200
        assert await balance(owner) == 1

        # Someone else with 5 credits: buys 1 file... and at zero gets 402 with the buy link.
        other = await sign_in(b, smtp_server, "other@example.com")
        for name in downloads[:5]:
            assert (await other.get(f"/api/task/{tid}/files/{name}")).status_code == 200
        assert await balance(other) == 0
        r = await other.get(f"/api/task/{tid}/files/{downloads[5]}")
        assert r.status_code == 402
        body = r.json()
        assert body["error"] == "PaymentRequired" and body["buy_url"] == f"{b.url}/buy-credits" and body["balance"] == 0
        assert (await other.get(f"/api/task/{tid}/download-all")).status_code == 402
        assert (await other.get(f"/api/task/{tid}/files/{downloads[0]}")).status_code == 200  # paid before: still free
        assert await _ledger_explains_balance(b, "other@example.com") == 0

        # An admin downloads without paying anything.
        boss = await sign_in(b, smtp_server, "boss@example.com")
        for name in downloads:
            assert (await boss.get(f"/api/task/{tid}/files/{name}")).status_code == 200
        assert (await boss.get(f"/api/task/{tid}/download-all")).status_code == 200
        assert await balance(boss) == 5
        assert await _ledger_explains_balance(b, "owner@example.com") == 1
        for c in (owner, other, boss):
            await c.aclose()


async def test_set_is_free_when_every_file_was_bought(tmp_path: Path, sqlite_url: str, fake_workers, smtp_server) -> None:
    w = FakeWorker(job_seconds=0.3).start()
    fake_workers.append(w)
    async with running_backend(account_settings(tmp_path, sqlite_url, [w.url], free_port(), smtp_server)) as b:
        buyer = await sign_in(b, smtp_server, "buyer@example.com")
        t = await done_task(b, buyer)
        downloads, _ = _names(t)
        for name in downloads:
            assert (await buyer.get(f"/api/task/{t['task_id']}/files/{name}")).status_code == 200
        assert await balance(buyer) == 21
        assert (await buyer.get(f"/api/task/{t['task_id']}/download-all")).status_code == 200
        assert await balance(buyer) == 21
        await buyer.aclose()


async def test_parallel_requests_charge_once_and_never_more_than_the_balance(
    tmp_path: Path, db_url: str, fake_workers, smtp_server
) -> None:
    w = FakeWorker(job_seconds=0.3).start()
    fake_workers.append(w)
    settings = account_settings(tmp_path, db_url, [w.url], free_port(), smtp_server, user_free_limit=2)
    async with running_backend(settings) as b:
        first = await sign_in(b, smtp_server, "first@example.com")
        t = await done_task(b, first)
        tid = t["task_id"]
        downloads, _ = _names(t)

        # 20 parallel requests for the same file: all served, 1 credit taken.
        rs = await asyncio.gather(*(first.get(f"/api/task/{tid}/files/{downloads[0]}") for _ in range(20)))
        assert [r.status_code for r in rs] == [200] * 20
        assert await balance(first) == 1
        assert await _ledger_explains_balance(b, "first@example.com") == 1

        # 2 credits, 5 different files at once: exactly 2 served, 3 refused with 402.
        second = await sign_in(b, smtp_server, "second@example.com")
        rs = await asyncio.gather(*(second.get(f"/api/task/{tid}/files/{n}") for n in downloads[:5]))
        codes = sorted(r.status_code for r in rs)
        assert codes == [200, 200, 402, 402, 402], codes
        assert await balance(second) == 0
        assert await _ledger_explains_balance(b, "second@example.com") == 0
        paid = (await second.get(f"/api/credits/task/{tid}")).json()["paid"]
        assert sorted(paid) == sorted(n for n, r in zip(downloads[:5], rs, strict=False) if r.status_code == 200)

        # The set in parallel with too few credits for it: all refused, nothing taken.
        rs = await asyncio.gather(*(second.get(f"/api/task/{tid}/download-all") for _ in range(5)))
        assert {r.status_code for r in rs} == {402}
        await first.aclose()
        await second.aclose()
