"""Memory and time of the engine on large models: a development character subdivided to N triangles.

    .venv/bin/python scripts/bench_large.py --base ../shared/eval/unrigged/runxaway__Xbot.glb \
        --cuts 2 4 6 --out /tmp/large [--only all]

For each ``cuts``, every triangle is split into (cuts+1)^2 (``bmesh.ops.subdivide_edges``; with
``--split`` every face then gets its own vertices, as flat-shaded models have), the
model written as GLB, then ``autorig rig`` run on it while its peak address space (VmPeak, what
the worker's RLIMIT_AS limits) and peak resident memory (VmHWM) are sampled from /proc. Prints one
line per model: triangles, seconds, exit code, peak memory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path


def make(base: Path, cuts: int, out: Path, split: bool = False) -> tuple[Path, int]:
    code = f"""
import bpy, bmesh
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath={str(base)!r})
tris = 0
for ob in [o for o in bpy.context.scene.objects if o.type == 'MESH']:
    bm = bmesh.new(); bm.from_mesh(ob.data)
    bmesh.ops.triangulate(bm, faces=bm.faces[:])
    if {cuts}:
        bmesh.ops.subdivide_edges(bm, edges=bm.edges[:], cuts={cuts}, use_grid_fill=True)
        bmesh.ops.triangulate(bm, faces=bm.faces[:])
    if {split}:
        bmesh.ops.split_edges(bm, edges=bm.edges[:])
    tris += len(bm.faces)
    bm.to_mesh(ob.data); bm.free()
bpy.ops.export_scene.gltf(filepath={str(out)!r}, export_format='GLB', export_animations=False, export_skins=False)
print('TRIANGLES', tris)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    tris = int(next(ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith("TRIANGLES")))
    return out, tris


def peak(pid: int) -> tuple[int, int]:
    vm = hwm = 0
    try:
        for ln in Path(f"/proc/{pid}/status").read_text().splitlines():
            if ln.startswith("VmPeak:"):
                vm = int(ln.split()[1]) // 1024
            elif ln.startswith("VmHWM:"):
                hwm = int(ln.split()[1]) // 1024
    except OSError:
        pass
    return vm, hwm


def run(model: Path, outdir: Path, only: str) -> tuple[float, int, int, int]:
    t = time.monotonic()
    env = dict(os.environ, AUTORIG_MAX_TRIANGLES="100000000", AUTORIG_MAX_VERTICES="100000000")  # measure past them
    p = subprocess.Popen(
        [sys.executable, "-m", "autorig", "rig", str(model), "-o", str(outdir), "--only", only],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    vm = hwm = 0
    while p.poll() is None:
        a, b = peak(p.pid)
        vm, hwm = max(vm, a), max(hwm, b)
        time.sleep(0.2)
    err = p.stderr.read().strip().splitlines()
    if p.returncode:
        print("   ", err[-1] if err else "")
    return time.monotonic() - t, p.returncode, vm, hwm


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--cuts", type=int, nargs="+", default=[2, 4, 6])
    ap.add_argument("--out", type=Path, default=Path("/tmp/autorig-large"))
    ap.add_argument("--only", default="all")
    ap.add_argument("--split", action="store_true", help="split every face apart (3 vertices per triangle)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for cuts in args.cuts:
        model, tris = make(args.base, cuts, args.out / f"large_{cuts}{'_split' if args.split else ''}.glb", args.split)
        seconds, rc, vm, hwm = run(model, args.out / f"out_{cuts}", args.only)
        print(f"{tris:>9,} triangles: {seconds:6.1f} s, exit {rc}, peak address space {vm:,} MB, peak resident {hwm:,} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
