#!/usr/bin/env python
"""Joint error of the automatic skeleton over the cached evaluation characters.

    .venv/bin/python scripts/joint_error.py [--data ../shared/eval] [--joints] [--rotate X,Y,Z] [names...]

Prints, per character, the mean joint error and the worst joint (% of height), the
fit's confidence and time, then the mean over the set and the worst character.
Scores with autorig.rigging.metrics.joint_errors (anatomical joints plus the pelvis).
``--rotate`` turns every character (and its ground truth) first: the engine assumes no
orientation, so the numbers should barely move. Exits 1 if any character fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from autorig.evaluation.dataset import character_names, load_cached
from autorig.rigging.errors import RigError
from autorig.rigging.mesh import CharacterMesh
from autorig.rigging.metrics import joint_errors
from autorig.rigging.skeleton import fit

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "eval")
    ap.add_argument("--joints", action="store_true", help="also print every joint's error")
    ap.add_argument(
        "--rotate",
        metavar="X,Y,Z",
        help="turn every character by these Euler angles (degrees, xyz) first: the score should not change",
    )
    ap.add_argument("names", nargs="*")
    args = ap.parse_args(argv)
    names = args.names or character_names(args.data)
    turn = np.eye(3)
    if args.rotate:
        from scipy.spatial.transform import Rotation

        turn = Rotation.from_euler("xyz", [float(a) for a in args.rotate.split(",")], degrees=True).as_matrix()
    means: dict[str, float] = {}
    print(f"{'character':32s} {'mean%':>6s} {'worst joint':>22s} {'conf':>5s} {'pose':>5s} {'sec':>5s}")
    for name in names:
        c = load_cached(args.data, name)
        mesh = CharacterMesh(c.unrigged.vertices @ turn.T, c.unrigged.triangles, c.unrigged.parts)
        gt = {k: v @ turn.T for k, v in c.joints.items()}
        t = time.perf_counter()
        try:
            sk = fit(mesh)
        except RigError as e:
            print(f"{name:32s} FAILED {e.code}: {e.reason}")
            means[name] = float("nan")
            continue
        dt = time.perf_counter() - t
        err = joint_errors(sk.joints, gt, c.height)
        worst = max(err, key=err.get)
        means[name] = float(np.mean(list(err.values())))
        print(
            f"{name:32s} {means[name]:6.2f} {worst:>15s} {err[worst]:6.2f} {sk.confidence:5.2f} {sk.orientation.pose:>5s} {dt:5.2f}"
        )
        if args.joints:
            print("    " + "  ".join(f"{k}={v:.1f}" for k, v in err.items()))
    vals = np.array([v for v in means.values()])
    failed = int(np.isnan(vals).sum())
    ok = vals[~np.isnan(vals)]
    if ok.size:
        worst = max((k for k in means if not np.isnan(means[k])), key=means.get)
        print(
            f"\nmean over {ok.size} characters: {ok.mean():.2f}% of height; worst {worst} {means[worst]:.2f}%;"
            f" above 8%: {int((ok > 8).sum())}; failed: {failed}"
        )
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
