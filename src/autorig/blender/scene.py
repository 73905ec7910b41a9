"""Load an input file into an empty Blender scene and read it as plain arrays."""

from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import bpy
import numpy as np

from autorig.rigging.errors import RigError
from autorig.rigging.mesh import CharacterMesh, MeshPart

SUPPORTED = (".glb", ".gltf", ".fbx", ".obj", ".zip", ".vrm")
# A zip may hold textures; refuse archives that would expand past this.
MAX_ZIP_UNPACKED = 1 << 30
MAX_ZIP_MEMBERS = 5000


@dataclass
class LoadReport:
    source_format: str
    dropped_armatures: list[str] = field(default_factory=list)
    dropped_objects: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def reset() -> None:
    """An empty scene with factory settings (no default cube, camera or light)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)


def _unpack_zip(path: Path, into: Path) -> Path:
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
        zf.extractall(into)
    candidates = sorted(
        (p for p in into.rglob("*") if p.suffix.lower() in (".glb", ".gltf", ".obj", ".fbx", ".vrm")),
        key=lambda p: (len(p.parts), p.suffix.lower() not in (".glb", ".gltf"), p.name),
    )
    candidates = [p for p in candidates if "__MACOSX" not in p.parts]
    if not candidates:
        raise RigError("not_a_mesh", "the zip holds no .glb, .gltf, .obj or .fbx file")
    return candidates[0]


def import_file(path: str | os.PathLike) -> LoadReport:
    """Import ``path`` into a fresh scene. Raises RigError with a readable reason."""
    path = Path(path)
    if not path.is_file():
        raise RigError("corrupt_file", f"no such file: {path}")
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise RigError("unsupported_format", f"unsupported file type '{ext or path.name}' (use GLB, glTF, FBX, OBJ or ZIP)")
    if path.stat().st_size == 0:
        raise RigError("corrupt_file", "the file is empty")
    reset()
    if ext == ".zip":
        tmp = Path(tempfile.mkdtemp(prefix="autorig-zip-"))
        path = _unpack_zip(path, tmp)
        ext = path.suffix.lower()
    report = LoadReport(source_format=ext.lstrip("."))
    try:
        if ext in (".glb", ".gltf", ".vrm"):
            result = bpy.ops.import_scene.gltf(filepath=str(path))
        elif ext == ".fbx":
            result = bpy.ops.import_scene.fbx(filepath=str(path))
        else:
            result = bpy.ops.wm.obj_import(filepath=str(path))
    except (RuntimeError, Exception) as exc:  # importers raise RuntimeError or their own errors
        first = str(exc).strip().splitlines()
        raise RigError("corrupt_file", f"could not read the {ext.lstrip('.').upper()} file: {first[-1] if first else type(exc).__name__}") from None
    if "FINISHED" not in result:
        raise RigError("corrupt_file", f"could not read the {ext.lstrip('.').upper()} file")
    _strip_to_meshes(report)
    return report


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
    bpy.context.view_layer.update()


def mesh_objects() -> list[bpy.types.Object]:
    return sorted((ob for ob in bpy.context.scene.objects if ob.type == "MESH"), key=lambda o: o.name)


def read_character() -> CharacterMesh:
    """All mesh objects of the current scene as one world-space triangle soup."""
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
    mesh = CharacterMesh(np.concatenate(verts), np.concatenate(tris), parts)
    if mesh.n_triangles == 0:
        raise RigError("empty_scene", "the meshes in the file have no faces")
    return mesh


def load(path: str | os.PathLike) -> tuple[CharacterMesh, LoadReport]:
    report = import_file(path)
    return read_character(), report
