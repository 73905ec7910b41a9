"""The rig outputs after ``<name>.glb`` and ``<name>.fbx``: LODs, clips, USDZ and previews.

``write_all`` writes, in ``protocol.OUTPUTS`` order (that table names the files; this one
says how each is made):

    <name>_lod1.glb, <name>_lod1.fbx   ~50 % of the triangles (lod.py)
    <name>_lod2.glb, <name>_lod2.fbx   ~20 % of the triangles
    <name>_animated.glb/.fbx           full resolution + the clip library as named animations
    <name>.usdz                        AR Quick Look (usdz.py)
    preview.mp4                        H.264, the character turning, then some clips (preview.py)
    viewer.glb                         LOD2, Draco-compressed, small textures, the clips

Each file is written atomically (``export.atomic_output``) and announced with ``on_file``
once complete. Each is independent: a failure (an exporter error, a full disk, a target that
cannot be replaced) is recorded as ``{file, error}`` in ``report["outputs"]`` and the others
are still written. What a file needs first (decimation, computing the clips) is done once, by
the first file that needs it, and its time counts in that file's ``seconds``; so the
``seconds`` of all outputs add up to the time spent here.

Nothing fails silently: each missing file is listed in ``report["failed_outputs"]`` and
gets a line in ``report["warnings"]``, and when the clips could not be made the files that
went on without them (USDZ, preview, viewer) are named in a warning (``animation_error``
holds the reason). The CLI prints these on stderr and still exits 0 when the rigged GLB
and FBX exist.

Also added to the report: ``lods`` (target, triangles, ratio per level), ``animation`` (the
clips: frames, duration, hand penetration per clip; see ``rigging.clips``), ``preview`` and
``viewer`` details.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import bpy
import numpy as np

from autorig import protocol
from autorig.blender import animation, lod, preview, usdz
from autorig.blender.export import atomic_output, export_fbx, export_glb

# The light web viewer file: Draco geometry (the bpy wheel ships Blender's Draco library),
# textures no larger than this, JPEG where the texture has no transparency.
VIEWER_TEXTURE_SIZE = 1024
VIEWER_JPEG_QUALITY = 85
VIEWER_DRACO = dict(
    export_draco_mesh_compression_enable=True,
    export_draco_mesh_compression_level=6,
    export_draco_position_quantization=14,
    export_draco_normal_quantization=10,
    export_draco_texcoord_quantization=12,
    export_draco_color_quantization=10,
    export_draco_generic_quantization=12,
)
# Clips are keyed on every frame, linearly, on the same frames for every channel, with no
# constraints or drivers: glTF can take the keys as they are. Sampling them again (the
# exporter's default) gives the same curves at four times the export time.
GLTF_CLIPS = dict(export_force_sampling=False)
# A texel with alpha below this means the texture uses transparency (keep it PNG).
OPAQUE_ALPHA = 0.996
# An error message in the report is cut to this many characters.
MAX_ERROR_CHARS = 300


class _Outputs:
    """Records each output into the report and keeps one failure from stopping the rest."""

    def __init__(self, outdir: Path, report: dict, on_file: Callable[[str], None] | None):
        self.outdir = outdir
        self.report = report
        self.on_file = on_file
        self.report.setdefault("outputs", [])
        self._t = time.perf_counter()

    def write(self, filename: str, triangles: Callable[[], int], work: Callable[[Path], Any]) -> bool:
        """Run ``work(path)``; record the file (size, triangles, seconds) or its error."""
        path = self.outdir / filename
        try:
            work(path)
            if not path.is_file():
                raise RuntimeError(f"{filename} was not written")
            tris = int(triangles())
        except Exception as exc:  # one output failing must not lose the others
            self.report["outputs"].append({"file": filename, "error": _short(exc), "seconds": self._lap()})
            self.report.setdefault("output_errors", {})[filename] = traceback.format_exc(limit=4)
            return False
        self.report["outputs"].append({"file": filename, "size": path.stat().st_size, "triangles": tris, "seconds": self._lap()})
        if self.on_file:
            self.on_file(filename)
        return True

    def _lap(self) -> float:
        now = time.perf_counter()
        seconds, self._t = now - self._t, now
        return round(seconds, 4)


def _short(exc: BaseException) -> str:
    """One line for the report: 'OSError: [Errno 21] Is a directory: ...'."""
    text = " ".join(str(exc).split())
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:MAX_ERROR_CHARS]


class _Once:
    """A value computed on first use; a failure is remembered and raised again for every
    output that needs it (so each one records the reason)."""

    def __init__(self, make: Callable[[], Any]):
        self._make = make
        self._done = False
        self._value: Any = None
        self._error: BaseException | None = None

    def get(self) -> Any:
        if not self._done:
            self._done = True
            try:
                self._value = self._make()
            except Exception as exc:
                self._error = exc
        if self._error is not None:
            raise self._error
        return self._value

    @property
    def error(self) -> BaseException | None:
        """Why making the value failed, if it was tried and failed (never tries)."""
        return self._error

    def peek(self) -> Any:
        """The value if it was made, else None (no attempt, no raise)."""
        return self._value if self._done and self._error is None else None


# What each output kind needs of the LODs: a LOD's objects are deleted after the last output
# (in protocol.OUTPUTS order) that needs them.
NEEDS_LOD = {"lod1": "lod1", "lod2": "lod2", "viewer": "lod2"}
# Kinds of output written even when the clips could not be made (then without animation).
CLIPS_OPTIONAL = ("usdz", "preview", "viewer")


def write_all(rig: Any, outdir: Path, name: str, report: dict, on_file: Callable[[str], None] | None) -> None:
    """Writes the outputs of ``protocol.OUTPUTS`` whose stage is ``outputs``, in that order
    (``protocol.output_files(name, stage="outputs")``). Each file atomically; calls on_file(filename) after each.
    Adds to report["outputs"] a record per file {file, size, triangles, seconds} and, for a file that
    failed, {file, error}: a failure in one output (say USDZ) is reported and does not lose the others."""
    outdir = Path(outdir)
    name = protocol.safe_name(name)
    out = _Outputs(outdir, report, on_file)
    lod0 = lod.triangle_count(rig.meshes)

    def make_level(level: str) -> lod.Lod:
        result = lod.make_lod(rig, level, lod.LOD_TARGETS[level])
        report.setdefault("lods", {})[level] = {
            "target": result.target,
            "triangles": result.triangles,
            "ratio": round(result.ratio, 4),
            "silhouette_p99_pct": round(result.silhouette * 100.0, 3),
        }
        return result

    levels = {level: _Once(lambda level=level: make_level(level)) for level in lod.LOD_TARGETS}

    def make_clips() -> dict[str, Any]:
        library = animation.make_library(rig)
        actions = animation.add_actions(rig, library)
        report["animation"] = library.report()
        return {a.name: a for a in actions}

    clips = _Once(make_clips)

    # (kind, format) -> (triangle count, writer) for every output write_all knows how to make.
    writers: dict[tuple[str, str], tuple[Callable[[], int], Callable[[Path], Any]]] = {}
    for level, once in levels.items():

        def objs(once: _Once = once) -> list[Any]:
            return [rig.armature, *once.get().objects]

        def tris(once: _Once = once) -> int:
            return once.get().triangles

        writers[(level, "glb")] = (tris, lambda p, objs=objs: export_glb(p, objs()))
        writers[(level, "fbx")] = (tris, lambda p, objs=objs: export_fbx(p, objs()))

    def animated_glb(p: Path) -> None:
        clips.get()
        export_glb(p, rig.objects, animations=True, **GLTF_CLIPS)

    def animated_fbx(p: Path) -> None:
        clips.get()
        export_fbx(p, rig.objects, animations=True)

    writers[("animated", "glb")] = (lambda: lod0, animated_glb)
    writers[("animated", "fbx")] = (lambda: lod0, animated_fbx)
    writers[("usdz", "usdz")] = (lambda: lod0, lambda p: usdz.export_usdz(p, rig, _actions_or_none(clips)))

    shown = [lod0]  # the preview's triangles

    def video(p: Path) -> None:
        light = levels["lod2"].peek() if lod0 > preview.MAX_TRIANGLES else None  # a very large skin: LOD2 looks the same
        meshes = light.objects if light is not None and light.objects else None
        with atomic_output(p) as tmp:
            report["preview"] = preview.render(rig, _actions_or_none(clips) or {}, tmp, _clip_fps(report), meshes)
        report["preview"]["meshes"], shown[0] = ("lod0", lod0) if meshes is None else ("lod2", light.triangles)

    writers[("preview", "mp4")] = (lambda: shown[0], video)

    viewer_meshes: list[Any] = []

    def viewer(p: Path) -> None:
        # LOD2, or the full meshes if LOD2 could not be made (that failure is reported).
        try:
            meshes, source = levels["lod2"].get().objects, "lod2"
        except Exception:
            meshes, source = list(rig.meshes), "lod0"
        viewer_meshes[:] = meshes
        acts = _actions_or_none(clips)
        with _small_textures(meshes, VIEWER_TEXTURE_SIZE) as swapped:
            export_glb(p, [rig.armature, *meshes], animations=bool(acts), **GLTF_CLIPS, **VIEWER_DRACO)
        report["viewer"] = {
            "meshes": source,
            "draco": True,
            "texture_size": VIEWER_TEXTURE_SIZE,
            "textures_resized": swapped,
            "clips": sorted(acts or {}),
        }

    writers[("viewer", "glb")] = (lambda: lod.triangle_count(viewer_meshes), viewer)

    planned = [o for o in protocol.OUTPUTS if o.stage == "outputs"]
    last_use = {NEEDS_LOD[o.kind]: i for i, o in enumerate(planned) if o.kind in NEEDS_LOD}
    try:
        for i, o in enumerate(planned):
            triangles, work = writers[(o.kind, o.format)]
            out.write(o.filename(name), triangles, work)
            for level, last in last_use.items():
                if last == i:  # no later output needs this LOD
                    _drop(levels[level])
    finally:
        for once in levels.values():
            _drop(once)
        _warn_failures(report, name, clips)


def _warn_failures(report: dict, name: str, clips: _Once) -> None:
    """Make every failure visible: ``failed_outputs`` ({file, error}) and one warning per
    missing file; and when the clips could not be made, a warning that the files that go on
    without them (USDZ, preview, viewer) are not animated."""
    failed = [{"file": o["file"], "error": o["error"]} for o in report.get("outputs", []) if o.get("error")]
    if failed:
        report["failed_outputs"] = failed
        report.setdefault("warnings", []).extend(f"{f['file']} was not written: {f['error']}" for f in failed)
    if clips.error is not None:
        reason = _short(clips.error)
        report["animation_error"] = reason
        degraded = [
            f
            for f in (o.filename(name) for o in protocol.OUTPUTS if o.kind in CLIPS_OPTIONAL)
            if any(o["file"] == f and not o.get("error") for o in report.get("outputs", []))
        ]
        if degraded:
            report.setdefault("warnings", []).append(f"no animation clips ({reason}): {', '.join(degraded)} written without them")


def _drop(level: _Once) -> None:
    """Delete a LOD's objects once no output needs them."""
    value = level.peek()
    if value is not None and value.objects:
        lod.remove(value.objects)
        value.objects = []


def _actions_or_none(clips: _Once) -> dict[str, Any] | None:
    """The clip actions if they could be made (outputs that can do without them go on)."""
    try:
        return clips.get()
    except Exception:
        return None


def _clip_fps(report: dict) -> float:
    return float(report.get("animation", {}).get("fps", bpy.context.scene.render.fps))


@contextlib.contextmanager
def _small_textures(objects, max_size: int) -> Iterator[int]:
    """Swap every image texture of ``objects``' materials larger than ``max_size`` for a
    scaled copy (JPEG when opaque, PNG otherwise) for the duration of the block. Yields how
    many images were swapped."""
    swaps: list[tuple[Any, Any]] = []
    copies: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="autorig-viewer-") as tmpdir:
        try:
            for ob in objects:
                for slot in ob.material_slots:
                    mat = slot.material
                    if mat is None or mat.node_tree is None:
                        continue
                    for node in mat.node_tree.nodes:
                        img = getattr(node, "image", None)
                        if node.type != "TEX_IMAGE" or img is None or max(img.size[:]) <= max_size:
                            continue
                        if img.name not in copies:
                            copies[img.name] = _scaled_copy(img, max_size, Path(tmpdir))
                        swaps.append((node, img))
                        node.image = copies[img.name]
            yield len(copies)
        finally:
            for node, img in swaps:
                node.image = img
            for small in copies.values():
                bpy.data.images.remove(small)


def _scaled_copy(img, max_size: int, folder: Path):
    w, h = img.size[:]
    k = max_size / max(w, h)
    size = (max(1, int(round(w * k))), max(1, int(round(h * k))))
    work = img.copy()
    try:
        work.scale(*size)
        px = np.empty(size[0] * size[1] * 4, dtype=np.float32)
        work.pixels.foreach_get(px)
        opaque = work.channels < 4 or float(px[3::4].min()) >= OPAQUE_ALPHA
        fmt, ext = ("JPEG", ".jpg") if opaque else ("PNG", ".png")
        path = folder / f"{len(list(folder.iterdir()))}{ext}"
        work.file_format = fmt
        work.save(filepath=str(path), quality=VIEWER_JPEG_QUALITY)
    finally:
        bpy.data.images.remove(work)
    small = bpy.data.images.load(str(path))
    small.colorspace_settings.name = img.colorspace_settings.name
    small.alpha_mode = img.alpha_mode
    small.pack()
    return small
