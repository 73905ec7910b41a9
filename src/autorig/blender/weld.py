"""Weld split vertices of large meshes: one Blender vertex per position, nothing else changed.

glTF stores a vertex per distinct (position, normal, UV, ...), so a flat-shaded model has three
vertices per triangle and a smooth one its UV seams and hard edges doubled; Blender imports them
as they are. In Blender normals and UVs live on the face corners, so those copies are needed by
nothing: merged, the mesh draws and exports the same (the exporters split the vertices again by
corner normal and UV), while everything that works per vertex (skin weights, vertex groups, the
armature deform of every clip frame and preview frame, decimation, the LOD checks) does a third
of the work on a flat-shaded model.

``weld_large(objects)`` merges, in each mesh object, vertices with the same position and the same
per-vertex data (point attributes such as vertex colours), when the objects hold more than
WELD_ABOVE_VERTICES vertices in all (smaller models are left exactly as imported). Corner data
(UV maps, corner colours), face data (materials, flat shading) and every corner's normal are
kept: the normals are set again as custom normals, so a hard edge stays hard. Corners of faces
that would collapse (a face with two corners at one position) keep their own vertices. Meshes
with shape keys, vertex groups or loose edges are left as they are.
"""

from __future__ import annotations

from typing import Any

import bpy
import numpy as np
import numpy.typing as npt

# Models with more vertices than this (all mesh objects) are welded; below it the memory the
# outputs need is small, and the meshes stay exactly as the file has them.
WELD_ABOVE_VERTICES = 300_000
# Corner normals further apart than this (1 - cos) after the weld are set as custom normals.
NORMAL_EPS = 1e-6

# Attribute data types -> (foreach property, values per element, numpy dtype).
_PROPS: dict[str, tuple[str, int, Any]] = {
    "FLOAT": ("value", 1, np.float32),
    "INT": ("value", 1, np.int32),
    "BOOLEAN": ("value", 1, bool),
    "INT8": ("value", 1, np.int8),
    "FLOAT_VECTOR": ("vector", 3, np.float32),
    "FLOAT2": ("vector", 2, np.float32),
    "INT32_2D": ("value", 2, np.int32),
    "FLOAT_COLOR": ("color", 4, np.float32),
    "BYTE_COLOR": ("color", 4, np.float32),
    "QUATERNION": ("value", 4, np.float32),
    "FLOAT4X4": ("value", 16, np.float32),
}
# Attributes the new mesh makes itself (topology, normals set separately) or that only the
# editor uses.
_SKIP = {"position", "custom_normal", "sharp_edge"}


def _read(collection: Any, prop: str, count: int, width: int, dtype: Any) -> npt.NDArray[Any]:
    out = np.empty(count * width, dtype=dtype)
    collection.foreach_get(prop, out)
    return out.reshape(count, width) if width > 1 else out


def _attribute(attr: Any, count: int) -> npt.NDArray[Any] | None:
    kind = _PROPS.get(attr.data_type)
    if kind is None:
        return None
    return _read(attr.data, kind[0], count, kind[1], kind[2])


def weld_large(objects: list[Any]) -> int:
    """Weld every mesh among ``objects`` when they hold more than WELD_ABOVE_VERTICES vertices
    in all. Returns how many vertices were merged away (0 when nothing was done)."""
    meshes = [ob for ob in objects if ob.type == "MESH"]
    if sum(len(ob.data.vertices) for ob in meshes) <= WELD_ABOVE_VERTICES:
        return 0
    return sum(weld_object(ob) for ob in meshes)


def merge_map(
    keys: npt.NDArray[Any], corner_vert: npt.NDArray[np.int64], loop_start: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Which vertices become one: ``keys`` (n, w) one row of bytes per vertex (equal rows merge),
    ``corner_vert`` (c,) each corner's vertex, ``loop_start`` (f,) each face's first corner.

    Returns (first, inverse): the old vertex kept for each new vertex (m,), ascending, and each
    old vertex's new index (n,). The corners of a face that would collapse keep their vertices."""
    n = len(keys)
    rows = np.ascontiguousarray(keys).view(np.dtype((np.void, keys.dtype.itemsize * keys.shape[1]))).reshape(-1)
    _, first_of, inverse = np.unique(rows, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    # Faces that would get one vertex twice: their corners stay apart.
    face_of = np.repeat(np.arange(len(loop_start)), np.diff(np.r_[loop_start, len(corner_vert)]))
    merged = inverse[corner_vert]
    order = np.lexsort((merged, face_of))
    dup = (face_of[order][1:] == face_of[order][:-1]) & (merged[order][1:] == merged[order][:-1])
    if dup.any():
        bad = np.isin(face_of, face_of[order][1:][dup])
        alone = np.zeros(n, dtype=bool)
        alone[corner_vert[bad]] = True
        label = np.where(alone, len(first_of) + np.arange(n), inverse)
        _, first_of, inverse = np.unique(label, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
    # New vertices in the order of their first old vertex: a mesh without copies keeps its order.
    order_new = np.argsort(first_of, kind="stable")
    rank = np.empty_like(order_new)
    rank[order_new] = np.arange(len(order_new))
    return first_of[order_new].astype(np.int64), rank[inverse].astype(np.int64)


def weld_object(ob: Any) -> int:
    """Merge the split vertices of one mesh object (see the module docstring). Returns how many
    vertices were merged away."""
    me = ob.data
    n, c, f = len(me.vertices), len(me.loops), len(me.polygons)
    if n == 0 or f == 0 or me.shape_keys is not None or len(ob.vertex_groups):
        return 0
    corner_vert = _read(me.loops, "vertex_index", c, 1, np.int64)
    corner_edge = _read(me.loops, "edge_index", c, 1, np.int64)
    if len(np.unique(corner_edge)) < len(me.edges):
        return 0  # loose edges (lines): not ours to rebuild
    del corner_edge
    loop_start = _read(me.polygons, "loop_start", f, 1, np.int64)
    co = _read(me.vertices, "co", n, 3, np.float32)
    point = [
        (a.name, a.data_type, _attribute(a, n))
        for a in me.attributes
        if a.domain == "POINT" and not a.name.startswith(".") and a.name not in _SKIP
    ]
    parts = [co.view(np.uint8).reshape(n, -1)]
    parts += [np.ascontiguousarray(v).reshape(n, -1).view(np.uint8) for _, _, v in point if v is not None]
    first, inverse = merge_map(np.hstack(parts), corner_vert, loop_start)
    del parts
    if len(first) == n:
        return 0
    normals = _read(me.corner_normals, "vector", c, 3, np.float32)
    new = bpy.data.meshes.new(me.name)
    new.vertices.add(len(first))
    new.vertices.foreach_set("co", co[first].ravel())
    new.loops.add(c)
    new.loops.foreach_set("vertex_index", inverse[corner_vert].astype(np.int32))
    new.polygons.add(f)
    new.polygons.foreach_set("loop_start", loop_start.astype(np.int32))
    new.update(calc_edges=True)
    for attr in me.attributes:
        if attr.name.startswith(".") or attr.name in _SKIP or attr.domain not in ("POINT", "CORNER", "FACE"):
            continue
        values = _attribute(attr, {"POINT": n, "CORNER": c, "FACE": f}[attr.domain])
        if values is None:
            continue
        if attr.domain == "POINT":
            values = values[first]
        if attr.domain == "CORNER" and attr.data_type == "FLOAT2" and attr.name in me.uv_layers:
            target = new.uv_layers.new(name=attr.name, do_init=False)
            target = new.attributes[target.name]
        elif attr.name in new.attributes:
            target = new.attributes[attr.name]
        else:
            target = new.attributes.new(attr.name, attr.data_type, attr.domain)
        target.data.foreach_set(_PROPS[attr.data_type][0], np.ascontiguousarray(values).ravel())
    _copy_settings(me, new)
    after = _read(new.corner_normals, "vector", c, 3, np.float32)
    if me.has_custom_normals or float(np.max(1.0 - np.sum(normals * after, axis=1), initial=0.0)) > NORMAL_EPS:
        new.normals_split_custom_set(normals)
    name = me.name
    ob.data = new
    if me.users == 0:
        bpy.data.meshes.remove(me)
        new.name = name
    return n - len(first)


def _copy_settings(me: Any, new: Any) -> None:
    """Materials, custom properties (glTF extras), the active and rendered UV map and colour
    attribute."""
    for mat in me.materials:
        new.materials.append(mat)
    for key in me.keys():
        try:
            new[key] = me[key]
        except (TypeError, ValueError):  # a property Blender made itself and owns
            pass
    if me.uv_layers.active is not None and me.uv_layers.active.name in new.uv_layers:
        new.uv_layers.active = new.uv_layers[me.uv_layers.active.name]
    for layer in me.uv_layers:
        if layer.active_render and layer.name in new.uv_layers:
            new.uv_layers[layer.name].active_render = True
    if me.color_attributes.active_color_name:
        new.color_attributes.active_color_name = me.color_attributes.active_color_name
    if me.color_attributes.default_color_name:
        new.color_attributes.default_color_name = me.color_attributes.default_color_name
