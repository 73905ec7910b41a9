"""Real parts for backend tests: free ports, fake-worker processes, a backend served by uvicorn
on loopback (in the test's event loop, or as its own process), and upload bodies."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from autorig.config import WebSettings
from autorig.web.app import create_app
from autorig.web.context import AppContext

REPO = Path(__file__).resolve().parents[2]
FAKEWORKER = Path(__file__).resolve().parent / "fakeworker.py"

# The smallest valid GLB: its header and a JSON chunk with only the asset (the upload checks both).
_GLB_JSON = b'{"asset":{"version":"2.0"}} '  # padded to 4 bytes
TINY_GLB = (
    b"glTF"
    + (2).to_bytes(4, "little")
    + (20 + len(_GLB_JSON)).to_bytes(4, "little")
    + len(_GLB_JSON).to_bytes(4, "little")
    + b"JSON"
    + _GLB_JSON
)
TINY_FBX = b"Kaydara FBX Binary  \x00\x1a\x00" + (7400).to_bytes(4, "little") + b"\x00" * 60  # FBX 7.4
TINY_OBJ = b"# test\nmtllib x.mtl\no body\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bound_socket() -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    return s


def wait_http(url: str, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout} s")


class FakeWorker:
    """``tests/web/fakeworker.py`` as its own process."""

    def __init__(self, port: int | None = None, **opts: Any) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.opts = opts
        self.proc: subprocess.Popen | None = None

    def start(self) -> FakeWorker:
        cmd = [sys.executable, str(FAKEWORKER), "--port", str(self.port)]
        for k, v in self.opts.items():
            flag = "--" + k.replace("_", "-")
            if v is True:
                cmd.append(flag)
            elif v not in (None, False):
                cmd += [flag, str(v)]
        self.proc = subprocess.Popen(cmd, cwd=REPO)
        wait_http(self.url + "/api/status", proc=self.proc)
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stats(self) -> dict[str, Any]:
        return httpx.get(self.url + "/test/stats", timeout=5).json()


def web_settings(tmp: Path, db_url: str, workers: list[str], port: int, **overrides: Any) -> WebSettings:
    """Settings for a test backend: loops slow unless a test speeds them up."""
    values: dict[str, Any] = dict(
        data_dir=tmp,
        database_url=db_url,
        workers=workers,
        host="127.0.0.1",
        port=port,
        worker_token="test-token",
        dispatch_interval_s=3600,
        progress_interval_s=3600,
        mailer_interval_s=3600,
        worker_dead_after_s=3,
        restart_after_error_s=60,
        stall_restart_s=900,
        instance_id="test-backend",
        max_upload_mb=1,
        # Backend tests create many anonymous tasks; the per-browser limit is issue 6's to test.
        anon_free_limit=10_000,
    )
    values.update(overrides)
    return WebSettings(_env_file=None, **values)  # type: ignore[call-arg]


class Backend:
    """The backend app served by uvicorn on loopback inside the test's event loop."""

    def __init__(self, settings: WebSettings, *, run_services: bool = False) -> None:
        self.settings = settings
        self.run_services = run_services
        self.url = settings.base_url
        self.http = httpx.AsyncClient(base_url=self.url, timeout=30)

    @property
    def ctx(self) -> AppContext:
        return self.app.state.ctx

    async def create(self, content: bytes = TINY_GLB, filename: str = "hero.glb", **fields: str) -> httpx.Response:
        return await self.http.post("/api/task/create", files={"file": (filename, content)}, data=fields)

    def stored(self, task_id: str, name: str) -> bytes:
        """A result file as kept in (local) storage: what a download of it serves. Downloading
        the paid files over HTTP needs an account (issue 6, tested in tests/web/credits)."""
        from autorig.web.domains.tasks.service import output_key

        return self.ctx.storage.path(output_key(task_id, name)).read_bytes()  # type: ignore[attr-defined]

    async def task(self, task_id: str) -> dict[str, Any]:
        r = await self.http.get(f"/api/task/{task_id}")
        r.raise_for_status()
        return r.json()

    async def internal(self, task_id: str) -> dict[str, Any]:
        """Where the task runs (worker, job, file URLs): what only admins see of it."""
        from autorig.web.domains.tasks.schemas import task_view

        async with self.ctx.db.read_session() as s:
            task = await self.ctx.tasks.get(s, task_id)
            return task_view(task, self.ctx.tasks, self.url, None, internal=True).model_dump(mode="json")["internal"]

    async def cycle(self) -> None:
        """One run of each background service, in pipeline order."""
        await self.ctx.dispatch.run_once()
        await self.ctx.progress.run_once()
        await self.ctx.mailer.run_once()

    async def until(self, task_id: str, statuses: set[str], timeout: float = 30.0, step: float = 0.2) -> dict[str, Any]:
        """Run cycles (when services are off) until the task reaches one of ``statuses``."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.run_services:
                await self.cycle()
            t = await self.task(task_id)
            if t["status"] in statuses:
                return t
            if time.monotonic() > deadline:
                raise TimeoutError(f"task stayed {t['status']} ({t.get('last_error')})")
            await asyncio.sleep(step)


@asynccontextmanager
async def running_backend(settings: WebSettings, *, run_services: bool = False) -> AsyncIterator[Backend]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", settings.port))
    b = Backend(settings, run_services=run_services)
    b.app = create_app(settings, run_services=run_services)
    server = uvicorn.Server(uvicorn.Config(b.app, log_level="warning", lifespan="on"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.02)
    try:
        yield b
    finally:
        await b.http.aclose()
        server.should_exit = True
        await serving
        sock.close()


class BackendProcess:
    """The backend as its own process (uvicorn on ``create_app``), so a test can kill it."""

    def __init__(self, env: dict[str, str], port: int, cwd: Path) -> None:
        self.env = {**os.environ, **env}
        self.port = port
        self.cwd = cwd
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> BackendProcess:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "autorig.web.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        self.proc = subprocess.Popen(cmd, env=self.env, cwd=self.cwd)
        wait_http(self.url + "/api/health", proc=self.proc)
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
