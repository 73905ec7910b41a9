"""Seams: parts of a blocky character that touch face to face, cut apart.

A character built from boxes (Minecraft-style and voxel avatars) often has its legs
touching along their whole length and its arms resting flat against the torso. The
filled solid has no crease there, but the two faces stay inside it as a wall of
surface: a seam. Cutting the solid along the seams gives back separate legs and arms,
which the fitting passes then find as usual. Seams are vertical walls: a horizontal
face inside the solid (the top of a leg under the torso, a collar under the head)
covers only a row or two and is left alone.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from autorig.rigging import tolerances as tol
from autorig.rigging.skeleton_body import Body


def seam_columns(body: Body) -> npt.NDArray[np.bool_]:
    """(nx, nz) bool: the front view's columns where surface inside the solid covers at
    least SEAM_COVER of the solid's depth, for SEAM_MIN_ROWS rows on end or more."""
    solid = body.grid.solid
    inner = body.grid.surface & ndimage.binary_erosion(solid)
    depth = solid.sum(axis=1).astype(np.float64)
    share = np.where(depth > 0, inner.sum(axis=1) / np.maximum(depth, 1.0), 0.0)
    covered = share >= tol.SEAM_COVER
    run = np.ones((1, tol.SEAM_MIN_ROWS), dtype=bool)
    result: npt.NDArray[np.bool_] = ndimage.binary_opening(covered, structure=run)
    return result


def cut_seams(body: Body) -> Body | None:
    """The body with its vertical seams cut out of the core (the seam's wall and the
    skin it meets), or None when it has no seam."""
    columns = seam_columns(body)
    if not columns.any():
        return None
    inner = body.grid.surface & ndimage.binary_erosion(body.grid.solid)
    wall = ndimage.binary_dilation(inner, structure=np.ones((1, 3, 1), dtype=bool)) & columns[:, None, :]
    core = body.core & ~wall
    return dataclasses.replace(body, core=core, front=core.any(axis=1), thickness=core.sum(axis=1))
