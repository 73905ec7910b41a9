"""Posing a bone set and deforming vertices by linear blend skinning (for evaluation).

Bones are posed about their heads with world-aligned rest frames: the rest frame of
bone b is a translation to ``heads[b]``. Any rest orientation would do, because the
poses are random rotations and both weight sets are deformed by the same transforms.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.spatial.transform import Rotation

from autorig.rigging.bones import BoneSet


def random_poses(bones: BoneSet, count: int, max_angle_deg: float = 30.0, seed: int = 0) -> npt.NDArray[np.float64]:
    """(count, b, 3, 3) float64 local rotations: each deforming bone turns about a random
    axis by a random angle up to ``max_angle_deg``; other bones stay put. Seeded, so two
    runs (and two versions of the engine) see the same poses."""
    rng = np.random.default_rng(seed)
    b = len(bones)
    axes = rng.normal(size=(count, b, 3))
    axes /= np.linalg.norm(axes, axis=-1, keepdims=True)
    angles = np.radians(rng.uniform(0.0, max_angle_deg, size=(count, b, 1)))
    rot: npt.NDArray[np.float64] = Rotation.from_rotvec((axes * angles).reshape(-1, 3)).as_matrix().reshape(count, b, 3, 3)
    assert bones.deform is not None  # BoneSet.__post_init__ always sets it
    rot[:, ~bones.deform] = np.eye(3)
    return rot


def skinning_matrices(bones: BoneSet, local_rotations: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(b, 3, 4) float64 matrices taking rest positions to posed positions for each bone.

    local_rotations: (b, 3, 3), bone b's rotation about its head, in its parent's posed frame.
    """
    b = len(bones)
    posed = np.zeros((b, 4, 4))
    order = _topological(bones.parents)
    for i in order:
        local = np.eye(4)
        local[:3, :3] = local_rotations[i]
        p = bones.parents[i]
        if p < 0:
            local[:3, 3] = bones.heads[i]
            posed[i] = local
        else:
            local[:3, 3] = bones.heads[i] - bones.heads[p]
            posed[i] = posed[p] @ local
    inv_rest = np.tile(np.eye(4), (b, 1, 1))
    inv_rest[:, :3, 3] = -bones.heads
    return (posed @ inv_rest)[:, :3, :]


def _topological(parents: npt.NDArray[np.int64]) -> list[int]:
    done: set[int] = set()
    order: list[int] = []
    for start in range(len(parents)):
        chain = []
        i = start
        while i >= 0 and i not in done:
            chain.append(i)
            i = parents[i]
        for j in reversed(chain):
            done.add(j)
            order.append(j)
    return order


def deform(
    vertices: npt.NDArray[np.float64], weights: npt.NDArray[np.float64] | sparse.csr_matrix, matrices: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Linear blend skinning. vertices: (n, 3); weights: (n, b) dense or sparse, rows
    summing to 1 (a zero row leaves the vertex where it is); matrices: (b, 3, 4).
    Returns (n, 3) float64."""
    homo = np.concatenate([vertices, np.ones((len(vertices), 1))], axis=1)  # (n, 4)
    w = sparse.csr_matrix(weights)
    rows = np.repeat(np.arange(w.shape[0]), np.diff(w.indptr))
    # Transform each vertex only by the bones that weigh on it: (nnz, 3).
    moved = np.einsum("kij,kj->ki", matrices[w.indices], homo[rows]) * w.data[:, None]
    out = np.zeros((len(vertices), 3), dtype=np.float64)
    np.add.at(out, rows, moved)
    total = np.asarray(weights.sum(axis=1)).ravel()
    unweighted = total <= 0
    out[unweighted] = vertices[unweighted]
    return out
