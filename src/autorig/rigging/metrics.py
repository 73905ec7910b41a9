"""Scores of `autorig eval`: joint error and skinning deformation error, in % of height."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import sparse

from autorig.rigging import humanoid
from autorig.rigging.bones import BoneSet
from autorig.rigging.posing import deform, random_poses, skinning_matrices


def joint_errors(
    pred: dict[str, npt.NDArray[np.float64]], gt: dict[str, npt.NDArray[np.float64]], height: float
) -> dict[str, float]:
    """Distance between predicted and ground-truth joints as % of ``height``.

    Scores humanoid.SCORED_JOINTS the ground truth has, plus ``Pelvis``: the midpoint
    of the predicted hip joints against the ground truth's ``HipsCenter`` (where a Hips
    bone sits is a convention, the hip joints are anatomy).
    """
    out: dict[str, float] = {}
    for name in humanoid.SCORED_JOINTS:
        if name in gt and name in pred:
            out[name] = float(np.linalg.norm(np.asarray(pred[name]) - gt[name]) / height * 100.0)
    if "HipsCenter" in gt and "LeftUpLeg" in pred and "RightUpLeg" in pred:
        mid = (np.asarray(pred["LeftUpLeg"]) + np.asarray(pred["RightUpLeg"])) / 2.0
        out["Pelvis"] = float(np.linalg.norm(mid - gt["HipsCenter"]) / height * 100.0)
    return out


def deformation_error(
    vertices: npt.NDArray[np.float64],
    bones: BoneSet,
    reference_weights: npt.NDArray[np.float64] | sparse.csr_matrix,
    weights: npt.NDArray[np.float64] | sparse.csr_matrix,
    height: float,
    poses: int = 20,
    seed: int = 0,
) -> dict[str, float]:
    """Pose ``bones`` with ``poses`` seeded random poses and compare vertices deformed by
    ``weights`` with the same vertices deformed by ``reference_weights`` (both (n, b),
    dense or sparse). Returns mean and 99th-percentile displacement in % of height, and
    the number of vertices ``weights`` leaves unweighted."""
    rots = random_poses(bones, poses, seed=seed)
    dists = []
    for r in rots:
        m = skinning_matrices(bones, r)
        a = deform(vertices, reference_weights, m)
        b = deform(vertices, weights, m)
        dists.append(np.linalg.norm(a - b, axis=1))
    d = np.concatenate(dists) / height * 100.0
    total = np.asarray(weights.sum(axis=1)).ravel()
    return {
        "mean": float(d.mean()),
        "p99": float(np.percentile(d, 99)),
        "max": float(d.max()),
        "unweighted": int((total <= 1e-9).sum()),
    }
