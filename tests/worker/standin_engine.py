"""A stand-in for the engine CLI with slow, predictable timing (``AUTORIG_WORKER_ENGINE_COMMAND``).

It keeps the engine's contract (``rig INPUT -o OUTDIR --name NAME ...``: every file of
``protocol.output_files(name)`` written under a temporary name and renamed when complete, in
order, ``rig.json`` last; progress lines on stdout; exit 0) but takes ``STANDIN_DELAY_S`` per
file, so a test can watch the worker serve each file the moment it appears, for all twelve
outputs. The real engine runs in test_worker_jobs.py; this only makes the timing observable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from autorig.protocol import output_files  # noqa: E402 (after the sys.path line that finds the helpers)


def main() -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("rig")
    r.add_argument("input", type=Path)
    r.add_argument("-o", "--output", type=Path, required=True)
    r.add_argument("--name", required=True)
    r.add_argument("--skeleton", default="mixamo")
    r.add_argument("--only", default="all")
    r.add_argument("--mixamo-prefix", action="store_true")
    r.add_argument("--fingers", default="auto")
    args = p.parse_args()
    delay = float(os.environ.get("STANDIN_DELAY_S", "0.5"))
    data = args.input.read_bytes()
    args.output.mkdir(parents=True, exist_ok=True)
    names = output_files(args.name)
    for i, name in enumerate(names):
        print(f"autorig: progress writing {i / len(names):.3f}", flush=True)
        tmp = args.output / f".{name}.part"
        with open(tmp, "wb") as f:
            f.write(data[: len(data) // 2])
            f.flush()
            time.sleep(delay)  # half written: must not be visible yet
            f.write(data[len(data) // 2 :])
        content = json.dumps({"input": args.input.name}).encode() if name == "rig.json" else data
        if name == "rig.json":
            tmp.write_bytes(content)
        os.replace(tmp, args.output / name)
        print(f"autorig: wrote {name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
