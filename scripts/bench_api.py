"""Latency of what pages poll, under load, while a real rig job runs (issue 13 item 6).

Starts ``autorig serve`` (its local worker and the real engine) on a free loopback port with a
fresh data folder and SQLite, or ``--database postgresql+psycopg://...`` (in a schema of its own,
dropped afterwards); uploads ``--model`` ``--jobs`` times and waits until the first job runs;
then sends ``GET /api/task/{id}`` (the running task) and ``GET /api/queue/status`` at ``--rate``
requests a second *each*, open loop (each request is due at a fixed time whether or not the
earlier ones answered; latency counts from that time, so a stalled server is not hidden) for
``--seconds``. Prints p50/p99/max and the errors per endpoint, and whether a job ran throughout.
All traffic stays on 127.0.0.1.

    .venv/bin/python scripts/bench_api.py                       # SQLite, 200/s each, 30 s
    .venv/bin/python scripts/bench_api.py --database postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import httpx

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = "unrigged/runxaway__Xbot.glb"
MAX_IN_FLIGHT = 256  # beyond this the server is hopelessly behind: count the rest as errors


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_schema(url: str) -> tuple[str, str]:
    """A new schema in the PostgreSQL of ``url``: (url using it, schema)."""
    import psycopg
    from sqlalchemy.engine import make_url

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", schema


def _drop_schema(url: str, schema: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


async def drive(base: str, paths: list[str], rate: float, seconds: float) -> dict[str, dict[str, object]]:
    """Open-loop load: each path ``rate`` times a second for ``seconds``."""
    lat: dict[str, list[float]] = {p: [] for p in paths}
    timeline: list[tuple[float, float]] = []  # (second of the run, latency ms), every answer
    errors: dict[str, dict[str, int]] = {p: {} for p in paths}
    in_flight = 0
    connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base_url=base, connector=connector, timeout=timeout) as http:

        async def one(path: str, due: float) -> None:
            nonlocal in_flight
            in_flight += 1
            try:
                async with http.get(path) as r:
                    await r.read()
                    if r.status != 200:
                        errors[path][str(r.status)] = errors[path].get(str(r.status), 0) + 1
                        return
                ms = (time.perf_counter() - due) * 1000
                lat[path].append(ms)
                timeline.append((due - t0, ms))
            except Exception as exc:  # noqa: BLE001 (counted, the run goes on)
                errors[path][type(exc).__name__] = errors[path].get(type(exc).__name__, 0) + 1
            finally:
                in_flight -= 1

        t0 = time.perf_counter() + 0.2
        n = int(rate * seconds)
        pending: set[asyncio.Task[None]] = set()
        lag_max = 0.0
        for i in range(n):
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            lag_max = max(lag_max, -delay)
            for p in paths:
                if in_flight >= MAX_IN_FLIGHT:
                    errors[p]["overload"] = errors[p].get("overload", 0) + 1
                    continue
                task = asyncio.create_task(one(p, due))
                pending.add(task)
                task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        elapsed = time.perf_counter() - t0
    out: dict[str, dict[str, object]] = {}
    for p in paths:
        v = lat[p]
        out[p] = {
            "requests": n,
            "ok": len(v),
            "errors": errors[p],
            "rate": round(n / elapsed, 1),
            "p50_ms": round(_pct(v, 0.50), 1),
            "p99_ms": round(_pct(v, 0.99), 1),
            "max_ms": round(max(v), 1) if v else None,
            "mean_ms": round(statistics.fmean(v), 1) if v else None,
        }
    out["_generator"] = {"max_lag_ms": round(lag_max * 1000, 1)}
    worst: dict[int, float] = {}
    for at, ms in timeline:
        worst[int(at)] = max(worst.get(int(at), 0.0), ms)
    out["_seconds"] = {
        "over_50ms": sum(1 for v in worst.values() if v > 50),
        "over_200ms": sum(1 for v in worst.values() if v > 200),
        "worst": sorted(((round(v, 1), k) for k, v in worst.items()), reverse=True)[:5],
    }
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database", default=None, help="postgresql+psycopg://... (default: SQLite in a temporary folder)")
    p.add_argument("--rate", type=float, default=200.0, help="requests a second, per endpoint")
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--model", type=Path, default=None, help=f"the upload (default AUTORIG_EVAL_DATA/{DEFAULT_MODEL})")
    p.add_argument("--jobs", type=int, default=3, help="uploads queued, so a job runs during the whole load")
    p.add_argument("--web-processes", type=int, default=None, help="WEB_PROCESSES for the backend")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    p.add_argument("--log", type=Path, default=None, help="keep the server's log here")
    args = p.parse_args()

    eval_data = Path(os.environ.get("AUTORIG_EVAL_DATA", REPO.parent / "shared" / "eval"))
    model = args.model or eval_data / DEFAULT_MODEL
    if not model.is_file():
        print(f"bench_api: no model at {model} (give --model)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "AUTORIG_DATA_DIR": str(tmp),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": "",
        "ANON_FREE_LIMIT": "1000",
        "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    if args.web_processes:
        env["WEB_PROCESSES"] = str(args.web_processes)
    schema = None
    if args.database:
        env["DATABASE_URL"], schema = _pg_schema(args.database)
    db_label = "PostgreSQL" if args.database else "SQLite"
    serve = subprocess.Popen(
        [sys.executable, "-m", "autorig", "serve"],
        env=env,
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "serve.log", "w"),
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if serve.poll() is not None:
                raise RuntimeError(f"autorig serve exited ({serve.returncode}); see {tmp / 'serve.log'}")
            try:
                if httpx.get(base + "/api/health", timeout=2).json().get("status") == "ok":
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("autorig serve did not become healthy in 120 s")
            time.sleep(0.3)
        ids = []
        for _ in range(args.jobs):
            r = httpx.post(base + "/api/task/create", files={"file": (model.name, model.read_bytes())}, timeout=60)
            r.raise_for_status()
            ids.append(r.json()["task_id"])
        deadline = time.monotonic() + 180
        while httpx.get(f"{base}/api/task/{ids[0]}", timeout=10).json()["status"] != "processing":
            if time.monotonic() > deadline:
                raise RuntimeError("the first job never started")
            time.sleep(0.3)
        paths = [f"/api/task/{ids[0]}", "/api/queue/status"]
        load_before = os.getloadavg()[0]
        print(
            f"bench_api: {db_label}, {args.rate:g}/s per endpoint for {args.seconds:g} s while a job runs "
            f"(load average {load_before:.1f}, {os.cpu_count()} cores)",
            flush=True,
        )
        results = asyncio.run(drive(base, paths, args.rate, args.seconds))
        statuses = [httpx.get(f"{base}/api/task/{i}", timeout=10).json()["status"] for i in ids]
        running = httpx.get(base + "/api/queue/status", timeout=10).json()["tasks_processing"]
        results["_run"] = {
            "database": db_label,
            "load_average_before": round(load_before, 2),
            "load_average_after": round(os.getloadavg()[0], 2),
            "task_statuses_after": statuses,
            "job_running_at_end": running > 0,
            "web_processes": args.web_processes or 1,
        }
        for path in paths:
            r = results[path]
            name = "GET /api/task/{id}" if path.startswith("/api/task/") else "GET /api/queue/status"
            print(
                f"  {name:24s} {r['ok']}/{r['requests']} ok at {r['rate']}/s  p50 {r['p50_ms']} ms  "
                f"p99 {r['p99_ms']} ms  max {r['max_ms']} ms  errors {r['errors'] or 'none'}"
            )
        sec = results["_seconds"]
        print(
            f"  seconds of the run with an answer slower than 50 ms: {sec['over_50ms']}, than 200 ms: "
            f"{sec['over_200ms']}; worst (ms, second): {sec['worst'][:3]}"
        )
        print(
            f"  generator lag max {results['_generator']['max_lag_ms']} ms; tasks after: {statuses}; "
            f"a job still running at the end: {running > 0}; load average after {os.getloadavg()[0]:.1f}"
        )
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        return 0
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait(10)
        if schema is not None and args.database:
            _drop_schema(args.database, schema)
        if args.log:
            shutil.copyfile(tmp / "serve.log", args.log)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
