"""Levels of detail: lighter copies of the rigged meshes, skinned to the same armature.

A LOD is made per mesh object, on a copy parented to the same armature with its own Armature
modifier, in named passes:

1. **budget** (`plan_ratios`): small mesh objects (eyes, teeth) keep all their triangles, the
   big ones share the reduction so the total meets the target.
2. **weld** (`weld`): glTF splits vertices at UV seams and hard edges; merged again, the
   surface is closed and a seam is a seam (two UVs on one vertex), not a cut to tear open.
3. **collapse** (`_decimate`): Blender's collapse decimation (quadric edge collapses; UVs,
   colours and vertex groups are interpolated with each collapse, so textures stay on and
   every vertex keeps a proper skin weight), guided per vertex (`collapse_weights`): seam
   vertices go last, small loose parts (buttons, eyes) never.
4. **check** (`make_lod`): LOD0's vertices must lie within SILHOUETTE_TOLERANCE of the LOD;
   a character with no triangles to spare gets its LOD again with more.

Also here, on plain arrays: the closest-point queries behind the checks (how far a LOD surface
strays from LOD0, and whether both deform alike in a pose), used by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import bpy
import numpy as np
from scipy.spatial import cKDTree

# Target share of LOD0's triangles for each level (the issue: about 50 % and 20 %).
LOD_TARGETS: dict[str, float] = {"lod1": 0.5, "lod2": 0.2}
# A LOD whose surface is further than this from LOD0's vertices (99th percentile, fraction
# of the height) lost the silhouette; it is made again with RETRY_GROWTH x the triangles.
SILHOUETTE_TOLERANCE = 0.015
RETRY_GROWTH = 1.4
# Parts with fewer triangles than this share of the character's total are kept whole.
SMALL_PART_SHARE = 0.01
# ... and never reduced below this many triangles (a hand of a low-poly character is ~50).
MIN_PART_TRIANGLES = 48
# A part's ratio is never below this: past it collapse decimation tears thin shapes apart.
MIN_RATIO = 0.03
# Two UVs of one vertex further apart than this make it a seam vertex.
UV_SEAM_EPS = 1e-6
# Collapse weight of a seam vertex (1 = free, 0 = never): small but not zero, so seams
# still go when nothing else is left.
SEAM_WEIGHT = 0.02
# Extra cost of collapsing a seam edge, per unit of its length, as a fraction of the mesh's
# bounding-box diagonal (Blender adds length x (2 - w1 - w2) x factor to the edge's cost).
SEAM_COST = 1e-3
MAX_GROUP_FACTOR = 1000.0
# Loose parts with fewer vertices than this are never collapsed, while they make up at most
# LOCKED_SHARE of the mesh's vertices.
SMALL_LOOSE_VERTICES = 40
LOCKED_SHARE = 0.1
# Vertices closer than this (fraction of the mesh's bounding-box diagonal) are one vertex.
WELD_DISTANCE = 1e-6
# The temporary vertex group carrying the collapse weights.
_WEIGHT_GROUP = "_autorig_lod_weights"
# Candidate triangles per query point in the closest-point search.
CLOSEST_CANDIDATES = 16
# Query points per batch of that search: its temporaries take about 10 KB per point, so a
# batch holds them near 200 MB whatever the model's size.
CLOSEST_BATCH = 20000


@dataclass
class Lod:
    """One level: ``objects`` parented to the rig's armature; ``triangles`` in total, out of
    ``lod0_triangles`` in the full-resolution meshes; ``silhouette`` as measured."""

    name: str
    target: float
    objects: list[Any]
    triangles: int
    lod0_triangles: int
    silhouette: float = 0.0  # 99th percentile distance of LOD0's vertices to it, fraction of height

    @property
    def ratio(self) -> float:
        return self.triangles / max(1, self.lod0_triangles)


def triangle_count(objects) -> int:
    total = 0
    for ob in objects:
        me = ob.data
        me.calc_loop_triangles()
        total += len(me.loop_triangles)
    return total


def plan_ratios(triangles: np.ndarray, target: float) -> np.ndarray:
    """Per-part decimation ratios so the total is ``target`` x the sum of ``triangles`` (k,).

    Small parts (under SMALL_PART_SHARE of the total, or MIN_PART_TRIANGLES) keep ratio 1;
    the others share one ratio, found so the sum meets the target, within [MIN_RATIO, 1].
    Returns (k,) float64."""
    tri = np.asarray(triangles, dtype=np.float64)
    total = tri.sum()
    ratios = np.ones_like(tri)
    if total == 0:
        return ratios
    small = (tri < SMALL_PART_SHARE * total) | (tri <= MIN_PART_TRIANGLES)
    big = ~small
    if not big.any():
        return ratios
    budget = target * total - tri[small].sum()
    r = np.clip(budget / tri[big].sum(), MIN_RATIO, 1.0)
    ratios[big] = r
    # A part never drops below MIN_PART_TRIANGLES triangles.
    ratios[big] = np.maximum(ratios[big], np.minimum(1.0, MIN_PART_TRIANGLES / tri[big]))
    return ratios


def _copy_for_lod(ob, suffix: str):
    """A copy of a rigged mesh object with its own mesh data, same parent and world place,
    no shape keys (decimation cannot keep them) and no modifiers yet."""
    copy = ob.copy()
    copy.data = ob.data.copy()
    copy.name = f"{ob.name}_{suffix}"
    copy.data.name = f"{ob.data.name}_{suffix}"
    for coll in ob.users_collection:
        coll.objects.link(copy)
    copy.parent = ob.parent
    copy.matrix_parent_inverse = ob.matrix_parent_inverse.copy()
    copy.matrix_world = ob.matrix_world.copy()
    copy.modifiers.clear()
    if copy.data.shape_keys is not None:
        copy.shape_key_clear()
    return copy


def seam_vertices(me) -> np.ndarray:
    """(n,) bool: vertices on a UV seam (their loops carry more than one UV in some UV map)."""
    n = len(me.vertices)
    on_seam = np.zeros(n, dtype=bool)
    if not len(me.loops):
        return on_seam
    loop_vert = np.empty(len(me.loops), dtype=np.int64)
    me.loops.foreach_get("vertex_index", loop_vert)
    order = np.argsort(loop_vert, kind="stable")
    lv = loop_vert[order]
    same_vertex = lv[1:] == lv[:-1]
    for layer in me.uv_layers:
        uv = np.empty(len(me.loops) * 2)
        layer.data.foreach_get("uv", uv)
        luv = uv.reshape(-1, 2)[order]
        differs = same_vertex & (np.abs(luv[1:] - luv[:-1]).max(axis=1) > UV_SEAM_EPS)
        on_seam[lv[1:][differs]] = True
    return on_seam


def loose_parts(me) -> np.ndarray:
    """(n,) int64 connected-component label of every vertex (parts joined by edges)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(me.vertices)
    ev = np.empty(len(me.edges) * 2, dtype=np.int64)
    me.edges.foreach_get("vertices", ev)
    ev = ev.reshape(-1, 2)
    graph = coo_matrix((np.ones(len(ev)), (ev[:, 0], ev[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def weld(me, diagonal: float) -> int:
    """Merge vertices closer than WELD_DISTANCE x ``diagonal``: glTF stores a UV seam or a hard
    edge as two vertices, which Blender imports as two, so without welding every seam is a
    cut in the mesh that decimation tears open. After welding a seam is a seam again (two
    UVs on one vertex) and the surface is whole. Returns how many vertices were merged."""
    import bmesh

    bm = bmesh.new()
    try:
        bm.from_mesh(me)
        before = len(bm.verts)
        bmesh.ops.remove_doubles(bm, verts=bm.verts[:], dist=WELD_DISTANCE * diagonal)
        merged = before - len(bm.verts)
        if merged:
            bm.to_mesh(me)
        return merged
    finally:
        bm.free()


def collapse_weights(me) -> np.ndarray:
    """(n,) float32 per-vertex weights for the Decimate modifier's vertex group.

    1 = free to collapse. UV seam vertices get SEAM_WEIGHT, so their edges cost extra in
    proportion to their length and go last: UV islands keep their outlines and the texture
    stays where it was. Vertices of small loose parts (eyes, buttons, teeth: under
    SMALL_LOOSE_VERTICES) get 0, which Blender never collapses, as long as they are few
    (LOCKED_SHARE of the mesh at most; a mesh made only of small pieces is decimated as is)."""
    w = np.ones(len(me.vertices), dtype=np.float32)
    w[seam_vertices(me)] = SEAM_WEIGHT
    labels = loose_parts(me)
    counts = np.bincount(labels)
    small = (counts < SMALL_LOOSE_VERTICES)[labels]
    if small.mean() <= LOCKED_SHARE:
        w[small] = 0.0
    return w


def _decimate(ob, ratio: float) -> None:
    """Collapse-decimate ``ob`` in place to about ``ratio`` of its triangles, guided by
    ``collapse_weights``. The seam penalty is an edge length times the factor, so the
    factor scales with the mesh (SEAM_COST x its bounding-box diagonal, in its own units)."""
    if ratio >= 1.0:
        return
    me = ob.data
    co = np.empty(len(me.vertices) * 3)
    me.vertices.foreach_get("co", co)
    co = co.reshape(-1, 3)
    diagonal = float(np.linalg.norm(co.max(axis=0) - co.min(axis=0))) if len(co) else 1.0
    weld(me, diagonal)
    weights = collapse_weights(me)
    group = ob.vertex_groups.new(name=_WEIGHT_GROUP)
    for value in np.unique(weights):
        group.add(np.flatnonzero(weights == value).tolist(), float(value), "REPLACE")
    mod = ob.modifiers.new("Decimate", "DECIMATE")
    mod.decimate_type = "COLLAPSE"
    mod.ratio = float(ratio)
    mod.use_collapse_triangulate = True
    mod.vertex_group = group.name
    mod.vertex_group_factor = min(SEAM_COST * diagonal, MAX_GROUP_FACTOR)
    try:
        with bpy.context.temp_override(object=ob, active_object=ob, selected_objects=[ob]):
            bpy.ops.object.modifier_apply(modifier=mod.name)
    finally:
        ob.vertex_groups.remove(ob.vertex_groups[_WEIGHT_GROUP])


def _decimated_copies(rig: Any, name: str, target: float) -> list[Any]:
    counts = np.array([triangle_count([ob]) for ob in rig.meshes])
    objects = []
    try:
        for ob, ratio in zip(rig.meshes, plan_ratios(counts, target), strict=False):
            copy = _copy_for_lod(ob, name)
            objects.append(copy)
            _decimate(copy, ratio)
            arm_mods = [m for m in ob.modifiers if m.type == "ARMATURE"]
            mod = copy.modifiers.new("Armature", "ARMATURE")
            mod.object = arm_mods[0].object if arm_mods else rig.armature
            mod.use_vertex_groups = True
            mod.use_deform_preserve_volume = False
    except Exception:
        remove(objects)
        raise
    return objects


def silhouette_error(reference: tuple[np.ndarray, np.ndarray], objects) -> np.ndarray:
    """(n,) distance from each vertex of ``reference`` (vertices, triangles) to the surface of
    ``objects`` as evaluated now: how far the LOD strays from the full mesh."""
    verts, tris, _ = evaluated_surface(objects)
    # Split vertices (UV seams, flat shading: up to 6 per position) share one distance.
    points, inverse = np.unique(reference[0], axis=0, return_inverse=True)
    return closest_points(points, verts, tris)[2][inverse.reshape(-1)]


def make_lod(rig: Any, name: str, target: float) -> Lod:
    """Decimated copies of ``rig.meshes`` (about ``target`` of their triangles), skinned to
    ``rig.armature``, with names suffixed ``_<name>``. Call with the armature at rest.

    The LOD must keep the silhouette: if the full mesh's vertices stray more than
    SILHOUETTE_TOLERANCE (99th percentile, fraction of the height) from it, as happens when a
    low-poly character has no triangles to spare, it is made again with RETRY_GROWTH times
    more triangles (the report then shows a ratio above the target)."""
    lod0 = triangle_count(rig.meshes)
    v0, t0, _ = evaluated_surface(rig.meshes)
    tolerance = SILHOUETTE_TOLERANCE * float(rig.height)
    want = target
    while True:
        objects = _decimated_copies(rig, name, want)
        error = float(np.percentile(silhouette_error((v0, t0), objects), 99))
        if error <= tolerance or want >= 1.0:
            break
        remove(objects)
        want = min(1.0, want * RETRY_GROWTH)
    return Lod(name, target, objects, triangle_count(objects), lod0, error / float(rig.height))


def remove(objects) -> None:
    """Delete objects made for an output, with their mesh data."""
    for ob in list(objects):
        me = ob.data if ob.type == "MESH" else None
        bpy.data.objects.remove(ob, do_unlink=True)
        if me is not None and me.users == 0:
            bpy.data.meshes.remove(me)


# --- plain arrays: the LOD checks --------------------------------------------------------


def evaluated_surface(objects) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World vertices (n, 3), triangles (m, 3) int64 and per-corner UVs (m, 3, 2) (zeros
    without a UV map) of ``objects`` as evaluated now (the skin in the current pose)."""
    deps = bpy.context.evaluated_depsgraph_get()
    verts, tris, uvs = [], [], []
    offset = 0
    for ob in objects:
        ev = ob.evaluated_get(deps)
        me = ev.to_mesh()
        try:
            n = len(me.vertices)
            co = np.empty(n * 3)
            me.vertices.foreach_get("co", co)
            mw = np.array(ob.matrix_world, dtype=np.float64)
            verts.append(co.reshape(-1, 3) @ mw[:3, :3].T + mw[:3, 3])
            me.calc_loop_triangles()
            k = len(me.loop_triangles)
            t = np.empty(k * 3, dtype=np.int64)
            me.loop_triangles.foreach_get("vertices", t)
            loops = np.empty(k * 3, dtype=np.int64)
            me.loop_triangles.foreach_get("loops", loops)
            uv = np.zeros((k * 3, 2))
            if me.uv_layers.active is not None:
                all_uv = np.empty(len(me.loops) * 2)
                me.uv_layers.active.data.foreach_get("uv", all_uv)
                uv = all_uv.reshape(-1, 2)[loops]
            tris.append(t.reshape(-1, 3) + offset)
            uvs.append(uv.reshape(-1, 3, 2))
            offset += n
        finally:
            ev.to_mesh_clear()
    return np.concatenate(verts), np.concatenate(tris), np.concatenate(uvs)


def closest_points(points: np.ndarray, vertices: np.ndarray, triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each of ``points`` (p, 3), the closest point on the triangle mesh (vertices (n, 3),
    triangles (m, 3)) among the CLOSEST_CANDIDATES triangles with the nearest centroids.

    Returns (triangle index (p,) int64, barycentric coordinates (p, 3), distance (p,)).
    Points are searched CLOSEST_BATCH at a time, so memory stays bounded for any p."""
    a, b, c = (vertices[triangles[:, i]] for i in range(3))
    centroids = (a + b + c) / 3.0
    tree = cKDTree(centroids)
    k = min(CLOSEST_CANDIDATES, len(triangles))
    found = np.empty(len(points), dtype=np.int64)
    bary = np.empty((len(points), 3))
    dist = np.empty(len(points))
    for s in range(0, len(points), CLOSEST_BATCH):
        rows = slice(s, s + CLOSEST_BATCH)
        found[rows], bary[rows], dist[rows] = _closest_batch(points[rows], a, b, c, tree, k)
    return found, bary, dist


def _closest_batch(
    points: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray, tree: cKDTree, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``closest_points`` for one batch of points (p, 3), the triangles' corners a, b, c (m, 3)
    and the k-d tree of their centroids."""
    _, cand = tree.query(points, k=k)
    cand = cand.reshape(len(points), k)
    bary = _closest_on_triangles(points[:, None, :], a[cand], b[cand], c[cand])  # (p, k, 3)
    q = bary[..., 0:1] * a[cand] + bary[..., 1:2] * b[cand] + bary[..., 2:3] * c[cand]
    d = np.linalg.norm(q - points[:, None, :], axis=2)
    best = np.argmin(d, axis=1)
    rows = np.arange(len(points))
    return cand[rows, best], bary[rows, best], d[rows, best]


def _closest_on_triangles(p, a, b, c) -> np.ndarray:
    """Barycentric coordinates (..., 3) of the closest point to p on triangles abc (Ericson,
    Real-Time Collision Detection 5.1.5), vectorised; all inputs (..., 3)."""
    ab, ac, ap = b - a, c - a, p - a
    d1, d2 = np.sum(ab * ap, -1), np.sum(ac * ap, -1)
    bp = p - b
    d3, d4 = np.sum(ab * bp, -1), np.sum(ac * bp, -1)
    cp = p - c
    d5, d6 = np.sum(ab * cp, -1), np.sum(ac * cp, -1)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = va + vb + vc
        v_in = vb / denom
        w_in = vc / denom
        out = np.stack([1 - v_in - w_in, v_in, w_in], -1)
        # Edge regions.
        v_ab = d1 / (d1 - d3)
        w_ac = d2 / (d2 - d6)
        w_bc = (d4 - d3) / ((d4 - d3) + (d5 - d6))
    regions = [
        ((d1 <= 0) & (d2 <= 0), [1.0, 0.0, 0.0], None),
        ((d3 >= 0) & (d4 <= d3), [0.0, 1.0, 0.0], None),
        ((d6 >= 0) & (d5 <= d6), [0.0, 0.0, 1.0], None),
        ((vc <= 0) & (d1 >= 0) & (d3 <= 0), None, ("ab", v_ab)),
        ((vb <= 0) & (d2 >= 0) & (d6 <= 0), None, ("ac", w_ac)),
        ((va <= 0) & ((d4 - d3) >= 0) & ((d5 - d6) >= 0), None, ("bc", w_bc)),
    ]
    done = np.zeros(out.shape[:-1], dtype=bool)
    for mask, corner, edge in regions:
        m = mask & ~done
        if corner is not None:
            out[m] = corner
        else:
            kind, t = edge
            t = np.nan_to_num(t[m])
            if kind == "ab":
                out[m] = np.stack([1 - t, t, np.zeros_like(t)], -1)
            elif kind == "ac":
                out[m] = np.stack([1 - t, np.zeros_like(t), t], -1)
            else:
                out[m] = np.stack([np.zeros_like(t), 1 - t, t], -1)
        done |= m
    return np.nan_to_num(out)
