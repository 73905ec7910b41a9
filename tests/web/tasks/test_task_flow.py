"""A task from upload to downloadable files through a real (fake) worker process, on SQLite and
PostgreSQL: the queue, the FBX step, retries, restarts, and the errors bad input gets."""

from __future__ import annotations

import asyncio
import email
from pathlib import Path

import httpx
import pytest
from webkit import TINY_FBX, TINY_GLB, TINY_OBJ, FakeWorker, free_port, running_backend, web_settings

from autorig import protocol

pytestmark = pytest.mark.asyncio


async def test_upload_to_done_files_downloadable_email_sent(tmp_path: Path, db_url: str, fake_workers, smtp_server) -> None:
    w = FakeWorker(job_seconds=1.0, capacity=1, token="test-token").start()
    fake_workers.append(w)
    settings = web_settings(
        tmp_path, db_url, [w.url], free_port(), smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_tls="none"
    )
    async with running_backend(settings) as b:
        r = await b.create(TINY_GLB, "My Hero.glb", email="owner@example.com")
        assert r.status_code == 201, r.text
        created = r.json()
        tid = created["task_id"]
        assert created["task_url"] == f"{b.url}/task/{tid}"
        t = await b.task(tid)
        assert t["status"] == "created" and t["queue"]["position"] == 1
        # The upload is in storage under a public URL, and the worker fetched it from there.
        assert t["input_url"].startswith(f"{b.url}/storage/") and t["input_url"].endswith(".glb")
        assert (await b.http.get(t["input_url"])).content == TINY_GLB

        t = await b.until(tid, {"done", "error"})
        assert t["status"] == "done", t
        assert w.stats()["inputs"] == [t["input_url"]]
        names = protocol.output_files("My_Hero")
        assert [f["name"] for f in t["files"]] == names
        assert t["ready_count"] == len(names) == t["total_count"] and t["progress"] == 1.0
        assert t["missing_files"] == [] and t["attempts"] == 1
        assert t["preview_video_url"] == f"{b.url}/api/task/{tid}/files/preview.mp4"
        # Results live in the backend's storage, byte for byte what the worker made; the free
        # previews download by anyone with the link, the paid files need an account (issue 6).
        guid = (await _row(b, tid)).guid
        for f in t["files"]:
            direct = httpx.get(f"{w.url}/files/{guid}/{f['name']}", headers={protocol.TOKEN_HEADER: "test-token"})
            assert direct.status_code == 200 and b.stored(tid, f["name"]) == direct.content
            if f["kind"] == "preview":
                got = await b.http.get(f["url"])
                assert got.status_code == 200 and got.content == direct.content
        assert (await b.http.get(f"/api/task/{tid}/files/nope.glb")).status_code == 404

        for _ in range(50):
            if smtp_server.inbox.messages:
                break
            await b.ctx.mailer.run_once()
            await asyncio.sleep(0.1)
        (sender, rcpts, raw) = smtp_server.inbox.messages[0]
        msg = email.message_from_bytes(raw)
        assert rcpts == ["owner@example.com"]
        assert f"{b.url}/task/{tid}" in msg.get_payload()
        assert "My Hero.glb" in msg["Subject"]


async def test_missing_outputs_recorded_when_the_job_is_done(tmp_path: Path, db_url: str, fake_workers) -> None:
    w = FakeWorker(job_seconds=0.6, produce=2).start()
    fake_workers.append(w)
    async with running_backend(web_settings(tmp_path, db_url, [w.url], free_port())) as b:
        tid = (await b.create()).json()["task_id"]
        t = await b.until(tid, {"done", "error"})
        assert t["status"] == "done"
        assert [f["name"] for f in t["files"]] == ["hero.glb", "hero.fbx", *protocol.PREVIEWS]
        assert t["missing_files"] == [n for n in protocol.output_files("hero")[2:9]]


async def test_fbx_input_goes_through_the_conversion_step(tmp_path: Path, db_url: str, fake_workers) -> None:
    w = FakeWorker(job_seconds=0.5, convert_seconds=0.3).start()
    fake_workers.append(w)
    async with running_backend(web_settings(tmp_path, db_url, [w.url], free_port())) as b:
        tid = (await b.create(TINY_FBX, "guy.fbx")).json()["task_id"]
        t = await b.task(tid)
        assert t["source_format"] == "fbx" and t["fbx"]["status"] == "pending"
        t = await b.until(tid, {"done", "error"})
        assert t["status"] == "done"
        # The converted .glb was copied into the backend's storage; the rig job read it from there.
        assert t["fbx"]["status"] == "done" and t["fbx"]["glb_url"] == f"{b.url}/storage/tasks/{tid}/input/guy.glb"
        assert (await b.http.get(t["fbx"]["glb_url"])).content.startswith(b"glTF")
        stats = w.stats()
        assert stats["converted"] == 1
        assert stats["inputs"][-1] == t["fbx"]["glb_url"]
        assert [f["name"] for f in t["files"]][0] == "guy.glb"


async def test_failed_job_is_retried_then_error_after_three_attempts(tmp_path: Path, db_url: str, fake_workers) -> None:
    w = FakeWorker(job_seconds=0.4, fail_jobs=99).start()
    fake_workers.append(w)
    async with running_backend(web_settings(tmp_path, db_url, [w.url], free_port(), restart_after_error_s=0.5)) as b:
        tid = (await b.create()).json()["task_id"]
        t = await b.until(tid, {"error"}, timeout=30)
        assert t["attempts"] == 3 and w.stats()["submitted"] == 3
        assert "failed after 3 attempts" in t["error"] and "signal 9" in t["error"]
        # Restart is offered a while after the error, and runs the task again under the same id.
        await asyncio.sleep(0.6)
        t = await b.task(tid)
        assert t["restart"]["allowed"] is True
        r = await b.http.post(f"/api/task/{tid}/restart")
        assert r.status_code == 200 and r.json()["status"] == "created" and r.json()["attempts"] == 0


async def test_restart_refused_before_it_is_offered(tmp_path: Path, db_url: str) -> None:
    async with running_backend(web_settings(tmp_path, db_url, [], free_port())) as b:
        tid = (await b.create()).json()["task_id"]
        r = await b.http.post(f"/api/task/{tid}/restart")
        assert r.status_code == 409 and r.json()["error"] == "RestartNotAllowed"
        r = await b.http.get("/api/task/doesnotexist")
        assert r.status_code == 404 and r.json() == {"error": "NotFound", "detail": "no task 'doesnotexist'"}


async def test_bad_uploads_get_clear_errors_and_leave_nothing(tmp_path: Path, db_url: str) -> None:
    settings = web_settings(tmp_path, db_url, [], free_port(), max_upload_mb=1)
    async with running_backend(settings) as b:
        r = await b.create(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "picture.glb")
        assert r.status_code == 400 and "not a GLB, glTF, FBX, OBJ or ZIP" in r.json()["detail"]
        r = await b.create(b"", "empty.glb")
        assert r.status_code == 400 and "empty" in r.json()["detail"]
        r = await b.create(TINY_GLB + b"\x00" * (2 * 1024 * 1024), "huge.glb")
        assert r.status_code == 413 and "1 MB" in r.json()["detail"]
        r = await b.http.post("/api/task/create", data={"email": "a@b.c"})
        assert r.status_code == 400
        r = await b.http.post("/api/task/create", json={"input_url": "ftp://example.com/x.glb"})
        assert r.status_code == 400 and "http" in r.json()["detail"]
        r = await b.create(TINY_GLB, "x.glb", email="not an email")
        assert r.status_code == 400
        r = await b.create(TINY_GLB, "x.glb", skeleton="dragon")
        assert r.status_code == 400 and "mixamo" in r.json()["detail"]
        r = await b.create(TINY_GLB, "x.glb", fingers="ten")
        assert r.status_code == 400 and "auto" in r.json()["detail"]
        # Nothing was kept: no task, no stored or half-received file.
        q = (await b.http.get("/api/queue/status")).json()
        assert q["tasks_waiting"] == 0
        storage = settings.storage_root
        assert [p for p in storage.rglob("*") if p.is_file()] == []
        # A good OBJ still goes in.
        r = await b.create(TINY_OBJ, "thing.obj")
        assert r.status_code == 201


async def test_input_url_task_is_an_ordinary_task(tmp_path: Path, db_url: str, fake_workers) -> None:
    w = FakeWorker(job_seconds=0.3).start()
    fake_workers.append(w)
    async with running_backend(web_settings(tmp_path, db_url, [w.url], free_port())) as b:
        # The model lives on some web server: here, the backend's own storage of an earlier upload.
        first = (await b.create(TINY_GLB, "source.glb")).json()["task_id"]
        url = (await b.task(first))["input_url"]
        r = await b.http.post("/api/task/create", json={"input_url": url, "email": "x@example.com"})
        assert r.status_code == 201
        tid = r.json()["task_id"]
        t = await b.until(tid, {"done", "error"})
        assert t["status"] == "done" and t["input_url"] == url and t["source_name"].endswith(".glb")


async def test_restart_offered_when_processing_stalls(tmp_path: Path, db_url: str, fake_workers) -> None:
    w = FakeWorker(job_seconds=60.0, capacity=2).start()
    fake_workers.append(w)
    async with running_backend(web_settings(tmp_path, db_url, [w.url], free_port(), stall_restart_s=0.5)) as b:
        tid = (await b.create()).json()["task_id"]
        await b.ctx.dispatch.run_once()
        t = await b.task(tid)
        assert t["status"] == "processing" and t["restart"]["allowed"] is False
        first_job = (await _row(b, tid)).worker_task_id
        await asyncio.sleep(0.7)  # no progress recorded since the job started
        t = await b.task(tid)
        assert t["restart"]["allowed"] is True
        r = await b.http.post(f"/api/task/{tid}/restart")
        assert r.status_code == 200
        t = r.json()
        assert (
            t["task_id"] == tid
            and t["status"] == "created"
            and t["restarts"] == 1
            and (await _row(b, tid)).worker_task_id is None
        )
        await b.ctx.dispatch.run_once()
        t = await b.task(tid)
        assert t["status"] == "processing" and (await _row(b, tid)).worker_task_id not in (None, first_job) and t["attempts"] == 1


async def _row(b, task_id: str):  # type: ignore[no-untyped-def]
    """The task's database row (where it runs is not in the public view), detached, loaded."""
    async with b.ctx.db.read_session() as s:
        task = await b.ctx.tasks.get(s, task_id)
        s.expunge(task)
        return task
