"""Several backend processes on one port (``WEB_PROCESSES`` > 1, issue 11): uvicorn's own
supervisor forks them; this module makes them share the work right.

- **One runs the background services.** The first process to take an exclusive ``flock`` on
  ``DATA_DIR/services.lock`` runs dispatch, progress and the mailer (and resumes this instance's
  claims); the others only answer requests. When it dies, the supervisor starts a replacement,
  which takes the free lock.
- **A task created anywhere wakes the dispatcher at once**: the services process listens on an
  abstract Unix datagram socket named after the data folder; the others send it one byte.
- **They die with the supervisor**, even on SIGKILL (``PR_SET_PDEATHSIG``).

SQLite allows this (WAL: readers never wait, writers take turns within ``busy_timeout``); on
PostgreSQL it is plain. Cached views (``web/cache.py``) in a process that did not write see
another process's commit within ``VIEW_CACHE_S``.
"""

from __future__ import annotations

import asyncio
import ctypes
import fcntl
import hashlib
import logging
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

LOCK_FILE = "services.lock"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
SUPERVISOR_ENV = "AUTORIG_WEB_SUPERVISOR_PID"  # set by autorig serve for the processes it forks


def forked() -> bool:
    """Whether this process is one of several that autorig serve's supervisor started."""
    return bool(os.environ.get(SUPERVISOR_ENV))


def take_services_lock(data_dir: Path) -> IO[bytes] | None:
    """The open lock file when this process is the one to run the services, else None. Keep
    the returned file open for as long as the services run (closing it frees the lock)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    f = open(data_dir / LOCK_FILE, "ab")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        return None
    return f


def _wake_address(data_dir: Path) -> str:
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:24]
    return f"\0autorig-dispatch-{digest}"  # Linux abstract namespace: no file, no path length limit


class _WakeProtocol(asyncio.DatagramProtocol):
    def __init__(self, wake: Callable[[], object]) -> None:
        self.wake = wake

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.wake()


async def listen_for_wakes(data_dir: Path, wake: Callable[[], object]) -> asyncio.BaseTransport | None:
    """In the services process: call ``wake`` whenever another process sends a datagram."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(_wake_address(data_dir))
    except OSError as exc:
        sock.close()
        log.warning("no dispatch wake-up socket (%s): tasks from other processes wait for the next cycle", exc)
        return None
    sock.setblocking(False)
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(lambda: _WakeProtocol(wake), sock=sock)
    return transport


def waker(data_dir: Path) -> Callable[[], None]:
    """In the other processes: a function that wakes the services process's dispatcher."""
    address = _wake_address(data_dir)

    def send() -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            try:
                s.sendto(b"w", address)
            except OSError:
                pass  # nobody listening (restarting): the next dispatch cycle picks the task up

    return send


def die_with_supervisor() -> None:
    """In a forked backend process: exit when the supervisor goes away, even if it was killed."""
    parent = os.environ.get(SUPERVISOR_ENV)
    if not parent:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != int(parent):
        os._exit(143)
