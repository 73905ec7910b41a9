"""The backend process killed and started again mid-task, and mid-FBX step: the task finishes
with nobody touching it, because its state lives in the database."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from webkit import TINY_FBX, TINY_GLB, BackendProcess, FakeWorker, free_port


def _env(tmp: Path, db_url: str, worker: str, port: int) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "AUTORIG_DATA_DIR": str(tmp),
        "WORKERS": worker,
        "WORKER_TOKEN": "test-token",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DISPATCH_INTERVAL_S": "0.5",
        "PROGRESS_INTERVAL_S": "0.3",
        "MAILER_INTERVAL_S": "0.5",
        "INSTANCE_ID": "restart-test",
    }


def _wait(url: str, pred, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        t = httpx.get(url, timeout=5).json()
        if pred(t):
            return t
        if time.monotonic() > deadline:
            raise TimeoutError(str(t))
        time.sleep(0.1)


def test_backend_killed_mid_job_finishes_after_restart(tmp_path: Path, db_url: str, fake_workers) -> None:
    w = FakeWorker(job_seconds=3.0).start()
    fake_workers.append(w)
    port = free_port()
    backend = BackendProcess(_env(tmp_path, db_url, w.url, port), port, tmp_path).start()
    try:
        r = httpx.post(f"{backend.url}/api/task/create", files={"file": ("hero.glb", TINY_GLB)}, data={"email": "a@b.co"})
        tid = r.json()["task_id"]
        task_url = f"{backend.url}/api/task/{tid}"
        _wait(task_url, lambda t: t["status"] == "processing" and t["ready_count"] >= 1)
        backend.kill()
        time.sleep(1.0)  # the job goes on without the backend
        backend.start()
        t = _wait(task_url, lambda t: t["status"] in ("done", "error"))
        assert t["status"] == "done" and t["attempts"] == 1 and t["ready_count"] == 12
        assert w.stats()["submitted"] == 1
        assert httpx.get(f"{backend.url}/api/task/{tid}/files/viewer.glb").content.startswith(b"glTF")
        # The email decided before or after the restart went out once, to the outbox folder.
        outbox = tmp_path / "outbox"
        _wait(task_url, lambda _t: len(list(outbox.glob("*.eml"))) == 1)
    finally:
        backend.stop()


def test_backend_killed_mid_fbx_step_resumes_it(tmp_path: Path, db_url: str, fake_workers) -> None:
    w = FakeWorker(job_seconds=0.5, convert_seconds=3.0).start()
    fake_workers.append(w)
    port = free_port()
    backend = BackendProcess(_env(tmp_path, db_url, w.url, port), port, tmp_path).start()
    try:
        r = httpx.post(f"{backend.url}/api/task/create", files={"file": ("guy.fbx", TINY_FBX)})
        tid = r.json()["task_id"]
        task_url = f"{backend.url}/api/task/{tid}"
        t = _wait(task_url, lambda t: t["fbx"]["status"] == "running")
        assert t["status"] == "created" and t["fbx"]["status"] == "running"
        backend.kill()
        backend.start()
        t = _wait(task_url, lambda t: t["status"] in ("done", "error"))
        assert t["status"] == "done" and t["fbx"]["status"] == "done"
        stats = w.stats()
        assert stats["convert_calls"] == 2  # the interrupted call, and the resumed one
        assert stats["submitted"] == 1
    finally:
        backend.stop()
