"""Memory and time of the engine on large models: a development character subdivided to N triangles.

    .venv/bin/python scripts/bench_large.py --base ../shared/eval/unrigged/runxaway__Xbot.glb \
        --cuts 2 4 6 --out /tmp/large [--only all] [--split] [--stages]
    .venv/bin/python scripts/bench_large.py --base ../shared/eval/unrigged/runxaway__Standard.glb \
        --triangles 500000 --split --stages          # 513 k triangles, 1.54 M vertices (flat-shaded)

For each ``cuts`` (or the smallest that reaches ``--triangles``), every triangle is split into
(cuts+1)^2 (``bmesh.ops.subdivide_edges``; with ``--split`` every face then gets its own
vertices, as flat-shaded models have: 3 vertices per triangle; with ``--soup`` each face is
also shrunk a little about its centre, so no two vertices share a position and nothing can be
welded: the worst case for the vertex limit), the model written as GLB, then ``autorig rig``
run on it (with the size limits lifted, to measure past them) while its peak
address space (VmPeak, what the worker's RLIMIT_AS limits) and resident memory (VmRSS, VmHWM)
are sampled from /proc. Prints one line per model: triangles, vertices, seconds, exit code, peak
memory; with ``--stages`` also one line per phase (each engine stage, each output file: the
time until the engine announced it and the largest resident memory seen meanwhile).
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

PROGRESS = "autorig: progress "
WROTE = "autorig: wrote "


def make(base: Path, cuts: int, out: Path, split: bool = False, soup: bool = False) -> tuple[Path, int, int]:
    code = f"""
import bpy, bmesh
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath={str(base)!r})
tris = verts = 0
for ob in [o for o in bpy.context.scene.objects if o.type == 'MESH']:
    bm = bmesh.new(); bm.from_mesh(ob.data)
    bmesh.ops.triangulate(bm, faces=bm.faces[:])
    if {cuts}:
        bmesh.ops.subdivide_edges(bm, edges=bm.edges[:], cuts={cuts}, use_grid_fill=True)
        bmesh.ops.triangulate(bm, faces=bm.faces[:])
    if {split or soup}:
        bmesh.ops.split_edges(bm, edges=bm.edges[:])
    if {soup}:  # every face shrunk a little about its centre: no two vertices share a position
        for f in bm.faces:
            c = f.calc_center_median()
            for v in f.verts:
                v.co = c + (v.co - c) * 0.995
    tris += len(bm.faces)
    bm.to_mesh(ob.data); bm.free()
    verts += len(ob.data.vertices)
bpy.ops.export_scene.gltf(filepath={str(out)!r}, export_format='GLB', export_animations=False, export_skins=False)
print('TRIANGLES', tris, verts)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    words = next(ln.split() for ln in r.stdout.splitlines() if ln.startswith("TRIANGLES"))
    return out, int(words[1]), int(words[2])


def base_triangles(base: Path) -> int:
    code = f"""
import bpy
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath={str(base)!r})
t = 0
for ob in [o for o in bpy.context.scene.objects if o.type == 'MESH']:
    ob.data.calc_loop_triangles(); t += len(ob.data.loop_triangles)
print('TRIANGLES', t)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(next(ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith("TRIANGLES")))


def memory(pid: int) -> dict[str, int]:
    """VmPeak, VmRSS, VmHWM of ``pid`` in MB (empty once it is gone)."""
    out: dict[str, int] = {}
    try:
        for ln in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = ln.split(":")[0]
            if key in ("VmPeak", "VmRSS", "VmHWM"):
                out[key] = int(ln.split()[1]) // 1024
    except OSError:
        pass
    return out


class Phases:
    """Phases of a run, each ended by a console line: a progress line ends the stage that was
    running, a ``wrote`` line the making of that file. Each keeps its seconds and peak RSS."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stage = "start"
        self.start = time.monotonic()
        self.peak = 0
        self.done: list[tuple[str, float, int]] = []

    def sample(self, rss: int) -> None:
        with self.lock:
            self.peak = max(self.peak, rss)

    def line(self, text: str) -> None:
        with self.lock:
            now = time.monotonic()
            if text.startswith(PROGRESS):
                label, stage = self.stage, text[len(PROGRESS) :].split()[0]
            elif text.startswith(WROTE):
                label, stage = text[len(WROTE) :].strip(), self.stage
            else:
                return
            if now - self.start > 0.05 or label != self.stage:
                self.done.append((label, now - self.start, self.peak))
            self.stage, self.start, self.peak = stage, now, 0


def run(model: Path, outdir: Path, only: str, phases: Phases | None = None) -> tuple[float, int, dict[str, int]]:
    t = time.monotonic()
    env = dict(
        os.environ, AUTORIG_MAX_TRIANGLES="100000000", AUTORIG_MAX_VERTICES="100000000", AUTORIG_MAX_DISTINCT_VERTICES="100000000"
    )  # measure past them
    p = subprocess.Popen(
        [sys.executable, "-m", "autorig", "rig", str(model), "-o", str(outdir), "--only", only],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    log = Phases() if phases is None else phases
    assert p.stdout is not None and p.stderr is not None
    stdout = p.stdout

    def read() -> None:
        for ln in stdout:
            log.line(ln)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    peaks: dict[str, int] = {}
    while p.poll() is None:
        m = memory(p.pid)
        for k, v in m.items():
            peaks[k] = max(peaks.get(k, 0), v)
        log.sample(m.get("VmRSS", 0))
        time.sleep(0.2)
    reader.join()
    log.line(PROGRESS + "end 1.0")
    err = p.stderr.read().strip().splitlines()
    if p.returncode:
        print("   ", err[-1] if err else "")
    for ln in err:
        if "warning" in ln:
            print("   ", ln)
    return time.monotonic() - t, p.returncode, peaks


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--cuts", type=int, nargs="+", default=[2, 4, 6])
    ap.add_argument("--triangles", type=int, default=0, help="instead of --cuts: the fewest cuts that reach this many triangles")
    ap.add_argument("--out", type=Path, default=Path("/tmp/autorig-large"))
    ap.add_argument("--only", default="all")
    ap.add_argument("--split", action="store_true", help="split every face apart (3 vertices per triangle)")
    ap.add_argument("--soup", action="store_true", help="split every face apart and shrink it a little: nothing can be welded")
    ap.add_argument("--stages", action="store_true", help="print the seconds and peak resident memory of every phase")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    cuts_list = args.cuts
    if args.triangles:
        cuts_list = [max(0, math.ceil(math.sqrt(args.triangles / base_triangles(args.base))) - 1)]
    for cuts in cuts_list:
        kind = "_soup" if args.soup else "_split" if args.split else ""
        model, tris, verts = make(args.base, cuts, args.out / f"large_{cuts}{kind}.glb", args.split, args.soup)
        phases = Phases()
        seconds, rc, peaks = run(model, args.out / f"out_{cuts}", args.only, phases)
        print(
            f"{tris:>9,} triangles, {verts:>9,} vertices: {seconds:6.1f} s, exit {rc}, peak address space "
            f"{peaks.get('VmPeak', 0):,} MB, peak resident {peaks.get('VmHWM', 0):,} MB",
            flush=True,
        )
        if args.stages:
            for label, secs, rss in phases.done:
                print(f"    {label:<28} {secs:7.1f} s  peak resident {rss:,} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
