"""Exec shim that puts limits on the engine process, then becomes it.

    python -m autorig.worker.limits --memory-mb 8192 -- python -m autorig rig ...

The limit is set in the child by this small program rather than in a ``preexec_fn``: the worker
is multi-threaded, and running Python code between fork and exec in a threaded parent can
deadlock. ``exec`` keeps the pid, so the worker's record of it stays right.

RLIMIT_AS caps the address space: an allocation past it fails inside the engine (MemoryError,
std::bad_alloc) instead of the kernel's OOM killer choosing a victim on a shared machine.
Core dumps are turned off: a crashing Blender would otherwise write gigabytes.

``--parent PID`` asks Linux to SIGKILL the engine when the worker thread that started it goes
away (``PR_SET_PDEATHSIG``), so a worker that is killed outright leaves no engine running
without a time limit; the next worker start also kills any it finds (``JobManager.recover``).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import signal
import sys

from autorig import console

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return  # not Linux: the restart clean-up still applies
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(137)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="autorig.worker.limits")
    p.add_argument("--memory-mb", type=int, required=True)
    p.add_argument("--parent", type=int, default=None, help="pid of the worker; die with it")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        p.error("no command to run")
    if args.parent:
        die_with_parent(args.parent)
    limit = args.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        print(f"{console.ERROR_PREFIX}cannot start {command[0]}: {exc.strerror}", file=sys.stderr)
        raise SystemExit(127) from None


if __name__ == "__main__":
    main()
