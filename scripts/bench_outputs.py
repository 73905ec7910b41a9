#!/usr/bin/env python
"""Time the full set of outputs of one character and print the numbers.

    .venv/bin/python scripts/bench_outputs.py                      # runxaway__Xbot: 49,112 triangles
    .venv/bin/python scripts/bench_outputs.py --character quaternius__Female_Dress --repeat 2
    .venv/bin/python scripts/bench_outputs.py --character all      # one line per eval character

Runs ``engine.rig_file(..., only="all")`` on ``<data>/unrigged/<character>.glb`` (the whole
pipeline, as a worker runs it) and prints the engine's stage timings, then one line per output
file (seconds, size, triangles) from the report, the LODs, and the clips' hand penetration.
With ``--repeat N`` it runs N times (each in a fresh Blender scene) and prints the median.
Also checks every GLB with the Khronos validator when Node and node_modules are there.
``--character all`` runs every character of the evaluation set once and prints one line each
(time, failed outputs, validator errors, LOD ratios, worst hand penetration).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_once(src: Path, out: Path) -> tuple[dict, float]:
    from autorig import engine

    if out.exists():
        shutil.rmtree(out)
    t = time.perf_counter()
    report = engine.rig_file(src, out, only="all")
    return report, time.perf_counter() - t


def validator_errors(out: Path) -> dict[str, int] | None:
    """GLB name -> number of validator errors (None when the validator is not installed)."""
    if shutil.which("node") is None or not (REPO / "node_modules" / "gltf-validator").is_dir():
        return None
    glbs = sorted(str(p) for p in out.glob("*.glb"))
    proc = subprocess.run(["node", str(REPO / "scripts" / "validate_gltf.mjs"), *glbs], capture_output=True, text=True)
    reports = json.loads(proc.stdout)
    return {Path(k).name: (v["issues"]["numErrors"] if "issues" in v else -1) for k, v in reports.items()}


def validate(out: Path) -> str:
    errors = validator_errors(out)
    if errors is None:
        return "validator not installed (npm ci)"
    return ", ".join(f"{k}: {v} errors" for k, v in errors.items())


def bench_all(data: Path, work: Path) -> int:
    from autorig.evaluation.dataset import character_names
    from autorig.rigging.errors import RigError

    print(
        f"{'character':<32} {'tris':>6} {'wall s':>7} {'outputs s':>9} {'preview s':>9}  {'lod1/lod2 %':>11} {'pen. max %':>10}  problems"
    )
    for name in character_names(data):
        out = work / name
        try:
            report, wall = run_once(data / "unrigged" / f"{name}.glb", out)
        except RigError as exc:
            print(f"{name:<32} rig failed: {exc.code}: {exc.reason}")
            continue
        except Exception as exc:  # keep going: one line per character
            print(f"{name:<32} internal error: {type(exc).__name__}: {exc}")
            continue
        problems = [f"{o['file']}: {o['error']}" for o in report["outputs"] if "error" in o]
        errors = validator_errors(out) or {}
        problems += [f"{k}: {v} validator errors" for k, v in errors.items() if v]
        lods = report.get("lods", {})
        ratio = "/".join(f"{lods[k]['ratio'] * 100:.0f}" for k in ("lod1", "lod2") if k in lods)
        pen = max(
            (c["hand_penetration_max_pct"] for c in report.get("animation", {}).get("clips", {}).values()), default=float("nan")
        )
        preview = next((o.get("seconds", 0.0) for o in report["outputs"] if o["file"] == "preview.mp4"), float("nan"))
        print(
            f"{name:<32} {report['triangles']:>6} {wall:>7.1f} {report['timings'].get('outputs', float('nan')):>9.1f} {preview:>9.1f}  "
            f"{ratio:>11} {pen:>10.2f}  {'; '.join(problems) or '-'}",
            flush=True,
        )
        shutil.rmtree(out, ignore_errors=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("AUTORIG_EVAL_DATA", REPO.parent / "shared" / "eval")))
    ap.add_argument("--character", default="runxaway__Xbot")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="output folder (default: a temporary one, removed)")
    args = ap.parse_args(argv)

    if args.character == "all":
        with tempfile.TemporaryDirectory(prefix="autorig-bench-") as tmp:
            return bench_all(args.data, Path(tmp))
    src = args.data / "unrigged" / f"{args.character}.glb"
    if not src.is_file():
        print(f"bench_outputs: no such input {src}", file=sys.stderr)
        return 2
    tmp = None if args.out else tempfile.mkdtemp(prefix="autorig-bench-")
    out = args.out or Path(tmp) / "out"
    runs = []
    for i in range(args.repeat):
        report, wall = run_once(src, out)
        runs.append((report, wall))
        print(f"run {i + 1}: {wall:.1f} s wall", flush=True)

    walls = [w for _, w in runs]
    report = runs[-1][0]
    files = {}
    for r, _ in runs:
        for o in r["outputs"]:
            files.setdefault(o["file"], []).append(o.get("seconds", float("nan")))
    stages = {}
    for r, _ in runs:
        for k, v in r["timings"].items():
            stages.setdefault(k, []).append(v)

    print(f"\n{args.character}: {report['triangles']} triangles, {report['vertices']} vertices; median of {len(runs)} run(s)")
    print(f"total {statistics.median(walls):.1f} s wall")
    print("stages (s): " + ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in stages.items()))
    print(f"\n{'file':<40} {'seconds':>8} {'MB':>8} {'triangles':>10}")
    for o in report["outputs"]:
        if "error" in o:
            print(f"{o['file']:<40} {'FAILED':>8}  {o['error']}")
            continue
        print(f"{o['file']:<40} {statistics.median(files[o['file']]):>8.2f} {o['size'] / 1e6:>8.2f} {o['triangles']:>10}")
    for level, r in report.get("lods", {}).items():
        print(
            f"{level}: {r['triangles']} triangles ({r['ratio'] * 100:.1f} %, target {r['target'] * 100:.0f} %), silhouette p99 {r['silhouette_p99_pct']:.3f} % of height"
        )
    anim = report.get("animation", {})
    if anim:
        pen = {k: v["hand_penetration_max_pct"] for k, v in anim["clips"].items()}
        print(f"clips: {len(pen)}, neutral arms {anim['neutral_arm_deg']} deg from vertical")
        print("hand penetration, max over frames (% of height): " + ", ".join(f"{k} {v:.2f}" for k, v in pen.items()))
    print("glTF validator: " + validate(out))
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
