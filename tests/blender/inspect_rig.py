"""Load a rigged GLB/FBX in a fresh Blender and print what the tests check, as JSON.

Run as a script (``python inspect_rig.py FILE``) so the importing Blender state never touches
the test process. Prints one JSON line after ``INSPECT:``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import bpy
import numpy as np


def _world_vertices() -> np.ndarray:
    """(n, 3) world positions of every mesh vertex with modifiers (the skin) applied."""
    deps = bpy.context.evaluated_depsgraph_get()
    out = []
    for ob in bpy.context.scene.objects:
        if ob.type != "MESH":
            continue
        ev = ob.evaluated_get(deps)
        em = ev.to_mesh()
        co = np.empty(len(em.vertices) * 3)
        em.vertices.foreach_get("co", co)
        ev.to_mesh_clear()
        mw = np.array(ob.matrix_world)
        out.append(co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3])
    return np.concatenate(out) if out else np.zeros((0, 3))


def pose_probe(bone_name: str, degrees: float = 60.0) -> dict:
    """Turn one bone about its local X axis and report which vertices followed: their count and
    centroid (world, rest positions), and how far the farthest one moved."""
    arm = next(ob for ob in bpy.context.scene.objects if ob.type == "ARMATURE" and bone_name in ob.pose.bones)
    arm.data.pose_position = "POSE"
    bpy.context.view_layer.update()
    rest = _world_vertices()
    pb = arm.pose.bones[bone_name]
    pb.rotation_mode = "XYZ"
    pb.rotation_euler = (np.radians(degrees), 0.0, 0.0)
    bpy.context.view_layer.update()
    posed = _world_vertices()
    moved = np.linalg.norm(posed - rest, axis=1)
    size = float(np.ptp(rest, axis=0).max())
    follow = moved > 1e-3 * size
    return {
        "bone": bone_name,
        "moved": int(follow.sum()),
        "centroid": rest[follow].mean(axis=0).tolist() if follow.any() else None,
        "max_move": float(moved.max()),
    }


def inspect(path: Path) -> dict:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    if path.suffix.lower() == ".fbx":
        bpy.ops.import_scene.fbx(filepath=str(path))
    else:
        bpy.ops.import_scene.gltf(filepath=str(path), disable_bone_shape=True)
    arms = [ob for ob in bpy.context.scene.objects if ob.type == "ARMATURE"]
    for a in arms:
        a.data.pose_position = "REST"
    bpy.context.view_layer.update()
    out: dict = {"armatures": [a.name for a in arms], "bones": {}, "meshes": {}}
    for a in arms:
        aw = np.array(a.matrix_world)
        for b in a.data.bones:
            m = aw @ np.array(b.matrix_local)
            out["bones"][b.name] = {
                "parent": b.parent.name if b.parent else None,
                "head": (aw[:3, :3] @ np.array(b.head_local) + aw[:3, 3]).tolist(),
                "x": m[:3, 0].tolist(),
                "y": m[:3, 1].tolist(),
                "z": m[:3, 2].tolist(),
                "deform": b.use_deform,
            }
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
    deps = bpy.context.evaluated_depsgraph_get()
    for ob in bpy.context.scene.objects:
        if ob.type != "MESH":
            continue
        me = ob.data
        n = len(me.vertices)
        # world positions with the skin applied in the rest pose: what a viewer shows
        ev = ob.evaluated_get(deps)
        em = ev.to_mesh()
        co = np.empty(len(em.vertices) * 3)
        em.vertices.foreach_get("co", co)
        ev.to_mesh_clear()
        mw = np.array(ob.matrix_world)
        co = co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3]
        lo, hi = np.minimum(lo, co.min(0)), np.maximum(hi, co.max(0))
        names = {g.index: g.name for g in ob.vertex_groups}
        sums = np.zeros(n)
        counts = np.zeros(n, dtype=int)
        for v in me.vertices:
            for g in v.groups:
                if g.weight > 0 and g.group in names:
                    sums[v.index] += g.weight
                    counts[v.index] += 1
        mods = [m for m in ob.modifiers if m.type == "ARMATURE"]
        out["meshes"][ob.name] = {
            "vertices": n,
            "parent": ob.parent.name if ob.parent else None,
            "armature": mods[0].object.name if mods and mods[0].object else None,
            "groups": sorted(names.values()),
            "unweighted": int((counts == 0).sum()),
            "max_influences": int(counts.max()) if n else 0,
            "weight_sum_min": float(sums.min()) if n else 1.0,
            "weight_sum_max": float(sums.max()) if n else 1.0,
            "materials": [m.name for m in me.materials if m],
        }
    out["bbox"] = [lo.tolist(), hi.tolist()]
    out["images"] = {im.name: list(im.size) for im in bpy.data.images if im.type == "IMAGE"}
    out["actions"] = sorted(a.name for a in bpy.data.actions)
    return out


if __name__ == "__main__":
    result = inspect(Path(sys.argv[1]))
    if len(sys.argv) > 2:
        result["pose"] = pose_probe(sys.argv[2])
    print("INSPECT:" + json.dumps(result))
