"""`autorig eval` results: the targets, the summary over the set, text tables and JSON.

Everything here works on plain dicts (the JSON form of a run), so a stored result can be
re-printed or compared with another one without running anything:

    python -m autorig.evaluation.report new.json              # print a stored run
    python -m autorig.evaluation.report old.json new.json     # compare two runs

A character row (what `autorig.evaluation.run.evaluate_character` returns)::

    {"name", "triangles", "vertices", "height",          # of the unrigged input
     "rigged_vertices", "bones",                           # the artist's mesh and skeleton
     "joints":    {"errors": {joint: %}, "mean", "worst", "worst_joint", "seconds"} | None,
     "skinning":  {"mean", "p99", "max", "unweighted", "seconds"} | None,     # ours, artist skeleton
     "bone_heat": {... same ..., "failures": [str]} | None,                 # None: not run
     "speed":     {"source", "load", "skeleton", "skinning", "armature", "export", "total"} | None,
     "errors":    {stage: message}}                                           # stage failed

Percentages are of the character's height.
"""

from __future__ import annotations

import json
import math
import sys
import textwrap
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autorig.evaluation import fingers


@dataclass(frozen=True)
class Targets:
    """What "good enough" means (issue 2). Errors in % of height, time in seconds."""

    joint_mean: float = 4.0  # mean over the set of each character's mean joint error
    joint_character: float = 8.0  # no character's mean joint error above this
    deform_mean: float = 1.0  # mean over the set of each character's mean displacement
    deform_character_mean: float = 2.5
    deform_character_p99: float = 10.0
    unweighted: int = 0  # vertices left without weights, on any character
    seconds: float = 10.0  # skeleton + skinning on the largest character ...
    seconds_triangles: int = 50_000  # ... of up to this many triangles
    seconds_fingers: float = 2.5  # the same with finger bones (issue 14), when the run rigged fingers


TARGETS = Targets()

# Confidence against error: below this a result counts as low-confidence (the task page
# warns there), and a joint error above LARGE_ERROR % of height is a result that is wrong.
LOW_CONFIDENCE = 0.5
LARGE_ERROR = 5.0

# The stages of the speed columns, in pipeline order.
SPEED_STAGES = ("load", "skeleton", "skinning", "armature", "export")


# --- summary ----------------------------------------------------------------------------


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _argmax(rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], float | None]) -> tuple[float | None, str | None]:
    best = None
    for r in rows:
        v = key(r)
        if v is not None and (best is None or v > best[0]):
            best = (v, r["name"])
    return best if best else (None, None)


def _check(value: float | None, target: float, failed: list[str]) -> bool:
    """Passes when there is a value, it is within target, and no character failed the stage."""
    return value is not None and not failed and value <= target


def summarize(rows: list[dict[str, Any]], targets: Targets = TARGETS) -> dict[str, Any]:
    """The summary block of a run: set-level numbers, each with its target and pass flag."""

    def failed(stage: str) -> list[str]:
        return [r["name"] for r in rows if stage in r.get("errors", {})]

    scored = [r for r in rows if r.get("joints")]
    ours = [r for r in rows if r.get("skinning")]
    heat = [r for r in rows if r.get("bone_heat")]
    baseline_ran = any(r.get("bone_heat") is not None or "bone_heat" in r.get("errors", {}) for r in rows)

    s: dict[str, Any] = {"characters": len(rows)}

    jm = _mean([r["joints"]["mean"] for r in scored])
    s["joint_mean"] = {
        "value": jm,
        "scored": len(scored),
        "failed": failed("joints"),
        "target": targets.joint_mean,
        "pass": _check(jm, targets.joint_mean, failed("joints")),
    }
    jw, jw_name = _argmax(scored, lambda r: r["joints"]["mean"])
    s["joint_worst_character"] = {
        "value": jw,
        "name": jw_name,
        "target": targets.joint_character,
        "pass": _check(jw, targets.joint_character, failed("joints")),
    }

    def deform_block(key: str, target: float, stat: str) -> dict[str, Any]:
        if stat == "set":
            o = _mean([r["skinning"][key] for r in ours])
            h = _mean([r["bone_heat"][key] for r in heat])
            out: dict[str, Any] = {"ours": o, "bone_heat": h}
        else:
            o, o_name = _argmax(ours, lambda r: r["skinning"][key])
            h, h_name = _argmax(heat, lambda r: r["bone_heat"][key])
            out = {"ours": o, "name": o_name, "bone_heat": h, "bone_heat_name": h_name}
        out["target"] = target
        out["pass"] = _check(o, target, failed("skinning"))
        return out

    s["deformation_mean"] = deform_block("mean", targets.deform_mean, "set")
    s["deformation_mean"].update(scored=len(ours), failed=failed("skinning"))
    s["deformation_worst_mean"] = deform_block("mean", targets.deform_character_mean, "max")
    s["deformation_worst_p99"] = deform_block("p99", targets.deform_character_p99, "max")

    unw_ours = [r["name"] for r in ours if r["skinning"]["unweighted"] > targets.unweighted]
    unw_heat = [r["name"] for r in heat if r["bone_heat"]["unweighted"] > targets.unweighted]
    s["unweighted"] = {
        "ours": unw_ours,
        "ours_vertices": sum(r["skinning"]["unweighted"] for r in ours),
        "bone_heat": unw_heat if baseline_ran else None,
        "bone_heat_vertices": sum(r["bone_heat"]["unweighted"] for r in heat) if baseline_ran else None,
        "target": targets.unweighted,
        "pass": bool(ours) and not unw_ours and not failed("skinning"),
    }
    s["bone_heat_failures"] = [r["name"] for r in heat if r["bone_heat"].get("failures")] if baseline_ran else None
    s["bone_heat_errors"] = failed("bone_heat") if baseline_ran else None

    timed = [
        r for r in rows if r.get("speed") and r["speed"].get("skeleton") is not None and r["speed"].get("skinning") is not None
    ]
    largest = max(rows, key=lambda r: r.get("triangles") or 0) if rows else None
    if largest is not None and largest in timed:
        sec = largest["speed"]["skeleton"] + largest["speed"]["skinning"]
        ok = sec <= targets.seconds and largest["triangles"] <= targets.seconds_triangles
    else:
        sec, ok = None, False
    s["speed_largest"] = {
        "name": largest["name"] if largest else None,
        "triangles": largest.get("triangles") if largest else None,
        "seconds": sec,
        "target": targets.seconds,
        "target_triangles": targets.seconds_triangles,
        "pass": ok,
    }
    slow, slow_name = _argmax(timed, lambda r: r["speed"]["skeleton"] + r["speed"]["skinning"])
    s["speed_slowest"] = {
        "name": slow_name,
        "seconds": slow,
        "triangles": next((r.get("triangles") for r in timed if r["name"] == slow_name), None),
    }
    s["errors"] = {r["name"]: r["errors"] for r in rows if r.get("errors")}
    s["confidence"] = confidence_relation([(r["joints"].get("confidence"), r["joints"]["mean"]) for r in scored])
    checks = [
        s[k]["pass"]
        for k in (
            "joint_mean",
            "joint_worst_character",
            "deformation_mean",
            "deformation_worst_mean",
            "deformation_worst_p99",
            "unweighted",
            "speed_largest",
        )
    ]
    s["fingers"] = fingers.summarize(rows)
    f = s["fingers"]
    if f:  # the finger targets count once the run rigged and scored fingers
        checks += [f[k]["pass"] for k in ("joint_mean", "deformation_mean") if f[k]["scored"]]
        if f["joint_mean"]["scored"] and sec is not None:
            s["speed_fingers"] = {
                "seconds": sec,
                "target": targets.seconds_fingers,
                "pass": ok and sec <= targets.seconds_fingers,
            }
            checks.append(s["speed_fingers"]["pass"])
    s["passed"] = sum(checks)
    s["checks"] = len(checks)
    s["all_pass"] = all(checks)
    return s


def confidence_relation(
    pairs: list[tuple[float | None, float]], low: float = LOW_CONFIDENCE, large: float = LARGE_ERROR
) -> dict[str, Any]:
    """How the engine's confidence goes with the joint error, from (confidence, error %)
    pairs: Spearman's rank correlation (negative when low confidence goes with high error),
    the mean error below and above ``low`` confidence and below and above the median, and
    how many results over ``large`` % were nevertheless confident (the dangerous ones)."""
    pts = [(float(c), float(e)) for c, e in pairs if c is not None and e is not None]
    out: dict[str, Any] = {"n": len(pts), "low_threshold": low, "large_error": large}
    if not pts:
        return out
    conf, err = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    lo, hi = conf < low, conf >= low
    med = float(np.median(conf))
    below = conf < med
    rho = None
    if len(pts) >= 3 and np.ptp(conf) > 0 and np.ptp(err) > 0:
        from scipy.stats import spearmanr

        rho = float(spearmanr(conf, err).statistic)
    big = err > large
    out.update(
        spearman=rho,
        low_n=int(lo.sum()),
        low_mean_error=float(err[lo].mean()) if lo.any() else None,
        high_n=int(hi.sum()),
        high_mean_error=float(err[hi].mean()) if hi.any() else None,
        median_confidence=med,
        below_median_mean_error=float(err[below].mean()) if below.any() else None,
        above_median_mean_error=float(err[~below].mean()) if (~below).any() else None,
        large_errors=int(big.sum()),
        large_errors_confident=int((big & hi).sum()),
        confidence_range=[float(conf.min()), float(conf.max())],
    )
    return out


def format_confidence(c: dict[str, Any]) -> str:
    """Two lines on confidence against error."""
    if not c or not c.get("n"):
        return "confidence vs error: no scored result with a confidence"
    rho = "-" if c.get("spearman") is None else f"{c['spearman']:+.2f}"
    return (
        f"confidence vs error ({c['n']} results, confidence {_f(c['confidence_range'][0])}-{_f(c['confidence_range'][1])}): "
        f"rank correlation {rho} (negative is good)\n"
        f"  mean joint error: confidence < {c['low_threshold']:g}: {_f(c['low_mean_error'])} % ({c['low_n']}), "
        f">= {c['low_threshold']:g}: {_f(c['high_mean_error'])} % ({c['high_n']}); below median "
        f"{_f(c['median_confidence'])}: {_f(c['below_median_mean_error'])} %, above: {_f(c['above_median_mean_error'])} %\n"
        f"  errors over {c['large_error']:g} %: {c['large_errors']}, of which confident (>= {c['low_threshold']:g}): "
        f"{c['large_errors_confident']}"
    )


# --- text -------------------------------------------------------------------------------


def _f(v: float | None, digits: int = 2, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, int):
        return f"{v:,}{unit}"
    return f"{v:.{digits}f}{unit}"


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _short(text: str, width: int = 140) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def format_character(row: dict[str, Any]) -> str:
    """The block printed for one character as soon as it is done."""
    head = f"== {row['name']}"
    if row.get("triangles") is not None:
        head += f"  ({row['triangles']:,} triangles, {row['vertices']:,} vertices, height {_f(row.get('height'), 3)})"
    lines = [head]
    errors = row.get("errors", {})
    j = row.get("joints")
    if j:
        per = "  ".join(f"{k} {v:.1f}" for k, v in j["errors"].items())
        lines += textwrap.wrap(per, width=100, initial_indent="  joints (% of height): ", subsequent_indent=" " * 4)
        conf = f", confidence {_f(j['confidence'])}" if j.get("confidence") is not None else ""
        lines.append(f"  joint error: mean {_f(j['mean'])} %, worst {j['worst_joint']} {_f(j['worst'])} %{conf}")
    if "joints" in errors:
        lines.append(f"  joints: ERROR {_short(errors['joints'])}")
    sk, bh = row.get("skinning"), row.get("bone_heat")
    if sk or bh or "skinning" in errors or "bone_heat" in errors:
        lines.append(f"  {'skinning (artist skeleton)':<28}{'ours':>10}{'bone heat':>12}")
        for key, label, digits in (
            ("mean", "mean displacement %", 3),
            ("p99", "p99 displacement %", 2),
            ("max", "max displacement %", 1),
            ("unweighted", "unweighted vertices", 0),
            ("seconds", "seconds", 2),
        ):
            a = sk.get(key) if sk else None
            b = bh.get(key) if bh else None
            lines.append(f"    {label:<26}{_f(a, digits):>10}{_f(b, digits):>12}")
        if bh and bh.get("failures"):
            lines.append(f'    bone heat warnings: {len(bh["failures"])} x "{_short(bh["failures"][0], 80)}"')
        for stage, label in (("skinning", "ours"), ("bone_heat", "bone heat")):
            if stage in errors:
                lines.append(f"    {label}: ERROR {_short(errors[stage])}")
    lines += fingers.format_character(row)
    sp = row.get("speed")
    if sp:
        parts = "  ".join(f"{k} {_f(sp.get(k))}" for k in SPEED_STAGES)
        lines.append(f"  speed (s, {sp.get('source', '?')}): {parts}  total {_f(sp.get('total'))}")
    if "speed" in errors:
        lines.append(f"  speed: ERROR {_short(errors['speed'])}")
    for stage, msg in errors.items():
        if stage not in ("joints", "skinning", "bone_heat", "speed"):
            lines.append(f"  {stage}: ERROR {_short(msg)}")
    return "\n".join(lines)


def format_table(rows: list[dict[str, Any]]) -> str:
    """One line per character: the numbers the summary is made of."""
    cols = [
        ("character", 30, "<"),
        ("tris", 7, ">"),
        ("joint", 6, ">"),
        ("worst joint", 19, "<"),
        ("def", 6, ">"),
        ("p99", 6, ">"),
        ("heat", 6, ">"),
        ("p99", 6, ">"),
        ("unw", 5, ">"),
        ("heat", 6, ">"),
        ("sk+sk s", 8, ">"),
        ("total s", 8, ">"),
        ("note", 0, "<"),
    ]
    header = " ".join(f"{n:{a}{w}}" for n, w, a in cols).rstrip()
    out = [header, "-" * len(header)]
    for r in rows:
        j, sk, bh, sp = r.get("joints"), r.get("skinning"), r.get("bone_heat"), r.get("speed")
        worst = f"{j['worst_joint']} {j['worst']:.1f}" if j else "-"
        sec = (
            sp["skeleton"] + sp["skinning"] if sp and sp.get("skeleton") is not None and sp.get("skinning") is not None else None
        )
        note = []
        if bh and bh.get("failures"):
            note.append("heat failed")
        if r.get("errors"):
            note.append("ERROR: " + ", ".join(r["errors"]))
        vals = [
            r["name"][:30],
            _f(r.get("triangles")),
            _f(j and j["mean"], 2),
            worst[:19],
            _f(sk and sk["mean"], 2),
            _f(sk and sk["p99"], 1),
            _f(bh and bh["mean"], 2),
            _f(bh and bh["p99"], 1),
            _f(sk and sk["unweighted"]),
            _f(bh and bh["unweighted"]),
            _f(sec),
            _f(sp and sp.get("total")),
            "; ".join(note),
        ]
        out.append(" ".join(f"{v:{a}{w}}" for v, (_, w, a) in zip(vals, cols, strict=False)).rstrip())
    out.append("joint: mean joint error %; def/p99: our skinning's mean/p99 displacement %; heat: bone heat's;")
    out.append("unw: unweighted vertices (ours, bone heat); sk+sk s: skeleton + skinning seconds")
    return "\n".join(out)


def _names(names: list[str] | None, limit: int = 6) -> str:
    if not names:
        return ""
    more = f", +{len(names) - limit} more" if len(names) > limit else ""
    return " (" + ", ".join(names[:limit]) + more + ")"


def _line(label: str, value: str, target: str = "", ok: bool | None = None, detail: str = "") -> str:
    mark = "" if ok is None else _mark(ok)
    return f"{label:<32}{value:>9}  {target:<14}{mark:<6}{detail}".rstrip()


def format_summary(s: dict[str, Any]) -> str:
    """The summary lines, each with its target and PASS/FAIL."""
    L = []
    n = s["characters"]
    jm, jw = s["joint_mean"], s["joint_worst_character"]
    scored = f"{jm['scored']}/{n} scored" + (f", {len(jm['failed'])} failed{_names(jm['failed'])}" if jm["failed"] else "")
    L.append(_line("joint error, set mean", _f(jm["value"]) + " %", f"<= {jm['target']:g} %", jm["pass"], scored))
    L.append(
        _line("joint error, worst character", _f(jw["value"]) + " %", f"<= {jw['target']:g} %", jw["pass"], jw["name"] or "")
    )
    dm, dw, dp = s["deformation_mean"], s["deformation_worst_mean"], s["deformation_worst_p99"]
    dscored = f"{dm['scored']}/{n} scored" + (f", {len(dm['failed'])} failed{_names(dm['failed'])}" if dm["failed"] else "")
    heat_ran = s["bone_heat_failures"] is not None
    L.append(
        _line(
            "deformation, set mean",
            _f(dm["ours"], 3) + " %",
            f"<= {dm['target']:g} %",
            dm["pass"],
            (f"bone heat {_f(dm['bone_heat'], 3)} %; " if heat_ran else "") + dscored,
        )
    )
    for label, b in (("deformation, worst char. mean", dw), ("deformation, worst char. p99", dp)):
        heat = f"; bone heat {_f(b['bone_heat'])} % {b['bone_heat_name'] or ''}" if heat_ran else ""
        L.append(_line(label, _f(b["ours"]) + " %", f"<= {b['target']:g} %", b["pass"], f"{b['name'] or '-'}{heat}"))
    u = s["unweighted"]
    heat = (
        "not run"
        if u["bone_heat"] is None
        else f"{len(u['bone_heat'])} characters, {u['bone_heat_vertices']:,} vertices{_names(u['bone_heat'])}"
    )
    scored_any = s["deformation_mean"]["scored"] > 0
    L.append(
        _line(
            "characters with unweighted",
            str(len(u["ours"])) if scored_any else "-",
            f"= {u['target']}",
            u["pass"],
            f"ours {u['ours_vertices']:,} vertices{_names(u['ours'])}; bone heat {heat}",
        )
    )
    if s["bone_heat_failures"] is not None:
        errs = s["bone_heat_errors"] or []
        detail = ", ".join(s["bone_heat_failures"]) or "none"
        if errs:
            detail += f"; did not run on {', '.join(errs)}"
        L.append(_line("bone heat failures", str(len(s["bone_heat_failures"])), "", None, detail))
    sp = s["speed_largest"]
    L.append(
        _line(
            "skeleton+skinning, largest",
            _f(sp["seconds"]) + " s",
            f"<= {sp['target']:g} s",
            sp["pass"],
            f"{sp['name'] or '-'}, {_f(sp['triangles'])} triangles (target at <= {sp['target_triangles']:,})",
        )
    )
    sl = s.get("speed_slowest") or {}
    if sl.get("name"):
        L.append(
            _line(
                "skeleton+skinning, slowest", _f(sl["seconds"]) + " s", "", None, f"{sl['name']}, {_f(sl['triangles'])} triangles"
            )
        )
    L += fingers.format_summary(s.get("fingers"))
    sf = s.get("speed_fingers")
    if sf:
        L.append(
            _line(
                "skeleton+skinning, fingers",
                _f(sf["seconds"]) + " s",
                f"<= {sf['target']:g} s",
                sf["pass"],
                "the largest, as above, rigged with its fingers",
            )
        )
    if s["errors"]:
        L.append(_line("characters with errors", str(len(s["errors"])), "", None, _names(list(s["errors"]), 8).strip(" ()")))
    if s.get("confidence"):
        L.append(format_confidence(s["confidence"]))
    L.append(f"targets met: {s['passed']}/{s['checks']}" + ("" if s["all_pass"] else "  (FAIL)"))
    return "\n".join(L)


def format_result(result: dict[str, Any]) -> str:
    """The whole printed report of a run: per-character table, then the summary."""
    meta = result.get("meta", {})
    head = (
        f"autorig eval  version {meta.get('version', '?')}  commit {(meta.get('git_commit') or '?')[:10]}"
        f"{'+dirty' if meta.get('git_dirty') else ''}  {meta.get('date', '')}  poses {meta.get('poses', '?')}"
        f"  baseline {'on' if meta.get('baseline') else 'off'}  {_f(meta.get('seconds'), 0)} s"
    )
    if meta.get("load_average"):
        head += f"\nmachine {meta.get('machine', '?')}, load average {meta['load_average']} at start"
        head += " (timings are inflated when it exceeds the cores)"
    return "\n\n".join([head, format_table(result["characters"]), format_summary(result["summary"])])


# --- JSON and comparison ----------------------------------------------------------------


def to_json(result: dict[str, Any]) -> str:
    """Standard JSON: numpy scalars become numbers, NaN and infinities become null."""
    return json.dumps(_clean(result), indent=2, default=_json_default, allow_nan=False)


def _clean(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if hasattr(o, "item") and not hasattr(o, "__len__"):  # numpy scalar
        o = o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def targets_dict(targets: Targets = TARGETS) -> dict[str, Any]:
    return asdict(targets)


def compare(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Per-character and set-level differences between two stored runs (new - old)."""

    def d(a: float | None, b: float | None, digits: int = 2) -> str:
        if a is None or b is None:
            return f"{_f(a, digits):>8} {_f(b, digits):>8} {'':>8}"
        return f"{_f(a, digits):>8} {_f(b, digits):>8} {b - a:>+8.{digits}f}"

    om, nm = old.get("meta", {}), new.get("meta", {})
    lines = [
        f"old: {om.get('version')} {(om.get('git_commit') or '?')[:10]} {om.get('date', '')}",
        f"new: {nm.get('version')} {(nm.get('git_commit') or '?')[:10]} {nm.get('date', '')}",
    ]
    if om.get("poses") != nm.get("poses"):
        lines.append(
            f"note: different pose counts ({om.get('poses')} vs {nm.get('poses')}): deformation numbers differ by sampling"
        )
    os_, ns = old["summary"], new["summary"]
    lines.append(f"\n{'set':<32}{'old':>8} {'new':>8} {'diff':>8}")
    lines.append(f"{'joint mean %':<32}{d(os_['joint_mean']['value'], ns['joint_mean']['value'])}")
    lines.append(
        f"{'joint worst character %':<32}{d(os_['joint_worst_character']['value'], ns['joint_worst_character']['value'])}"
    )
    lines.append(f"{'deformation mean %':<32}{d(os_['deformation_mean']['ours'], ns['deformation_mean']['ours'], 3)}")
    lines.append(
        f"{'deformation worst mean %':<32}{d(os_['deformation_worst_mean']['ours'], ns['deformation_worst_mean']['ours'])}"
    )
    lines.append(f"{'deformation worst p99 %':<32}{d(os_['deformation_worst_p99']['ours'], ns['deformation_worst_p99']['ours'])}")
    lines.append(f"{'unweighted characters':<32}{d(len(os_['unweighted']['ours']), len(ns['unweighted']['ours']), 0)}")
    lines.append(f"{'skeleton+skinning largest s':<32}{d(os_['speed_largest']['seconds'], ns['speed_largest']['seconds'])}")
    lines.append(f"{'targets met':<32}{d(os_['passed'], ns['passed'], 0)}")

    old_rows = {r["name"]: r for r in old["characters"]}
    lines.append(f"\n{'character':<32}{'joint old':>9} {'new':>8} {'diff':>8}   {'def old':>8} {'new':>8} {'diff':>8}")
    for r in new["characters"]:
        o = old_rows.get(r["name"])
        if o is None:
            lines.append(f"{r['name'][:31]:<32}(new character)")
            continue
        oj, nj = (o.get("joints") or {}).get("mean"), (r.get("joints") or {}).get("mean")
        od, nd = (o.get("skinning") or {}).get("mean"), (r.get("skinning") or {}).get("mean")
        lines.append(f"{r['name'][:31]:<32}{d(oj, nj)}   {d(od, nd, 3)}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print("usage: python -m autorig.evaluation.report RUN.json | OLD.json NEW.json", file=sys.stderr)
        return 2
    runs = [json.loads(Path(p).read_text()) for p in argv]
    augmented = ["cases" in r for r in runs]
    if any(augmented):  # `autorig eval --augment` results
        if not all(augmented):
            print("cannot compare an --augment run with a plain eval run", file=sys.stderr)
            return 2
        from autorig.evaluation import augment_run

        print(augment_run.format_result(runs[0]) if len(runs) == 1 else augment_run.compare(*runs))
        return 0
    print(format_result(runs[0]) if len(runs) == 1 else compare(*runs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
