"""The engine process wrapper with real child processes: limits, kills, and the reasons it gives.

These children are small Python programs standing in for the engine's exit behaviour (reason on
stderr's last line, a crash, a hang, an allocation past the limit), so each case is exact and
fast; the real engine runs in test_worker_jobs.py.
"""

from __future__ import annotations

import signal
import sys
import time

from autorig.protocol import JobOptions
from autorig.worker.runner import EngineProcess, rig_command


def run(tmp_path, code: str, *, timeout_s: float = 30.0, memory_mb: int = 2048) -> tuple[int, EngineProcess]:
    engine = EngineProcess(argv=[sys.executable, "-c", code], log_dir=tmp_path, memory_mb=memory_mb, timeout_s=timeout_s)
    engine.start()
    while (rc := engine.poll()) is None:
        time.sleep(0.05)
    return rc, engine


def test_success_has_no_reason(tmp_path):
    rc, engine = run(tmp_path, "print('fine')")
    assert rc == 0 and engine.failure_reason(rc) is None
    assert (tmp_path / "engine.out").read_text() == "fine\n"


def test_the_engine_one_line_reason_is_the_last_line_of_stderr(tmp_path):
    code = (
        "import sys\n"
        "print('Blender noise\\nmore noise', file=sys.stderr)\n"
        "print('autorig: error: not a biped: no legs found', file=sys.stderr)\n"
        "sys.exit(2)\n"
    )
    rc, engine = run(tmp_path, code)
    assert rc == 2
    assert engine.failure_reason(rc) == "not a biped: no legs found"
    assert engine.failure(rc) == ("not_a_biped", "not a biped: no legs found")


def test_silent_failure_names_the_exit_code(tmp_path):
    rc, engine = run(tmp_path, "raise SystemExit(3)")
    assert engine.failure_reason(rc) == "the rigging process exited with code 3"
    assert engine.failure(rc).code == "internal"


def test_a_crash_names_the_signal(tmp_path):
    rc, engine = run(tmp_path, "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    assert rc == -signal.SIGSEGV
    assert engine.failure_reason(rc) == "the rigging process crashed (signal 11, SIGSEGV)"
    assert engine.failure(rc).code == "crashed"


def test_time_limit_kills_the_whole_process_group(tmp_path):
    # The child starts a grandchild that would outlive it; killpg must take both.
    code = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "open('grandchild.pid', 'w').write(str(p.pid))\n"
        "time.sleep(60)\n"
    )
    t0 = time.monotonic()
    rc, engine = run(tmp_path, code, timeout_s=1.0)
    assert time.monotonic() - t0 < 5
    assert engine.timed_out and rc == -signal.SIGKILL
    assert engine.failure_reason(rc) == "time limit of 1 s exceeded"
    assert engine.failure(rc).code == "timeout"
    from workerkit import pid_alive, wait_for

    grandchild = int((tmp_path / "grandchild.pid").read_text())
    wait_for(lambda: not pid_alive(grandchild), 5, what="the grandchild to die")


def test_memory_limit_turns_into_a_readable_reason(tmp_path):
    code = "x = bytearray(600 * 1024 * 1024)\nprint(len(x))"
    rc, engine = run(tmp_path, code, memory_mb=400)
    assert rc == 1
    assert engine.failure_reason(rc).startswith("memory limit of 400 MB exceeded (MemoryError")
    assert engine.failure(rc).code == "crashed"


def test_progress_lines_become_stage_and_fraction(tmp_path):
    code = (
        "import sys\n"
        "print('autorig: progress skeleton 0.25')\n"
        "print('autorig: progress skinning 0.5', file=sys.stderr)\n"
        "print('something else')\n"
    )
    rc, engine = run(tmp_path, code)
    assert rc == 0
    assert sorted(engine.progress_lines()) == [("skeleton", 0.25), ("skinning", 0.5)]
    assert engine.progress_lines() == []  # each line is reported once


def test_rig_command_passes_the_options():
    argv = rig_command(
        ["autorig"], "in.glb", "out", "hero", JobOptions(skeleton="unreal", mixamo_prefix=True, fingers="mitten"), "rig"
    )
    assert argv == [
        "autorig", "rig", "in.glb", "-o", "out", "--name", "hero",
        "--skeleton", "unreal", "--only", "rig", "--fingers", "mitten", "--mixamo-prefix",
    ]  # fmt: skip
    assert rig_command(["autorig"], "in.glb", "out", "hero", JobOptions(), "rig")[-2:] == ["--fingers", "auto"]


def test_the_engine_dies_with_the_worker(tmp_path):
    # A stand-in worker process starts an engine through the runner, then is killed outright.
    worker = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from autorig.worker.runner import EngineProcess\n"
        "e = EngineProcess(argv=[sys.executable, '-c', 'import time; time.sleep(60)'],"
        " log_dir=Path(sys.argv[1]), memory_mb=2048, timeout_s=60)\n"
        "print(e.start(), flush=True)\n"
        "time.sleep(60)\n"
    )
    import subprocess

    from workerkit import pid_alive, wait_for

    proc = subprocess.Popen([sys.executable, "-c", worker, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    engine_pid = int(proc.stdout.readline())
    time.sleep(0.5)  # let the shim apply the limits and exec
    assert pid_alive(engine_pid)
    proc.kill()
    proc.wait()
    wait_for(lambda: not pid_alive(engine_pid), 10, what="the engine to die with its worker")


def test_every_engine_code_and_an_internal_error_are_read_back(tmp_path):
    from autorig import console, protocol

    for code in protocol.ENGINE_ERROR_CODES:
        line = console.error_line(code, "because: reasons")
        (tmp_path / code).mkdir()
        rc, engine = run(tmp_path / code, f"import sys; print({line!r}, file=sys.stderr); sys.exit(2)")
        assert engine.failure(rc) == (code, console.error_sentence(code, "because: reasons"))
    line = console.internal_line("KeyError: 'x'")
    (tmp_path / "internal").mkdir()
    rc, engine = run(tmp_path / "internal", f"import sys; print({line!r}, file=sys.stderr); sys.exit(1)")
    assert engine.failure(rc) == ("internal", "internal error: KeyError: 'x'")
