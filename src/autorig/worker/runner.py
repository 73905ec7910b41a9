"""One engine process per job: started with limits, watched, killed, and its end explained.

The engine is the ``autorig`` CLI (``settings.engine_command`` + ``rig ...`` or ``convert ...``),
run through the ``limits`` shim in a session of its own, so that Blender crashing, leaking or
hanging costs one job and never the worker, and so that killing it kills its children too.

What the engine says back (the line formats are in ``autorig.console``):
- its exit code: 0 is success;
- on failure, a one-line reason as the last line of stderr (``autorig: error: not a biped: ...``),
  which gives the job's ``error_code`` and ``error``;
- optionally, progress lines ``autorig: progress <stage> <fraction 0..1>`` on stdout or stderr,
  which the worker turns into the job's stage and progress;
- its outputs, each renamed into place when complete, so a file that exists is whole.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from autorig import console, protocol
from autorig.protocol import JobOptions

# Messages of an allocation (or a library mapping) that failed against RLIMIT_AS.
OUT_OF_MEMORY = (
    "MemoryError",
    "std::bad_alloc",
    "Cannot allocate memory",
    "out of memory",
    "failed to map segment",
)
TAIL_BYTES = 1 << 14
KILL_WAIT_S = 10.0


class Failure(NamedTuple):
    """Why an engine process failed: a job's ``error_code`` and ``error``."""

    code: str
    reason: str


def rig_command(
    engine_command: list[str], input_path: Path, outdir: Path, name: str, options: JobOptions, only: str
) -> list[str]:
    argv = [*engine_command, "rig", str(input_path), "-o", str(outdir), "--name", name]
    argv += ["--skeleton", options.skeleton.value, "--only", only]
    argv += ["--fingers", options.fingers.value]
    if options.mixamo_prefix:
        argv.append("--mixamo-prefix")
    return argv


def convert_command(engine_command: list[str], input_path: Path, output_path: Path) -> list[str]:
    return [*engine_command, "convert", str(input_path), str(output_path)]


def tail_lines(path: Path, max_lines: int, max_bytes: int = TAIL_BYTES) -> list[str]:
    """The last lines of a text file (empty when it does not exist)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except OSError:
        return []
    lines = data.decode("utf-8", "replace").splitlines()
    if size > max_bytes and lines:
        lines = lines[1:]  # the first one is cut
    return lines[-max_lines:]


@dataclass
class EngineProcess:
    """A running engine: ``start()``, then ``poll()`` until it returns an exit code."""

    argv: list[str]
    log_dir: Path
    memory_mb: int
    timeout_s: float
    what: str = "rigging"  # names the process in reasons: "the rigging process was killed"
    pid: int | None = None
    timed_out: bool = False
    _proc: subprocess.Popen[bytes] | None = None
    _started: float = 0.0
    _offsets: dict[str, int] = field(default_factory=dict)

    @property
    def stdout_path(self) -> Path:
        return self.log_dir / "engine.out"

    @property
    def stderr_path(self) -> Path:
        return self.log_dir / "engine.err"

    def start(self) -> int:
        shim = [sys.executable, "-m", "autorig.worker.limits", "--memory-mb", str(self.memory_mb)]
        shim += ["--parent", str(os.getpid()), "--"]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self._proc = subprocess.Popen(
                [*shim, *self.argv],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=self.log_dir,
                env=env,
                start_new_session=True,  # its own process group: killpg reaches Blender's children
                close_fds=True,
            )
        self._started = time.monotonic()
        self.pid = self._proc.pid
        return self.pid

    def poll(self) -> int | None:
        """The exit code once the process has ended; kills it when its time is up."""
        assert self._proc is not None
        rc = self._proc.poll()
        if rc is None and time.monotonic() - self._started > self.timeout_s:
            self.timed_out = True
            self.kill()
            rc = self._proc.returncode
        return rc

    def kill(self) -> None:
        """SIGKILL the whole process group and reap the leader."""
        if self._proc is None or self._proc.returncode is not None:
            return
        kill_group(self._proc.pid)
        try:
            self._proc.wait(timeout=KILL_WAIT_S)
        except subprocess.TimeoutExpired:
            pass

    def progress_lines(self) -> list[tuple[str, float]]:
        """(stage, fraction) from progress lines written since the last call."""
        found: list[tuple[str, float]] = []
        for path in (self.stdout_path, self.stderr_path):
            start = self._offsets.get(path.name, 0)
            try:
                with open(path, "rb") as f:
                    f.seek(start)
                    data = f.read()
            except OSError:
                continue
            complete = data[: data.rfind(b"\n") + 1]  # leave a half-written line for next time
            self._offsets[path.name] = start + len(complete)
            for raw in complete.decode("utf-8", "replace").splitlines():
                parsed = console.parse_progress(raw)
                if parsed:
                    found.append(parsed)
        return found

    def failure(self, returncode: int) -> Failure | None:
        """Why the process failed (code and a sentence a person can read); None for success.

        Codes: the engine's own (``not_a_biped``, ``corrupt_file``, ...), ``timeout``, ``crashed``
        (a signal, or memory exhausted), ``internal`` (any other non-zero exit)."""
        if returncode == 0:
            return None
        if self.timed_out:
            return Failure(protocol.TIMEOUT, f"time limit of {self.timeout_s:g} s exceeded")
        if returncode < 0:
            sig = -returncode
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = "unknown signal"
            verb = "was killed" if sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT) else "crashed"
            return Failure(protocol.CRASHED, f"the {self.what} process {verb} (signal {sig}, {name})")
        lines = [ln.strip() for ln in tail_lines(self.stderr_path, 20) if ln.strip()]
        lines = [ln for ln in lines if not console.parse_progress(ln)]
        if not lines:
            return Failure(protocol.INTERNAL, f"the {self.what} process exited with code {returncode}")
        last = lines[-1]
        if any(marker in ln for ln in lines[-5:] for marker in OUT_OF_MEMORY):
            return Failure(protocol.CRASHED, f"memory limit of {self.memory_mb} MB exceeded ({last})")
        parsed = console.parse_error(last)
        if parsed:
            return Failure(*parsed)
        if last.startswith(console.PREFIX):
            return Failure(protocol.INTERNAL, last[len(console.PREFIX) :])
        return Failure(protocol.INTERNAL, last)

    def failure_reason(self, returncode: int) -> str | None:
        """The sentence of ``failure``: None for success."""
        f = self.failure(returncode)
        return f.reason if f else None


def kill_group(pid: int) -> None:
    """SIGKILL a process group led by ``pid``; quiet when it is already gone."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def is_our_engine(pid: int, marker: str) -> bool:
    """True when ``pid`` is alive and its command line mentions ``marker`` (the job's folder).

    Used after a restart: a pid from a record may since have been reused by another process.
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return False
    return marker in cmdline
