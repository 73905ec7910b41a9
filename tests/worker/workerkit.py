"""Real parts for the worker tests: a local input server and a worker process on loopback.

``InputServer`` serves files over HTTP on 127.0.0.1 (the source a backend or storage would be),
with a few extra paths to misbehave on purpose: ``/slow/<seconds>/<name>`` waits before
answering, ``/drip/<name>`` sends a byte at a time, ``/redirect?to=URL`` redirects,
``/status/<code>`` answers that code, ``/nameless`` serves the file at ``?file=`` from a path
without a file name.

``start_worker(tmp_path, **settings)`` runs ``python -m autorig worker`` as a subprocess with
``AUTORIG_WORKER_*`` settings and waits until ``/api/status`` answers.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from autorig.protocol import TOKEN_HEADER

REPO = Path(__file__).resolve().parents[2]
TOKEN = "test-token-0123456789"
START_TIMEOUT_S = 60.0


class _Handler(BaseHTTPRequestHandler):
    root: Path
    stop: threading.Event

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def _send_file(self, path: Path, drip: bool = False) -> None:
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not drip:
            self.wfile.write(data)
            return
        for i in range(len(data)):
            if self.stop.is_set():
                return
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            time.sleep(0.05)

    def do_GET(self) -> None:  # noqa: N802 (http.server's hook name)
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.split("/") if p]
        query = parse_qs(url.query)
        try:
            if parts[:1] == ["files"] and len(parts) == 2:
                self._send_file(self.root / parts[1])
            elif parts[:1] == ["slow"] and len(parts) == 3:
                end = time.monotonic() + float(parts[1])
                while time.monotonic() < end and not self.stop.is_set():
                    time.sleep(0.05)
                self._send_file(self.root / parts[2])
            elif parts[:1] == ["drip"] and len(parts) == 2:
                self._send_file(self.root / parts[1], drip=True)
            elif parts[:1] == ["redirect"]:
                self.send_response(302)
                self.send_header("Location", query["to"][0])
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif parts[:1] == ["status"] and len(parts) == 2:
                self.send_error(int(parts[1]))
            elif parts[:1] == ["nameless"]:
                self._send_file(self.root / query["file"][0])
            else:
                self.send_error(404)
        except (BrokenPipeError, ConnectionResetError):
            pass


class InputServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.stop = threading.Event()
        handler = type("Handler", (_Handler,), {"root": root, "stop": self.stop})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def add(self, src: Path, name: str | None = None) -> str:
        """Copy a file into the served folder; returns its URL."""
        name = name or src.name
        shutil.copy(src, self.root / name)
        return f"{self.url}/files/{name}"

    def add_bytes(self, name: str, data: bytes) -> str:
        (self.root / name).write_bytes(data)
        return f"{self.url}/files/{name}"

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class WorkerProc:
    proc: subprocess.Popen
    url: str
    data_dir: Path
    log_path: Path
    env: dict[str, str]

    @property
    def headers(self) -> dict[str, str]:
        return {TOKEN_HEADER: TOKEN}

    def client(self, timeout: float = 30.0, *, token: bool = False) -> httpx.Client:
        """An HTTP client for the worker; ``token=True`` sends the shared token on every
        request (as the backend does), else only where a test adds ``headers``."""
        headers = self.headers if token else None
        return httpx.Client(base_url=self.url, timeout=timeout, trust_env=False, headers=headers)

    def job_record(self, job_id: str) -> dict:
        import json

        return json.loads((self.data_dir / "jobs" / job_id / "job.json").read_text())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_worker(tmp_path: Path, *, data_dir: Path | None = None, **settings: object) -> WorkerProc:
    """A real worker process on a free loopback port; settings become AUTORIG_WORKER_* variables."""
    import json

    port = free_port()
    data_dir = data_dir or tmp_path / "worker"
    values: dict[str, object] = {
        "data_dir": str(data_dir),
        "token": TOKEN,
        "capacity": 1,
        "min_free_disk_mb": 0,
        "engine_only": "rig",
        "cleanup_interval_s": 3600,
        **settings,
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTORIG_WORKER_")}
    for key, value in values.items():
        env[f"AUTORIG_WORKER_{key.upper()}"] = json.dumps(value) if isinstance(value, list) else str(value)
    log_path = tmp_path / f"worker-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "autorig", "worker", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    worker = WorkerProc(proc=proc, url=f"http://127.0.0.1:{port}", data_dir=data_dir, log_path=log_path, env=env)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited with {proc.returncode}:\n{worker.log()}")
        try:
            if httpx.get(f"{worker.url}/api/status", timeout=1, trust_env=False).status_code == 200:
                return worker
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    worker.stop(signal.SIGKILL)
    raise RuntimeError(f"the worker did not start in {START_TIMEOUT_S} s:\n{worker.log()}")


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll until predicate() returns something truthy; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_job(client: httpx.Client, job_id: str, timeout: float, states=("done", "failed")) -> dict:
    """Poll GET /api/jobs/{id} until the job is in one of ``states``; returns its status."""

    def check() -> dict | None:
        status = client.get(f"/api/jobs/{job_id}").json()
        return status if status["state"] in states else None

    return wait_for(check, timeout, what=f"job {job_id} to be {' or '.join(states)}")
