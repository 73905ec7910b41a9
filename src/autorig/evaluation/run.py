"""`autorig eval`: score the engine on the artist-rigged characters, next to Blender's
bone heat.

For each character, in named passes:

1. **ours** (a child process per character, like a worker's one job per Blender process):
   rig ``unrigged/<name>.glb`` exactly as a user's upload (`engine.rig_file(...,
   only="rig")` into a temporary folder), keep its per-stage seconds and score the joints
   of its skeleton (``rig.json``'s ``joints``, Blender world frame like the ground truth)
   against the artist's (`metrics.joint_errors`); skin the artist's mesh
   to the artist's skeleton with our `compute_weights` and score the deformation against
   the artist's weights (`metrics.deformation_error`, seeded poses).
2. **bone heat** (`blender.boneheat.run_isolated`, its own child process): Blender's
   automatic weights for the same mesh, skeleton and poses.

A stage that raises is written into the character's row and the rest goes on; a child
that crashes or hangs costs that character only. Results print as each character is
done, then a table and the summary with the targets (`report.TARGETS`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import numpy as np
from scipy import sparse

import autorig
from autorig.evaluation import report
from autorig.evaluation.dataset import CachedCharacter, character_names, load_cached, unrigged_path
from autorig.rigging.bones import BoneSet

# The engine rigs with fingers here (``--fingers auto``; the command's default is none) so
# that their placement is scored.
EVAL_FINGERS = "auto"
# Random poses are drawn from this seed, so two runs (two versions) see the same poses.
POSE_SEED = 0
# Limits for one character's child processes (seconds). Generous: the slowest character
# takes seconds; these only stop a hang from stalling the whole run.
CHARACTER_TIMEOUT_S = 900.0
BONE_HEAT_TIMEOUT_S = 600.0
# How much of a failed child's output goes into the error message.
ERROR_TAIL_LINES = 3

_P = ParamSpec("_P")
_T = TypeVar("_T")

PACKAGE = Path(autorig.__file__).resolve().parent
REPO = PACKAGE.parents[1]


# --- helpers ------------------------------------------------------------------------------


def artist_bones(c: CachedCharacter) -> BoneSet:
    """The ground-truth skeleton of a cached character as a BoneSet (Blender world frame)."""
    return BoneSet(c.bone_names, c.bone_heads, c.bone_tails, c.bone_parents, c.bone_deform)


def _error(exc: BaseException) -> str:
    """One readable line for a failed stage: the exception and where it was raised."""
    tb = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in tb if Path(f.filename).resolve().is_relative_to(PACKAGE)]
    frames = [f for f in (ours[-1:] + tb[-1:]) if f]
    if len(frames) == 2 and frames[0] is frames[1]:
        frames = frames[:1]
    where = " (" + " > ".join(f"{Path(f.filename).name}:{f.lineno}" for f in frames) + ")" if frames else ""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}{where}"


def _timed(fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> tuple[_T, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def _deformation(c: CachedCharacter, bones: BoneSet, weights: sparse.csr_matrix, poses: int) -> dict[str, float]:
    from autorig.rigging.metrics import deformation_error

    return deformation_error(c.rigged.vertices, bones, c.weights, weights, c.height, poses=poses, seed=POSE_SEED)


def _round(d: dict[str, Any], digits: int = 4) -> dict[str, Any]:
    return {k: (round(v, digits) if isinstance(v, float) else v) for k, v in d.items()}


# --- pass 1: our engine, in a child process ---------------------------------------------


def _rig(data: Path, name: str) -> tuple[dict[str, Any], str | None]:
    """``engine.rig_file(unrigged/<name>.glb, tmp, only="rig")``: its report (what
    ``rig.json`` holds, also when a stage failed) and the error, if one was raised."""
    from autorig.engine import REPORT_NAME, rig_file

    with tempfile.TemporaryDirectory(prefix="autorig-eval-") as out:
        try:
            return rig_file(unrigged_path(data, name), Path(out), only="rig", fingers=EVAL_FINGERS), None
        except Exception as exc:  # noqa: BLE001 - the report says how far it got
            path = Path(out) / REPORT_NAME
            rep = json.loads(path.read_text()) if path.exists() else {}
            return rep, _error(exc)


def evaluate_ours(data: Path, name: str, poses: int) -> dict[str, Any]:
    """The row of one character without the baseline (runs Blender in this process)."""
    row: dict[str, Any] = {"name": name, "errors": {}}
    try:
        c = load_cached(data, name)
    except Exception as exc:  # noqa: BLE001 - any failure becomes the row's error
        row["errors"]["data"] = _error(exc)
        return row
    row.update(
        triangles=int(c.unrigged.n_triangles),
        vertices=int(c.unrigged.n_vertices),
        rigged_vertices=int(c.rigged.n_vertices),
        bones=len(c.bone_names),
        height=float(c.height),
    )

    # The pipeline as a user gets it, on the file a user would upload: its timings, and
    # the joints of our skeleton scored against the artist's.
    try:
        rep, failure = _rig(data, name)
    except Exception as exc:  # noqa: BLE001 - no engine at all
        rep, failure = {}, _error(exc)
    timings = rep.get("timings") or {}
    if failure is None:
        row["speed"] = {
            "source": "engine.rig_file",
            **{k: timings.get(k) for k in report.SPEED_STAGES},
            "total": timings.get("total"),
        }
    else:
        row["errors"]["speed"] = failure
    try:
        from autorig.rigging.metrics import joint_errors

        if not rep.get("joints"):
            raise RuntimeError(failure or "the engine reported no joints")
        pred = {k: np.asarray(v, dtype=np.float64) for k, v in rep["joints"].items()}
        errs = joint_errors(pred, c.joints, c.height)
        if not errs:
            raise ValueError("no scored joint in common with the ground truth")
        worst = max(errs, key=errs.__getitem__)
        row["joints"] = {
            "errors": _round(errs, 3),
            "mean": float(np.mean(list(errs.values()))),
            "worst_joint": worst,
            "worst": errs[worst],
            "confidence": rep.get("confidence"),
            "seconds": timings.get("skeleton"),
            "timings": (rep.get("stage_details") or {}).get("skeleton", {}),
        }
    except Exception as exc:  # noqa: BLE001 - the row records the failure, the run goes on
        row["errors"]["joints"] = _error(exc)
    try:
        from autorig.evaluation import fingers

        pred = {k: np.asarray(v, dtype=np.float64) for k, v in (rep.get("joints") or {}).items()}
        wrists = {side: c.joints[f"{side}Hand"] for side in ("Left", "Right") if f"{side}Hand" in c.joints}
        row["fingers"] = fingers.score(pred, c.bone_names, c.bone_heads, c.height, wrists)
    except Exception as exc:  # noqa: BLE001 - the row records the failure, the run goes on
        row["errors"]["fingers"] = _error(exc)

    # Skinning: our weights for the artist's skeleton on the artist's mesh.
    try:
        from autorig.rigging.skinning import compute_weights

        bones = artist_bones(c)
        skin, sec = _timed(compute_weights, c.rigged, bones)
        row["skinning"] = {
            **_deformation(c, bones, skin.sparse(len(bones)), poses),
            "seconds": sec,
            "timings": dict(getattr(skin, "timings", {}) or {}),
        }
        from autorig.evaluation import fingers

        # With the fingers curled too; a rig without finger bones scores as above.
        curled = fingers.deformation(c.rigged.vertices, bones, c.weights, skin.sparse(len(bones)), c.height, poses, POSE_SEED)
        row["skinning_fingers"] = curled or {k: row["skinning"][k] for k in ("mean", "p99", "max")}
    except Exception as exc:  # noqa: BLE001 - the row records the failure, the run goes on
        row["errors"]["skinning"] = _error(exc)
    return row


def _run_child(data: Path, name: str, poses: int) -> dict[str, Any]:
    """`evaluate_ours` in a fresh process; a crash or hang becomes the row's error."""
    with tempfile.TemporaryDirectory(prefix="autorig-eval-") as tmp:
        out = Path(tmp) / "row.json"
        cmd = [
            sys.executable,
            "-m",
            "autorig.evaluation.run",
            "--character",
            name,
            "--data",
            str(data),
            "--poses",
            str(poses),
            "--out",
            str(out),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=CHARACTER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return {"name": name, "errors": {"engine": f"did not finish within {CHARACTER_TIMEOUT_S:.0f} s"}}
        if proc.returncode == 0 and out.exists():
            row: dict[str, Any] = json.loads(out.read_text())
            return row
        tail = [ln for ln in (proc.stdout + "\n" + proc.stderr).splitlines() if ln.strip()][-ERROR_TAIL_LINES:]
        return {"name": name, "errors": {"engine": f"process exited with code {proc.returncode}: {' | '.join(tail)}"}}


# --- pass 2: bone heat -------------------------------------------------------------------


def evaluate_bone_heat(data: Path, name: str, poses: int) -> dict[str, Any]:
    """Blender's automatic weights for the artist's skeleton, scored like ours."""
    from autorig.blender.boneheat import run_isolated

    c = load_cached(data, name)
    bones = artist_bones(c)
    result = run_isolated(c.rigged, bones, timeout=BONE_HEAT_TIMEOUT_S)
    scores = _deformation(c, bones, result.weights, poses)
    return {**scores, "failures": result.failures, "seconds": result.seconds}


# --- the whole run -----------------------------------------------------------------------


def evaluate_character(data: Path, name: str, poses: int, baseline: bool = True) -> dict[str, Any]:
    row = _run_child(data, name, poses)
    if baseline and "data" not in row.get("errors", {}):
        try:
            row["bone_heat"] = evaluate_bone_heat(data, name, poses)
        except Exception as exc:  # noqa: BLE001 - the row records the failure, the run goes on
            row.setdefault("errors", {})["bone_heat"] = _error(exc)
    return row


def _git() -> tuple[str | None, bool | None]:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # read only: never touch the index
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, env=env
        )
        if commit.returncode != 0:
            return None, None
        status = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            env=env,
        )
        return commit.stdout.strip(), bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return None, None


def _load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def run_eval(
    data: Path, names: list[str], poses: int = 20, baseline: bool = True, echo: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Evaluate ``names`` and return the whole result (meta, targets, characters, summary).
    ``echo(text)`` is called with each character's block as soon as it is done."""
    commit, dirty = _git()
    started = time.perf_counter()
    meta: dict[str, Any] = {
        "version": autorig.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data": str(Path(data).resolve()),
        "poses": poses,
        "pose_seed": POSE_SEED,
        "baseline": baseline,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        # Other work on the machine slows every stage: keep the load next to the timings.
        "load_average": _load_average(),
    }
    rows = []
    for i, name in enumerate(names, 1):
        t0 = time.perf_counter()
        row = evaluate_character(data, name, poses, baseline)
        row["wall_seconds"] = time.perf_counter() - t0
        rows.append(row)
        if echo:
            echo(f"[{i}/{len(names)}] {report.format_character(row)}\n   ({row['wall_seconds']:.1f} s)")
    meta["seconds"] = time.perf_counter() - started
    meta["load_average_end"] = _load_average()
    return {"meta": meta, "targets": report.targets_dict(), "characters": rows, "summary": report.summarize(rows)}


def cli_eval(args: argparse.Namespace) -> int:
    from autorig.config import core_settings

    data = Path(args.data or core_settings().eval_data)  # AUTORIG_EVAL_DATA, else ../shared/eval
    if not (data / "characters.txt").is_file():
        print(
            f"autorig eval: no evaluation set at {data} (characters.txt missing); use --data or AUTORIG_EVAL_DATA",
            file=sys.stderr,
        )
        return 2
    if args.poses < 1:
        print("autorig eval: --poses must be at least 1", file=sys.stderr)
        return 2
    available = character_names(data)
    names = available
    if args.only:
        unknown = [n for n in args.only if n not in available]
        if unknown:
            print(f"autorig eval: unknown character(s): {', '.join(unknown)}\navailable: {', '.join(available)}", file=sys.stderr)
            return 2
        names = [n for n in available if n in set(args.only)]
    if args.json is not None and not Path(args.json).resolve().parent.is_dir():
        print(f"autorig eval: folder of --json does not exist: {Path(args.json).parent}", file=sys.stderr)
        return 2

    if getattr(args, "augment", False):
        from autorig.evaluation.augment_run import cli_augment

        return cli_augment(args, data, names)

    def echo(text: str) -> None:
        print(text + "\n", flush=True)

    result = run_eval(data, names, poses=args.poses, baseline=not args.no_baseline, echo=echo)
    print(report.format_result(result), flush=True)
    if args.json is not None:
        Path(args.json).write_text(report.to_json(result))
        print(f"\nwrote {args.json}")
    return 0


def _child_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="one character of autorig eval (internal)")
    ap.add_argument("--character", required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--poses", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)
    row = evaluate_ours(a.data, a.character, a.poses)
    a.out.write_text(report.to_json(row))
    return 0


if __name__ == "__main__":
    code = _child_main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip Blender's module teardown: slow, and nothing is left to save.
    os._exit(code)
