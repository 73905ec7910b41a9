"""Run ``autorig serve`` (the backend and its real local worker) as a real process for a test."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

# Settings of the machine's environment that would point the service elsewhere.
_FOREIGN = ("WORKERS", "DATABASE_URL", "AUTORIG_WORKER_ENGINE_ONLY")


@dataclass
class Served:
    proc: subprocess.Popen
    url: str
    data_dir: Path
    log_path: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_serve(folder: Path, env: dict[str, str], start_timeout_s: float = 120.0) -> Iterator[Served]:
    """Start ``autorig serve`` in ``folder`` with ``env`` on top of this process' environment,
    wait until its worker answers ("1/1"), and stop it (SIGTERM, then SIGKILL) afterwards."""
    port = free_port()
    full = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
    full.update({"AUTORIG_DATA_DIR": str(folder / "var"), **env})
    log_path = folder / "serve.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "autorig", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=full,
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + start_timeout_s
    try:
        while True:
            assert proc.poll() is None, log_path.read_text()[-3000:]
            try:
                if httpx.get(url + "/api/queue/status", timeout=2).json()["workers"] == "1/1":
                    break
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            assert time.monotonic() < deadline, "autorig serve did not come up with its worker"
            time.sleep(0.5)
        yield Served(proc, url, folder / "var", log_path)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
