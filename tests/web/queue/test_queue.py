"""The queue with slow workers: tasks wait while no worker is free, two workers share the queue,
positions and the wait estimate, and a worker killed mid-job leads to a retry on the other."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from webkit import FakeWorker, free_port, running_backend, web_settings

from autorig.web.domains.queue.service import format_wait, wait_seconds


def test_wait_estimate_arithmetic() -> None:
    assert wait_seconds(1, free_slots=1, capacity=2, avg_job_s=100) == 0.0
    assert wait_seconds(2, free_slots=0, capacity=2, avg_job_s=100) == 50.0  # first round, half done
    assert wait_seconds(3, free_slots=0, capacity=2, avg_job_s=100) == 150.0
    assert wait_seconds(1, free_slots=0, capacity=0, avg_job_s=100) is None
    assert format_wait(0) == "less than a minute"
    assert format_wait(150) == "about 3 min"
    assert format_wait(3 * 3600 + 60) == "about 3 h 1 min"
    assert "no worker" in format_wait(None)


async def test_tasks_wait_while_no_worker_is_free_and_two_workers_share(tmp_path: Path, db_url: str, fake_workers) -> None:
    a = FakeWorker(job_seconds=2.0, capacity=1).start()
    b_ = FakeWorker(job_seconds=2.0, capacity=1).start()
    fake_workers += [a, b_]
    async with running_backend(web_settings(tmp_path, db_url, [a.url, b_.url], free_port())) as b:
        ids = [(await b.create(filename=f"m{i}.glb")).json()["task_id"] for i in range(4)]
        q = (await b.http.get("/api/queue/status")).json()
        assert q["tasks_waiting"] == 4 and q["workers"] == "0/2"  # nobody asked the workers yet
        await b.ctx.dispatch.run_once()
        q = (await b.http.get("/api/queue/status", params={"task_id": ids[3]})).json()
        assert q["workers"] == "2/2" and q["capacity"] == 2
        assert q["tasks_processing"] == 2 and q["tasks_waiting"] == 2 and q["free_slots"] == 0
        assert q["position"] == 2
        # Both workers busy: the avg job length (2 s from the workers) and one round for #2.
        assert q["estimated_wait_seconds"] == pytest.approx(1.0)
        assert q["estimated_wait_formatted"] == "less than a minute"
        tasks = [await b.task(i) for i in ids]
        assert [t["status"] for t in tasks] == ["processing", "processing", "created", "created"]
        assert {(await b.internal(ids[0]))["worker"], (await b.internal(ids[1]))["worker"]} == {a.url, b_.url}
        assert tasks[2]["queue"]["position"] == 1 and tasks[3]["queue"]["position"] == 2
        # Dispatching again while both are busy gives nothing away.
        await b.ctx.dispatch.run_once()
        assert (await b.task(ids[2]))["status"] == "created"
        assert a.stats()["rejected_busy"] == 0 and b_.stats()["rejected_busy"] == 0
        done = [await b.until(i, {"done", "error"}, timeout=40) for i in ids]
        assert [t["status"] for t in done] == ["done"] * 4
        assert {(await b.internal(i))["worker"] for i in ids} == {a.url, b_.url}
        assert a.stats()["submitted"] == 2 and b_.stats()["submitted"] == 2


async def test_estimate_uses_recent_job_durations(tmp_path: Path, sqlite_url: str, fake_workers) -> None:
    w = FakeWorker(job_seconds=0.5, capacity=1).start()
    fake_workers.append(w)
    async with running_backend(web_settings(tmp_path, sqlite_url, [w.url], free_port())) as b:
        first = (await b.create()).json()["task_id"]
        await b.until(first, {"done"})
        for _ in range(3):
            await b.create()
        q = (await b.http.get("/api/queue/status")).json()
        # Measured from the finished task (about 0.5-1 s), not the 60 s default.
        assert 0.3 < q["avg_job_seconds"] < 5
        assert q["position"] == 4 and q["tasks_waiting"] == 3


async def test_worker_killed_mid_job_is_retried_on_the_other(tmp_path: Path, db_url: str, fake_workers) -> None:
    a = FakeWorker(job_seconds=30.0, capacity=1).start()
    b_ = FakeWorker(job_seconds=0.5, capacity=1).start()
    fake_workers += [a, b_]
    settings = web_settings(tmp_path, db_url, [a.url], free_port(), worker_dead_after_s=1.0)
    async with running_backend(settings) as b:
        tid = (await b.create()).json()["task_id"]
        await b.ctx.dispatch.run_once()
        t = await b.task(tid)
        assert t["status"] == "processing" and (await b.internal(tid))["worker"] == a.url
        await b.ctx.progress.run_once()
        # The second worker joins the pool; the first dies mid-job.
        settings.workers.append(b_.url)
        a.kill()
        t0 = time.monotonic()
        while (await b.task(tid))["status"] == "processing":
            await b.ctx.progress.run_once()
            await asyncio.sleep(0.2)
            assert time.monotonic() - t0 < 10
        t = await b.task(tid)
        assert t["status"] == "created" and "stopped answering" in (await b.internal(tid))["last_error"] and t["attempts"] == 1
        t = await b.until(tid, {"done", "error"})
        assert t["status"] == "done" and (await b.internal(tid))["worker"] == b_.url and t["attempts"] == 2
