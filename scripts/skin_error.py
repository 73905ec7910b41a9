"""Skinning score over the cached evaluation set: our weights on the artist's skeleton.

For each character, ``compute_weights`` binds the artist's mesh to the artist's own
bones (heads, hierarchy, deform flags from the cache); the seeded random poses of
``metrics.deformation_error`` then deform the mesh with our weights and with the
artist's, and the displacement between the two is printed in % of the height, with
the unweighted vertices and the seconds skinning took.

    .venv/bin/python scripts/skin_error.py [--only NAME ...] [--poses 20] [--json out.json]

Targets (issue 2): set average of the means <= 1.0 %; on every character mean <= 2.5 %
and p99 <= 10 %; no unweighted vertex.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from autorig.evaluation.dataset import character_names, load_cached
from autorig.rigging.bones import BoneSet
from autorig.rigging.metrics import deformation_error
from autorig.rigging.skinning import compute_weights

DEFAULT_DATA = Path(os.environ.get("AUTORIG_EVAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "eval"))
TARGET_AVERAGE, TARGET_MEAN, TARGET_P99 = 1.0, 2.5, 10.0


def artist_bones(c) -> BoneSet:
    return BoneSet(c.bone_names, c.bone_heads, c.bone_tails, c.bone_parents, c.bone_deform)


def score(data: Path, name: str, poses: int) -> dict:
    c = load_cached(data, name)
    bones = artist_bones(c)
    t0 = time.perf_counter()
    skin = compute_weights(c.rigged, bones)
    seconds = time.perf_counter() - t0
    err = deformation_error(c.rigged.vertices, bones, c.weights, skin.sparse(len(bones)), c.height, poses=poses)
    return {
        "name": name,
        "vertices": c.rigged.n_vertices,
        "triangles": c.rigged.n_triangles,
        "bones": int(np.count_nonzero(bones.deform)),
        **err,
        "seconds": seconds,
        "timings": skin.timings,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--poses", type=int, default=20)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    names = args.only or character_names(args.data)
    rows = []
    print(f"{'character':<32}{'tris':>7}{'bones':>6}{'mean %':>8}{'p99 %':>8}{'max %':>8}{'unw':>5}{'s':>7}  passes")
    for name in names:
        r = score(args.data, name, args.poses)
        rows.append(r)
        passes = " ".join(f"{k}={v:.2f}" for k, v in r["timings"].items())
        print(
            f"{name:<32}{r['triangles']:>7}{r['bones']:>6}{r['mean']:>8.2f}{r['p99']:>8.2f}{r['max']:>8.2f}"
            f"{r['unweighted']:>5}{r['seconds']:>7.2f}  {passes}",
            flush=True,
        )
    means = np.array([r["mean"] for r in rows])
    p99s = np.array([r["p99"] for r in rows])
    unweighted = sum(r["unweighted"] for r in rows)
    worst_mean, worst_p99 = rows[int(means.argmax())], rows[int(p99s.argmax())]
    ok = means.mean() <= TARGET_AVERAGE and means.max() <= TARGET_MEAN and p99s.max() <= TARGET_P99 and unweighted == 0
    print(f"average mean {means.mean():.3f} %  (target <= {TARGET_AVERAGE})   median {np.median(means):.3f} %")
    print(f"average p99 {p99s.mean():.2f} %")
    print(f"worst mean {means.max():.2f} % ({worst_mean['name']}, target <= {TARGET_MEAN})")
    print(f"worst p99 {p99s.max():.2f} % ({worst_p99['name']}, target <= {TARGET_P99})")
    print(f"unweighted vertices {unweighted}; seconds max {max(r['seconds'] for r in rows):.2f}")
    print("PASS" if ok else "FAIL")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
