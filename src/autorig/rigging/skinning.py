"""Skin weights by geodesic voxel binding: every vertex, at most 4 bones, no bleeding.

Bone heat on the surface fails on real characters (meshes split at UV seams, loose
shells for eyes, teeth, armour and hair), so the weights come from a solid voxel
proxy of the whole character (``voxel_bind``), in named passes:

1. binding segments: the part of each deforming bone that drives the body. A bone
   with children runs from its head to the head of the child its tail points at
   (artists' tails are often the importer's guesses); a leaf bone first stands for
   its head alone and, once it owns a region, points into it.
2. seeds: the solid voxels along each segment. A bone outside the body (a
   misaligned artist bone) takes the nearest solid voxels if it is close; far ones
   (IK pole targets) and a root outside the body (a ground bone) drive nothing.
3. labels: each voxel belongs to the bone it is geodesically nearest to (paths stay
   inside the solid, so the legs or an arm and the torso never mix); at a joint voxel
   the child wins. A loose part whose own solid holds some bones (a helmet, a head
   shell, an eyeball) is labelled by those bones when one of them owns most of it.
4. blend: a vertex takes its own bone at full weight and each other bone by how far,
   along the skin, that bone's region is, relative to the vertex's distance to its
   own bone (the limb's radius); only bones that meet (segments within that radius)
   blend. Joints blend over about one limb radius; the middle of a limb, a chibi head,
   a hand never touching the thigh stay rigid.
5. smooth: weights diffuse over the welded mesh by about a voxel (no voxel steps).
6. rigid parts: a loose part mostly in one bone's region follows that bone alone.
7. keep the 4 largest, drop slivers, normalise, sort.

Hands (``_refine_hands``): the body's voxels are too coarse to part fingers that nearly touch,
so a bone with three or more short chains of bones below it (a hand with fingers, a foot
with toes) has its part of the skin labelled and blended again on its own, finer solid (a few
voxels across the gap between two fingers); only those vertices pay for the finer voxels.

Vertices at one position get one set of weights (seams never tear); every loose shell
is bridged to the body through its nearest voxel, so a hat or an eye follows the head.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import ndimage, sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from autorig.rigging import tolerances as tol
from autorig.rigging import voxel_bind
from autorig.rigging.bones import BoneSet
from autorig.rigging.errors import RigError
from autorig.rigging.mesh import CharacterMesh

MAX_INFLUENCES = 4

# apart(i, j) -> (k,) bool: vertices i[k] and j[k] belong to bones that do not meet (see _blend).
Apart: TypeAlias = Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], npt.NDArray[np.bool_]]


@dataclass
class SkinWeights:
    """indices: (n_vertices, 4) int64 bone indices into the BoneSet (padding: bone 0
    with weight 0); weights: (n_vertices, 4) float64, rows sum to 1, sorted descending;
    timings: seconds per pass."""

    indices: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float64]
    timings: dict[str, float] = field(default_factory=dict)

    def dense(self, n_bones: int) -> npt.NDArray[np.float64]:
        """(n_vertices, n_bones) float64."""
        out = np.zeros((len(self.indices), n_bones), dtype=np.float64)
        np.add.at(out, (np.arange(len(self.indices))[:, None], self.indices), self.weights)
        return out

    def sparse(self, n_bones: int) -> sparse.csr_matrix:
        """(n_vertices, n_bones) CSR float64, what ``posing.deform`` and the metrics take."""
        rows = np.repeat(np.arange(len(self.indices)), self.indices.shape[1])
        m = sparse.csr_matrix((self.weights.ravel(), (rows, self.indices.ravel())), shape=(len(self.indices), n_bones))
        m.eliminate_zeros()
        return m


def compute_weights(mesh: CharacterMesh, bones: BoneSet) -> SkinWeights:
    """Skin weights of ``mesh`` (world space) for the deforming bones of ``bones``: ours
    from ``bones.from_joints`` or any artist's skeleton (helper, twist and end bones
    included; bones with ``deform`` False get no weight)."""
    timer = _Timer()
    if mesh.n_vertices == 0 or mesh.n_triangles == 0:
        raise RigError("empty_scene", "the model has no triangles to skin")
    if not np.isfinite(mesh.vertices).all():
        raise RigError("corrupt_file", "the model has vertices that are not finite numbers")
    extent = float(np.ptp(mesh.vertices, axis=0).max())
    if extent <= 0:
        raise RigError("corrupt_file", "the model has no size (all vertices at one point)")
    assert bones.deform is not None  # BoneSet.__post_init__ always sets it
    deform = np.flatnonzero(bones.deform)
    if len(deform) == 0:
        raise RigError("internal", "the skeleton has no deforming bone")
    if not (np.isfinite(bones.heads[deform]).all() and np.isfinite(bones.tails[deform]).all()):
        raise RigError("internal", "the skeleton has bones at positions that are not finite numbers")

    solid = voxel_bind.voxelize(mesh.vertices, mesh.triangles, extent / tol.SKIN_VOXELS)
    timer.lap("voxelize")

    segments, leaf = binding_segments(bones)
    seeds = _seeds(solid, bones.parents, segments, leaf, deform, extent)
    if not seeds:
        raise RigError("internal", "no deforming bone lies in or near the body")
    graph = _bridge_loose_parts(solid, seeds)
    timer.lap("seeds")

    depth = _depths(bones.parents)
    labels, own_dist = _label(graph, seeds, depth)
    below_skin = ndimage.distance_transform_edt(solid.solid) * solid.size
    for b in [b for b in seeds if leaf[b]]:
        tail = _leaf_tail(solid, bones.heads[b], bones.tails[b], solid.centers[labels == b], below_skin)
        along = _segment_seeds(solid, bones.heads[b], tail) if tail is not None else np.zeros(0, dtype=np.int64)
        if len(along):
            segments[b, 1] = tail
            seeds[b] = along
        elif len(seeds) > 1:
            del seeds[b]  # a marker, or a leaf that never enters the body
    graph = _bridge_loose_parts(solid, seeds)
    labels, own_dist = _label(graph, seeds, depth)
    timer.lap("labels")

    welded = weld(mesh.vertices, tol.SKIN_WELD * extent)
    parts = loose_parts(mesh.triangles, welded)
    vertex_labels, allowed = _part_labels(
        mesh, parts, segments, list(seeds), solid.size, depth, labels[solid.node(mesh.vertices)]
    )
    if (vertex_labels < 0).any():  # cannot happen: every part is bridged to a seeded one
        raise RigError("internal", "some vertices could not be reached from any bone")
    timer.lap("parts")

    weights, apart = _blend(solid, graph, labels, own_dist, mesh.vertices, extent, vertex_labels, allowed, segments)
    timer.lap("blend")
    weights = _refine_hands(mesh, bones.parents, segments, list(seeds), weights, vertex_labels, solid.size, extent, depth)
    timer.lap("hands")
    weights = _smooth(mesh.vertices, welded, mesh.triangles, weights, tol.SKIN_SMOOTH_VOXELS * solid.size, apart)
    weights = _rigid_parts(parts, vertex_labels, weights)
    timer.lap("smooth")
    indices, values = _top_influences(weights, MAX_INFLUENCES)
    timer.lap("prune")
    return SkinWeights(indices, values, timer.laps)


# -- binding segments ---------------------------------------------------------------


def binding_segments(bones: BoneSet) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """(b, 2, 3) float64 head and end of the part of each bone that binds, and (b,)
    bool leaf. A bone with children ends at the head of the child its tail points at
    most directly (Spine2 at Neck, not at a shoulder); a leaf is its head alone."""
    b = len(bones)
    segments = np.repeat(bones.heads[:, None, :], 2, axis=1)
    leaf = np.zeros(b, dtype=bool)
    for i in range(b):
        head = bones.heads[i]
        kids = [j for j in np.flatnonzero(bones.parents == i) if np.linalg.norm(bones.heads[j] - head) > 0]
        if not kids:
            leaf[i] = True
            continue
        along = bones.tails[i] - head
        offsets = bones.heads[kids] - head
        if np.linalg.norm(along) > 0:
            cos = offsets @ along / (np.linalg.norm(offsets, axis=1) * np.linalg.norm(along))
            segments[i, 1] = bones.heads[kids[int(np.argmax(cos))]]
        else:
            segments[i, 1] = bones.heads[kids[int(np.argmin(np.linalg.norm(offsets, axis=1)))]]
    return segments, leaf


def _depths(parents: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """(b,) int64 number of ancestors of each bone (a cycle stops the count)."""
    depth = np.zeros(len(parents), dtype=np.int64)
    for i in range(len(parents)):
        j = parents[i]
        while j >= 0 and depth[i] <= len(parents):
            depth[i] += 1
            j = parents[j]
    return depth


# -- seeds ----------------------------------------------------------------------------


def _seeds(
    solid: voxel_bind.VoxelSolid,
    parents: npt.NDArray[np.int64],
    segments: npt.NDArray[np.float64],
    leaf: npt.NDArray[np.bool_],
    deform: npt.NDArray[np.int64],
    extent: float,
) -> dict[int, npt.NDArray[np.int64]]:
    """Bone index -> (k,) int64 solid nodes its segment binds from; a bone left out
    drives nothing."""
    near = tol.SKIN_NEAR_BODY * extent / solid.size  # voxels
    outside = nearest = None
    seeds: dict[int, npt.NDArray[np.int64]] = {}
    for b in deform:
        head, end = segments[b]
        pts = head[None] if leaf[b] else voxel_bind.segment_points(head, end, solid.size)
        cells = solid.cell(pts)
        ok = solid.in_grid(cells)
        inside = np.zeros(len(pts), dtype=bool)
        inside[ok] = solid.solid[tuple(cells[ok].T)]
        if inside.mean() >= tol.SKIN_MIN_INSIDE:
            seeds[b] = np.unique(solid.index[tuple(cells[inside].T)])
            continue
        if parents[b] < 0:
            continue  # a root outside the body: a ground or root-motion bone
        if outside is None:
            outside, nearest = ndimage.distance_transform_edt(~solid.solid, return_indices=True)
        cells = np.clip(cells, 0, np.array(solid.solid.shape) - 1)
        close = outside[tuple(cells.T)] <= near
        if close.any():  # else far from the body: an IK target or a helper
            assert nearest is not None  # computed together with outside
            snapped = np.stack([nearest[a][tuple(cells[close].T)] for a in range(3)], axis=1)
            seeds[b] = np.unique(solid.index[tuple(snapped.T)])
    return seeds


def _segment_seeds(
    solid: voxel_bind.VoxelSolid, head: npt.NDArray[np.float64], end: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """(k,) nodes along head-end up to where the segment first leaves the solid."""
    nodes = solid.node(voxel_bind.segment_points(head, end, solid.size))
    if (nodes < 0).any():
        nodes = nodes[: int(np.argmax(nodes < 0))]
    return np.unique(nodes)


def _leaf_tail(
    solid: voxel_bind.VoxelSolid,
    head: npt.NDArray[np.float64],
    given_tail: npt.NDArray[np.float64],
    region: npt.NDArray[np.float64],
    below_skin: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64] | None:
    """(3,) where a leaf bone ends: from its head toward the middle of the region
    (k, 3) it owns, as far as the region reaches, stopping where it leaves the body.

    None when the leaf marks a point inside a part rather than roots one: neither its
    region nor its own tail (``given_tail``, as far as it stays in the body) reaches
    beyond its head SKIN_LEAF_MIN_REACH times its depth below the skin (a head-top or
    "_end" bone in the middle of a head, a hand slot in a fist)."""
    cell = np.clip(solid.cell(head[None])[0], 0, np.array(solid.solid.shape) - 1)
    needed = max(tol.SKIN_LEAF_MIN_REACH * below_skin[tuple(cell)], solid.size)
    own = _segment_seeds(solid, head, given_tail)
    own_reach = float(np.max(np.linalg.norm(solid.centers[own] - head, axis=1))) if len(own) else 0.0
    if len(region) == 0:
        return given_tail if own_reach >= needed else None
    mean = region.mean(axis=0) - head
    if np.linalg.norm(mean) <= 0:
        return given_tail if own_reach >= needed else None
    direction = mean / np.linalg.norm(mean)
    reach = float(np.max((region - head) @ direction))
    if max(reach, own_reach) < needed:
        return None
    pts = voxel_bind.segment_points(head, head + direction * reach, solid.size)
    outside = solid.node(pts) < 0
    last = int(np.argmax(outside)) - 1 if outside.any() else len(pts) - 1
    tail: npt.NDArray[np.float64] = pts[max(last, 0)]
    return tail


def _bridge_loose_parts(solid: voxel_bind.VoxelSolid, seeds: dict[int, npt.NDArray[np.int64]]) -> sparse.csr_matrix:
    """The voxel graph with each solid part that holds no seed (a floating hat, a loose
    eye) joined to the nearest seeded part by one edge as long as the gap."""
    graph = solid.graph
    n_comp, comp = csgraph.connected_components(graph, directed=False)
    seeded = np.zeros(n_comp, dtype=bool)
    seeded[comp[np.concatenate(list(seeds.values()))]] = True
    if seeded.all():
        return graph
    anchors = np.flatnonzero(seeded[comp])
    tree = cKDTree(solid.centers[anchors])
    rows, cols, lengths = [], [], []
    for c in np.flatnonzero(~seeded):
        members = np.flatnonzero(comp == c)
        dist, j = tree.query(solid.centers[members])
        k = int(np.argmin(dist))
        rows.append(members[k])
        cols.append(anchors[j[k]])
        lengths.append(max(float(dist[k]), solid.size))
    bridge = sparse.csr_matrix((lengths + lengths, (rows + cols, cols + rows)), shape=graph.shape)
    return (graph + bridge).tocsr()


# -- labels -----------------------------------------------------------------------------


def _label(
    graph: sparse.csr_matrix, seeds: dict[int, npt.NDArray[np.int64]], depth: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(N,) int64 bone owning each node (-1 if unreachable) and (N,) float64 geodesic
    distance to it."""
    owners = np.array(list(seeds), dtype=np.int64)
    nodes = np.concatenate([seeds[b] for b in owners])
    owner = np.concatenate([np.full(len(seeds[b]), b) for b in owners])
    # A node seeded by two bones is a joint: the deeper bone (the child) takes it.
    order = np.argsort(depth[owner], kind="stable")
    node_owner = np.full(graph.shape[0], -1, dtype=np.int64)
    node_owner[nodes[order]] = owner[order]
    # The graph is symmetric (26-neighbours both ways, bridges both ways): as a directed graph it
    # gives the same distances without scipy transposing it on every call.
    dist, _, sources = csgraph.dijkstra(graph, directed=True, indices=np.unique(nodes), min_only=True, return_predecessors=True)
    labels = np.where(sources >= 0, node_owner[np.maximum(sources, 0)], -1)
    return labels, dist


def _part_labels(
    mesh: CharacterMesh,
    part: npt.NDArray[np.int64],
    segments: npt.NDArray[np.float64],
    active: list[int],
    size: float,
    depth: npt.NDArray[np.int64],
    vertex_labels: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Labels of the vertices of each closed loose part whose own solid holds some
    bones but not all (a helmet, a head shell, an eyeball) and is mostly one bone's:
    the nearest of the bones inside it, through its own solid. A helmet's rim near the
    shoulders then follows the head, not the shoulders the body's solid leads to.

    Returns (n,) int64 labels and (n, b) bool: the bones each vertex may blend with."""
    n, b = mesh.n_vertices, len(segments)
    labels = vertex_labels.copy()
    allowed = np.ones((n, b), dtype=bool)
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(part.max() + 2))
    tri_part = part[mesh.triangles[:, 0]]
    points = {k: voxel_bind.segment_points(segments[k, 0], segments[k, 1], size) for k in active}
    bone_lo = np.array([points[k].min(axis=0) for k in active])  # (a, 3)
    bone_hi = np.array([points[k].max(axis=0) for k in active])
    for p in range(part.max() + 1):
        rows = order[bounds[p] : bounds[p + 1]]
        v = mesh.vertices[rows]
        lo, hi = v.min(axis=0) - size, v.max(axis=0) + size
        boxes_meet = ((bone_hi >= lo) & (bone_lo <= hi)).all(axis=1)
        if not boxes_meet.any():
            continue  # a hair card, a button: no bone comes near
        near = [
            k
            for k, meet in zip(active, boxes_meet, strict=False)
            if meet and ((points[k] >= lo) & (points[k] <= hi)).all(axis=1).any()
        ]
        if len(near) in (0, len(active)):
            continue  # holds no bone, or is the whole body
        local = np.full(n, -1, dtype=np.int64)
        local[rows] = np.arange(len(rows))
        sub = voxel_bind.voxelize(v, local[mesh.triangles[tri_part == p]], size, ray_hits=tol.SKIN_PART_RAY_HITS)
        if sub.on_surface.all():
            continue  # an open part (a cape, hair cards) encloses nothing
        seeds = {k: np.unique(nodes[nodes >= 0]) for k in near if ((nodes := sub.node(points[k])) >= 0).any()}
        if not seeds or len(seeds) == len(active):
            continue
        vl = _label(sub.graph, seeds, depth)[0][sub.node(v)]
        ok = vl >= 0
        if not ok.any():
            continue
        own = np.bincount(vl[ok])
        if own.max() < tol.SKIN_PART_OWN_SHARE * len(rows) or own.argmax() != np.bincount(vertex_labels[rows]).argmax():
            continue  # not mostly one bone's, or not the bone the body gives it: the body's labels stand
        labels[rows[ok]] = vl[ok]
        mask = np.zeros(b, dtype=bool)
        mask[list(seeds)] = True
        allowed[rows[ok]] = mask
    return labels, allowed


# -- blend, smooth, rigid parts, prune --------------------------------------------------


def _blend(
    solid: voxel_bind.VoxelSolid,
    graph: sparse.csr_matrix,
    labels: npt.NDArray[np.int64],
    own_dist: npt.NDArray[np.float64],
    vertices: npt.NDArray[np.float64],
    extent: float,
    vlabel: npt.NDArray[np.int64],
    allowed: npt.NDArray[np.bool_],
    segments: npt.NDArray[np.float64],
    search: float | None = None,
) -> tuple[sparse.csr_matrix, Apart]:
    """(n_vertices, b) CSR raw weights: the vertex's own bone (vlabel) 1, another bone
    (1 - d / r)^2 where d is how far along the skin that bone's region is and r the
    vertex's distance to its own bone. Only bones that meet blend (their segments come
    within r): the left thigh never takes the right thigh's weight where the thighs
    touch, nor a finger its neighbour's.

    Also returns a function (i, j) -> bool array: vertices i and j belong to bones that
    do not meet (the smoothing must not mix them either). search: how far along the skin a
    blend is looked for (default SKIN_BLEND_SEARCH of the character's size)."""
    n_bones = len(segments)
    gaps = voxel_bind.segment_gaps(segments)
    vnode = solid.node(vertices)
    if (vnode < 0).any():  # cannot happen: every vertex marks its own voxel
        raise RigError("internal", "a vertex fell outside the voxel proxy")
    radius = np.maximum(own_dist[vnode], tol.SKIN_MIN_RADIUS_VOXELS * solid.size) * tol.SKIN_BLEND_WIDTH
    # Blends spread along the skin: the surface voxels, a fraction of the solid.
    skin = np.flatnonzero(solid.on_surface)
    renumber = np.full(solid.n_nodes, -1, dtype=np.int64)
    renumber[skin] = np.arange(len(skin))
    skin_graph, skin_labels, vskin = graph[skin][:, skin], labels[skin], renumber[vnode]
    rows, cols, vals = [np.arange(len(vertices))], [vlabel], [np.ones(len(vertices))]
    for b in np.unique(skin_labels[skin_labels >= 0]):
        region = np.flatnonzero(skin_labels == b)
        limit = tol.SKIN_BLEND_SEARCH * extent if search is None else search
        d = csgraph.dijkstra(skin_graph, directed=True, indices=region, min_only=True, limit=limit)  # symmetric (see _label)
        u = d[vskin] / radius
        hit = np.flatnonzero(u < 1.0)
        hit = hit[(vlabel[hit] != b) & (gaps[vlabel[hit], b] <= radius[hit]) & allowed[hit, b]]
        rows.append(hit)
        cols.append(np.full(len(hit), b))
        vals.append((1.0 - u[hit]) ** 2)
    weights = sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(len(vertices), n_bones)
    )

    def apart(i: npt.NDArray[np.int64], j: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        far: npt.NDArray[np.bool_] = gaps[vlabel[i], vlabel[j]] > np.minimum(radius[i], radius[j])
        return far

    return weights, apart


# -- hands: finer voxels where fingers nearly touch ------------------------------------------


def hand_groups(
    parents: npt.NDArray[np.int64], segments: npt.NDArray[np.float64], active: list[int], extent: float
) -> list[list[int]]:
    """[hand, *its descendants] for every bone with at least HAND_MIN_CHAINS child chains
    of two or more bones, all within HAND_MAX_EXTENT of the character's size (hands with
    fingers, feet with toes), each list holding the active (seeded) bones only."""
    children: dict[int, list[int]] = {}
    for i, p in enumerate(parents):
        if p >= 0:
            children.setdefault(int(p), []).append(i)

    def below(i: int) -> list[int]:
        out, stack = [], list(children.get(i, []))
        while stack:
            j = stack.pop()
            out.append(j)
            stack += children.get(j, [])
        return out

    groups = []
    active_set = set(active)
    for h, kids in children.items():
        chains = [k for k in kids if children.get(k)]
        if len(chains) < tol.SKIN_HAND_MIN_CHAINS:
            continue
        desc = below(h)
        pts = segments[[h, *desc]].reshape(-1, 3)
        if np.ptp(pts, axis=0).max() > tol.SKIN_HAND_MAX_EXTENT * extent:
            continue  # a whole limb or body, not a hand
        members = [b for b in [h, *desc] if b in active_set]
        if len(members) > len(chains):
            groups.append(members)
    return groups


def _refine_hands(
    mesh: CharacterMesh,
    parents: npt.NDArray[np.int64],
    segments: npt.NDArray[np.float64],
    active: list[int],
    weights: sparse.csr_matrix,
    vertex_labels: npt.NDArray[np.int64],
    size: float,
    extent: float,
    depth: npt.NDArray[np.int64],
) -> sparse.csr_matrix:
    """Weights of each hand's vertices again on a finer solid of the hand alone (see the
    module docstring). vertex_labels is updated in place for the vertices relabelled."""
    groups = hand_groups(parents, segments, active, extent)
    n = mesh.n_vertices
    done_rows, done = [], []
    for group in groups:
        in_group = np.zeros(len(segments), dtype=bool)
        in_group[group] = True
        rows = np.flatnonzero(in_group[vertex_labels])
        if len(rows) < tol.SKIN_HAND_MIN_VERTICES:
            continue
        # A few voxels across the narrowest gap between two of the hand's bone chains.
        chain_heads = segments[[b for b in group[1:] if parents[b] == group[0]], 0]
        if len(chain_heads) < 2:
            continue
        d = np.linalg.norm(chain_heads[:, None] - chain_heads[None], axis=2)
        spacing = float(d[d > 0].min()) if (d > 0).any() else size
        fine = max(spacing / tol.SKIN_HAND_VOXELS_PER_GAP, extent / tol.SKIN_HAND_MAX_VOXELS)
        if fine > tol.SKIN_HAND_REFINE_BELOW * size:
            continue  # the body's voxels already part the fingers
        local = np.full(mesh.n_vertices, -1, dtype=np.int64)
        local[rows] = np.arange(len(rows))
        tris = mesh.triangles[(local[mesh.triangles] >= 0).all(axis=1)]
        if len(tris) == 0:
            continue
        v = mesh.vertices[rows]
        # The hand cut from the body is open at the wrist: 5 of 6 rays close it (as for a head).
        sub = voxel_bind.voxelize(v, local[tris], fine, ray_hits=tol.SKIN_PART_RAY_HITS)
        seeds = {}
        for b in group:
            nodes = sub.node(voxel_bind.segment_points(segments[b, 0], segments[b, 1], fine))
            if (nodes >= 0).any():
                seeds[b] = np.unique(nodes[nodes >= 0])
        if len(seeds) < 2:
            continue
        labels, own = _label(sub.graph, seeds, depth)
        vl = labels[sub.node(v)]
        ok = vl >= 0
        if not ok.all():  # a vertex of a loose bit not in the hand's solid keeps its weights
            rows, v, vl = rows[ok], v[ok], vl[ok]
        allowed = np.zeros((len(rows), len(segments)), dtype=bool)
        allowed[:, group] = True
        # A blend reaches no further than a vertex's distance to its own bone (see _blend).
        reach = max(float(own[sub.node(v)].max()), tol.SKIN_MIN_RADIUS_VOXELS * fine) * tol.SKIN_BLEND_WIDTH
        w, _ = _blend(sub, sub.graph, labels, own, v, extent, vl, allowed, segments, search=reach)
        # The hand bone keeps the wrist's blend with the forearm where it stays the owner.
        change = (vl != group[0]) | (vertex_labels[rows] != group[0])
        done_rows.append(rows[change])
        done.append(w[np.flatnonzero(change)])
        vertex_labels[rows[change]] = vl[change]
    if not done_rows:
        return weights
    rows = np.concatenate(done_rows)
    keep = np.ones(n)
    keep[rows] = 0.0
    place = sparse.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(n, len(rows)))
    return (sparse.diags(keep) @ weights + place @ sparse.vstack(done).tocsr()).tocsr()


def weld(vertices: npt.NDArray[np.float64], tolerance: float) -> npt.NDArray[np.int64]:
    """(n,) int64 welded id of each vertex (n, 3): vertices at one position (rounded to
    ``tolerance``) share an id, as the copies of a vertex split at a UV seam do."""
    q = np.round((vertices - vertices.min(axis=0)) / tolerance).astype(np.int64)
    _, ids = np.unique(q, axis=0, return_inverse=True)
    welded: npt.NDArray[np.int64] = ids.ravel()
    return welded


def loose_parts(triangles: npt.NDArray[np.int64], welded: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """(n,) int64 connected part of each vertex, through triangles (m, 3) after welding
    (``welded``, from ``weld``)."""
    m = int(welded.max()) + 1
    t = welded[triangles]
    edges = np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]])
    adj = sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(m, m))
    parts: npt.NDArray[np.int64] = csgraph.connected_components(adj, directed=False)[1][welded]
    return parts


def _smooth(
    vertices: npt.NDArray[np.float64],
    welded: npt.NDArray[np.int64],
    triangles: npt.NDArray[np.int64],
    weights: sparse.csr_matrix,
    radius: float,
    apart: Apart,
) -> sparse.csr_matrix:
    """Raw weights (n, b) diffused over the welded mesh by about ``radius``, so a
    blend's voxel steps become a ramp on a dense mesh. Edges longer than twice the
    radius take no part (a low-poly mesh is coarser than the voxels already), nor edges
    between bones that do not meet (``apart``: the seam between the thighs). Returns
    (n, b) CSR with rows normalised; copies of a welded vertex get equal rows."""
    weights = _normalise_rows(weights)
    e = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    length = np.linalg.norm(vertices[e[:, 0]] - vertices[e[:, 1]], axis=1)
    keep = (length <= 2.0 * radius) & (length > 0) & ~apart(e[:, 0], e[:, 1])
    if radius <= 0 or not keep.any():
        return weights
    # A lazy random walk spreads about sqrt(k / 2) edges in k steps.
    steps = int(np.clip(round(2.0 * (radius / np.median(length[keep])) ** 2), 1, tol.SKIN_SMOOTH_MAX_STEPS))
    m = int(welded.max()) + 1
    edges = welded[e[keep]]
    adj = sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(m, m)).tocsr()
    adj = ((adj + adj.T) > 0).astype(np.float64)
    degree = np.asarray(adj.sum(axis=1)).ravel()
    step = sparse.diags(0.5 / np.maximum(degree, 1)) @ adj + sparse.diags(np.where(degree > 0, 0.5, 1.0))
    pick = sparse.csr_matrix((np.ones(len(welded)), (welded, np.arange(len(welded)))), shape=(m, len(welded)))
    w = sparse.diags(1.0 / np.maximum(np.asarray(pick.sum(axis=1)).ravel(), 1)) @ (pick @ weights)
    for _ in range(steps):
        w = step @ w
    return w.tocsr()[welded]


def _normalise_rows(w: sparse.csr_matrix) -> sparse.csr_matrix:
    total = np.asarray(w.sum(axis=1)).ravel()
    return (sparse.diags(1.0 / np.where(total > 0, total, 1.0)) @ w).tocsr()


def _rigid_parts(
    part: npt.NDArray[np.int64], vertex_labels: npt.NDArray[np.int64], weights: sparse.csr_matrix
) -> sparse.csr_matrix:
    """Weights (n, b) where each loose part at least SKIN_RIGID_PART_SHARE in one
    bone's region follows that bone alone."""
    n_parts, n_bones = int(part.max()) + 1, weights.shape[1]
    counts = sparse.coo_matrix((np.ones(len(part)), (part, vertex_labels)), shape=(n_parts, n_bones)).tocsr()
    size = np.asarray(counts.sum(axis=1)).ravel()
    top = np.asarray(counts.argmax(axis=1)).ravel()
    share = counts.max(axis=1).toarray().ravel() / np.maximum(size, 1)
    rigid = share[part] >= tol.SKIN_RIGID_PART_SHARE
    if not rigid.any():
        return weights
    keep = sparse.diags((~rigid).astype(np.float64)) @ weights
    fixed = sparse.csr_matrix((rigid.astype(np.float64), (np.arange(len(part)), top[part])), shape=weights.shape)
    return (keep + fixed).tocsr()


def _top_influences(weights: sparse.csr_matrix, k: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """(n, k) int64 indices and (n, k) float64 weights: the k largest of each row of
    ``weights`` (n, b), slivers below SKIN_MIN_WEIGHT dropped, normalised, descending."""
    w = weights.tocsr()
    n = w.shape[0]
    counts = np.diff(w.indptr)
    width = max(int(counts.max()), k)
    vals = np.zeros((n, width))
    idx = np.zeros((n, width), dtype=np.int64)
    rows = np.repeat(np.arange(n), counts)
    pos = np.arange(w.nnz) - np.repeat(w.indptr[:-1], counts)
    vals[rows, pos] = w.data
    idx[rows, pos] = w.indices
    order = np.argsort(-vals, axis=1, kind="stable")[:, :k]
    vals = np.take_along_axis(vals, order, 1)
    idx = np.take_along_axis(idx, order, 1)
    total = vals.sum(axis=1, keepdims=True)
    if (total <= 0).any():  # cannot happen: every vertex has its own bone at weight 1
        raise RigError("internal", "a vertex got no bone")
    vals = vals / total
    vals[vals < tol.SKIN_MIN_WEIGHT] = 0.0
    vals = vals / vals.sum(axis=1, keepdims=True)
    idx[vals == 0] = 0
    return idx, vals


class _Timer:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._t
        self._t = now
