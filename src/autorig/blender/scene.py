"""Load an input file into an empty Blender scene and read it as plain arrays.

Two modes: for rigging (``load``/``import_file``), only mesh objects stay, unparented with
their world transforms, existing armatures and skins dropped (and said so in the report); for
conversion (``import_file(..., keep_rig=True)``), meshes, armatures, their skins, animations and
the node hierarchy all stay. Cameras and lights go in both modes.

Before an importer runs, the file's header is checked (``sniff``), so a truncated GLB or an
ASCII FBX gets a reason a person can read instead of an importer traceback, and the file is made
safe to import (``sanitize``): it may read only files in its own folder (the upload's, or the
unpacked zip), and a model beyond what the engine can hold is refused as ``too_large`` from its
counts before the import. FBX textures are checked after the import, as the importer finds them.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import struct
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import bpy
import numpy as np

from autorig import formats
from autorig.blender import sanitize, weld
from autorig.rigging.errors import RigError
from autorig.rigging.mesh import CharacterMesh, MeshPart

# What the engine reads (and the upload check accepts): the table in autorig.formats.
SUPPORTED = formats.SUFFIXES
MAX_ZIP_UNPACKED = formats.ZIP_MAX_UNPACKED
MAX_ZIP_MEMBERS = formats.ZIP_MAX_MEMBERS
FBX_BINARY_MAGIC = formats.FBX_BINARY_MAGIC
FBX_MIN_VERSION = formats.FBX_MIN_VERSION
# How much of a text file (OBJ, glTF JSON) to look at to tell it from binary junk.
SNIFF_BYTES = 1 << 16
_OBJ_LINE = re.compile(rb"^\s*(v|vt|vn|f|o|g|s|mtllib|usemtl|l|p)\s", re.M)


@dataclass
class LoadReport:
    source_format: str
    dropped_armatures: list[str] = field(default_factory=list)
    dropped_objects: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # What the file held, by Blender object type (e.g. {"MESH": 3, "ARMATURE": 1}).
    object_types: dict[str, int] = field(default_factory=dict)
    # The file actually imported (inside a zip: the model found there).
    imported: str = ""
    # Split vertices merged after the import (weld.py: large models only).
    welded_vertices: int = 0


def reset() -> None:
    """An empty scene with factory settings (no default cube, camera or light)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _unpack_zip(path: Path, into: Path, warnings: list[str]) -> Path:
    """Unpack into ``into`` and return the model file; symbolic links are not unpacked."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise RigError("corrupt_file", f"not a valid zip archive: {exc}") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise RigError("too_large", f"zip holds {len(infos)} files (limit {MAX_ZIP_MEMBERS})")
        if sum(i.file_size for i in infos) > MAX_ZIP_UNPACKED:
            raise RigError("too_large", "zip expands to more than 1 GiB")
        root = into.resolve()
        for info in infos:
            target = (into / info.filename).resolve()
            if not str(target).startswith(str(root) + os.sep) and target != root:
                raise RigError("corrupt_file", f"zip member escapes the archive: {info.filename}")
        links = [i for i in infos if _is_symlink(i)]
        warnings += [f"zip member {i.filename[:100]!r} is a symbolic link: not unpacked" for i in links]
        try:
            zf.extractall(into, members=[i for i in infos if not _is_symlink(i)])
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise RigError("corrupt_file", f"could not unpack the zip archive: {exc}") from None
    candidates = sorted(
        (p for p in into.rglob("*") if p.suffix.lower() in formats.MODEL_SUFFIXES),
        key=lambda p: (len(p.parts), p.suffix.lower() not in (".glb", ".gltf"), p.name),
    )
    candidates = [p for p in candidates if "__MACOSX" not in p.parts]
    if not candidates:
        raise RigError("not_a_mesh", f"the zip holds no {formats.listed(suffixes=True, models_only=True)} file")
    return candidates[0]


def sniff(path: Path, ext: str) -> None:
    """Check that ``path`` looks like a ``ext`` file before an importer sees it; raise
    RigError (corrupt_file / unsupported_format) with the reason otherwise."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    size = path.stat().st_size
    label = ext.lstrip(".").upper()
    if formats.reads_as(ext) == "glb":
        if not head.startswith(formats.GLB_MAGIC):
            if head.lstrip()[:1] == b"{":
                raise RigError("corrupt_file", f"the {label} file holds glTF JSON text: name it .gltf")
            raise RigError("corrupt_file", f"not a {label} file (no glTF header)")
        if len(head) < 12:
            raise RigError("corrupt_file", f"the {label} file is truncated ({size} bytes)")
        version, length = struct.unpack_from("<II", head, 4)
        if version != formats.GLTF_VERSION:
            raise RigError("unsupported_format", f"glTF version {version} is not supported (use glTF {formats.GLTF_VERSION}.0)")
        if length > size:
            raise RigError("corrupt_file", f"the {label} file is truncated ({size} of {length} bytes)")
    elif ext == ".gltf":
        if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] != b"{":
            raise RigError("corrupt_file", "not a glTF file (no JSON object)")
    elif ext == ".fbx":
        if head.startswith(FBX_BINARY_MAGIC):
            if len(head) < 27:
                raise RigError("corrupt_file", f"the FBX file is truncated ({size} bytes)")
            (version,) = struct.unpack_from("<I", head, 23)
            if version < FBX_MIN_VERSION:
                raise RigError("unsupported_format", f"FBX version {version / 1000:.1f} is too old (export FBX 7.1 or later)")
        elif b"FBXHeaderExtension" in head[:4096] or head.lstrip().startswith(b"; FBX"):
            raise RigError("unsupported_format", "ASCII FBX is not supported (export binary FBX)")
        else:
            raise RigError("corrupt_file", "not an FBX file (no FBX header)")
    elif ext == ".obj":
        if b"\x00" in head or not _OBJ_LINE.search(head):
            raise RigError("corrupt_file", "not an OBJ file (no vertex or face lines)")


def _importer_reason(exc: BaseException) -> str:
    """The one line of an importer's exception that says what went wrong."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for ln in reversed(lines):  # a Python exception line inside Blender's report
        m = re.match(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception)): (.+)$", ln)
        if m and not ln.startswith("Error: Python"):
            return m.group(2) if m.group(1) in ("RuntimeError", "Exception") else f"{m.group(1)}: {m.group(2)}"
    for ln in lines:
        if ln.startswith("Error: ") and "Traceback" not in ln:
            return ln[len("Error: ") :]
    return lines[0] if lines else type(exc).__name__


def import_file(path: str | os.PathLike, *, keep_rig: bool = False) -> LoadReport:
    """Import ``path`` into a fresh scene. Raises RigError with a readable reason.

    keep_rig: keep armatures, skins, animations and empties (for conversion); otherwise only
    meshes stay, rest shape, unparented with their world transforms (for rigging)."""
    path = Path(path)
    if not path.is_file():
        raise RigError("corrupt_file", f"no such file: {path}")
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise RigError(
            "unsupported_format",
            f"unsupported file type '{ext or path.name}' (use {formats.listed()};"
            " convert other formats such as Collada or 3DS to GLB or FBX first)",
        )
    if path.stat().st_size == 0:
        raise RigError("corrupt_file", "the file is empty")
    tmp = Path(tempfile.mkdtemp(prefix="autorig-import-"))
    try:
        root = path.parent
        unpacked: list[str] = []
        if ext == ".zip":
            root = tmp / "zip"
            root.mkdir()
            path = _unpack_zip(path, root, unpacked)
            ext = path.suffix.lower()
        sniff(path, ext)
        report = LoadReport(source_format=formats.reads_as(ext) or ext.lstrip("."), imported=path.name, warnings=unpacked)
        # The importer reads only what is in this private folder: the checked copy and the
        # files it may name.
        safe = tmp / "import"
        safe.mkdir()
        if formats.reads_as(ext) in ("glb", "gltf"):
            prepared = sanitize.prepare_gltf(path, root, safe)
        elif ext == ".obj":
            prepared = sanitize.prepare_obj(path, root, safe)
        else:
            prepared = sanitize.Prepared(path, triangles=sanitize.fbx_min_triangles(path))
            sanitize.too_large(prepared.triangles, 0)
        report.warnings += prepared.warnings
        to_import = prepared.path
        if formats.reads_as(ext) == "glb" and ext != ".glb":  # VRM: Blender's importer only accepts glTF file names
            to_import = safe / "model.glb"
            if prepared.path != to_import:
                shutil.copyfile(prepared.path, to_import)
            ext = ".glb"
        reset()
        _run_importer(to_import, ext, shown=path.name)
        if ext == ".fbx":
            _drop_outside_images(root, report)
        # Textures must outlive the private folder: keep them in memory.
        for image in bpy.data.images:
            if image.source == "FILE" and image.packed_file is None and image.filepath:
                try:
                    image.pack()
                except RuntimeError:
                    report.warnings.append(f"texture {image.name} could not be read")
        report.object_types = _count_types()
        _check_size()
        if keep_rig:
            _strip_to_rig(report)
        else:
            _strip_to_meshes(report)
            _make_invisible_materials_opaque(report)
        return report
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_size() -> None:
    """``too_large`` when the imported meshes are beyond the engine's limit (each object
    counted, as instances become copies for their own weights)."""
    triangles = vertices = 0
    for ob in bpy.context.scene.objects:
        if ob.type != "MESH":
            continue
        me = ob.data
        corners = np.empty(len(me.polygons), dtype=np.int64)
        me.polygons.foreach_get("loop_total", corners)
        triangles += int(np.maximum(corners - 2, 0).sum())
        vertices += len(me.vertices)
    sanitize.too_large(triangles, vertices)


def _drop_outside_images(root: Path, report: LoadReport) -> None:
    """FBX: the importer looks for textures by the names the file gives (absolute, relative,
    or by searching); an image it found outside the model's folder is removed before anything
    packs or exports it. Textures embedded in the FBX are packed, so they stay."""
    for image in list(bpy.data.images):
        if image.source != "FILE" or image.packed_file is not None or not image.filepath:
            continue
        real = Path(bpy.path.abspath(image.filepath))
        if not _under(root, real):
            report.warnings.append(
                f"texture {image.name} dropped: its file {image.filepath[:100]!r} is outside the model's folder"
            )
            bpy.data.images.remove(image)


def _under(root: Path, path: Path) -> bool:
    try:
        real_root, real = root.resolve(strict=True), path.resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    return real_root in real.parents and real.is_file()


def _run_importer(path: Path, ext: str, shown: str | None = None) -> None:
    label = ext.lstrip(".").upper()
    try:
        if ext in (".glb", ".gltf"):
            result = bpy.ops.import_scene.gltf(filepath=str(path), disable_bone_shape=True)
        elif ext == ".fbx":
            _fbx_lights_importable()
            result = bpy.ops.import_scene.fbx(filepath=str(path))
        else:
            result = bpy.ops.wm.obj_import(filepath=str(path))
    except Exception as exc:  # importers raise RuntimeError or their own errors
        reason = _importer_reason(exc).replace(str(path), shown or path.name).replace(str(path.parent), "")
        raise RigError("corrupt_file", f"could not read the {label} file: {reason}") from None
    if "FINISHED" not in result:
        raise RigError("corrupt_file", f"could not read the {label} file")


def _fbx_lights_importable() -> None:
    """Blender 5.0's FBX importer sets ``light.cycles.cast_shadow``, which Cycles no longer has,
    so any FBX holding a light (3ds Max and Maya scenes often do) failed as unreadable. Give
    Cycles' light settings that property back; the lights are dropped after the import anyway."""
    probe = bpy.data.lights.new("autorig_probe", "POINT")
    try:
        settings = getattr(probe, "cycles", None)
        if settings is not None and "cast_shadow" not in settings.bl_rna.properties:
            type(settings).cast_shadow = bpy.props.BoolProperty(default=True)
    finally:
        bpy.data.lights.remove(probe)


def _count_types() -> dict[str, int]:
    counts: dict[str, int] = {}
    for ob in bpy.context.scene.objects:
        counts[ob.type] = counts.get(ob.type, 0) + 1
    return counts


def _single_user_meshes() -> None:
    """Give every mesh object its own mesh data: weights live in the data, so instances that
    share it could not be weighted where each of them stands."""
    for ob in bpy.context.scene.objects:
        if ob.type == "MESH" and ob.data.users > 1:
            ob.data = ob.data.copy()


def _strip_to_meshes(report: LoadReport) -> None:
    """Keep only mesh objects, unparented with their world transforms, rest shape kept."""
    scene = bpy.context.scene
    for ob in list(scene.objects):
        if ob.type == "ARMATURE":
            ob.data.pose_position = "REST"
    bpy.context.view_layer.update()
    meshes = [ob for ob in scene.objects if ob.type == "MESH"]
    for ob in meshes:
        world = ob.matrix_world.copy()
        for mod in list(ob.modifiers):
            if mod.type == "ARMATURE":
                ob.modifiers.remove(mod)
        ob.parent = None
        ob.matrix_world = world
        ob.vertex_groups.clear()
        ob.animation_data_clear()
    for ob in list(scene.objects):
        if ob.type == "MESH":
            continue
        if ob.type == "ARMATURE":
            report.dropped_armatures.append(ob.name)
        elif ob.type not in ("EMPTY", "CAMERA", "LIGHT"):
            report.dropped_objects.append(f"{ob.name} ({ob.type.lower()})")
        bpy.data.objects.remove(ob, do_unlink=True)
    for action in list(bpy.data.actions):
        bpy.data.actions.remove(action)
    _single_user_meshes()
    bpy.context.view_layer.update()


def _make_invisible_materials_opaque(report: LoadReport) -> None:
    """A material whose alpha is 0 everywhere (a constant 0, nothing plugged in) hides its
    mesh in every viewer; it is an exporter's mistake (seen as glTF ``alphaMode: MASK`` with
    ``baseColorFactor`` alpha 0), not a wish, so the rigged files show the mesh opaque."""
    for mat in bpy.data.materials:
        if mat.node_tree is None:
            continue
        for node in mat.node_tree.nodes:
            if node.type != "BSDF_PRINCIPLED":
                continue
            alpha = node.inputs.get("Alpha")
            if alpha is not None and not alpha.is_linked and alpha.default_value <= 0.0:
                alpha.default_value = 1.0
                mat.blend_method = "OPAQUE"
                if hasattr(mat, "surface_render_method"):
                    mat.surface_render_method = "DITHERED"
                report.warnings.append(f"material {mat.name} was fully transparent (alpha 0, no texture): made opaque")


def _strip_to_rig(report: LoadReport) -> None:
    """Conversion: drop cameras and lights (reparenting their children in place), keep the rest."""
    for ob in list(bpy.context.scene.objects):
        if ob.type in ("CAMERA", "LIGHT"):
            for child in ob.children:
                world = child.matrix_world.copy()
                child.parent = ob.parent
                child.matrix_world = world
            report.dropped_objects.append(f"{ob.name} ({ob.type.lower()})")
            bpy.data.objects.remove(ob, do_unlink=True)
    bpy.context.view_layer.update()


def objects_of_type(*types: str) -> list[bpy.types.Object]:
    """Objects of the current scene whose type is one of ``types`` ("MESH", "ARMATURE", ...)."""
    return [ob for ob in bpy.context.scene.objects if ob.type in types]


def triangle_count(objects) -> int:
    """Triangles of the mesh objects among ``objects``, as exporters write them."""
    total = 0
    for ob in objects:
        if ob.type == "MESH":
            ob.data.calc_loop_triangles()
            total += len(ob.data.loop_triangles)
    return total


def mesh_objects() -> list[bpy.types.Object]:
    return sorted((ob for ob in bpy.context.scene.objects if ob.type == "MESH"), key=lambda o: o.name)


def read_character() -> CharacterMesh:
    """All mesh objects of the current scene as one world-space triangle soup.

    Parts are named after their objects, in ``mesh_objects()`` order; objects without
    vertices are left out."""
    parts: list[MeshPart] = []
    verts: list[np.ndarray] = []
    tris: list[np.ndarray] = []
    offset = 0
    for ob in mesh_objects():
        me = ob.data
        n = len(me.vertices)
        if n == 0:
            continue
        co = np.empty(n * 3, dtype=np.float64)
        me.vertices.foreach_get("co", co)
        co = co.reshape(-1, 3)
        m = np.array(ob.matrix_world, dtype=np.float64)
        co = co @ m[:3, :3].T + m[:3, 3]
        me.calc_loop_triangles()
        t = np.empty(len(me.loop_triangles) * 3, dtype=np.int64)
        me.loop_triangles.foreach_get("vertices", t)
        parts.append(MeshPart(ob.name, offset, n))
        verts.append(co)
        tris.append(t.reshape(-1, 3) + offset)
        offset += n
    if not parts:
        raise RigError("not_a_mesh", "the file holds no mesh (only empties, cameras, lights or curves)")
    all_verts = np.concatenate(verts)
    bad = ~np.isfinite(all_verts).all(axis=1)
    if bad.any():
        raise RigError(
            "corrupt_file",
            f"{int(bad.sum()):,} of {len(all_verts):,} vertices have no valid position (NaN or infinite coordinates)",
        )
    mesh = CharacterMesh(all_verts, np.concatenate(tris), parts)
    if mesh.n_triangles == 0:
        raise RigError("not_a_mesh", "the meshes in the file have no faces (only points or edges)")
    return mesh


def load(path: str | os.PathLike) -> tuple[CharacterMesh, LoadReport]:
    """Import ``path`` for rigging and read its meshes. Raises RigError: unsupported_format,
    corrupt_file, too_large, empty_scene (nothing in the file), not_a_mesh (no faces)."""
    report = import_file(path)
    if not report.object_types:
        raise RigError("empty_scene", "the file holds no objects at all")
    report.welded_vertices = weld.weld_large(mesh_objects())
    sanitize.too_many_distinct(sum(len(ob.data.vertices) for ob in mesh_objects()), report.welded_vertices)
    return read_character(), report
