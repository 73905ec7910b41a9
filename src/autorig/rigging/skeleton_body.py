"""The character as a voxel solid in its canonical frame, and the views the fitting passes read.

Canonical frame (see ``prepare.Orientation``): +Z up with the feet at z = 0, the
character faces -Y, its left is +X and its mirror plane is x = 0. Grid axes are
(x, y, z); ``Body`` keeps the solid, a "core" without sheets (capes, skirts, hair
cards: anything thinner than the opening radius) and the two projections that most
passes use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from autorig.rigging import tolerances as tol
from autorig.rigging.voxel import VoxelGrid, voxelize

EIGHT = np.ones((3, 3), dtype=bool)  # 2D 8-connectivity


@dataclass
class Body:
    """grid: the voxelized character (canonical frame); core: (nx, ny, nz) bool, the solid
    with thin sheets opened away; height: world units; front: (nx, nz) bool, the core
    seen from the front; thickness: (nx, nz) int, core voxels along y per (x, z) column.
    i0: the grid column of x = 0; k0: the grid row of z = 0."""

    grid: VoxelGrid
    core: npt.NDArray[np.bool_]
    height: float
    front: npt.NDArray[np.bool_]
    thickness: npt.NDArray[np.int64]
    i0: int
    k0: int

    @property
    def h(self) -> float:
        return self.grid.size

    def x(self, i: npt.ArrayLike) -> npt.NDArray[np.float64]:
        x: npt.NDArray[np.float64] = self.grid.origin[0] + np.asarray(i, dtype=np.float64) * self.h
        return x

    def y(self, j: npt.ArrayLike) -> npt.NDArray[np.float64]:
        y: npt.NDArray[np.float64] = self.grid.origin[1] + np.asarray(j, dtype=np.float64) * self.h
        return y

    def z(self, k: npt.ArrayLike) -> npt.NDArray[np.float64]:
        z: npt.NDArray[np.float64] = self.grid.origin[2] + np.asarray(k, dtype=np.float64) * self.h
        return z

    def k_of(self, z: float) -> int:
        return int(np.clip(np.rint((z - self.grid.origin[2]) / self.h), 0, self.core.shape[2] - 1))

    def i_of(self, x: float) -> int:
        return int(np.clip(np.rint((x - self.grid.origin[0]) / self.h), 0, self.core.shape[0] - 1))

    def voxels(self, n: float) -> int:
        """A length given as a fraction of the height, in whole voxels (at least 1)."""
        return max(1, int(round(n * self.height / self.h)))


def build(
    vertices: npt.NDArray[np.float64],
    triangles: npt.NDArray[np.int64],
    height: float,
    keep_rods: bool = False,
    opening: int = tol.SHEET_OPENING_VOXELS,
) -> Body:
    """vertices: (n, 3) canonical-frame positions; triangles: (m, 3) int64.

    keep_rods: put thin rods back into the core after the sheets are opened away (the
    limbs of an anatomical skeleton or a slim robot are as thin as a cape; a rod's
    voxel count grows with its length, a sheet's with its area). opening: sheets up to
    about twice this many voxels thick are opened away (a shield on a forearm takes 2)."""
    grid = voxelize(vertices, triangles, height / tol.FIT_VOXELS)
    ball = ndimage.generate_binary_structure(3, 1)
    core = ndimage.binary_opening(grid.solid, structure=ball, iterations=opening)
    if core.sum() < tol.MIN_CORE_FRACTION * grid.solid.sum():
        core = grid.solid  # a toy made of sheets: better the sheets than nothing
    elif keep_rods:
        lab, n = ndimage.label(grid.solid & ~core, structure=np.ones((3, 3, 3), dtype=bool))
        if n:
            counts = np.bincount(lab.ravel(), minlength=n + 1)
            boxes = ndimage.find_objects(lab)
            length = np.array([0] + [max(b.stop - b.start for b in box) if box is not None else 0 for box in boxes])
            rods = np.flatnonzero(
                (counts <= tol.ROD_MAX_SECTION_VOXELS * length) & (length >= tol.ROD_MIN_LENGTH * tol.FIT_VOXELS)
            )
            rods = rods[rods > 0]
            if rods.size:
                core = core | np.isin(lab, rods)
    i0 = int(np.rint(-grid.origin[0] / grid.size))
    k0 = int(np.rint(-grid.origin[2] / grid.size))
    return Body(
        grid=grid,
        core=core,
        height=float(height),
        front=core.any(axis=1),
        thickness=core.sum(axis=1),
        i0=i0,
        k0=k0,
    )


def runs(mask: npt.NDArray[np.bool_]) -> list[npt.NDArray[np.int64]]:
    """Index runs of consecutive True values in a 1-D bool array."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return []
    return np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
