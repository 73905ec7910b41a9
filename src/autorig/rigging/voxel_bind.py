"""A solid voxel proxy of a character and geodesic distances through it.

Geodesic voxel binding (Dionne & de Lasa 2013) needs distances that cannot jump
across air: from the left leg to the right leg, or from an arm to the torso, the
shortest path through the body is long even where the surfaces nearly touch.
The proxy is built from the triangles alone, so it does not care whether the mesh
is split at UV seams, made of many loose shells (eyes, teeth, armour, hair cards)
or not watertight:

1. every triangle is sampled finer than a voxel and marks the voxels it passes;
2. the inside is what the surface encloses (a 3D hole fill), plus what a ray
   along each of the six axis directions from it would hit the surface in every
   direction (closes small leaks such as an open neck or sleeve);
3. solid voxels are the nodes of a 26-connected graph, edges weighted by length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, sparse

# Triangle sampling step and bone sampling step, in voxels: fine enough that no
# voxel a triangle or a bone passes through is skipped.
_SURFACE_STEP = 0.5
_SEGMENT_STEP = 0.25
# A long sliver triangle is sampled at most this many steps along its longest edge.
_MAX_TRIANGLE_STEPS = 256

# Half of the 26-neighbourhood (the other half is the same edges reversed).
_OFFSETS = np.array(
    [
        (1, 0, 0), (0, 1, 0), (0, 0, 1),
        (1, 1, 0), (1, -1, 0), (1, 0, 1), (1, 0, -1), (0, 1, 1), (0, 1, -1),
        (1, 1, 1), (1, 1, -1), (1, -1, 1), (1, -1, -1),
    ],
    dtype=np.int64,
)


@dataclass
class VoxelSolid:
    """origin: (3,) world position of voxel (0, 0, 0)'s corner; size: voxel edge;
    solid: (X, Y, Z) bool; index: (X, Y, Z) int64, node number of a solid voxel or -1;
    centers: (N, 3) float64 world centres of the N solid voxels, in node order;
    on_surface: (N,) bool, the voxel holds part of a triangle;
    graph: (N, N) CSR, symmetric, edge lengths between 26-neighbours."""

    origin: np.ndarray
    size: float
    solid: np.ndarray
    index: np.ndarray
    centers: np.ndarray
    on_surface: np.ndarray
    graph: sparse.csr_matrix

    @property
    def n_nodes(self) -> int:
        return len(self.centers)

    def cell(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) int64 voxel coordinates of world points (may fall outside the grid)."""
        return np.floor((np.asarray(points) - self.origin) / self.size).astype(np.int64)

    def in_grid(self, cells: np.ndarray) -> np.ndarray:
        return ((cells >= 0) & (cells < np.array(self.solid.shape))).all(axis=1)

    def node(self, points: np.ndarray) -> np.ndarray:
        """(n,) node of the voxel holding each point, -1 where that voxel is not solid."""
        cells = self.cell(points)
        out = np.full(len(cells), -1, dtype=np.int64)
        ok = self.in_grid(cells)
        out[ok] = self.index[tuple(cells[ok].T)]
        return out


def sample_triangles(vertices: np.ndarray, triangles: np.ndarray, step: float) -> np.ndarray:
    """(k, 3) points covering every triangle with spacing at most ``step`` (plus the
    vertices themselves). vertices: (n, 3) float64; triangles: (m, 3) int64."""
    a, b, c = vertices[triangles[:, 0]], vertices[triangles[:, 1]], vertices[triangles[:, 2]]
    longest = np.maximum.reduce(
        [np.linalg.norm(b - a, axis=1), np.linalg.norm(c - a, axis=1), np.linalg.norm(c - b, axis=1)]
    )
    steps = np.minimum(np.ceil(longest / step).astype(np.int64), _MAX_TRIANGLE_STEPS)
    points = [vertices]
    for k in np.unique(steps):
        if k < 1:
            continue
        sel = np.flatnonzero(steps == k)
        i, j = np.meshgrid(np.arange(k + 1), np.arange(k + 1), indexing="ij")
        keep = (i + j) <= k
        u = (i[keep] / k)[None, :, None]
        v = (j[keep] / k)[None, :, None]
        p = a[sel, None] + u * (b[sel, None] - a[sel, None]) + v * (c[sel, None] - a[sel, None])
        points.append(p.reshape(-1, 3))
    return np.concatenate(points)


def voxelize(vertices: np.ndarray, triangles: np.ndarray, size: float) -> VoxelSolid:
    """The solid proxy of a triangle soup with voxels of edge ``size`` (world units)."""
    lo = vertices.min(axis=0)
    extent = vertices.max(axis=0) - lo
    # One empty voxel of margin on every side, so the outside is connected.
    origin = lo - size
    shape = tuple(int(s) for s in np.ceil(extent / size).astype(np.int64) + 3)
    surface = np.zeros(shape, dtype=bool)
    cells = np.floor((sample_triangles(vertices, triangles, _SURFACE_STEP * size) - origin) / size).astype(np.int64)
    surface[tuple(cells.T)] = True

    solid = ndimage.binary_fill_holes(surface)
    enclosed = np.ones(shape, dtype=bool)
    for axis in range(3):
        forward = np.logical_or.accumulate(surface, axis=axis)
        backward = np.flip(np.logical_or.accumulate(np.flip(surface, axis), axis=axis), axis)
        enclosed &= forward & backward
    solid |= enclosed

    index = np.full(shape, -1, dtype=np.int64)
    coords = np.argwhere(solid)
    index[tuple(coords.T)] = np.arange(len(coords))
    centers = origin + (coords + 0.5) * size
    # Neighbours by flat offsets: the empty margin keeps every solid voxel's
    # neighbours inside the grid. Each row lists its neighbours in offset order.
    flat = np.ravel_multi_index(tuple(coords.T), shape)
    strides = np.array([shape[1] * shape[2], shape[2], 1], dtype=np.int64)
    offsets = np.concatenate([_OFFSETS, -_OFFSETS])
    neighbour = index.ravel()[flat[:, None] + (offsets @ strides)[None, :]]  # (N, 26)
    present = neighbour >= 0
    lengths = np.broadcast_to(size * np.linalg.norm(offsets, axis=1), neighbour.shape)
    indptr = np.concatenate([[0], np.cumsum(present.sum(axis=1))])
    n = len(coords)
    graph = sparse.csr_matrix((lengths[present], neighbour[present], indptr), shape=(n, n))
    return VoxelSolid(origin, float(size), solid, index, centers, surface[tuple(coords.T)], graph)


def segment_points(head: np.ndarray, tail: np.ndarray, size: float) -> np.ndarray:
    """(k, 3) points from head to tail, at most ``_SEGMENT_STEP`` voxels apart."""
    k = int(np.ceil(np.linalg.norm(tail - head) / (_SEGMENT_STEP * size))) + 1
    return head + np.linspace(0.0, 1.0, k)[:, None] * (tail - head)


def distance_to_segment(points: np.ndarray, head: np.ndarray, tail: np.ndarray) -> np.ndarray:
    """(n,) Euclidean distance from points (n, 3) to the segment head-tail."""
    d = tail - head
    t = np.clip((points - head) @ d / max(float(d @ d), 1e-300), 0.0, 1.0)
    return np.linalg.norm(points - (head + t[:, None] * d), axis=1)
