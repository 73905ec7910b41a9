"""A solid voxel proxy of a character and the graph geodesic distances run on.

Geodesic voxel binding (Dionne & de Lasa 2013) needs distances that cannot jump
across air: from the left leg to the right leg, or from an arm to the torso, the
shortest path through the body is long even where the surfaces nearly touch. The
proxy is built from the triangles alone, so it does not care whether the mesh is
split at UV seams, made of loose shells (eyes, teeth, armour, hair cards) or leaky:

1. every triangle is sampled finer than a voxel and marks the voxels it passes
   (``voxel.sample_surface``);
2. the inside is what the surface encloses (a 3D hole fill), plus every voxel from
   which a ray along each of the six axis directions hits the surface (this closes
   leaks such as an open neck, a sleeve or a boot top inside the body);
3. solid voxels are the nodes of a 26-connected graph, edges weighted by length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage, sparse

from autorig.rigging import tolerances as tol
from autorig.rigging.voxel import sample_surface

# Half of the 26-neighbourhood; the other half is the same offsets negated.
_HALF_OFFSETS = np.array(
    [
        (1, 0, 0),
        (0, 1, 0),
        (0, 0, 1),
        (1, 1, 0),
        (1, -1, 0),
        (1, 0, 1),
        (1, 0, -1),
        (0, 1, 1),
        (0, 1, -1),
        (1, 1, 1),
        (1, 1, -1),
        (1, -1, 1),
        (1, -1, -1),
    ],
    dtype=np.int64,
)
_OFFSETS = np.concatenate([_HALF_OFFSETS, -_HALF_OFFSETS])


@dataclass
class VoxelSolid:
    """origin: (3,) world position of the corner of voxel (0, 0, 0); size: voxel edge;
    solid: (X, Y, Z) bool; index: (X, Y, Z) int64, node number of a solid voxel or -1;
    centers: (N, 3) float64 world centres of the N solid voxels, in node order;
    on_surface: (N,) bool, a triangle passes through the voxel;
    graph: (N, N) CSR float64, symmetric, edge lengths between 26-neighbours."""

    origin: npt.NDArray[np.float64]
    size: float
    solid: npt.NDArray[np.bool_]
    index: npt.NDArray[np.int64]
    centers: npt.NDArray[np.float64]
    on_surface: npt.NDArray[np.bool_]
    graph: sparse.csr_matrix

    @property
    def n_nodes(self) -> int:
        return len(self.centers)

    def cell(self, points: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """(n, 3) int64 voxel coordinates of world points (may fall outside the grid)."""
        cells: npt.NDArray[np.int64] = np.floor((np.asarray(points, dtype=np.float64) - self.origin) / self.size).astype(np.int64)
        return cells

    def in_grid(self, cells: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """(n,) bool: the voxel coordinates (n, 3) lie in the grid."""
        inside: npt.NDArray[np.bool_] = ((cells >= 0) & (cells < np.array(self.solid.shape))).all(axis=1)
        return inside

    def node(self, points: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """(n,) int64 node of the voxel holding each point (n, 3), -1 where it is not solid."""
        cells = self.cell(points)
        out = np.full(len(cells), -1, dtype=np.int64)
        ok = self.in_grid(cells)
        out[ok] = self.index[tuple(cells[ok].T)]
        return out


def voxelize(vertices: npt.NDArray[np.float64], triangles: npt.NDArray[np.int64], size: float, ray_hits: int = 6) -> VoxelSolid:
    """The solid proxy of a triangle soup. vertices: (n, 3) float64; triangles: (m, 3)
    int64; size: voxel edge in world units; ray_hits: of the six axis rays from a voxel,
    how many must hit the surface for it to count as enclosed (5 also closes a shell
    open on one side, such as a head open at the neck)."""
    vertices = np.asarray(vertices, dtype=np.float64)
    # One empty voxel of margin on every side: the outside is connected, and every
    # solid voxel's 26 neighbours are inside the grid.
    origin = vertices.min(axis=0) - size
    samples = sample_surface(vertices, triangles, tol.SURFACE_SAMPLE_SPACING * size)
    cells = np.floor((samples - origin) / size).astype(np.int64)
    shape = tuple(int(s) for s in cells.max(axis=0) + 2)
    surface = np.zeros(shape, dtype=bool)
    surface[tuple(cells.T)] = True

    solid = ndimage.binary_fill_holes(surface)
    hits = np.zeros(shape, dtype=np.int8)
    for axis in range(3):
        hits += np.logical_or.accumulate(surface, axis=axis)
        hits += np.flip(np.logical_or.accumulate(np.flip(surface, axis), axis=axis), axis)
    solid |= hits >= ray_hits

    coords = np.argwhere(solid)
    n = len(coords)
    index = np.full(shape, -1, dtype=np.int64)
    index[tuple(coords.T)] = np.arange(n)
    centers = origin + (coords + 0.5) * size
    # Each row lists its solid neighbours in offset order (flat offsets on the grid).
    flat = np.ravel_multi_index(tuple(coords.T), shape)
    strides = np.array([shape[1] * shape[2], shape[2], 1], dtype=np.int64)
    neighbour = index.ravel()[flat[:, None] + (_OFFSETS @ strides)[None, :]]  # (N, 26)
    present = neighbour >= 0
    lengths = np.broadcast_to(size * np.linalg.norm(_OFFSETS, axis=1), neighbour.shape)
    indptr = np.concatenate([[0], np.cumsum(present.sum(axis=1))])
    graph = sparse.csr_matrix((lengths[present], neighbour[present], indptr), shape=(n, n))
    return VoxelSolid(origin, float(size), solid, index, centers, surface[tuple(coords.T)], graph)


def segment_points(head: npt.NDArray[np.float64], tail: npt.NDArray[np.float64], size: float) -> npt.NDArray[np.float64]:
    """(k, 3) points from head to tail (each (3,)), at most SKIN_SEGMENT_STEP voxels apart."""
    k = int(np.ceil(np.linalg.norm(tail - head) / (tol.SKIN_SEGMENT_STEP * size))) + 1
    points: npt.NDArray[np.float64] = head + np.linspace(0.0, 1.0, k)[:, None] * (tail - head)
    return points


def segment_gaps(segments: npt.NDArray[np.float64], samples: int = 16) -> npt.NDArray[np.float64]:
    """(b, b) float64 shortest distance between segments (b, 2, 3) (head, end), from
    ``samples`` points along each to the other exactly."""
    t = np.linspace(0.0, 1.0, samples)
    head, d = segments[:, 0], segments[:, 1] - segments[:, 0]  # (b, 3)
    pts = head[:, None] + t[None, :, None] * d[:, None]  # (b, s, 3)
    rel = pts[:, :, None, :] - head[None, None]  # (b, s, b, 3)
    u = np.clip((rel * d[None, None]).sum(axis=-1) / np.maximum((d * d).sum(axis=1), 1e-300), 0.0, 1.0)
    dist = np.linalg.norm(rel - u[..., None] * d[None, None], axis=-1).min(axis=1)  # (b, b)
    gaps: npt.NDArray[np.float64] = np.minimum(dist, dist.T)
    return gaps
