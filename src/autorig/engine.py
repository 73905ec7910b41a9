"""The rigging pipeline: one input file in, rigged files and ``rig.json`` out.

Stages, each timed into the report: ``load`` (Blender import, meshes only), ``skeleton``
(``rigging.skeleton.fit``), ``skinning`` (``bones.from_joints`` + ``rigging.skinning.compute_weights``),
``armature`` (the Blender armature and vertex groups), ``export`` (``<name>.glb``, ``<name>.fbx``),
``outputs`` (LODs, clips, USDZ, previews from ``blender.outputs``, unless ``only="rig"``), and
``rig.json`` last, so its presence means the job is over. Every file is written atomically.

Failures raise ``RigError`` (bad input: a one-line reason) or whatever went wrong inside;
either way ``rig.json`` holds ``{"error": {"code", "reason"}}`` first. The CLI (``autorig rig``,
``autorig convert``) turns them into a non-zero exit and one line on stderr, and keeps
Blender's console output (importer INFO lines, Python tracebacks) on stdout so it never
buries that line.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from autorig import __version__, protocol
from autorig import console as lines
from autorig.rigging.errors import RigError

ProgressFn = Callable[[str, float], None]
FileFn = Callable[[str], None]

REPORT_NAME = protocol.REPORT_NAME
OUTPUTS_MODULE = "autorig.blender.outputs"

# Where each stage starts on the 0..1 progress scale (measured shares of a typical run;
# the extra outputs dominate a full run).
PROGRESS_ALL = {
    "load": 0.0,
    "skeleton": 0.05,
    "skinning": 0.15,
    "armature": 0.25,
    "export": 0.28,
    "outputs": 0.35,
    "report": 0.99,
}
PROGRESS_RIG = {"load": 0.0, "skeleton": 0.1, "skinning": 0.35, "armature": 0.65, "export": 0.72, "report": 0.99}
# Weights must be a partition of unity within this, or the skin is broken.
WEIGHT_SUM_TOLERANCE = 1e-6
# Below this confidence rig.json (and so the task page and the CLI) carries a warning to
# check the result, naming the unclear cues.
LOW_CONFIDENCE = 0.5
# A one-line reason on the console is cut to this many characters.
MAX_REASON_CHARS = 500


# --- the report -------------------------------------------------------------------------------


def _vec(v) -> list[float]:
    return [round(float(x), 6) for x in np.asarray(v, dtype=np.float64).reshape(-1)]


def _axis_label(v: np.ndarray) -> str:
    """The world axis nearest to ``v``, e.g. '+Z' or '-Y'."""
    v = np.asarray(v, dtype=np.float64)
    i = int(np.argmax(np.abs(v)))
    return ("+" if v[i] >= 0 else "-") + "XYZ"[i]


def _yup(v: np.ndarray) -> np.ndarray:
    """Blender world (+Z up) -> the glTF frame (+Y up) the GLB is written in: (x, z, -y)."""
    x, y, z = np.asarray(v, dtype=np.float64)
    return np.array([x, z, -y])


def _new_report(input_path: Path, name: str, skeleton: str, mixamo_prefix: bool, only: str) -> dict[str, Any]:
    size = input_path.stat().st_size if input_path.is_file() else None
    return {
        "engine_version": __version__,
        "name": name,
        "input": {"file": input_path.name, "format": input_path.suffix.lower().lstrip("."), "size": size},
        "options": {"skeleton": skeleton, "mixamo_prefix": mixamo_prefix, "only": only},
        "frame": "Blender world: +Z up, in the file's units; the GLB/FBX are written +Y up (glTF (x, y, z) = Blender (x, z, -y))",
        "warnings": [],
        "timings": {},
        "outputs": [],
        "error": None,
    }


def _write_report(outdir: Path, report: dict, on_file: FileFn | None) -> None:
    from autorig.blender.export import atomic_output  # bpy-free callers never get here first

    with atomic_output(outdir / REPORT_NAME) as tmp:
        tmp.write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
    if on_file:
        on_file(REPORT_NAME)


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    return str(o)


def _orientation_report(o) -> dict[str, Any]:
    up, front, left = (np.asarray(v, dtype=np.float64) for v in (o.up, o.front, o.left))
    angles = [None if not np.isfinite(a) else round(float(a), 2) for a in getattr(o, "arm_angles_deg", ())]
    return {
        "up": _vec(up),
        "front": _vec(front),
        "left": _vec(left),
        "up_axis": _axis_label(up),
        "front_axis": _axis_label(front),
        "up_axis_gltf": _axis_label(_yup(up)),
        "front_axis_gltf": _axis_label(_yup(front)),
        "height": round(float(o.height), 6),
        "pose": getattr(o, "pose", "other"),
        "arm_angles_deg": angles,
        "up_margin": round(float(getattr(o, "up_margin", 0.0)), 4),
        "front_margin": round(float(getattr(o, "front_margin", 0.0)), 4),
    }


class _Run:
    """Times stages into the report and reports progress."""

    def __init__(self, report: dict, starts: dict[str, float], on_progress: ProgressFn | None):
        self.report, self.starts, self.on_progress = report, starts, on_progress

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.on_progress:
            self.on_progress(name, self.starts.get(name, 0.0))
        t = time.perf_counter()
        try:
            yield
        finally:
            self.report["timings"][name] = round(time.perf_counter() - t, 4)


# --- the pipeline -----------------------------------------------------------------------------


def _check_weights(sw, n_vertices: int) -> None:
    idx, w = np.asarray(sw.indices), np.asarray(sw.weights)
    if idx.shape != w.shape or idx.shape[0] != n_vertices or idx.ndim != 2:
        raise RigError("internal", f"skin weights have shape {w.shape} for {n_vertices} vertices")
    sums = w.sum(axis=1)
    if not np.all(np.isfinite(w)) or np.any(w < 0) or np.any(np.abs(sums - 1.0) > WEIGHT_SUM_TOLERANCE):
        raise RigError("internal", "skin weights are not a partition of unity (some vertex would not follow the skeleton)")


def _record_output(report: dict, outdir: Path, filename: str, triangles: int, seconds: float) -> None:
    report["outputs"].append(
        {"file": filename, "size": (outdir / filename).stat().st_size, "triangles": int(triangles), "seconds": round(seconds, 4)}
    )


def _rig(
    input_path: Path,
    outdir: Path,
    name: str,
    skeleton: str,
    mixamo_prefix: bool,
    only: str,
    run: _Run,
    on_file: FileFn | None,
    fingers: str = "auto",
) -> None:
    from autorig.blender import armature, export, scene
    from autorig.rigging import bones as bones_mod

    report = run.report
    with run.stage("load"):
        mesh, loaded = scene.load(input_path)
    report["input"]["format"] = loaded.source_format
    if loaded.imported and loaded.imported != input_path.name:
        report["input"]["imported"] = loaded.imported
    report["warnings"] += [f"dropped existing armature {a} (and its skin weights)" for a in loaded.dropped_armatures]
    report["warnings"] += [f"dropped {o}: not a mesh" for o in loaded.dropped_objects]
    report["warnings"] += loaded.warnings
    report["vertices"], report["triangles"] = mesh.n_vertices, mesh.n_triangles
    if loaded.welded_vertices:  # split copies merged (blender/weld.py): the file had this many more
        report["input"]["welded_vertices"] = loaded.welded_vertices
    report["meshes"] = [{"name": p.name, "vertices": p.count} for p in mesh.parts]

    with run.stage("skeleton"):
        from autorig.rigging import skeleton as skeleton_mod

        fit = skeleton_mod.fit(mesh, fingers=fingers)
    report["joints"] = {n: _vec(p) for n, p in fit.joints.items()}
    report["orientation"] = _orientation_report(fit.orientation)
    report["confidence"] = round(float(fit.confidence), 4)
    report["confidence_reasons"] = list(fit.reasons)
    if fit.confidence < LOW_CONFIDENCE:
        weak = [r.split(":")[0] for r in fit.reasons if ": poor" in r or ": weak" in r]
        report["warnings"].append(
            f"low confidence ({fit.confidence:.2f}): check the result" + (f" (unclear: {', '.join(weak)})" if weak else "")
        )
    # once each: the orientation's warnings may also be among the fit's (seen twice in rig.json before)
    fit_warnings = dict.fromkeys([*getattr(fit.orientation, "warnings", []), *fit.warnings])
    report["warnings"] += [w for w in fit_warnings if w not in report["warnings"]]
    report["stage_details"] = {"skeleton": dict(getattr(fit, "timings", {}) or {})}
    report["fingers"] = dict(getattr(fit, "hands", {}) or {})

    with run.stage("skinning"):
        from autorig.rigging import skinning

        bones = bones_mod.from_joints(fit.joints)
        sw = skinning.compute_weights(mesh, bones)
        _check_weights(sw, mesh.n_vertices)
    report["stage_details"]["skinning"] = dict(getattr(sw, "timings", {}) or {})

    with run.stage("armature"):
        rig = armature.build(mesh, bones, sw, fit.orientation, skeleton=skeleton, mixamo_prefix=mixamo_prefix)
    if mixamo_prefix and skeleton != "mixamo":
        report["warnings"].append(f"--mixamo-prefix ignored: it applies to the mixamo skeleton, not {skeleton}")
    report["bone_names"] = dict(rig.bone_names)
    report["bones"] = [
        {
            "name": b.name,
            "parent": b.parent.name if b.parent else None,
            "head": _vec(b.head_local),
            "tail": _vec(b.tail_local),
            "deform": bool(b.use_deform),
        }
        for b in rig.armature.data.bones
    ]

    with run.stage("export"):
        for filename, writer in ((f"{name}.glb", export.export_glb), (f"{name}.fbx", export.export_fbx)):
            t = time.perf_counter()
            writer(outdir / filename, rig.objects)
            _record_output(report, outdir, filename, mesh.n_triangles, time.perf_counter() - t)
            if on_file:
                on_file(filename)

    if only == "all":
        if importlib.util.find_spec(OUTPUTS_MODULE) is None:
            report["extras_skipped"] = (
                "LODs, animated files, USDZ and previews are not available yet (no autorig.blender.outputs)"
            )
            report["warnings"].append(report["extras_skipped"])
        else:
            outputs = importlib.import_module(OUTPUTS_MODULE)
            with run.stage("outputs"):
                outputs.write_all(rig, outdir, name, report, on_file)


def rig_file(
    input_path: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    name: str | None = None,
    skeleton: str = "mixamo",
    mixamo_prefix: bool = False,
    only: str = "all",
    fingers: str = "auto",
    on_progress: ProgressFn | None = None,
    on_file: FileFn | None = None,
) -> dict:
    """Rig ``input_path`` into ``outdir``: ``<name>.glb``, ``<name>.fbx`` (and with
    ``only="all"`` the rest of ``protocol.output_files(name)``), then ``rig.json``.

    Returns the report (what ``rig.json`` holds). Raises RigError for input that cannot be
    rigged, after writing ``rig.json`` with the error. ``on_progress(stage, 0..1)`` is called
    as each stage starts; ``on_file(filename)`` after each file is complete."""
    input_path, outdir = Path(input_path), Path(outdir)
    skeleton = str(getattr(skeleton, "value", skeleton))
    if only not in ("rig", "all"):
        raise ValueError(f"only must be 'rig' or 'all', not {only!r}")
    from autorig.rigging import presets

    presets.get(skeleton)  # refuses an unknown skeleton (ValueError) before any work
    name = protocol.safe_name(name or input_path.stem)
    outdir.mkdir(parents=True, exist_ok=True)
    from autorig.rigging.skeleton_hands import LEVELS as FINGER_LEVELS

    if fingers not in FINGER_LEVELS:
        raise ValueError(f"unknown fingers {fingers!r} (choose from {', '.join(FINGER_LEVELS)})")
    report = _new_report(input_path, name, skeleton, mixamo_prefix, only)
    report["options"]["fingers"] = fingers
    run = _Run(report, PROGRESS_ALL if only == "all" else PROGRESS_RIG, on_progress)
    extras = protocol.output_files(name, stage="outputs")  # what blender.outputs writes, in order

    def announce(filename: str) -> None:
        if on_file:
            on_file(filename)
        if on_progress and filename in extras:  # progress moves through the long outputs stage
            a, b = run.starts["outputs"], run.starts["report"]
            on_progress("outputs", a + (b - a) * protocol.files_fraction([filename], extras))

    t0 = time.perf_counter()
    try:
        _rig(input_path, outdir, name, skeleton, mixamo_prefix, only, run, announce, fingers=fingers)
    except RigError as exc:
        report["error"] = {"code": exc.code, "reason": exc.reason}
        raise
    except Exception as exc:
        report["error"] = {"code": "internal", "reason": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        raise
    finally:
        report["timings"]["total"] = round(time.perf_counter() - t0, 4)
        if on_progress:
            on_progress("report", run.starts["report"])
        _write_report(outdir, report, on_file)
    if on_progress:
        on_progress("done", 1.0)
    return report


def convert_file(input_path: str | os.PathLike, output_path: str | os.PathLike) -> dict:
    """Convert any supported input to GLB without rigging: meshes, materials, textures, and
    any armature, skin and animation kept; cameras and lights dropped. Returns a small report."""
    from autorig.blender import export, scene

    input_path, output_path = Path(input_path), Path(output_path)
    if output_path.suffix.lower() != ".glb":
        raise RigError("unsupported_format", f"convert writes .glb files, not '{output_path.suffix or output_path.name}'")
    t0 = time.perf_counter()
    loaded = scene.import_file(input_path, keep_rig=True)
    objects = scene.objects_of_type("MESH", "ARMATURE", "EMPTY")
    meshes = [ob for ob in objects if ob.type == "MESH" and len(ob.data.polygons)]
    if not loaded.object_types:
        raise RigError("empty_scene", "the file holds no objects at all")
    if not meshes:
        raise RigError("not_a_mesh", "the file holds no mesh with faces")
    triangles = scene.triangle_count(meshes)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    export.export_glb(output_path, objects, animations=True)
    return {
        "engine_version": __version__,
        "input": {"file": input_path.name, "format": loaded.source_format},
        "output": {"file": output_path.name, "size": output_path.stat().st_size},
        "meshes": len(meshes),
        "armatures": [ob.name for ob in objects if ob.type == "ARMATURE"],
        "triangles": triangles,
        "warnings": [f"dropped {o}" for o in loaded.dropped_objects] + loaded.warnings,
        "seconds": round(time.perf_counter() - t0, 4),
    }


# --- the command line -------------------------------------------------------------------------


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 3] + "..."


def describe(exc: RigError) -> str:
    """'not a biped: <reason>' from a RigError."""
    return _one_line(lines.error_sentence(exc.code, exc.reason))


class Console:
    """The CLI's two channels while Blender runs.

    Inside the block, file descriptors 1 and 2 both lead to the original stdout: importer
    INFO lines, Blender's C-level messages and stray tracebacks all land there, as a log.
    ``say`` writes to the original stdout, ``fail`` to the original stderr, so stderr holds
    nothing but our own lines and its last line is the reason."""

    def __enter__(self) -> Console:
        sys.stdout.flush()
        sys.stderr.flush()
        self._saved = (os.dup(1), os.dup(2))
        self.out = os.fdopen(os.dup(1), "w", buffering=1)
        self.err = os.fdopen(os.dup(2), "w", buffering=1)
        os.dup2(1, 2)
        return self

    def __exit__(self, *exc) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(self._saved[0], 1)
        os.dup2(self._saved[1], 2)
        for fd in self._saved:
            os.close(fd)
        self.out.close()
        self.err.close()

    def say(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def fail(self, line: str) -> None:
        self.out.flush()
        self.err.write(_one_line(line) + "\n")
        self.err.flush()

    def progress(self, stage: str, fraction: float) -> None:
        self.say(lines.progress_line(stage, fraction))

    def wrote(self, filename: str) -> None:
        self.say(lines.wrote_line(filename))


def _run_cli(work: Callable[[Console], str]) -> int:
    """Run ``work`` under a Console; map failures to exit codes and one line on stderr:
    2 for input that cannot be used, 1 for anything unexpected (traceback on stdout)."""
    with Console() as console:
        try:
            console.say(work(console))
            return 0
        except RigError as exc:
            console.fail(lines.ERROR_PREFIX + describe(exc))
            return 2
        except KeyboardInterrupt:
            console.fail(lines.internal_line("interrupted"))
            return 130
        except Exception as exc:
            console.say(traceback.format_exc().rstrip())
            console.fail(lines.internal_line(f"{type(exc).__name__}: {exc}"))
            return 1


def cli_rig(args) -> int:
    """``autorig rig INPUT -o OUTDIR [--name] [--skeleton] [--mixamo-prefix] [--fingers] [--only rig|all]``"""

    def work(console: Console) -> str:
        report = rig_file(
            args.input,
            args.output,
            name=args.name,
            skeleton=args.skeleton,
            mixamo_prefix=args.mixamo_prefix,
            only=args.only,
            fingers=getattr(args, "fingers", "auto"),
            on_progress=console.progress,
            on_file=console.wrote,
        )
        for w in report["warnings"]:
            console.say(lines.warning_line(w))
        # A missing output is not a silent success: stderr says so (the exit code stays 0,
        # since the rigged GLB and FBX exist; rig.json lists failed_outputs).
        for f in report.get("failed_outputs", []):
            console.fail(lines.warning_line(f"{f['file']} was not written: {f['error']}"))
        if report.get("animation_error"):
            console.fail(lines.warning_line(f"no animation clips: {report['animation_error']}"))
        t = report["timings"]
        return (
            f"autorig: rigged {args.input} into {args.output}/ in {t.get('total', 0):.1f} s "
            f"(confidence {report.get('confidence', 0):.2f})"
        )

    return _run_cli(work)


def cli_convert(args) -> int:
    """``autorig convert INPUT OUTPUT.glb``"""

    def work(console: Console) -> str:
        r = convert_file(args.input, args.output)
        return f"autorig: converted {args.input} to {args.output} ({r['output']['size']} bytes, {r['triangles']} triangles)"

    return _run_cli(work)
