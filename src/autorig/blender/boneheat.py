"""Blender's bone heat ("automatic weights"): the baseline `autorig eval` compares our
skinning with.

Given plain arrays (a mesh and a bone set), this builds an armature and one mesh object
per part, parents the meshes to the armature with ``ARMATURE_AUTO`` exactly as a Blender
user would, and reads the vertex groups back as an (n, b) weight matrix.

Bone heat can fail ("Bone Heat Weighting: failed to find solution for one or more bones",
which leaves vertices unweighted), take minutes on dense meshes, or crash Blender. So
`run_isolated` runs it in a child process (``python -m autorig.blender.boneheat IN OUT``)
with a time limit, and collects Blender's warnings from the child's output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from autorig.rigging.bones import BoneSet
from autorig.rigging.mesh import CharacterMesh, MeshPart

# Lines of Blender's output that mean bone heat did not fully succeed.
FAILURE_MARKERS = ("Bone Heat Weighting", "failed to find solution")
# A vertex whose weights sum to no more than this is unweighted.
UNWEIGHTED_EPS = 1e-9
# Default limit for one character; bone heat on a ~50k-triangle mesh takes well under this.
DEFAULT_TIMEOUT_S = 600.0


class BoneHeatError(RuntimeError):
    """Bone heat did not produce weights at all (crash, time-out, operator error)."""


@dataclass
class BoneHeatResult:
    """weights: (n_vertices, b) CSR float64, rows normalised as Blender's armature
    modifier does (zero rows are unweighted vertices); failures: Blender's warnings
    about bones it could not solve; seconds: time spent in the operator alone."""

    weights: sparse.csr_matrix
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def unweighted(self) -> int:
        return int((np.asarray(self.weights.sum(axis=1)).ravel() <= UNWEIGHTED_EPS).sum())


# --- inside Blender --------------------------------------------------------------------


def _build_armature(bones: BoneSet):
    import bpy

    data = bpy.data.armatures.new("BoneHeatArmature")
    arm = bpy.data.objects.new("BoneHeatArmature", data)
    bpy.context.scene.collection.objects.link(arm)
    bpy.context.view_layer.objects.active = arm
    bpy.ops.object.mode_set(mode="EDIT")
    edit = []
    for i, name in enumerate(bones.names):
        eb = data.edit_bones.new(name)
        eb.head = bones.heads[i]
        tail = bones.tails[i]
        # Blender deletes zero-length bones when leaving edit mode; nudge them so the
        # bone set keeps its indices (such a bone gets no weights from bone heat anyway).
        if np.linalg.norm(tail - bones.heads[i]) < 1e-6:
            tail = bones.heads[i] + np.array([0.0, 0.0, 1e-3])
        eb.tail = tail
        eb.use_deform = bool(bones.deform[i])
        edit.append(eb)
    for i, p in enumerate(bones.parents):
        if p >= 0:
            edit[i].parent = edit[p]
    bpy.ops.object.mode_set(mode="OBJECT")
    return arm


def _build_meshes(mesh: CharacterMesh) -> list:
    """One Blender mesh object per part, vertices in world space, identity transforms."""
    import bpy

    objects = []
    part_of_tri = np.searchsorted([p.start for p in mesh.parts], mesh.triangles[:, 0], side="right") - 1
    for k, part in enumerate(mesh.parts):
        if part.count == 0:
            continue
        verts = mesh.vertices[part.start : part.start + part.count]
        tris = mesh.triangles[part_of_tri == k] - part.start
        me = bpy.data.meshes.new(part.name or f"part{k}")
        me.vertices.add(len(verts))
        me.vertices.foreach_set("co", verts.astype(np.float32).ravel())
        me.loops.add(tris.size)
        me.loops.foreach_set("vertex_index", tris.astype(np.int32).ravel())
        me.polygons.add(len(tris))
        me.polygons.foreach_set("loop_start", (np.arange(len(tris), dtype=np.int32) * 3))
        # Edges are derived from the faces; bone heat walks them.
        me.update(calc_edges=True)
        me.validate()
        ob = bpy.data.objects.new(me.name, me)
        bpy.context.scene.collection.objects.link(ob)
        objects.append((ob, part))
    return objects


def _read_weights(objects, bones: BoneSet, n_vertices: int) -> sparse.csr_matrix:
    index = {n: i for i, n in enumerate(bones.names)}
    rows, cols, vals = [], [], []
    for ob, part in objects:
        group_bone = {g.index: index.get(g.name, -1) for g in ob.vertex_groups}
        for v in ob.data.vertices:
            for g in v.groups:
                bi = group_bone.get(g.group, -1)
                if bi >= 0 and g.weight > 0:
                    rows.append(part.start + v.index)
                    cols.append(bi)
                    vals.append(g.weight)
    w = sparse.csr_matrix((vals, (rows, cols)), shape=(n_vertices, len(bones)), dtype=np.float64)
    w.sum_duplicates()
    total = np.asarray(w.sum(axis=1)).ravel()
    total[total <= UNWEIGHTED_EPS] = 1.0
    return (sparse.diags(1.0 / total) @ w).tocsr()


def bone_heat_in_process(mesh: CharacterMesh, bones: BoneSet) -> BoneHeatResult:
    """Run bone heat in this process's Blender (the scene is reset first).

    Blender prints its failure warning on the process's own output, which this function
    cannot see: use `run_isolated` to get ``failures`` filled in.
    """
    import bpy

    from autorig.blender import scene as scene_io

    scene_io.reset()
    arm = _build_armature(bones)
    objects = _build_meshes(mesh)
    bpy.ops.object.select_all(action="DESELECT")
    for ob, _ in objects:
        ob.select_set(True)
    arm.select_set(True)
    bpy.context.view_layer.objects.active = arm
    t0 = time.perf_counter()
    bpy.ops.object.parent_set(type="ARMATURE_AUTO")
    seconds = time.perf_counter() - t0
    return BoneHeatResult(_read_weights(objects, bones, mesh.n_vertices), [], seconds)


# --- from outside: a child process per run ---------------------------------------------


def _save_input(path: Path, mesh: CharacterMesh, bones: BoneSet) -> None:
    np.savez(
        path,
        vertices=mesh.vertices,
        triangles=mesh.triangles,
        part_names=np.array([p.name for p in mesh.parts]),
        part_ranges=np.array([[p.start, p.count] for p in mesh.parts], dtype=np.int64).reshape(-1, 2),
        bone_names=np.array(bones.names),
        heads=bones.heads,
        tails=bones.tails,
        parents=bones.parents,
        deform=bones.deform,
    )


def _load_input(path: Path) -> tuple[CharacterMesh, BoneSet]:
    z = np.load(path)
    parts = [MeshPart(str(n), int(s), int(c)) for n, (s, c) in zip(z["part_names"], z["part_ranges"], strict=False)]
    mesh = CharacterMesh(z["vertices"], z["triangles"], parts)
    bones = BoneSet([str(n) for n in z["bone_names"]], z["heads"], z["tails"], z["parents"], z["deform"])
    return mesh, bones


def _failure_lines(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        if any(m in line for m in FAILURE_MARKERS):
            out.append(line.strip())
    return out


def run_isolated(mesh: CharacterMesh, bones: BoneSet, timeout: float = DEFAULT_TIMEOUT_S) -> BoneHeatResult:
    """Bone heat for ``mesh`` (world-space vertices (n, 3)) bound to ``bones`` in a fresh
    Blender process. A crash, a hang past ``timeout`` seconds or an operator error raises
    BoneHeatError; the calling process is never at risk."""
    with tempfile.TemporaryDirectory(prefix="autorig-boneheat-") as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        _save_input(src, mesh, bones)
        cmd = [sys.executable, "-m", "autorig.blender.boneheat", str(src), str(dst)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, errors="replace")
        except subprocess.TimeoutExpired:
            raise BoneHeatError(f"bone heat did not finish within {timeout:.0f} s") from None
        output = proc.stdout + "\n" + proc.stderr
        if proc.returncode != 0 or not dst.exists():
            tail = [ln for ln in output.strip().splitlines() if ln.strip()][-3:]
            raise BoneHeatError(f"bone heat process exited with code {proc.returncode}: {' | '.join(tail)}")
        z = np.load(dst)
        weights = sparse.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
        return BoneHeatResult(weights, _failure_lines(output), float(z["seconds"]))


def _main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m autorig.blender.boneheat IN.npz OUT.npz", file=sys.stderr)
        return 2
    mesh, bones = _load_input(Path(argv[0]))
    result = bone_heat_in_process(mesh, bones)
    w = result.weights
    # Blender writes its warnings from C; flush ours so the order in the log is kept.
    sys.stdout.flush()
    np.savez(argv[1], data=w.data, indices=w.indices, indptr=w.indptr, shape=np.array(w.shape), seconds=result.seconds)
    print(json.dumps({"vertices": mesh.n_vertices, "bones": len(bones), "seconds": round(result.seconds, 3)}))
    return 0


if __name__ == "__main__":
    # os._exit: skip Blender's module teardown, which is slow and can crash on exit.
    code = _main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
