"""The JobManager in-process: clean-up of old jobs, and recovery after a crash (real processes)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta

from workerkit import pid_alive, wait_for

from autorig.config import WorkerSettings
from autorig.protocol import JobState
from autorig.worker.jobs import JobManager
from autorig.worker.loops import CleanupLoop
from autorig.worker.store import JobRecord, utcnow


def settings(tmp_path, **kw) -> WorkerSettings:
    return WorkerSettings(own_dir=tmp_path / "w", token="t", min_free_disk_mb=0, **kw)


def record(job_id: str, **kw) -> JobRecord:
    return JobRecord(id=job_id, guid=f"guid-{job_id}", input_url="http://example.com/m.glb", name="m", outputs=["m.glb"], **kw)


def test_cleanup_removes_only_expired_finished_jobs(tmp_path):
    manager = JobManager(settings(tmp_path, keep_outputs_hours=1))
    now = utcnow()
    old = record("old", state=JobState.done, finished_at=now - timedelta(hours=2))
    recent = record("recent", state=JobState.done, finished_at=now - timedelta(minutes=10))
    running = record("running", state=JobState.running, created_at=now - timedelta(hours=5))
    for job in (old, recent, running):
        manager.store.add(job)
        (manager.store.out_dir(job.id) / "m.glb").write_bytes(b"glTF")
    asyncio.run(CleanupLoop(manager).run_once())
    assert not manager.store.job_dir("old").exists() and manager.store.get("old") is None
    assert manager.store.by_guid("guid-old") is None
    assert (manager.store.out_dir("recent") / "m.glb").exists()
    assert manager.store.get("running") is not None


def test_recovery_kills_the_orphan_engine_and_fails_the_job(tmp_path):
    manager = JobManager(settings(tmp_path))
    manager.store.add(record("crashed", state=JobState.running))
    job_dir = manager.store.job_dir("crashed")
    # An engine left behind by a worker that died: its command line names the job's folder,
    # and it leads its own process group like the real ones.
    orphan = subprocess.Popen(
        [sys.executable, "-c", "import time, sys; time.sleep(60)", str(job_dir / "input" / "m.glb")],
        start_new_session=True,
    )
    # A process that merely has the recorded pid (reused) must be left alone.
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    manager.store.add(record("reused", state=JobState.running, pid=bystander.pid))
    manager.store.update("crashed", pid=orphan.pid)
    try:
        again = JobManager(settings(tmp_path))
        assert sorted(again.recover()) == ["crashed", "reused"]
        orphan.wait(timeout=10)
        assert orphan.returncode == -9
        assert pid_alive(bystander.pid)
        job = again.get("crashed")
        assert job.state == JobState.failed and job.pid is None
        assert job.error == "the worker restarted while the job was running; submit it again"
        assert "killed the engine process" in (job_dir / "worker.log").read_text()
    finally:
        for p in (orphan, bystander):
            p.kill()
            p.wait()
    wait_for(lambda: not pid_alive(bystander.pid), 5, what="bystander to end")


def test_average_job_seconds_come_from_recent_done_jobs(tmp_path):
    manager = JobManager(settings(tmp_path))
    now = utcnow()
    for i, seconds in enumerate((10, 20, 30)):
        manager.store.add(record(f"j{i}", state=JobState.done, created_at=now - timedelta(seconds=seconds), finished_at=now))
    manager.store.add(record("bad", state=JobState.failed, created_at=now - timedelta(hours=1), finished_at=now))
    again = JobManager(settings(tmp_path))
    again.recover()
    assert again.status().avg_job_seconds == 20.0
