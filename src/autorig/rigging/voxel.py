"""A character's meshes as one watertight voxel solid.

Characters arrive as many loose shells (glTF splits meshes at UV seams; eyes, teeth,
armour, hair cards and clothes are separate pieces), so no mesh-topology test can say
what is inside the body. Voxelizing the union of all surfaces and filling what the
outside cannot reach gives a solid that does: every later pass (cross-sections, the
distance to the skin, connected parts) reads this grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from autorig.rigging import tolerances as tol


def sample_surface(
    vertices: npt.NDArray[np.float64], triangles: npt.NDArray[np.int64], spacing: float
) -> npt.NDArray[np.float64]:
    """Points on every triangle, no two neighbours further apart than ``spacing``.

    vertices: (n, 3) float64; triangles: (m, 3) int64. Returns (k, 3) float64: the
    vertices plus a barycentric grid on each triangle whose longest edge exceeds
    ``spacing`` (a triangle of edge e gets ceil(e / spacing) subdivisions per edge).
    """
    v = np.asarray(vertices, dtype=np.float64)
    t = np.asarray(triangles, dtype=np.int64)
    if len(t) == 0:
        return v.copy()
    a, b, c = v[t[:, 0]], v[t[:, 1]], v[t[:, 2]]
    edge = np.maximum.reduce([np.linalg.norm(b - a, axis=1), np.linalg.norm(c - b, axis=1), np.linalg.norm(a - c, axis=1)])
    subdiv = np.ceil(edge / spacing).astype(np.int64)
    subdiv = np.minimum(subdiv, tol.MAX_TRIANGLE_SUBDIVISIONS)
    out = [v]
    for n in np.unique(subdiv[subdiv > 1]):
        sel = subdiv == n
        i, j = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
        keep = (i + j) <= n
        u = i[keep] / n  # (p,) barycentric weight of b
        w = j[keep] / n  # (p,) barycentric weight of c
        pa, pb, pc = a[sel], b[sel], c[sel]
        pts = pa[:, None, :] + (pb - pa)[:, None, :] * u[None, :, None] + (pc - pa)[:, None, :] * w[None, :, None]
        out.append(pts.reshape(-1, 3))
    points: npt.NDArray[np.float64] = np.concatenate(out)
    return points


@dataclass
class VoxelGrid:
    """An axis-aligned boolean grid.

    origin: (3,) float64, world position of the centre of voxel (0, 0, 0);
    size: edge length of a voxel; solid: (nx, ny, nz) bool, True inside the body
    (surface voxels included); surface: (nx, ny, nz) bool, voxels a surface passes through.
    """

    origin: npt.NDArray[np.float64]
    size: float
    solid: npt.NDArray[np.bool_]
    surface: npt.NDArray[np.bool_]

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.solid.shape)  # type: ignore[return-value]

    def to_world(self, ijk: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """(..., 3) voxel coordinates (may be fractional) -> (..., 3) world positions."""
        xyz: npt.NDArray[np.float64] = self.origin + np.asarray(ijk, dtype=np.float64) * self.size
        return xyz

    def to_voxel(self, xyz: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """(..., 3) world positions -> (..., 3) fractional voxel coordinates."""
        ijk: npt.NDArray[np.float64] = (np.asarray(xyz, dtype=np.float64) - self.origin) / self.size
        return ijk

    def to_index(self, xyz: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """(..., 3) world positions -> (..., 3) int64 indices, clipped into the grid."""
        ijk = np.rint(self.to_voxel(xyz)).astype(np.int64)
        clipped: npt.NDArray[np.int64] = np.clip(ijk, 0, np.array(self.shape) - 1)
        return clipped


def voxelize(vertices: npt.NDArray[np.float64], triangles: npt.NDArray[np.int64], size: float) -> VoxelGrid:
    """The solid enclosed by the union of all triangles, on voxels of edge ``size``.

    Surface voxels are thickened by one voxel before the fill so that the diagonal
    gaps of a rasterized surface and the small cracks between loose shells (a head
    pushed into a collar, a hand into a sleeve) do not let the outside leak in; the
    filled solid is thinned back by the same voxel afterwards. Shells too thin to
    enclose anything (hair cards, capes, a skirt's cloth) stay as surface voxels.
    """
    v = np.asarray(vertices, dtype=np.float64)
    pad = tol.VOXEL_PADDING
    lo = v.min(axis=0) - pad * size
    hi = v.max(axis=0) + pad * size
    shape = np.ceil((hi - lo) / size).astype(np.int64) + 1
    pts = sample_surface(v, triangles, size * tol.SURFACE_SAMPLE_SPACING)
    ijk = np.clip(np.rint((pts - lo) / size).astype(np.int64), 0, shape - 1)
    surface = np.zeros(tuple(shape), dtype=bool)
    surface[ijk[:, 0], ijk[:, 1], ijk[:, 2]] = True
    thick = ndimage.binary_dilation(surface, iterations=tol.FILL_CLOSING_VOXELS)
    filled = ndimage.binary_fill_holes(thick)
    # Thin back only what the fill added around the surface: the interior stays, and a
    # voxel the surface itself passes through is always solid.
    solid = ndimage.binary_erosion(filled, iterations=tol.FILL_CLOSING_VOXELS, border_value=0) | surface
    return VoxelGrid(origin=lo, size=float(size), solid=solid, surface=surface)
