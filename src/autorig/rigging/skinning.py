"""Skin weights by geodesic voxel binding: every vertex, at most 4 bones, no bleeding.

Bone heat on the surface fails on real characters (meshes split at UV seams, loose
shells for eyes, teeth, armour and hair), so weights are computed on a solid voxel
proxy of the whole character instead (see ``voxel_bind``), in named passes:

1. ``binding segments``: the part of each deforming bone that drives the body. A
   bone with children runs from its head to the head of the child it points at
   (artists' tails are guesses of the importer); a leaf bone first stands for its
   head alone and, once it owns a region, points into it.
2. ``seeds``: the solid voxels along each segment. A bone that lies outside the
   body (a misaligned artist bone) takes the nearest solid voxels if it is close;
   far ones (IK pole targets) and a root outside the body (a ground bone) drive
   nothing.
3. ``labels``: each voxel belongs to the bone it is geodesically nearest to
   (paths stay inside the solid, so legs and arm/torso never mix). At a joint
   voxel the child wins.
4. ``blend``: a vertex takes its own bone at full weight and each other bone by
   how far, through the solid, that bone's region is, relative to the vertex's
   distance to its own bone (the local thickness): joints blend over about one
   limb radius, the middle of a limb or a big chibi head stays rigid.
5. keep the 4 largest, normalise, sort.

Vertices at the same position get the same weights (they fall in the same voxel),
so seams never tear; every loose shell is bridged to the body through its
nearest voxel, so a helmet or an eye follows the head.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from autorig.rigging import voxel_bind
from autorig.rigging.bones import BoneSet
from autorig.rigging.errors import RigError
from autorig.rigging.mesh import CharacterMesh

MAX_INFLUENCES = 4

# Voxels along the largest extent of the character: about 0.8% of its height, so a
# finger is one or two voxels thick and a 50k-triangle character binds in ~1 s.
VOXELS_PER_EXTENT = 128
# A bone with less than this fraction of its segment inside the solid is "outside".
MIN_INSIDE_FRACTION = 0.5
# An outside bone still binds if it is this close to the body (fraction of the
# largest extent): a misaligned artist bone, not an IK target floating in front.
NEAR_BODY = 0.05
# Blend width relative to the vertex's distance to its own bone (its limb radius).
BLEND_WIDTH = 1.0
# Region distances are not searched farther than this (fraction of the largest
# extent): no blend is wider.
BLEND_SEARCH = 0.15
# A loose part (welded connected component) whose vertices lie at least this
# much in one bone's region moves rigidly with that bone (armour plates, helmets,
# hair, eyes: what artists bind to one bone).
RIGID_PART_SHARE = 0.8
# A leaf bone is the root of a body part (a head, a hand, a toe) only if the part
# reaches beyond its head at least this many times the body's thickness there.
LEAF_MIN_REACH = 1.5
# Vertices closer than this (fraction of the largest extent) are one vertex.
WELD_TOLERANCE = 1e-6
BLEND_ON_SURFACE = True
# Influences below this weight are dropped before the final normalisation.
MIN_WEIGHT = 0.02
PART_LABELS = True
SMOOTH_VOXELS = 1.0
SMOOTH_MAX_STEPS = 24
JOINED_ONLY = True
# Below this many voxels of distance, the limb radius is the voxel size.
_MIN_RADIUS_VOXELS = 1.0


@dataclass
class SkinWeights:
    """indices: (n_vertices, 4) int64 bone indices into the BoneSet (padding: 0 with
    weight 0); weights: (n_vertices, 4) float64, rows sum to 1, sorted descending;
    timings: seconds per pass."""

    indices: np.ndarray
    weights: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)

    def dense(self, n_bones: int) -> np.ndarray:
        """(n_vertices, n_bones) float64."""
        out = np.zeros((len(self.indices), n_bones), dtype=np.float64)
        np.add.at(out, (np.arange(len(self.indices))[:, None], self.indices), self.weights)
        return out

    def sparse(self, n_bones: int) -> sparse.csr_matrix:
        """(n_vertices, n_bones) CSR float64 (what posing.deform and the metrics take)."""
        rows = np.repeat(np.arange(len(self.indices)), self.indices.shape[1])
        m = sparse.csr_matrix((self.weights.ravel(), (rows, self.indices.ravel())), shape=(len(self.indices), n_bones))
        m.eliminate_zeros()
        return m


def compute_weights(mesh: CharacterMesh, bones: BoneSet) -> SkinWeights:
    """Skin weights of ``mesh`` for the deforming bones of ``bones`` (any bone set)."""
    timer = _Timer()
    if mesh.n_vertices == 0 or mesh.n_triangles == 0:
        raise RigError("empty_scene", "the model has no triangles to skin")
    deform = np.flatnonzero(bones.deform)
    if len(deform) == 0:
        raise RigError("internal", "the skeleton has no deforming bone")

    extent = float(np.ptp(mesh.vertices, axis=0).max())
    if not np.isfinite(extent) or extent <= 0:
        raise RigError("corrupt_file", "the model's vertices are degenerate (zero size or not finite)")
    solid = voxel_bind.voxelize(mesh.vertices, mesh.triangles, extent / VOXELS_PER_EXTENT)
    timer.lap("voxelize")

    segments, leaf = binding_segments(bones)
    seeds = _seeds(solid, bones, segments, leaf, deform, extent)
    if not seeds:
        raise RigError("internal", "no deforming bone lies in or near the body")
    graph = _bridge_loose_parts(solid, np.concatenate(list(seeds.values())))
    timer.lap("seeds")

    depth = _depths(bones.parents)
    labels, own_dist = _label(graph, seeds, depth, solid.n_nodes)
    # Leaves (a chibi head, a hand without fingers) point into the region they own;
    # a leaf that is only a marker inside a part (an "_end" bone) drives nothing.
    inside = ndimage.distance_transform_edt(solid.solid) * solid.size  # depth below the air
    for b in [b for b in seeds if leaf[b]]:
        tail = _leaf_tail(solid, bones.heads[b], solid.centers[labels == b], inside)
        if tail is None and len(seeds) > 1:
            del seeds[b]
        elif tail is not None:
            segments[b, 1] = tail
            seeds[b] = _segment_seeds(solid, segments[b, 0], tail, stop_at_exit=True)
    graph = _bridge_loose_parts(solid, np.concatenate(list(seeds.values())))
    labels, own_dist = _label(graph, seeds, depth, solid.n_nodes)
    timer.lap("labels")

    welded = weld(mesh.vertices, WELD_TOLERANCE * extent)
    parts = loose_parts(mesh, WELD_TOLERANCE * extent, welded)
    vertex_labels = labels[solid.node(mesh.vertices)]
    vertex_labels, allowed = _part_labels(mesh, parts, segments, leaf, list(seeds), solid.size, depth, vertex_labels)
    timer.lap("parts")

    weights = _blend(solid, graph, labels, own_dist, mesh.vertices, extent, vertex_labels, allowed, segments)
    timer.lap("blend")
    if SMOOTH_VOXELS > 0:
        weights = _smooth(mesh.vertices, welded, mesh.triangles, weights, SMOOTH_VOXELS * solid.size)
    weights = _rigid_parts(parts, vertex_labels, weights)
    timer.lap("smooth")
    indices, values = _top_influences(weights, MAX_INFLUENCES)
    timer.lap("prune")
    return SkinWeights(indices, values, timer.laps)


# -- binding segments -------------------------------------------------------------


def binding_segments(bones: BoneSet) -> tuple[np.ndarray, np.ndarray]:
    """(b, 2, 3) head and end of the part of each bone that binds, and (b,) bool leaf.

    A bone with children ends at the head of the child its tail points at most
    directly (Spine2 at Neck, not at a shoulder); a leaf starts as its head alone.
    """
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


def _depths(parents: np.ndarray) -> np.ndarray:
    depth = np.zeros(len(parents), dtype=np.int64)
    for i in range(len(parents)):
        j, seen = parents[i], 0
        while j >= 0 and seen <= len(parents):
            depth[i] += 1
            j, seen = parents[j], seen + 1
    return depth


# -- seeds --------------------------------------------------------------------------


def _seeds(solid, bones, segments, leaf, deform, extent) -> dict[int, np.ndarray]:
    """Bone index -> (k,) solid nodes its segment binds from; bones absent bind nothing."""
    near = NEAR_BODY * extent / solid.size  # in voxels
    outside_dist = nearest = None
    seeds: dict[int, np.ndarray] = {}
    for b in deform:
        head, end = segments[b]
        pts = voxel_bind.segment_points(head, end, solid.size) if not leaf[b] else head[None]
        cells = solid.cell(pts)
        ok = solid.in_grid(cells)
        inside = np.zeros(len(pts), dtype=bool)
        inside[ok] = solid.solid[tuple(cells[ok].T)]
        if inside.mean() >= MIN_INSIDE_FRACTION:
            seeds[b] = np.unique(solid.index[tuple(cells[inside].T)])
            continue
        if bones.parents[b] < 0:
            continue  # a root outside the body: a ground / root-motion bone
        if outside_dist is None:
            outside_dist, nearest = ndimage.distance_transform_edt(~solid.solid, return_indices=True)
        cells = np.clip(cells, 0, np.array(solid.solid.shape) - 1)
        close = outside_dist[tuple(cells.T)] <= near
        if not close.any():
            continue  # far from the body: an IK target or a helper
        snapped = np.stack([nearest[a][tuple(cells[close].T)] for a in range(3)], axis=1)
        seeds[b] = np.unique(solid.index[tuple(snapped.T)])
    return seeds


def _segment_seeds(solid, head, end, stop_at_exit: bool) -> np.ndarray:
    pts = voxel_bind.segment_points(head, end, solid.size)
    nodes = solid.node(pts)
    if stop_at_exit and (nodes < 0).any():
        nodes = nodes[: int(np.argmax(nodes < 0))]
    return np.unique(nodes[nodes >= 0])


def _leaf_tail(solid, head: np.ndarray, region: np.ndarray, depth: np.ndarray) -> np.ndarray | None:
    """Where a leaf bone ends: from its head toward the middle of the region it owns,
    as far as that region reaches, stopping where the segment leaves the body.

    None when the leaf is a marker, not the root of a part: its region reaches
    beyond its head less than ``LEAF_MIN_REACH`` times the body's thickness there
    (a head-top or "_end" bone in the middle of a head, a hand slot in a fist)."""
    if len(region) == 0:
        return None
    mean = region.mean(axis=0) - head
    if np.linalg.norm(mean) <= 0:
        return None
    direction = mean / np.linalg.norm(mean)
    reach = float(np.max((region - head) @ direction))
    cell = np.clip(solid.cell(head[None])[0], 0, np.array(solid.solid.shape) - 1)
    if reach < max(LEAF_MIN_REACH * depth[tuple(cell)], solid.size):
        return None
    pts = voxel_bind.segment_points(head, head + direction * reach, solid.size)
    nodes = solid.node(pts)
    last = int(np.argmax(nodes < 0)) - 1 if (nodes < 0).any() else len(pts) - 1
    return pts[max(last, 0)]


def _bridge_loose_parts(solid, seed_nodes: np.ndarray) -> sparse.csr_matrix:
    """The voxel graph with each part that holds no seed (a floating hat, a loose eye)
    joined to the nearest seeded part by one edge as long as the gap."""
    graph = solid.graph
    n_comp, comp = csgraph.connected_components(graph, directed=False)
    seeded = np.zeros(n_comp, dtype=bool)
    seeded[comp[seed_nodes]] = True
    if seeded.all():
        return graph
    anchor_nodes = np.flatnonzero(seeded[comp])
    tree = cKDTree(solid.centers[anchor_nodes])
    rows, cols, lengths = [], [], []
    for c in np.flatnonzero(~seeded):
        members = np.flatnonzero(comp == c)
        dist, j = tree.query(solid.centers[members])
        k = int(np.argmin(dist))
        rows.append(members[k])
        cols.append(anchor_nodes[j[k]])
        lengths.append(max(float(dist[k]), solid.size))
    bridge = sparse.csr_matrix((lengths + lengths, (rows + cols, cols + rows)), shape=graph.shape)
    return (graph + bridge).tocsr()


# -- labels and blend ---------------------------------------------------------------


def _label(graph, seeds: dict[int, np.ndarray], depth: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(N,) bone owning each voxel (-1 if unreachable) and (N,) geodesic distance to it."""
    bones_ = np.array(list(seeds), dtype=np.int64)
    nodes = np.concatenate([seeds[b] for b in bones_])
    owner = np.concatenate([np.full(len(seeds[b]), b) for b in bones_])
    # A voxel seeded by two bones is a joint: the child (the deeper bone) takes it.
    order = np.argsort(depth[owner], kind="stable")
    node_owner = np.full(n, -1, dtype=np.int64)
    node_owner[nodes[order]] = owner[order]
    unique = np.unique(nodes)
    dist, _, sources = csgraph.dijkstra(graph, directed=False, indices=unique, min_only=True, return_predecessors=True)
    labels = np.where(sources >= 0, node_owner[np.maximum(sources, 0)], -1)
    return labels, dist


def _blend(solid, graph, labels, own_dist, vertices, extent, vlabel, allowed, segments) -> sparse.csr_matrix:
    """(n_vertices, n_bones) sparse raw weights: own bone 1, others by region distance.

    Only bones of one chain blend (a bone with its ancestors and descendants up to
    ``BLEND_GENERATIONS`` away): the left thigh never takes the right thigh's weight
    at the crotch, nor a chibi head its upper arms', nor a finger its neighbour's."""
    n_bones = len(segments)
    gaps = segment_gaps(segments)
    vnode = solid.node(vertices)
    if (vnode < 0).any():  # cannot happen: every vertex marks its own voxel
        raise RigError("internal", "a vertex fell outside the voxel proxy")
    radius = np.maximum(own_dist[vnode], _MIN_RADIUS_VOXELS * solid.size) * BLEND_WIDTH
    limit = BLEND_SEARCH * extent
    if BLEND_ON_SURFACE:
        # Blends spread along the skin: the surface voxels are a fraction of the solid.
        keep = np.flatnonzero(solid.on_surface)
        renumber = np.full(solid.n_nodes, -1, dtype=np.int64)
        renumber[keep] = np.arange(len(keep))
        graph = graph[keep][:, keep]
        labels = labels[keep]
        vnode = renumber[vnode]
    rows, cols, vals = [], [], []
    for b in np.unique(labels[labels >= 0]):
        region = np.flatnonzero(labels == b)
        d = csgraph.dijkstra(graph, directed=False, indices=region, min_only=True, limit=limit)[vnode]
        u = d / radius
        hit = np.flatnonzero(u < 1.0)
        hit = hit[(vlabel[hit] != b) & (gaps[vlabel[hit], b] <= radius[hit]) & allowed[hit, b]]
        rows.append(hit)
        cols.append(np.full(len(hit), b))
        vals.append((1.0 - u[hit]) ** 2)
    # Each vertex's own bone at full weight.
    rows.append(np.arange(len(vertices)))
    cols.append(vlabel)
    vals.append(np.ones(len(vertices)))
    return sparse.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(len(vertices), n_bones)
    )


def _part_labels(mesh, part, segments, leaf, active, size, depth, vertex_labels):
    """Labels of the vertices of each closed loose part that holds some bones but not
    all (a head shell, a helmet, a sleeve, an eyeball): the nearest of the bones inside
    it, through its own solid. A helmet's rim near the shoulders then follows the head,
    not the shoulders the body's solid would lead to.

    Returns (n,) labels and (n, b) bool: the bones each vertex may blend with (all
    for vertices of other parts)."""
    n, b = mesh.n_vertices, len(segments)
    labels = vertex_labels.copy()
    allowed = np.ones((n, b), dtype=bool)
    active_set = set(active)
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(part.max() + 2))
    tri_part = part[mesh.triangles[:, 0]]
    points = {k: voxel_bind.segment_points(*segments[k], size) if not leaf[k] or np.any(segments[k, 1] != segments[k, 0])
              else segments[k, :1] for k in active}
    for p in range(part.max() + 1):
        rows = order[bounds[p]:bounds[p + 1]]
        if len(rows) < 4:
            continue
        v = mesh.vertices[rows]
        lo, hi = v.min(axis=0) - size, v.max(axis=0) + size
        inside_box = [k for k in active if ((points[k] >= lo) & (points[k] <= hi)).all(axis=1).any()]
        if len(inside_box) in (0, len(active)):
            continue  # holds no bone, or is the whole body
        remap = np.full(n, -1, dtype=np.int64)
        remap[rows] = np.arange(len(rows))
        sub = voxel_bind.voxelize(v, remap[mesh.triangles[tri_part == p]], size)
        if sub.on_surface.all():
            continue  # an open part (a cape, hair cards) encloses no bone
        seeds = {}
        for k in inside_box:
            nodes = sub.node(points[k])
            nodes = nodes[nodes >= 0]
            if len(nodes):
                seeds[k] = np.unique(nodes)
        if not seeds or set(seeds) == active_set:
            continue
        sub_labels, _ = _label(sub.graph, seeds, depth, sub.n_nodes)
        vl = sub_labels[sub.node(v)]
        ok = vl >= 0
        if not ok.any() or np.bincount(vl[ok]).max() < PART_OWN_SHARE * len(rows):
            continue  # the part is not mostly one bone's: the body's labels stand
        labels[rows[ok]] = vl[ok]
        mask = np.zeros(b, dtype=bool)
        mask[list(seeds)] = True
        allowed[rows[ok]] = mask
    return labels, allowed


def segment_gaps(segments: np.ndarray, samples: int = 16) -> np.ndarray:
    """(b, b) float64 shortest distance between the segments (b, 2, 3)."""
    t = np.linspace(0.0, 1.0, samples)
    pts = segments[:, None, 0] + t[None, :, None] * (segments[:, None, 1] - segments[:, None, 0])  # (b, s, 3)
    head, d = segments[:, 0], segments[:, 1] - segments[:, 0]  # (b, 3)
    rel = pts[:, :, None, :] - head[None, None]  # (b, s, b, 3)
    length2 = np.maximum((d * d).sum(axis=1), 1e-300)
    u = np.clip((rel * d[None, None]).sum(axis=-1) / length2, 0.0, 1.0)  # (b, s, b)
    dist = np.linalg.norm(rel - u[..., None] * d[None, None], axis=-1).min(axis=1)  # (b, b)
    return np.minimum(dist, dist.T)


def weld(vertices: np.ndarray, tolerance: float) -> np.ndarray:
    """(n,) int64 welded vertex id: vertices within ``tolerance`` (on a grid) share one."""
    q = np.round((vertices - vertices.min(axis=0)) / tolerance).astype(np.int64)
    _, ids = np.unique(q, axis=0, return_inverse=True)
    return ids.ravel()


def loose_parts(mesh: CharacterMesh, tolerance: float, welded: np.ndarray | None = None) -> np.ndarray:
    """(n,) int64 connected component of each vertex, after welding by position."""
    ids = weld(mesh.vertices, tolerance) if welded is None else welded
    m = int(ids.max()) + 1
    t = ids[mesh.triangles]
    edges = np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]])
    adj = sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(m, m))
    _, comp = csgraph.connected_components(adj, directed=False)
    return comp[ids]


def _smooth(vertices, welded, triangles, weights, radius: float) -> sparse.csr_matrix:
    """Raw weights diffused over the welded mesh by about ``radius`` (a voxel), so the
    voxel steps of a blend become a smooth ramp on a dense mesh. Edges longer than
    twice the radius do not take part (a low-poly mesh is already coarser than the
    voxels). Rows of split vertices stay equal."""
    m = int(welded.max()) + 1
    e = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
    length = np.linalg.norm(vertices[e[:, 0]] - vertices[e[:, 1]], axis=1)
    keep = (length <= 2.0 * radius) & (length > 0)
    if not keep.any():
        return weights
    # A lazy random walk spreads sqrt(k / 2) edges in k steps.
    steps = int(np.clip(round(2.0 * (radius / np.median(length[keep])) ** 2), 1, SMOOTH_MAX_STEPS))
    edges = welded[e[keep]]
    adj = sparse.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(m, m)).tocsr()
    adj = ((adj + adj.T) > 0).astype(np.float64)
    degree = np.asarray(adj.sum(axis=1)).ravel()
    step = sparse.diags(0.5 / np.maximum(degree, 1)) @ adj + sparse.diags(np.where(degree > 0, 0.5, 1.0))
    # one row per welded vertex (split copies share a row), normalised first
    pick = sparse.csr_matrix((np.ones(len(welded)), (welded, np.arange(len(welded)))), shape=(m, len(welded)))
    count = np.asarray(pick.sum(axis=1)).ravel()
    w = sparse.diags(1.0 / np.maximum(count, 1)) @ (pick @ _normalise_rows(weights))
    for _ in range(steps):
        w = step @ w
    return w.tocsr()[welded]


def _normalise_rows(w: sparse.csr_matrix) -> sparse.csr_matrix:
    total = np.asarray(w.sum(axis=1)).ravel()
    return sparse.diags(1.0 / np.where(total > 0, total, 1.0)) @ w


def _rigid_parts(part, vertex_labels, weights) -> sparse.csr_matrix:
    """Weights where each loose part dominated by one bone follows that bone alone."""
    n_parts = int(part.max()) + 1
    n_bones = weights.shape[1]
    counts = sparse.coo_matrix((np.ones(len(part)), (part, vertex_labels)), shape=(n_parts, n_bones)).tocsr()
    size = np.asarray(counts.sum(axis=1)).ravel()
    top = np.asarray(counts.argmax(axis=1)).ravel()
    share = np.asarray(counts.max(axis=1).todense()).ravel() / np.maximum(size, 1)
    rigid = share[part] >= RIGID_PART_SHARE
    if not rigid.any():
        return weights
    keep = sparse.diags((~rigid).astype(np.float64)) @ weights
    fixed = sparse.csr_matrix((rigid.astype(np.float64), (np.arange(len(part)), top[part])), shape=weights.shape)
    return (keep + fixed).tocsr()


def _top_influences(weights: sparse.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, k) indices and weights: the k largest of each row, normalised, descending."""
    dense_rows = weights.tocsr()
    n = dense_rows.shape[0]
    counts = np.diff(dense_rows.indptr)
    width = max(int(counts.max()), k)
    vals = np.zeros((n, width))
    idx = np.zeros((n, width), dtype=np.int64)
    pos = np.arange(dense_rows.nnz) - np.repeat(dense_rows.indptr[:-1], counts)
    rows = np.repeat(np.arange(n), counts)
    vals[rows, pos] = dense_rows.data
    idx[rows, pos] = dense_rows.indices
    order = np.argsort(-vals, axis=1, kind="stable")[:, :k]
    vals = np.take_along_axis(vals, order, 1)
    idx = np.take_along_axis(idx, order, 1)
    total = vals.sum(axis=1, keepdims=True)
    if (total <= 0).any():
        raise RigError("internal", "a vertex got no bone")
    vals = vals / total
    # Drop slivers (they only add influences a reader of the weights cannot see).
    vals[vals < MIN_WEIGHT] = 0.0
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
