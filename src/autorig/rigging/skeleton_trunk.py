"""Trunk: the neck at the narrowest cross-section above the shoulders, the head above
it, and the spine between the hips and the neck."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from autorig.rigging import tolerances as tol
from autorig.rigging.skeleton_arms import Arm
from autorig.rigging.skeleton_body import EIGHT, Body
from autorig.rigging.skeleton_legs import Legs


@dataclass
class Trunk:
    """joints: Hips, Spine, Spine1, Spine2, Neck, Head, HeadTop_End (canonical frame);
    neck_quality: 0..1, how clearly the neck narrows."""

    joints: dict[str, npt.NDArray[np.float64]]
    neck_quality: float
    warnings: list[str] = field(default_factory=list)


def _central(body: Body, k: int, x_limit: float | None = None) -> tuple[int, float, float]:
    """The piece of slice k on the mirror plane, within |x| <= x_limit if given:
    (voxel count, centroid y, centroid x). Count 0 when the plane misses the slice."""
    sl = body.core[:, :, k]
    if x_limit is not None:
        keep = np.abs(body.x(np.arange(sl.shape[0]))) <= x_limit
        sl = sl & keep[:, None]
    lab, n = ndimage.label(sl, structure=EIGHT)
    if n == 0:
        return 0, np.nan, np.nan
    col = lab[body.i0]
    on = col[col > 0]
    if on.size == 0:
        return 0, np.nan, np.nan
    mask = lab == np.bincount(on).argmax()
    ii, jj = np.nonzero(mask)
    return int(ii.size), float(body.y(jj).mean()), float(body.x(ii).mean())


def find_trunk(body: Body, legs: Legs, arms: dict[str, Arm]) -> Trunk:
    warnings: list[str] = []
    shoulder_z = float(np.mean([a.shoulder[2] for a in arms.values()]))
    k_sh = body.k_of(shoulder_z)
    rows = np.flatnonzero(body.core.any(axis=(0, 1)))
    k_top = int(rows[-1])
    profile = [(k,) + _central(body, k) for k in range(k_sh, k_top + 1)]
    ks = np.array([p[0] for p in profile])
    area = np.array([p[1] for p in profile], dtype=np.float64)
    cy = np.array([p[2] for p in profile])

    # The top of the head: the highest row the mirror plane still cuts.
    cut = np.flatnonzero(area > 0)
    k_head_top = int(ks[cut[-1]]) if cut.size else k_top

    # Neck: the narrowest cross-section between the shoulders and the head's widest
    # slice (found in the upper part of what lies above the shoulders).
    span = k_head_top - k_sh
    upper = (ks >= k_sh + int(tol.HEAD_WIDEST_FROM * span)) & (area > 0)
    hi = int(ks[upper][np.argmax(area[upper])]) if upper.any() else k_sh + max(2, span // 2)
    sel = (ks >= k_sh) & (ks <= hi) & (area > 0)
    if sel.any():
        sm = area.copy()
        w = max(1, body.voxels(tol.NECK_SMOOTH))
        sm[sel] = np.convolve(np.pad(area[sel], w // 2, mode="edge"), np.ones(w) / w, mode="valid")[: sel.sum()]
        i_n = int(np.flatnonzero(sel)[np.argmin(sm[sel])])
        k_neck = int(ks[i_n])
        below = area[(ks >= k_sh) & (ks < k_neck)]
        above = area[(ks > k_neck) & (area > 0)]
        narrowing = min(below.max() if below.size else area[i_n], above.max() if above.size else area[i_n])
        neck_quality = float(np.clip(1.0 - area[i_n] / max(narrowing, 1.0), 0.0, 1.0) / tol.NECK_NARROWING_FULL)
        neck_quality = min(1.0, neck_quality)
    else:
        k_neck = k_sh
        neck_quality = 0.0
        warnings.append("no neck found between the shoulders and the head")

    def y_at(k: int) -> float:
        i = int(np.argmin(np.abs(ks - k)))
        good = np.isfinite(cy)
        if not good[i]:
            i = int(np.flatnonzero(good)[np.argmin(np.abs(ks[good] - k))]) if good.any() else i
        return float(cy[i]) if np.isfinite(cy[i]) else 0.0

    z_neck_narrow = float(body.z(k_neck))
    neck = np.array([0.0, 0.0, max(shoulder_z, z_neck_narrow - tol.NECK_BELOW_NARROWEST * body.height)])
    neck[1] = y_at(body.k_of(neck[2]))
    head = np.array([0.0, 0.0, z_neck_narrow + tol.HEAD_ABOVE_NARROWEST * body.height])
    # The skull sits on the neck's column: the chin beside it at that height is no guide.
    head[1] = y_at(k_neck)
    head_top = np.array([0.0, 0.0, float(body.z(k_head_top))])
    head_top[1] = y_at(body.k_of(0.5 * (head[2] + head_top[2])))

    hip_l, hip_r = legs.sides["Left"].hip, legs.sides["Right"].hip
    hips_mid = 0.5 * (hip_l + hip_r)
    hips = np.array([0.0, hips_mid[1], hips_mid[2] + tol.HIPS_ABOVE_HIP_JOINTS * body.height])
    joints = {"Hips": hips, "Neck": neck, "Head": head, "HeadTop_End": head_top}
    for name, f in (("Spine", 0.25), ("Spine1", 0.5), ("Spine2", 0.75)):
        z = hips[2] + f * (neck[2] - hips[2])
        k = body.k_of(z)
        _, y, _ = _central(body, k)
        joints[name] = np.array([0.0, y if np.isfinite(y) else hips[1], z])
    return Trunk(joints=joints, neck_quality=neck_quality, warnings=warnings)
