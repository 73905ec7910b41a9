"""``autorig serve``: the whole service on one machine.

The backend (this process: API, dispatch, progress, mailer) with SQLite and local storage by
default, plus one local worker as a child process (``python -m autorig worker``) with a
generated shared token and, in its ``allowed_hosts``, the backend's own address (the worker
fetches uploads from the backend's storage URL) and its own (an FBX task's rig job reads the
converted .glb from the worker's URL). With ``WORKERS`` set, no local worker is started.

The local worker's life is tied to the backend's (issue 11):

- it dies with the backend, even when the backend is killed with SIGKILL: the worker is started
  through a tiny exec shim (``python -m autorig.web.serve --die-with PID -- CMD``) that asks
  Linux for ``PR_SET_PDEATHSIG`` and then becomes the worker (the pid stays the same); the
  worker's engines already die with the worker;
- it runs ``LOCAL_WORKER_NICE`` (10) lower in priority than the backend, engines included:
  rigging is batch work, the API answers people;
- it is started again, on the same port and token, when it dies on its own (a watcher thread,
  with a growing pause if it keeps dying);
- ``DATA_DIR/serve.pid`` names the backend and its worker: a backend starting on the same data
  folder stops a worker that was left behind (its backend gone), and refuses to start while
  that backend still runs.

Proxy headers: uvicorn's own handling (which trusts ``X-Forwarded-For`` from 127.0.0.1 by
default) is off; the app trusts them only from ``FORWARDED_ALLOW_IPS`` (empty by default).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TypedDict
from urllib.parse import urlparse

import httpx
from pydantic import SecretStr

from autorig import protocol
from autorig.config import WebSettings

log = logging.getLogger("autorig.serve")

WORKER_START_TIMEOUT_S = 60.0
WORKER_STOP_TIMEOUT_S = 15.0
RESTART_PAUSE_S = (1.0, 30.0)  # first and longest pause before starting a worker that died again
STABLE_AFTER_S = 60.0  # a worker that ran this long before dying is restarted after the first pause
PIDFILE = "serve.pid"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def _netlocs(settings: WebSettings) -> list[str]:
    """host:port forms under which the worker will see this backend's storage URLs."""
    out = [urlparse(settings.base_url).netloc, f"127.0.0.1:{settings.port}", f"localhost:{settings.port}"]
    return list(dict.fromkeys(out))


# --- the pidfile ----------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _cmdline(pid: int) -> list[str]:
    try:
        return [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    except OSError:
        return []


def _is_autorig(pid: int, verb: str) -> bool:
    """Whether ``pid`` still runs ``autorig VERB`` (a recycled pid is someone else's)."""
    args = _cmdline(pid)
    return any(os.path.basename(a) == "autorig" for a in args) and verb in args


def _terminate(pid: int, timeout: float = WORKER_STOP_TIMEOUT_S) -> None:
    """SIGTERM, then SIGKILL after ``timeout``: ``pid`` and its process group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + (timeout if sig == signal.SIGTERM else 5.0)
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.1)


def claim_data_dir(data_dir: Path) -> Path:
    """Make this process the backend of ``data_dir``: stop a worker left behind by a backend
    that died, refuse when that backend still runs. Returns the pidfile."""
    path = data_dir / PIDFILE
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        old = {}
    serve_pid, worker_pid = old.get("serve"), old.get("worker")
    if isinstance(serve_pid, int) and serve_pid != os.getpid() and _alive(serve_pid) and _is_autorig(serve_pid, "serve"):
        raise SystemExit(f"autorig: error: another autorig serve (pid {serve_pid}) uses {data_dir}; stop it first")
    if isinstance(worker_pid, int) and _alive(worker_pid) and _is_autorig(worker_pid, "worker"):
        log.warning("stopping the local worker (pid %d) that a stopped backend left running on %s", worker_pid, data_dir)
        _terminate(worker_pid)
    write_pidfile(path, None)
    return path


def write_pidfile(path: Path, worker_pid: int | None) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"serve": os.getpid(), "worker": worker_pid}))
    tmp.replace(path)


# --- the local worker -----------------------------------------------------------------------


def die_with_parent_and_exec(parent: int, command: list[str], nice: int = 0) -> None:
    """The exec shim: ask for SIGTERM when ``parent`` goes away, lower the priority by ``nice``,
    then become ``command``."""
    if nice:
        os.nice(nice)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the pidfile check at the next start still applies
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(143)
    os.execvp(command[0], command)


class LocalWorker:
    """The backend's own worker process: started, watched and restarted, stopped with it."""

    def __init__(self, settings: WebSettings, token: str, pidfile: Path | None = None) -> None:
        self.port = _free_port("127.0.0.1")
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        self.pidfile = pidfile
        self.nice = settings.local_worker_nice
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self.env = {
            **os.environ,
            "AUTORIG_WORKER_HOST": "127.0.0.1",
            "AUTORIG_WORKER_PORT": str(self.port),
            "AUTORIG_WORKER_TOKEN": token,
            # The backend's storage (uploads), and the worker itself: an FBX task's rig job reads
            # the .glb that the worker's conversion step left at its own URL.
            "AUTORIG_WORKER_ALLOWED_HOSTS": json.dumps(_netlocs(settings) + [f"127.0.0.1:{self.port}", f"localhost:{self.port}"]),
            "AUTORIG_WORKER_DATA_DIR": os.environ.get("AUTORIG_WORKER_DATA_DIR", str((settings.data_dir / "worker").resolve())),
        }

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> None:
        """Start the worker and wait until it answers (raises RuntimeError if it does not)."""
        worker = [sys.executable, "-m", "autorig", "worker", "--host", "127.0.0.1", "--port", str(self.port)]
        shim = [
            sys.executable,
            "-m",
            "autorig.web.serve",
            "--die-with",
            str(os.getpid()),
            "--nice",
            str(self.nice),
            "--",
            *worker,
        ]
        # Its own process group, so stopping it reaches whatever it started.
        proc = subprocess.Popen(shim, env=self.env, start_new_session=True)
        with self._lock:
            self.proc = proc
        if self.pidfile is not None:
            write_pidfile(self.pidfile, proc.pid)
        deadline = time.monotonic() + WORKER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the local worker exited with code {proc.returncode}")
            try:
                if httpx.get(self.url + protocol.STATUS_PATH, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        _terminate(proc.pid)
        raise RuntimeError(f"the local worker did not answer at {self.url} within {WORKER_START_TIMEOUT_S:.0f} s")

    def watch(self) -> None:
        """Restart the worker whenever it dies, until ``stop()`` (in a thread of its own, which
        lives as long as the worker: Linux's parent-death signal follows the starting thread)."""
        self._watcher = threading.Thread(target=self._watch, name="local-worker-watch", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        pause = RESTART_PAUSE_S[0]
        while not self._stopping.is_set():
            proc = self.proc
            assert proc is not None
            started = time.monotonic()
            code = proc.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started > STABLE_AFTER_S:
                pause = RESTART_PAUSE_S[0]
            log.error("the local worker (pid %d) exited with code %s; starting it again in %.0f s", proc.pid, code, pause)
            if self._stopping.wait(pause):
                return
            pause = min(pause * 2, RESTART_PAUSE_S[1])
            try:
                self.start()
                self.restarts += 1
                log.info("local worker started again at %s (pid %d)", self.url, self.proc.pid if self.proc else -1)
            except (RuntimeError, OSError) as exc:
                log.error("the local worker did not start again: %s", exc)

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            proc = self.proc
        if proc is not None and proc.poll() is None:
            _terminate(proc.pid)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        if self.pidfile is not None:
            try:
                write_pidfile(self.pidfile, None)
            except OSError:
                pass


# --- the command --------------------------------------------------------------------------


class UvicornOptions(TypedDict):
    host: str
    port: int
    log_level: str
    access_log: bool
    proxy_headers: bool


def uvicorn_options(settings: WebSettings) -> UvicornOptions:
    """How ``autorig serve`` runs uvicorn: no proxy headers there (the app trusts them only from
    ``FORWARDED_ALLOW_IPS``), no access log (one line per poll otherwise)."""
    return UvicornOptions(host=settings.host, port=settings.port, log_level="info", access_log=False, proxy_headers=False)


def cli_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from autorig.web.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per worker poll otherwise
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = WebSettings(**overrides)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    pidfile = claim_data_dir(settings.data_dir)

    worker: LocalWorker | None = None
    if not settings.workers:
        token = settings.worker_token.get_secret_value() or secrets.token_urlsafe(32)
        worker = LocalWorker(settings, token, pidfile)
        worker.start()
        worker.watch()
        settings = settings.model_copy(update={"workers": [worker.url], "worker_token": SecretStr(token)})
        log.info("local worker at %s (pid %s)", worker.url, worker.pid)
    print(f"autorig is running at {settings.base_url}", flush=True)

    def release() -> None:
        if worker is not None:
            worker.stop()
        release_data_dir(pidfile)

    try:
        if settings.web_processes > 1:
            run_processes(settings)
        else:
            # In the app's shutdown: uvicorn re-raises SIGTERM after it, so code below may not run.
            app = create_app(settings, on_shutdown=[release])
            uvicorn.run(app, **uvicorn_options(settings))
    finally:
        release()
    return 0


def release_data_dir(pidfile: Path) -> None:
    """Remove the pidfile if it still names this process."""
    try:
        if json.loads(pidfile.read_text()).get("serve") == os.getpid():
            pidfile.unlink()
    except (OSError, ValueError):
        pass


def run_processes(settings: WebSettings) -> None:
    """``WEB_PROCESSES`` backend processes behind uvicorn's supervisor (this process, which also
    keeps the local worker). The schema is migrated here first, once; each process builds its
    settings from the environment set here (web/processes.py says how they share the work)."""
    import uvicorn

    from autorig.web.db import Database
    from autorig.web.processes import SUPERVISOR_ENV

    Database(settings.database_url_resolved).migrate_sync()
    os.environ.update(
        {
            "WORKERS": json.dumps(settings.workers),
            "WORKER_TOKEN": settings.worker_token.get_secret_value(),
            "HOST": settings.host,
            "PORT": str(settings.port),
            "AUTORIG_DATA_DIR": str(settings.data_dir.resolve()),
            SUPERVISOR_ENV: str(os.getpid()),
        }
    )
    log.info("%d backend processes", settings.web_processes)
    uvicorn.run("autorig.web.serve:process_app", factory=True, workers=settings.web_processes, **uvicorn_options(settings))


def process_app() -> object:
    """The app of one of several backend processes (uvicorn's factory, in the forked process)."""
    from autorig.web.app import create_app
    from autorig.web.processes import die_with_supervisor

    die_with_supervisor()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return create_app(WebSettings())


def _shim_main(argv: list[str]) -> None:
    p = argparse.ArgumentParser(prog="autorig.web.serve")
    p.add_argument("--die-with", type=int, required=True, help="pid of the backend; exit with it")
    p.add_argument("--nice", type=int, default=0, help="lower the priority by this much")
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    die_with_parent_and_exec(a.die_with, command, a.nice)


if __name__ == "__main__":
    _shim_main(sys.argv[1:])
