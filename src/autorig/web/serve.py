"""``autorig serve``: the whole service on one machine.

The backend (this process: API, dispatch, progress, mailer) with SQLite and local storage by
default, plus one local worker as a child process (``python -m autorig worker``) with a
generated shared token and, in its ``allowed_hosts``, the backend's own address (the worker
fetches uploads from the backend's storage URL) and its own (an FBX task's rig job reads the
converted .glb from the worker's URL). With ``WORKERS`` set, no local worker is
started. Stopping the backend stops the worker.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

import httpx

from autorig import protocol
from autorig.config import WebSettings

log = logging.getLogger("autorig.serve")

WORKER_START_TIMEOUT_S = 60.0
WORKER_STOP_TIMEOUT_S = 15.0


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _netlocs(settings: WebSettings) -> list[str]:
    """host:port forms under which the worker will see this backend's storage URLs."""
    out = [urlparse(settings.base_url).netloc, f"127.0.0.1:{settings.port}", f"localhost:{settings.port}"]
    return list(dict.fromkeys(out))


def start_local_worker(settings: WebSettings, token: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port("127.0.0.1")
    env = {
        **os.environ,
        "AUTORIG_WORKER_HOST": "127.0.0.1",
        "AUTORIG_WORKER_PORT": str(port),
        "AUTORIG_WORKER_TOKEN": token,
        # The backend's storage (uploads), and the worker itself: an FBX task's rig job reads
        # the .glb that the worker's conversion step left at its own URL.
        "AUTORIG_WORKER_ALLOWED_HOSTS": json.dumps(_netlocs(settings) + [f"127.0.0.1:{port}", f"localhost:{port}"]),
        "AUTORIG_WORKER_DATA_DIR": os.environ.get("AUTORIG_WORKER_DATA_DIR", str((settings.data_dir / "worker").resolve())),
    }
    cmd = [sys.executable, "-m", "autorig", "worker", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + WORKER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the local worker exited with code {proc.returncode}")
        try:
            if httpx.get(url + protocol.STATUS_PATH, timeout=1.0).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_worker(proc)
    raise RuntimeError(f"the local worker did not answer at {url} within {WORKER_START_TIMEOUT_S:.0f} s")


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(WORKER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cli_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from autorig.web.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per worker poll otherwise
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = WebSettings(**overrides)
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    worker: subprocess.Popen[bytes] | None = None
    if not settings.workers:
        token = settings.worker_token or secrets.token_urlsafe(32)
        worker, worker_url = start_local_worker(settings, token)
        settings = settings.model_copy(update={"workers": [worker_url], "worker_token": token})
        log.info("local worker at %s (pid %d)", worker_url, worker.pid)
    print(f"autorig is running at {settings.base_url}", flush=True)
    on_shutdown = [lambda: stop_worker(worker)] if worker is not None else []
    try:
        app = create_app(settings, on_shutdown=on_shutdown)
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", access_log=False)
    finally:
        if worker is not None:
            stop_worker(worker)
    return 0
