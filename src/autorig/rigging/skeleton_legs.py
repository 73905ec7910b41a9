"""Legs: the crotch, each leg's centre line, and hip, knee, ankle and toe joints.

Seen from the front, a leg column is thick on each side of the mirror plane and thin
(or empty) at the plane itself; above the crotch the pelvis is thickest at the plane.
Thighs that touch leave only a shallow crease at the plane, so the test is a ratio of
thicknesses, not a gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from autorig.rigging import tolerances as tol
from autorig.rigging.errors import RigError
from autorig.rigging.skeleton_body import EIGHT, Body


@dataclass
class Slice:
    """One horizontal slice of a leg: k (grid row), centroid cx, cy (canonical frame), the
    leg's extents along x and y (world units), its voxel count and its front-most y."""

    k: int
    cx: float
    cy: float
    x_extent: float
    y_extent: float
    count: int
    y_min: float


@dataclass
class Leg:
    hip: npt.NDArray[np.float64]
    knee: npt.NDArray[np.float64]
    ankle: npt.NDArray[np.float64]
    toe_base: npt.NDArray[np.float64]
    toe_end: npt.NDArray[np.float64]
    slices: list[Slice]
    thigh_width: float
    outer_x: float  # the thigh's outer side under the pelvis (canonical x)


@dataclass
class Legs:
    """pelvis_z: where the two legs have merged into the pelvis (canonical z);
    separation: 0..1, how clearly the legs stand apart; sides: "Left"/"Right" -> Leg."""

    pelvis_z: float
    separation: float
    sides: dict[str, Leg]
    warnings: list[str] = field(default_factory=list)


def split_ratio(body: Body) -> npt.NDArray[np.float64]:
    """(nz,) float64: per grid row, the core's thickness at the mirror plane over its
    thickest column (0 between two legs, about 1 in the pelvis and torso; NaN where
    the row is empty)."""
    t = body.thickness.astype(np.float64)
    peak = t.max(axis=0)
    centre = t[body.i0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(peak > 0, centre / np.maximum(peak, 1), np.nan)


def seam_rows(body: Body) -> npt.NDArray[np.bool_]:
    """(nz,) bool: rows where surface inside the solid runs along the mirror plane through
    most of the body's depth (two legs whose inner faces touch, the seam between them),
    in a narrow band about the plane and nowhere further out."""
    solid = body.grid.solid
    inner = body.grid.surface & ndimage.binary_erosion(solid)
    depth = solid.sum(axis=1).astype(np.float64)  # (nx, nz)
    with np.errstate(invalid="ignore", divide="ignore"):
        covered = np.where(depth > 0, inner.sum(axis=1) / np.maximum(depth, 1.0), 0.0) >= tol.SEAM_COVER
    band = body.voxels(tol.SEAM_BAND)
    lo, hi = max(0, body.i0 - band), min(solid.shape[0], body.i0 + band + 1)
    in_band = covered[lo:hi].any(axis=0)
    outside = covered[:lo].any(axis=0) | covered[hi:].any(axis=0)
    result: npt.NDArray[np.bool_] = in_band & ~outside
    return result


def find_pelvis(body: Body) -> tuple[int, float]:
    """Grid row where the legs end and the pelvis begins, and how far (fraction of the
    height) the legs ran apart below it. Raises RigError("not_a_biped") without legs.
    Legs touching along their whole length are split by the seam between them when the
    solid alone shows no legs."""
    ratio = split_ratio(body)
    found = _pelvis_row(body, ratio)
    if found is None:
        seam = seam_rows(body)
        if seam.any():
            found = _pelvis_row(body, np.where(seam, 0.0, ratio))
    if found is None:
        raise RigError("not_a_biped", "no legs: the body does not stand on two separate legs")
    return found


def _pelvis_row(body: Body, ratio: npt.NDArray[np.float64]) -> tuple[int, float] | None:
    """find_pelvis on one per-row split ratio; None without legs."""
    rows = np.flatnonzero(np.isfinite(ratio))
    if rows.size == 0:
        raise RigError("not_a_biped", "the model is empty")
    first = int(rows[0])
    run = body.voxels(tol.PELVIS_RUN)
    top = int(rows[-1])
    split_rows = 0
    for k in range(first, top - run):
        if ratio[k] < tol.LEG_SPLIT_RATIO:
            split_rows += 1
        if split_rows and np.all(ratio[k : k + run] >= tol.PELVIS_RATIO):
            separation = split_rows * body.h / body.height
            if separation < tol.MIN_LEG_SPLIT:
                break
            return k, separation
    return None


def _leg_slices(body: Body, side: float, first: int, pelvis: int) -> list[Slice]:
    """Slices of one leg from the floor to the pelvis, following the component that
    continues the one below (a hanging hand that appears beside the thigh is not the
    leg)."""
    core = body.core
    half = np.zeros(core.shape[0], dtype=bool)
    if side > 0:
        half[body.i0 + 1 :] = True
    else:
        half[: body.i0] = True
    out: list[Slice] = []
    prev: npt.NDArray[np.bool_] | None = None
    for k in range(first, pelvis):
        sl = core[:, :, k] & half[:, None]
        lab, n = ndimage.label(sl, structure=EIGHT)
        if n == 0:
            if prev is None:
                continue
            break
        if prev is None:
            sizes = np.bincount(lab.ravel())[1:]
            mask = lab == (int(np.argmax(sizes)) + 1)
        else:
            over = np.unique(lab[prev & (lab > 0)])
            if over.size == 0:
                # A gap between a shoe and the shin above it: take the biggest piece.
                sizes = np.bincount(lab.ravel())[1:]
                mask = lab == (int(np.argmax(sizes)) + 1)
            else:
                mask = np.isin(lab, over)
        ii, jj = np.nonzero(mask)
        out.append(
            Slice(
                k=k,
                cx=float(body.x(ii).mean()),
                cy=float(body.y(jj).mean()),
                x_extent=float((ii.max() - ii.min() + 1) * body.h),
                y_extent=float((jj.max() - jj.min() + 1) * body.h),
                count=int(ii.size),
                y_min=float(body.y(jj.min())),
            )
        )
        prev = mask
    return out


def _at(slices: list[Slice], k: int) -> Slice:
    return min(slices, key=lambda s: abs(s.k - k))


def _mean_centre(slices: list[Slice], k_lo: int, k_hi: int) -> tuple[float, float]:
    sel = [s for s in slices if k_lo <= s.k <= k_hi] or [_at(slices, (k_lo + k_hi) // 2)]
    return float(np.mean([s.cx for s in sel])), float(np.mean([s.cy for s in sel]))


def _one_leg(body: Body, side: float, first: int, pelvis: int) -> tuple[Leg, list[str]]:
    warnings: list[str] = []
    slices = _leg_slices(body, side, first, pelvis)
    if len(slices) < tol.MIN_LEG_ROWS:
        raise RigError("not_a_biped", "a leg is too short to be a leg")
    ks = np.array([s.k for s in slices])
    depth = np.array([s.y_extent for s in slices])
    n = len(slices)

    # Hip: the thigh's centre line just under the pelvis, raised into the thigh's top by
    # a share of the thigh's width (the femoral head sits about a thigh radius up).
    top = slices[-body.voxels(tol.THIGH_PROBE) :]
    thigh_width = float(np.median([s.x_extent for s in top]))
    hx, hy = _mean_centre(slices, top[0].k, top[-1].k)
    hip = np.array([hx, hy, body.z(pelvis) + tol.HIP_ABOVE_PELVIS * thigh_width])

    # Ankle: where the foot's forward reach has given way to the shin.
    foot_len = float(depth[: max(1, body.voxels(tol.SOLE_PROBE))].max())
    lo, hi = int(tol.SHIN_WINDOW[0] * n), max(int(tol.SHIN_WINDOW[1] * n), int(tol.SHIN_WINDOW[0] * n) + 1)
    shin = float(np.percentile(depth[lo:hi], tol.SHIN_PERCENTILE))
    if foot_len < shin * tol.MIN_FOOT_RATIO:
        # A foot tilted toes-down (a bent knee, a step) shows only its toes in the lowest
        # rows: its sole is where the depth peaks a little higher up the leg.
        low = np.arange(max(1, int(np.ceil(tol.TILTED_FOOT_SEARCH * n))))
        peak = float(depth[low].max())
        if peak >= shin * tol.MIN_FOOT_RATIO:
            foot_len = peak
    limit = shin + tol.ANKLE_FRACTION * (foot_len - shin)
    sole_top = int(np.argmax(depth >= foot_len * tol.SOLE_SHARE)) if foot_len > 0 else 0
    above = np.flatnonzero((depth <= limit) & (np.arange(n) >= sole_top))
    ia = int(above[0]) if above.size else 0
    if foot_len < shin * tol.MIN_FOOT_RATIO:
        warnings.append("no foot sticks out forward: ankles put at the bottom of the legs")
    ka = int(ks[ia])
    ax, ay = _mean_centre(slices, ka, ka + body.voxels(tol.ANKLE_PROBE))
    ankle = np.array([ax, ay, body.z(ka)])

    # Knee: along the leg between hip and ankle, on the leg's centre line there.
    kz = ankle[2] + tol.KNEE_FRACTION * (hip[2] - ankle[2])
    kk = body.k_of(kz)
    kx, ky = _mean_centre(slices, kk - 1, kk + 1)
    knee = np.array([kx, ky, kz])

    # Toes: the front-most point of the foot, and the ball of the foot behind it.
    foot = slices[: max(1, ia + 1)]
    front = min(foot, key=lambda s: s.y_min)
    toe_end = np.array([front.cx, front.y_min, body.z(front.k)])
    toe_base = ankle + tol.TOE_BASE_FRACTION * (toe_end - ankle)
    toe_base[2] = toe_end[2]
    outer = float(np.median([s.cx + side * 0.5 * s.x_extent for s in top]))
    leg = Leg(
        hip=hip, knee=knee, ankle=ankle, toe_base=toe_base, toe_end=toe_end, slices=slices, thigh_width=thigh_width, outer_x=outer
    )
    return leg, warnings


def check_standing_legs(body: Body) -> None:
    """Refuse a shape standing on four or more legs: separate solids that touch the
    ground and rise through the lowest LEG_COUNT_WINDOW of the height (a biped has two
    feet, a robe one; a thin cane is opened away from the core)."""
    rows = np.flatnonzero(body.core.any(axis=(0, 1)))
    first = int(rows[0])
    top = first + body.voxels(tol.LEG_COUNT_WINDOW)
    window = body.core[:, :, first : top + 1]
    lab, n = ndimage.label(window, structure=np.ones((3, 3, 3), dtype=bool))
    ground = body.voxels(tol.GROUND_SLAB)
    standing = [
        b for b in ndimage.find_objects(lab) if b is not None and b[2].start <= ground and b[2].stop - 1 >= top - first - 1
    ]
    if len(standing) >= 4:
        raise RigError("not_a_biped", f"looks like a four-legged animal: {len(standing)} legs stand on the ground")


def find_legs(body: Body) -> Legs:
    check_standing_legs(body)
    pelvis, separation = find_pelvis(body)
    rows = np.flatnonzero(body.core.any(axis=(0, 1)))
    first = int(rows[0])
    if (pelvis - first) * body.h < tol.MIN_LEG_SHARE * body.height:
        # Two stubs at the bottom (the ears of a bust stood on its head) are no legs.
        raise RigError("not_a_biped", "no legs: the body does not stand on two separate legs")
    sides = {}
    warnings: list[str] = []
    for name, side in (("Left", 1.0), ("Right", -1.0)):
        leg, w = _one_leg(body, side, first, pelvis)
        sides[name] = leg
        warnings += [f"{name.lower()} leg: {x}" for x in w]
    # Thighs meet at the crotch: two "legs" with a torso's width between their tops are
    # arms hanging from a half body (or a table's legs), not legs.
    inner = [sides[n].outer_x - s * sides[n].thigh_width for n, s in (("Left", 1.0), ("Right", -1.0))]
    gap = inner[0] - inner[1]
    if gap > tol.MAX_CROTCH_GAP * 0.5 * (sides["Left"].thigh_width + sides["Right"].thigh_width):
        raise RigError("not_a_biped", "no legs: what stands below the body is too far apart to be a pair of legs")
    # Anatomy is symmetric: both hips at one height (the mean of the two estimates).
    for part in ("hip", "knee", "ankle"):
        zs = [getattr(sides[s], part)[2] for s in sides]
        for s in sides:
            getattr(sides[s], part)[2] = float(np.mean(zs))
    quality = float(min(1.0, separation / tol.LEG_SPLIT_FULL))
    return Legs(pelvis_z=float(body.z(pelvis)), separation=quality, sides=sides, warnings=warnings)


def hidden_legs(body: Body, shoulder: npt.NDArray[np.float64]) -> Legs:
    """Legs placed by human proportions under a body whose legs cannot be seen (a long
    dress or robe hides them): the crotch at PELVIS_OF_SHOULDER of the shoulder height,
    the legs straight down under the hips, knees halfway, feet on the floor.
    shoulder: (3,) the left shoulder joint (canonical frame)."""
    sz = float(shoulder[2])
    pelvis = tol.HIDDEN_PELVIS_OF_SHOULDER * sz
    hip_x = tol.HIDDEN_HIP_OF_SHOULDER * abs(float(shoulder[0]))
    rows = np.flatnonzero(body.core.any(axis=(0, 1)))
    floor = float(body.z(rows[0]))

    def depth_centre(z: float) -> float:
        sl = body.core[:, :, body.k_of(z)]
        jj = np.nonzero(sl)[1]
        return float(body.y(jj).mean()) if jj.size else 0.0

    sides = {}
    for name, side in (("Left", 1.0), ("Right", -1.0)):
        hip = np.array([side * hip_x, depth_centre(pelvis), pelvis + tol.HIDDEN_HIP_ABOVE_PELVIS * sz])
        ankle = np.array(
            [side * hip_x, depth_centre(floor + tol.HIDDEN_ANKLE_OF_SHOULDER * sz), floor + tol.HIDDEN_ANKLE_OF_SHOULDER * sz]
        )
        knee = 0.5 * (hip + ankle)
        toe_end = np.array([side * hip_x, ankle[1] - tol.HIDDEN_FOOT_OF_SHOULDER * sz, floor])
        toe_base = ankle + tol.TOE_BASE_FRACTION * (toe_end - ankle)
        toe_base[2] = floor
        sides[name] = Leg(
            hip=hip,
            knee=knee,
            ankle=ankle,
            toe_base=toe_base,
            toe_end=toe_end,
            slices=[],
            thigh_width=2 * hip_x,
            outer_x=side * 2 * hip_x,
        )
    return Legs(
        pelvis_z=pelvis,
        separation=0.0,
        sides=sides,
        warnings=["the legs are hidden (a long dress or robe?): hips, knees and feet were placed by proportion"],
    )
