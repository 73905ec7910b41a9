"""Time one progress cycle with many ``processing`` tasks against test workers.

Fills a fresh database with ``--tasks`` processing tasks spread over ``--workers`` synthetic test
workers (``tests/web/fakeworker.py --synthetic``: every job is running and its first output
exists), then runs the progress service's ``run_once()``: the first cycle also copies each
task's first output into storage; the next ones are the steady state (one ``POST
/api/jobs/status`` per worker). ``--old-workers``: workers without that route, asked the old
way (a status GET per task and a HEAD per output not yet ready). Prints the seconds per cycle
and the requests the workers received.

    .venv/bin/python scripts/bench_progress.py --tasks 10000 --workers 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
FAKEWORKER = REPO / "tests" / "web" / "fakeworker.py"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_workers(n: int, old: bool = False) -> list[tuple[subprocess.Popen, str]]:
    out = []
    for _ in range(n):
        port = _free_port()
        cmd = [sys.executable, str(FAKEWORKER), "--port", str(port), "--synthetic"] + (["--no-batch"] if old else [])
        proc = subprocess.Popen(cmd, cwd=REPO)
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(url + "/api/status", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        out.append((proc, url))
    return out


async def fill(ctx, workers: list[str], n: int) -> None:  # type: ignore[no-untyped-def]
    from autorig import protocol
    from autorig.web.db import utcnow
    from autorig.web.models import Task

    now = utcnow()
    names = protocol.output_files("model")
    rows = []
    for i in range(n):
        w = workers[i % len(workers)]
        guid = uuid.uuid4().hex
        rows.append(
            dict(
                id=uuid.uuid4().hex,
                status="processing",
                source_name="model.glb",
                source_format="glb",
                input_url="http://example.invalid/model.glb",
                output_name="model",
                options={},
                worker=w,
                worker_task_id=uuid.uuid4().hex[:16],
                guid=guid,
                output_urls=[f"{w}/files/{guid}/{f}" for f in names],
                ready_urls=[],
                missing_files=[],
                failed_workers=[],
                ready_count=0,
                progress=0.0,
                stage="running",
                attempts=1,
                restarts=0,
                created_at=now,
                queued_at=now,
                updated_at=now,
                started_at=now,
                last_progress_at=now,
            )
        )
    async with ctx.db.session() as s:
        for i in range(0, n, 1000):
            await s.execute(Task.__table__.insert(), rows[i : i + 1000])


def requests_seen(workers: list[str]) -> dict[str, int]:
    total: dict[str, int] = {}
    for w in workers:
        stats = httpx.get(w + "/test/stats", timeout=30).json()
        for k in ("batch_calls", "status_calls", "heads"):
            total[k] = total.get(k, 0) + int(stats.get(k, 0))
    return total


async def bench(args: argparse.Namespace, workers: list[str], data: Path) -> list[tuple[float, dict[str, int]]]:
    from autorig.config import WebSettings
    from autorig.web.context import AppContext

    settings = WebSettings(
        _env_file=None,
        data_dir=data,
        database_url=args.database_url,
        workers=workers,
        progress_concurrency=args.concurrency,
        worker_dead_after_s=3600,
    )
    ctx = AppContext.build(settings)
    await ctx.start(run_services=False)
    try:
        await fill(ctx, workers, args.tasks)
        times = []
        for _ in range(args.cycles):
            before = requests_seen(workers)
            t0 = time.perf_counter()
            await ctx.progress.run_once()
            took = time.perf_counter() - t0
            after = requests_seen(workers)
            times.append((took, {k: after[k] - before[k] for k in after}))
        async with ctx.db.read_session() as s:
            from sqlalchemy import func, select

            from autorig.web.models import Task

            ready = await s.scalar(select(func.count()).select_from(Task).where(Task.ready_count == 1))
        assert ready == args.tasks, f"only {ready} of {args.tasks} tasks saw their first output"
        return times
    finally:
        await ctx.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", type=int, default=10_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--cycles", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=64, help="PROGRESS_CONCURRENCY")
    p.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    p.add_argument("--old-workers", action="store_true", help="workers without POST /api/jobs/status")
    args = p.parse_args()
    data = Path(tempfile.mkdtemp(prefix="autorig-bench-"))
    args.database_url = args.database_url or f"sqlite:///{data / 'bench.db'}"
    procs = start_workers(args.workers, args.old_workers)
    try:
        times = asyncio.run(bench(args, [u for _, u in procs], data))
    finally:
        for proc, _ in procs:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(data, ignore_errors=True)
    db = args.database_url.split(":", 1)[0]
    try:
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    print(
        f"progress cycle, {args.tasks} processing tasks, {args.workers} test workers"
        f"{' (old: no batch route)' if args.old_workers else ''}, concurrency {args.concurrency}, {db}, "
        f"load average {load}:"
    )

    def asked(n: dict[str, int]) -> str:
        return f"{n['batch_calls']} batch POSTs, {n['status_calls']} status GETs, {n['heads']} HEADs"

    took, n = times[0]
    print(f"  first cycle (copies each task's first output into storage): {took:.1f} s ({asked(n)})")
    for i, (took, n) in enumerate(times[1:], 2):
        print(f"  cycle {i} (steady): {took:.1f} s ({asked(n)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
