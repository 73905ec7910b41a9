"""Write an augmented evaluation case (``evaluation.augment.Case``) as a GLB.

The unrigged file a user would upload is imported as for rigging (meshes only, unparented,
world transforms kept), every vertex is moved where the case puts it (pose, then placement),
the props are added as their own meshes, and the scene is written as GLB: materials, UVs and
textures stay those of the original file. Custom normals are dropped (they belong to the
rest shape; the exporter writes fresh ones) and a mirrored case has its faces turned, so the
outside stays outside.
"""

from __future__ import annotations

import os
from pathlib import Path

import bpy
import numpy as np

from autorig.blender import export, scene

# Props are grey, a little metallic: visible in a preview, nothing else.
PROP_COLOR = (0.55, 0.55, 0.6, 1.0)


def _world_vertices(ob) -> np.ndarray:
    me = ob.data
    co = np.empty(len(me.vertices) * 3, dtype=np.float64)
    me.vertices.foreach_get("co", co)
    m = np.array(ob.matrix_world, dtype=np.float64)
    return co.reshape(-1, 3) @ m[:3, :3].T + m[:3, 3]


def _clear_custom_normals(ob) -> None:
    if not ob.data.has_custom_normals:
        return
    with bpy.context.temp_override(object=ob, active_object=ob, selected_objects=[ob], selected_editable_objects=[ob]):
        bpy.ops.mesh.customdata_custom_splitnormals_clear()


def _prop_material() -> bpy.types.Material:
    mat = bpy.data.materials.new("AugmentProp")
    mat.diffuse_color = PROP_COLOR
    return mat


def _add_prop(name: str, vertices: np.ndarray, triangles: np.ndarray, material) -> bpy.types.Object:
    me = bpy.data.meshes.new(name)
    me.from_pydata([tuple(v) for v in vertices.tolist()], [], [tuple(t) for t in triangles.tolist()])
    me.update()
    me.materials.append(material)
    ob = bpy.data.objects.new(name, me)
    bpy.context.scene.collection.objects.link(ob)
    return ob


def write_case(case, character, unrigged: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write ``case`` of cached ``character`` (whose unrigged file is ``unrigged``) to ``out``."""
    from autorig.evaluation import augment

    scene.import_file(unrigged)
    objects = [ob for ob in scene.mesh_objects() if len(ob.data.vertices)]
    rest = [_world_vertices(ob) for ob in objects]
    moved = augment.apply(case, character, np.concatenate(rest))
    start = 0
    for ob, r in zip(objects, rest, strict=False):
        me = ob.data
        if me.shape_keys is not None:
            ob.shape_key_clear()
        _clear_custom_normals(ob)
        ob.matrix_world = np.eye(4).tolist()
        me.vertices.foreach_set("co", moved[start : start + len(r)].astype(np.float32).ravel())
        start += len(r)
        if case.mirrored:
            me.flip_normals()
        me.update()
    mat = _prop_material() if case.props else None
    for p in case.props:
        ob = _add_prop(p.name, p.vertices, p.triangles, mat)
        if case.mirrored:
            ob.data.flip_normals()  # the placement turned the props' faces inside out too
        objects.append(ob)
    bpy.context.view_layer.update()
    return export.export_glb(out, objects)
