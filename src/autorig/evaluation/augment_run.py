"""`autorig eval --augment`: rig augmented characters (``evaluation.augment``) like real
uploads and score them against their exact ground truth.

Each case runs in its own child process (like a worker's one job per Blender process): the
case is written as a GLB (``blender.augmented``), then ``engine.rig_file(case.glb, tmp,
only="rig")`` rigs it exactly as ``autorig rig --only rig`` would, and its ``rig.json`` joints
are scored. Per case: the joint error (% of the case's height), a refusal (the engine said
the input is not a riggable character), a left/right swap (the predicted Left joints of the
arms or of the legs lie nearer the ground truth's Right ones), the confidence. Per kind of
augmentation: the targets of issue 10, 0 refusals, 0 swaps, and every case's joint error
within ``AUGMENT_TOLERANCE`` of the same character unaugmented (the ``none`` case: the
character written through the same path, unchanged).
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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

import autorig
from autorig.evaluation import augment, report
from autorig.evaluation.dataset import load_cached, unrigged_path

# A case's joint error may exceed its character's unaugmented error by this (% of height).
AUGMENT_TOLERANCE = 0.5
# How long one case may take (write + rig) before it counts as an error (seconds).
CASE_TIMEOUT_S = 600.0
# Cases in the default run (plus one baseline per character): about ten minutes with two
# jobs on two cores, at ~4 s a case.
DEFAULT_CASES = 150
ERROR_TAIL_LINES = 3
# The engine's up or front axis this far from the character's own counts as wrong (degrees):
# a character rigged facing sideways or backwards, or lying.
AXIS_WRONG_DEG = 45.0


# --- one case (in the child) ---------------------------------------------------------------


def swaps(pred: dict[str, npt.NDArray[np.float64]], gt: dict[str, npt.NDArray[np.float64]]) -> dict[str, bool]:
    """Per limb pair (arms, legs): True when the predicted Left joints lie nearer the ground
    truth's Right ones (summed over the pair's joints both have) than their own."""
    out = {}
    for limb, parts in augment.LIMB_PAIRS.items():
        straight = crossed = 0.0
        n = 0
        for p in parts:
            ln, rn = f"Left{p}", f"Right{p}"
            if all(k in pred for k in (ln, rn)) and all(k in gt for k in (ln, rn)):
                pl, pr = np.asarray(pred[ln]), np.asarray(pred[rn])
                straight += float(np.linalg.norm(pl - gt[ln]) + np.linalg.norm(pr - gt[rn]))
                crossed += float(np.linalg.norm(pl - gt[rn]) + np.linalg.norm(pr - gt[ln]))
                n += 1
        if n:
            out[limb] = bool(crossed < straight)
    return out


def score(rep: dict[str, Any], case: augment.Case) -> dict[str, Any]:
    """The joints block of a case row from its ``rig.json`` report."""
    from autorig.rigging.metrics import joint_errors

    pred = {k: np.asarray(v, dtype=np.float64) for k, v in rep["joints"].items()}
    errs = joint_errors(pred, case.joints, case.height)
    if not errs:
        raise ValueError("no scored joint in common with the ground truth")
    worst = max(errs, key=errs.__getitem__)
    return {
        "errors": {k: round(v, 3) for k, v in errs.items()},
        "mean": float(np.mean(list(errs.values()))),
        "worst_joint": worst,
        "worst": errs[worst],
        "swaps": swaps(pred, case.joints),
    }


def evaluate_case(data: Path, character: str, kind: str, index: int, seed: int, keep: Path | None = None) -> dict[str, Any]:
    """Make, write, rig and score one case (runs Blender in this process)."""
    from autorig.engine import REPORT_NAME, rig_file
    from autorig.evaluation.run import _error
    from autorig.rigging.errors import RigError

    row: dict[str, Any] = {"case": f"{character}/{kind}/{index}", "character": character, "kind": kind, "index": index}
    t0 = time.perf_counter()
    try:
        c = load_cached(data, character)
        case = augment.make_case(c, kind, index, seed)
        row.update(params=case.params, height=case.height, mirrored=case.mirrored, props=[p.name for p in case.props])
    except Exception as exc:  # noqa: BLE001 - the row says what failed
        row["error"] = f"making the case: {_error(exc)}"
        return row
    with tempfile.TemporaryDirectory(prefix="autorig-augment-") as tmp:
        folder = keep if keep is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        glb = folder / f"{character}__{kind}_{index}.glb"
        try:
            from autorig.blender.augmented import write_case

            write_case(case, c, unrigged_path(data, character), glb)
        except Exception as exc:  # noqa: BLE001 - the row records the failure, the run goes on
            row["error"] = f"writing the case: {_error(exc)}"
            return row
        row["write_seconds"] = round(time.perf_counter() - t0, 3)
        out = Path(tmp) / "rig"
        try:
            rep = rig_file(glb, out, only="rig")
        except RigError as exc:
            row["refused"] = f"{exc.code}: {exc.reason}"
            return row
        except Exception as exc:  # noqa: BLE001 - the row records the failure, the run goes on
            row["error"] = f"rigging: {_error(exc)}"
            return row
        finally:
            path = out / REPORT_NAME
            if keep is not None and path.exists():
                (folder / f"{character}__{kind}_{index}.rig.json").write_text(path.read_text())
    row["confidence"] = rep.get("confidence")
    row["confidence_reasons"] = rep.get("confidence_reasons")
    o = rep.get("orientation") or {}
    row["orientation"] = {k: o.get(k) for k in ("up_axis", "front_axis", "pose")}
    for key, truth in (("up", case.up), ("front", case.front)):
        if o.get(key) is not None:  # how far the engine's axis is from the character's own
            v = np.asarray(o[key], dtype=np.float64)
            cos = float(np.dot(v, truth) / max(np.linalg.norm(v), 1e-12))
            row["orientation"][f"{key}_error_deg"] = round(float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))), 2)
    row["triangles"] = rep.get("triangles")
    row["rig_seconds"] = (rep.get("timings") or {}).get("total")
    try:
        row["joints"] = score(rep, case)
    except Exception as exc:  # noqa: BLE001 - the row records the failure, the run goes on
        row["error"] = f"scoring: {_error(exc)}"
    return row


# --- the run (in the parent) ---------------------------------------------------------------


def _run_child(data: Path, character: str, kind: str, index: int, seed: int, keep: Path | None, threads: int) -> dict[str, Any]:
    """`evaluate_case` in a fresh process; a crash or hang becomes the row's error."""
    with tempfile.TemporaryDirectory(prefix="autorig-augment-") as tmp:
        out = Path(tmp) / "row.json"
        cmd = [
            sys.executable,
            "-m",
            "autorig.evaluation.augment_run",
            "--data",
            str(data),
            "--character",
            character,
            "--kind",
            kind,
            "--index",
            str(index),
            "--seed",
            str(seed),
            "--out",
            str(out),
        ]
        if keep is not None:
            cmd += ["--keep", str(keep)]
        env = dict(os.environ)
        if threads:  # parallel cases: one BLAS thread each, or they fight over the cores
            env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        row = {"case": f"{character}/{kind}/{index}", "character": character, "kind": kind, "index": index}
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=CASE_TIMEOUT_S, env=env)
        except subprocess.TimeoutExpired:
            return {**row, "error": f"did not finish within {CASE_TIMEOUT_S:.0f} s"}
        if proc.returncode == 0 and out.exists():
            done: dict[str, Any] = json.loads(out.read_text())
            return done
        tail = [ln for ln in (proc.stdout + "\n" + proc.stderr).splitlines() if ln.strip()][-ERROR_TAIL_LINES:]
        return {**row, "error": f"process exited with code {proc.returncode}: {' | '.join(tail)}"}


def run_augment(
    data: Path,
    names: list[str],
    kinds: list[str],
    cases: int,
    seed: int = 0,
    jobs: int = 1,
    keep: Path | None = None,
    echo: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run ``cases`` augmented cases (plus each character's ``none`` baseline) and return
    the result: meta, cases (rows), summary."""
    from autorig.evaluation.run import _git, _load_average

    planned = augment.plan(names, kinds, cases, seed)
    commit, dirty = _git()
    meta: dict[str, Any] = {
        "version": autorig.__version__,
        "git_commit": commit,
        "git_dirty": dirty,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data": str(Path(data).resolve()),
        "seed": seed,
        "cases": cases,
        "cases_version": augment.CASES_VERSION,
        "kinds": kinds,
        "jobs": jobs,
        "tolerance": AUGMENT_TOLERANCE,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average": _load_average(),
    }
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []

    def one(item: tuple[str, str, int]) -> dict[str, Any]:
        t = time.perf_counter()
        row = _run_child(data, *item, seed, keep, 1 if jobs > 1 else 0)
        row["wall_seconds"] = round(time.perf_counter() - t, 2)
        return row

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for i, row in enumerate(pool.map(one, planned), 1):
            rows.append(row)
            if echo:
                echo(f"[{i}/{len(planned)}] {format_case(row)}")
    meta["seconds"] = time.perf_counter() - started
    meta["load_average_end"] = _load_average()
    return {"meta": meta, "tolerance": AUGMENT_TOLERANCE, "cases": rows, "summary": summarize(rows)}


# --- the report ----------------------------------------------------------------------------


def _swapped(row: dict[str, Any]) -> list[str]:
    return [k for k, v in ((row.get("joints") or {}).get("swaps") or {}).items() if v]


def format_case(row: dict[str, Any]) -> str:
    j = row.get("joints")
    if j:
        sw = _swapped(row)
        conf = row.get("confidence")
        text = (
            f"{row['case']}: joint error {j['mean']:.2f} %, worst {j['worst_joint']} {j['worst']:.1f} %"
            f"{f', confidence {conf:.2f}' if conf is not None else ''}{', SWAP ' + '+'.join(sw) if sw else ''}"
        )
    elif row.get("refused"):
        text = f"{row['case']}: REFUSED {report._short(row['refused'], 120)}"
    else:
        text = f"{row['case']}: ERROR {report._short(row.get('error', '?'), 160)}"
    params = row.get("params") or {}
    if params and row["kind"] != "none":
        text += "\n    " + report._short(", ".join(f"{k} {v}" for k, v in params.items() if v is not None), 200)
    return text


def summarize(rows: list[dict[str, Any]], tolerance: float = AUGMENT_TOLERANCE) -> dict[str, Any]:
    """Per kind: cases, refusals, errors, swaps, joint error and its excess over the same
    character unaugmented; the three targets with PASS/FAIL; the confidence against error."""
    base = {r["character"]: r["joints"]["mean"] for r in rows if r["kind"] == "none" and r.get("joints")}
    kinds: dict[str, dict[str, Any]] = {}
    for kind in augment.KINDS:
        rs = [r for r in rows if r["kind"] == kind]
        if not rs:
            continue
        scored = [r for r in rs if r.get("joints")]
        deltas = [r["joints"]["mean"] - base[r["character"]] for r in scored if r["character"] in base]
        over = [r["case"] for r in scored if r["character"] in base and r["joints"]["mean"] - base[r["character"]] > tolerance]
        refused = [r["case"] for r in rs if r.get("refused")]
        errors = [r["case"] for r in rs if r.get("error")]
        swapped = [r["case"] for r in scored if _swapped(r)]
        wrong_front = [r["case"] for r in scored if (r.get("orientation") or {}).get("front_error_deg", 0.0) > AXIS_WRONG_DEG]
        wrong_up = [r["case"] for r in scored if (r.get("orientation") or {}).get("up_error_deg", 0.0) > AXIS_WRONG_DEG]
        k = {
            "cases": len(rs),
            "scored": len(scored),
            "refused": refused,
            "errors": errors,
            "swaps": swapped,
            "front_wrong": wrong_front,
            "up_wrong": wrong_up,
            "joint_mean": report._mean([r["joints"]["mean"] for r in scored]),
            "joint_worst": max((r["joints"]["mean"] for r in scored), default=None),
            "delta_mean": report._mean(deltas),
            "delta_worst": max(deltas, default=None),
            "over_tolerance": over,
            "pass_refusals": not refused and not errors,
            "pass_swaps": not swapped and not errors,
            "pass_error": bool(scored) and not over and not errors and (kind == "none" or len(deltas) == len(scored)),
        }
        k["pass"] = k["pass_refusals"] and k["pass_swaps"] and k["pass_error"]
        kinds[kind] = k
    aug = [r for r in rows if r["kind"] != "none"]
    conf = report.confidence_relation([(r.get("confidence"), r["joints"]["mean"]) for r in rows if r.get("joints")])
    return {
        "kinds": kinds,
        "cases": len(aug),
        "refused": sum(len(k["refused"]) for n, k in kinds.items() if n != "none"),
        "swaps": sum(len(k["swaps"]) for n, k in kinds.items() if n != "none"),
        "errors": sum(len(k["errors"]) for n, k in kinds.items() if n != "none"),
        "over_tolerance": sum(len(k["over_tolerance"]) for n, k in kinds.items() if n != "none"),
        "confidence": conf,
        "all_pass": all(k["pass"] for n, k in kinds.items() if n != "none") and bool(aug),
    }


def format_characters(rows: list[dict[str, Any]], tolerance: float = AUGMENT_TOLERANCE) -> str:
    """One line per character that missed a target: which kinds refused, swapped or went over."""
    base = {r["character"]: r["joints"]["mean"] for r in rows if r["kind"] == "none" and r.get("joints")}
    lines = []
    for ch in dict.fromkeys(r["character"] for r in rows):
        rs = [r for r in rows if r["character"] == ch and r["kind"] != "none"]
        bad = {
            "refused": [r["kind"] for r in rs if r.get("refused")],
            "swapped": [r["kind"] for r in rs if r.get("joints") and _swapped(r)],
            "over": [
                r["kind"]
                for r in rs
                if r.get("joints") and ch in base and r["joints"]["mean"] - base[ch] > tolerance and not _swapped(r)
            ],
            "errors": [r["kind"] for r in rs if r.get("error")],
        }
        if any(bad.values()):
            text = "; ".join(f"{k} {','.join(v)}" for k, v in bad.items() if v)
            lines.append(f"  {ch:<34}{len(rs):>3} cases  {text}")
    return (
        ("by character (kinds that missed a target):\n" + "\n".join(lines))
        if lines
        else "by character: every case met the targets"
    )


def format_summary(result: dict[str, Any]) -> str:
    s = result["summary"]
    tol = result.get("tolerance", AUGMENT_TOLERANCE)
    f = report._f
    cols = (
        f"{'kind':<8}{'cases':>6}{'refused':>8}{'swaps':>6}{'front':>6}{'errors':>7}{'joint %':>9}{'worst %':>9}"
        f"{'vs none':>9}{'worst':>8}{'>+' + format(tol, 'g'):>6}  result"
    )
    lines = [cols, "-" * len(cols)]
    for kind, k in s["kinds"].items():
        marks = []
        if kind != "none":
            marks = [
                f"refusals {report._mark(k['pass_refusals'])}",
                f"swaps {report._mark(k['pass_swaps'])}",
                f"error {report._mark(k['pass_error'])}",
            ]
        lines.append(
            f"{kind:<8}{k['cases']:>6}{len(k['refused']):>8}{len(k['swaps']):>6}{len(k['front_wrong']):>6}{len(k['errors']):>7}"
            f"{f(k['joint_mean']):>9}{f(k['joint_worst']):>9}{f(k['delta_mean'], 2):>9}{f(k['delta_worst']):>8}"
            f"{len(k['over_tolerance']):>6}  {'  '.join(marks)}"
        )
    lines.append(f"front: cases whose rig.json front is over {AXIS_WRONG_DEG:g} degrees off the character's own;")
    lines.append("joint %: mean joint error (% of height); vs none: mean excess over the same character unaugmented;")
    lines.append(f"targets per kind: 0 refusals, 0 swaps, every case within +{tol:g} % of its character unaugmented")
    for kind, k in s["kinds"].items():
        for label, key in (
            ("refused", "refused"),
            ("swapped", "swaps"),
            ("facing wrong", "front_wrong"),
            ("up wrong", "up_wrong"),
            ("errors", "errors"),
            (f"over +{tol:g} %", "over_tolerance"),
        ):
            if k[key]:
                lines.append(f"  {kind} {label}: {report._names(k[key], 8).strip(' ()')}")
    lines.append(format_characters(result["cases"], tol))
    lines.append(report.format_confidence(s["confidence"]))
    lines.append(
        f"augmented cases {s['cases']}: refused {s['refused']}, swaps {s['swaps']}, errors {s['errors']}, "
        f"over tolerance {s['over_tolerance']}  ->  {'PASS' if s['all_pass'] else 'FAIL'}"
    )
    return "\n".join(lines)


def format_result(result: dict[str, Any]) -> str:
    meta = result.get("meta", {})
    head = (
        f"autorig eval --augment  version {meta.get('version', '?')}  commit {(meta.get('git_commit') or '?')[:10]}"
        f"{'+dirty' if meta.get('git_dirty') else ''}  {meta.get('date', '')}  seed {meta.get('seed')}"
        f"  cases {meta.get('cases')}  jobs {meta.get('jobs')}  {report._f(meta.get('seconds'), 0)} s"
    )
    return head + "\n\n" + format_summary(result)


def _state(row: dict[str, Any] | None) -> str:
    if row is None:
        return "-"
    if row.get("refused"):
        return "refused"
    if row.get("error"):
        return "error"
    j = row.get("joints") or {}
    return f"{j.get('mean', float('nan')):.2f}" + (" SWAP" if _swapped(row) else "")


def compare(old: dict[str, Any], new: dict[str, Any], changed: float = 1.0) -> str:
    """Two stored ``--augment`` runs side by side: per kind, then every case whose outcome
    changed (refused, swapped, or joint error moved by more than ``changed`` % of height)."""
    f = report._f
    ok, nk = old["summary"]["kinds"], new["summary"]["kinds"]
    lines = [
        f"{'kind':<8}{'refused':>12}{'swaps':>10}{'joint %':>16}{'vs none':>16}{'>+tol':>10}",
        f"{'':<8}{'old   new':>12}{'old new':>10}{'old     new':>16}{'old     new':>16}{'old new':>10}",
    ]
    for kind in augment.KINDS:
        a, b = ok.get(kind), nk.get(kind)
        if a is None and b is None:
            continue
        g: Callable[..., float | None] = lambda k, key, n=True: (len(k[key]) if n else k[key]) if k else None  # noqa: E731 - a one-line helper for the table below
        lines.append(
            f"{kind:<8}{f(g(a, 'refused')):>6}{f(g(b, 'refused')):>6}{f(g(a, 'swaps')):>5}{f(g(b, 'swaps')):>5}"
            f"{f(g(a, 'joint_mean', False)):>8}{f(g(b, 'joint_mean', False)):>8}"
            f"{f(g(a, 'delta_mean', False)):>8}{f(g(b, 'delta_mean', False)):>8}"
            f"{f(g(a, 'over_tolerance')):>5}{f(g(b, 'over_tolerance')):>5}"
        )
    old_rows = {r["case"]: r for r in old["cases"]}
    moved = []
    only_new = 0
    for r in new["cases"]:
        o = old_rows.get(r["case"])
        if o is None:
            only_new += 1
            continue
        so, sn = _state(o), _state(r)
        jo, jn = (o or {}).get("joints"), r.get("joints")
        if (
            so.split()[1:] != sn.split()[1:]
            or (so in ("refused", "error")) != (sn in ("refused", "error"))
            or (jo and jn and abs(jo["mean"] - jn["mean"]) > changed)
        ):
            moved.append(f"  {r['case']:<48}{so:>14} -> {sn}")
    lines.append(f"\ncases that changed (refusal, swap, or joint error by more than {changed:g} %): {len(moved)}")
    lines += moved
    lines.append(
        "\n"
        + report.format_confidence(old["summary"]["confidence"]).replace("confidence vs error", "old: confidence vs error", 1)
    )
    lines.append(
        report.format_confidence(new["summary"]["confidence"]).replace("confidence vs error", "new: confidence vs error", 1)
    )
    if only_new:
        lines.append(f"({only_new} cases of the new run are not in the old one)")
    om, nm = old.get("meta", {}), new.get("meta", {})
    if om.get("seed") != nm.get("seed"):
        lines.append("note: the two runs used different seeds, so their cases differ")
    if om.get("cases_version") != nm.get("cases_version"):
        lines.append(
            f"note: the cases were made by different versions of the generator "
            f"({om.get('cases_version')} and {nm.get('cases_version')}): the same name may be another case"
        )
    return "\n".join(lines)


# --- the command line -----------------------------------------------------------------------


def cli_augment(args: argparse.Namespace, data: Path, names: list[str]) -> int:
    kinds = list(augment.KINDS)
    if args.kinds:
        kinds = [k.strip() for k in ",".join(args.kinds).split(",") if k.strip()]
        unknown = [k for k in kinds if k not in augment.KINDS]
        if unknown:
            print(
                f"autorig eval: unknown kind(s): {', '.join(unknown)} (choose from {', '.join(augment.KINDS)})", file=sys.stderr
            )
            return 2
    cases = DEFAULT_CASES if args.cases is None else args.cases
    if cases < 0 or args.jobs < 1:
        print("autorig eval: --cases must be >= 0 and --jobs >= 1", file=sys.stderr)
        return 2

    def echo(text: str) -> None:
        print(text, flush=True)

    keep = Path(args.keep).resolve() if args.keep else None
    result = run_augment(data, names, kinds, cases, seed=args.seed, jobs=args.jobs, keep=keep, echo=echo)
    print("\n" + format_result(result), flush=True)
    if args.json is not None:
        Path(args.json).write_text(report.to_json(result))
        print(f"\nwrote {args.json}")
    return 0


def _child_main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="one case of autorig eval --augment (internal)")
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--character", required=True)
    ap.add_argument("--kind", required=True)
    ap.add_argument("--index", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--keep", type=Path, default=None)
    a = ap.parse_args(argv)
    row = evaluate_case(a.data, a.character, a.kind, a.index, a.seed, a.keep)
    a.out.write_text(report.to_json(row))
    return 0


if __name__ == "__main__":
    code = _child_main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip Blender's module teardown
