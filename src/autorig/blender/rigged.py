"""Read an already rigged file (an artist's original) as plain arrays, for evaluation."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np
from scipy import sparse

from autorig.blender import scene as scene_io
from autorig.rigging.errors import RigError
from autorig.rigging.mesh import CharacterMesh, MeshPart


@dataclass
class RiggedCharacter:
    """A skinned character in its bind pose, in Blender world space.

    mesh: the meshes skinned to the main armature.
    bone_names: (b,) names of the main armature's bones.
    bone_parents: (b,) int64 index of each bone's parent, -1 for roots.
    bone_heads, bone_tails: (b, 3) float64 world positions.
    bone_matrices: (b, 4, 4) float64 world rest matrices (Blender bone frames).
    bone_deform: (b,) bool, the bone's `use_deform` flag.
    weights: (n_vertices, b) scipy CSR float64, the artist's weights, rows normalised
        (a vertex with no weight is a zero row).
    """

    mesh: CharacterMesh
    bone_names: list[str]
    bone_parents: np.ndarray
    bone_heads: np.ndarray
    bone_tails: np.ndarray
    bone_matrices: np.ndarray
    bone_deform: np.ndarray
    weights: sparse.csr_matrix


def load_rigged(path: str | os.PathLike) -> RiggedCharacter:
    path = Path(path)
    scene_io.reset()
    ext = path.suffix.lower()
    if ext == ".vrm":  # VRM is glTF; Blender's importer only accepts glTF extensions
        tmp = Path(tempfile.mkdtemp(prefix="autorig-vrm-")) / (path.stem + ".glb")
        shutil.copyfile(path, tmp)
        path, ext = tmp, ".glb"
    if ext in (".glb", ".gltf"):
        bpy.ops.import_scene.gltf(filepath=str(path))
    elif ext == ".fbx":
        bpy.ops.import_scene.fbx(filepath=str(path))
    else:
        raise RigError("unsupported_format", f"cannot read a rigged {ext}")
    arms = [ob for ob in bpy.context.scene.objects if ob.type == "ARMATURE"]
    if not arms:
        raise RigError("not_a_mesh", f"{path.name} has no armature")

    def skinned_to(ob):
        return [m.object for m in ob.modifiers if m.type == "ARMATURE" and m.object is not None]

    # The main armature drives the most vertices.
    counts = {a.name: 0 for a in arms}
    for ob in bpy.context.scene.objects:
        if ob.type == "MESH":
            for a in skinned_to(ob):
                counts[a.name] += len(ob.data.vertices)
    arm = max(arms, key=lambda a: counts[a.name])
    arm.data.pose_position = "REST"
    bpy.context.view_layer.update()

    bones = list(arm.data.bones)
    names = [b.name for b in bones]
    index = {n: i for i, n in enumerate(names)}
    aw = np.array(arm.matrix_world, dtype=np.float64)
    heads = np.array([aw[:3, :3] @ np.array(b.head_local) + aw[:3, 3] for b in bones])
    tails = np.array([aw[:3, :3] @ np.array(b.tail_local) + aw[:3, 3] for b in bones])
    mats = np.array([aw @ np.array(b.matrix_local, dtype=np.float64) for b in bones])
    parents = np.array([index[b.parent.name] if b.parent else -1 for b in bones], dtype=np.int64)
    deform = np.array([b.use_deform for b in bones], dtype=bool)

    parts, verts, tris, rows, cols, vals = [], [], [], [], [], []
    offset = 0
    for ob in sorted(bpy.context.scene.objects, key=lambda o: o.name):
        if ob.type != "MESH" or arm not in skinned_to(ob):
            continue
        me = ob.data
        n = len(me.vertices)
        co = np.empty(n * 3)
        me.vertices.foreach_get("co", co)
        m = np.array(ob.matrix_world, dtype=np.float64)
        co = co.reshape(-1, 3) @ m[:3, :3].T + m[:3, 3]
        me.calc_loop_triangles()
        t = np.empty(len(me.loop_triangles) * 3, dtype=np.int64)
        me.loop_triangles.foreach_get("vertices", t)
        group_bone = {g.index: index.get(g.name, -1) for g in ob.vertex_groups}
        for v in me.vertices:
            for g in v.groups:
                bi = group_bone.get(g.group, -1)
                if bi >= 0 and g.weight > 0:
                    rows.append(offset + v.index)
                    cols.append(bi)
                    vals.append(g.weight)
        parts.append(MeshPart(ob.name, offset, n))
        verts.append(co)
        tris.append(t.reshape(-1, 3) + offset)
        offset += n
    mesh = CharacterMesh(np.concatenate(verts), np.concatenate(tris), parts)
    w = sparse.csr_matrix((vals, (rows, cols)), shape=(offset, len(names)))
    w.sum_duplicates()
    s = np.asarray(w.sum(axis=1)).ravel()
    s[s == 0] = 1.0
    w = sparse.diags(1.0 / s) @ w
    return RiggedCharacter(mesh, names, parents, heads, tails, mats, deform, w.tocsr())
