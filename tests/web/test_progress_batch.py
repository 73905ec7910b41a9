"""The progress cycle asks each worker once (``POST /api/jobs/status``), not twice per task;
a worker from before that route is still followed, the old way."""

from __future__ import annotations

from pathlib import Path

import pytest
from webkit import TINY_GLB, FakeWorker, free_port, running_backend, web_settings


@pytest.mark.parametrize("old_worker", [False, True], ids=["batch", "old-worker"])
async def test_one_request_per_worker_per_cycle(tmp_path: Path, db_url: str, fake_workers, old_worker: bool) -> None:
    workers = [FakeWorker(job_seconds=1.0, capacity=3, no_batch=old_worker).start() for _ in range(2)]
    fake_workers.extend(workers)
    settings = web_settings(tmp_path, db_url, [w.url for w in workers], free_port())
    async with running_backend(settings) as b:
        ids = [(await b.create(TINY_GLB, f"hero{i}.glb")).json()["task_id"] for i in range(5)]
        await b.ctx.dispatch.run_once()
        for tid in ids:
            t = await b.until(tid, {"done", "error"})
            assert t["status"] == "done" and t["ready_count"] == 12, t
        stats = [w.stats() for w in workers]
        assert all(s["submitted"] >= 1 for s in stats)  # both workers had jobs
        for tid in ids:
            assert b.stored(tid, "viewer.glb").startswith(b"glTF")
    gets = sum(s.get("status_calls", 0) for s in stats)
    heads = sum(s.get("heads", 0) for s in stats)
    batches = sum(s.get("batch_calls", 0) for s in stats)
    if old_worker:
        assert gets > 0 and heads > 0  # asked the old way after the 404
    else:
        assert gets == 0 and heads == 0 and batches > 0
