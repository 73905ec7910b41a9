"""``autorig serve`` and its local worker as real processes (issue 11, process hygiene): kill -9
of the backend takes the worker with it; kill -9 of the worker is repaired and a task still
completes; a worker left behind on the data folder is stopped by the next start; health says
``degraded`` while no worker answers. The worker runs the engine stand-in of the worker tests
(the real engine's runs are tested in tests/worker and tests/e2e)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from webkit import REPO, TINY_GLB, BackendProcess, free_port, wait_http

STANDIN = REPO / "tests" / "worker" / "standin_engine.py"


def _gone(pid: int) -> bool:
    """Exited (a zombie nobody reaped counts as gone: it runs nothing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def _until(pred, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


class Serve:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "AUTORIG_DATA_DIR": str(tmp),
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "WORKERS": "",
            "DISPATCH_INTERVAL_S": "0.5",
            "PROGRESS_INTERVAL_S": "0.3",
            "MAILER_INTERVAL_S": "5",
            "AUTORIG_WORKER_ENGINE_COMMAND": json.dumps([sys.executable, str(STANDIN)]),
            "STANDIN_DELAY_S": "0.05",
        }

    def start(self) -> Serve:
        self.proc = subprocess.Popen([sys.executable, "-m", "autorig", "serve"], env=self.env, cwd=self.tmp)
        wait_http(self.url + "/api/health", timeout=60, proc=self.proc)
        return self

    def pids(self) -> dict:
        return json.loads((self.tmp / "serve.pid").read_text())

    def health(self) -> dict:
        return httpx.get(self.url + "/api/health", timeout=10).json()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    s = Serve(tmp_path)
    yield s
    s.stop()
    try:  # whatever a failed test left
        pid = s.pids().get("worker")
        if pid and not _gone(pid):
            os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError):
        pass


def _nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


@pytest.mark.parametrize("processes", ["1", "2"])
def test_kill_9_of_serve_takes_its_worker_and_backend_processes(serve: Serve, processes: str) -> None:
    serve.env["WEB_PROCESSES"] = processes
    serve.start()
    worker = serve.pids()["worker"]
    children = _children(serve.proc.pid)
    # the worker, and with several processes those (and multiprocessing's resource tracker)
    assert worker in children and len(children) >= (1 if processes == "1" else 1 + int(processes)), children
    assert not _gone(worker) and serve.health()["status"] == "ok"
    # rigging runs below the API's priority (LOCAL_WORKER_NICE, 10)
    assert _nice(worker) == min(19, _nice(serve.proc.pid) + 10)
    serve.proc.send_signal(signal.SIGKILL)
    serve.proc.wait(10)
    _until(lambda: all(_gone(c) for c in children), 30, "a child outlived its backend")


def test_kill_9_of_the_worker_is_repaired_and_a_task_completes(serve: Serve) -> None:
    serve.start()
    first = serve.pids()["worker"]
    os.kill(first, signal.SIGKILL)
    _until(lambda: serve.pids().get("worker") not in (None, first), 60, "no new worker")
    second = serve.pids()["worker"]
    _until(lambda: serve.health()["status"] == "ok", 60, "health never came back to ok")
    r = httpx.post(serve.url + "/api/task/create", files={"file": ("hero.glb", TINY_GLB)}, timeout=30)
    assert r.status_code == 201, r.text
    tid = r.json()["task_id"]

    def done() -> bool:
        t = httpx.get(f"{serve.url}/api/task/{tid}", timeout=10).json()
        assert t["status"] != "error", t
        return t["status"] == "done"

    _until(done, 90, "the task did not finish on the restarted worker")
    assert serve.pids()["worker"] == second and not _gone(second)


def test_a_worker_left_behind_is_stopped_by_the_next_start(serve: Serve, tmp_path: Path) -> None:
    # A worker whose backend is gone (as after a kill -9 on a system without parent-death
    # signals), named by the pidfile: the next serve on this data folder stops it.
    port = free_port()
    env = {**serve.env, "AUTORIG_WORKER_PORT": str(port), "AUTORIG_WORKER_DATA_DIR": str(tmp_path / "worker")}
    stale = subprocess.Popen([sys.executable, "-m", "autorig", "worker", "--port", str(port)], env=env, cwd=tmp_path)
    try:
        wait_http(f"http://127.0.0.1:{port}/api/status", timeout=60, proc=stale)
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        (tmp_path / "serve.pid").write_text(json.dumps({"serve": dead.pid, "worker": stale.pid}))
        serve.start()
        assert stale.wait(30) is not None
        assert serve.pids()["worker"] != stale.pid and serve.health()["status"] == "ok"
    finally:
        if stale.poll() is None:
            stale.kill()
            stale.wait(10)


def test_a_second_serve_on_the_same_data_folder_is_refused(serve: Serve) -> None:
    serve.start()
    other = subprocess.run(
        [sys.executable, "-m", "autorig", "serve", "--port", str(free_port())],
        env=serve.env,
        cwd=serve.tmp,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.returncode != 0 and "another autorig serve" in other.stderr
    assert serve.health()["status"] == "ok"
    worker = serve.pids()["worker"]
    serve.stop()  # SIGTERM: the worker stops with it and the pidfile goes
    assert _gone(worker) and not (serve.tmp / "serve.pid").exists()


def test_health_is_degraded_while_no_worker_answers(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'h.db'}",
        "AUTORIG_DATA_DIR": str(tmp_path),
        "WORKERS": f"http://127.0.0.1:{free_port()}",
        "WORKER_TOKEN": "t",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    b = BackendProcess(env, port, tmp_path).start()
    try:
        h = httpx.get(b.url + "/api/health", timeout=10).json()
        assert h["status"] == "degraded" and h["workers_online"] == 0 and h["workers_total"] == 1 and h["detail"]
    finally:
        b.stop()


def _anonymous_creates(url: str, forwarded: list[str]) -> list[int]:
    """One new browser (no cookie) per request, each claiming another client address."""
    codes = []
    for xff in forwarded:
        with httpx.Client(base_url=url, timeout=30) as browser:
            r = browser.post("/api/task/create", files={"file": ("hero.glb", TINY_GLB)}, headers={"X-Forwarded-For": xff})
            codes.append(r.status_code)
    return codes


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
def test_x_forwarded_for_counts_only_behind_a_configured_proxy(tmp_path: Path, trusted: str) -> None:
    """From 127.0.0.1 (uvicorn's default trusted proxy), rotating X-Forwarded-For gets no fresh
    anonymous quota unless FORWARDED_ALLOW_IPS names 127.0.0.1; then each real client counts."""
    s = Serve(tmp_path)
    s.env.update({"WORKERS": f"http://127.0.0.1:{free_port()}", "WORKER_TOKEN": "t", "ANON_FREE_LIMIT": "2"})
    if trusted:
        s.env["FORWARDED_ALLOW_IPS"] = trusted
    else:
        s.env.pop("FORWARDED_ALLOW_IPS", None)
    s.start()
    try:
        codes = _anonymous_creates(s.url, [f"203.0.113.{i}" for i in range(1, 6)])
        if not trusted:
            assert codes == [201, 201, 401, 401, 401], codes  # one client: 127.0.0.1
        else:
            assert codes == [201] * 5, codes  # five clients behind the proxy
            assert _anonymous_creates(s.url, ["198.51.100.7"] * 3) == [201, 201, 401]
            # a forged chain: only the address the trusted proxy saw counts
            assert _anonymous_creates(s.url, ["1.2.3.4, 198.51.100.7"]) == [401]
    finally:
        s.stop()


def test_two_backend_processes_share_the_work(serve: Serve) -> None:
    """WEB_PROCESSES=2: one process runs the loops; a task created in the other wakes its
    dispatcher (the dispatch interval is an hour here, so only the wake-up can start them)."""
    serve.env.update({"WEB_PROCESSES": "2", "DISPATCH_INTERVAL_S": "3600", "ANON_FREE_LIMIT": "100"})
    serve.start()
    ids = []
    for _ in range(6):  # new connections: the kernel spreads them over both processes
        with httpx.Client(timeout=30) as c:
            r = c.post(serve.url + "/api/task/create", files={"file": ("hero.glb", TINY_GLB)})
        assert r.status_code == 201, r.text
        ids.append(r.json()["task_id"])
        tid = ids[-1]
        _until(
            lambda tid=tid: httpx.get(f"{serve.url}/api/task/{tid}", timeout=10).json()["status"] == "done",
            60,
            f"task {len(ids)} was not dispatched",
        )
