"""Hands: the wrist and five fingers (or a thumb and a mitten) placed from the hand's own shape.

Runs after the arms (``skeleton_arms``) in the canonical frame (+Z up, facing -Y, left = +X),
in named passes per hand:

1. **samples**: the triangles near the hand are sampled evenly by area (so a low-poly hand and a
   dense one look alike), and only the connected lump that reaches the arm's wrist is kept (a
   thigh next to a hanging hand is not the hand).
2. **wrist**: walking from the fingertips back along the forearm, the cross-section (the convex
   hull of a thin slab) grows through the fingers and the palm (widened by the thumb), then
   narrows: the wrist is the last narrowing before the forearm widens again. The arm pass finds
   the narrowest voxel column about a hand's length in; on a fine hand this is sharper, and it
   is what the finger lengths hang from.
3. **frame**: the hand's axis runs from the wrist to the middle of the finger block; its width
   axis is the block's widest spread across that axis, signed towards the character's front
   (the thumb's side); the palm normal completes it, mirrored between the hands.
4. **fingers**: the four fingers' centre lines come from splitting the finger block across its
   width (a thumb tip reaching into the block as a lump of its own left out): spread fingers
   are the block's four lumps, each fitted as a line; touching fingers are parted at the
   grooves, where the block is thinner (palm to back) than the fingers beside them, near an
   even split; a mitten without grooves stays evenly split as Mixamo does. The lines are then
   refitted to their samples (fingers fan out). The joints sit along each finger at the proportions of a hand
   (``FINGER_PROPORTIONS``) of the wrist-to-tip length, stretched towards the finger's own tip
   (at most ``TIP_STRETCH``), at the middle of the finger's samples there (its centre line and
   thickness). The thumb's base is at the front edge of the palm; the rest follows what sticks
   out past the index finger, when something does.
5. **level**: ``auto`` gives five fingers (a mitten too: four fingers spread across its
   block), a thumb and a mitten bone (``Index``) when the hand has only a few triangles
   (``MITTEN_MIN_TRIANGLES`` to ``FULL_MIN_TRIANGLES``), none below; the reason goes to rig.json.

Positions are returned in the canonical frame, keyed by humanoid names (``LeftHandIndex1``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

LEVELS = ("auto", "full", "mitten", "none")

# --- tolerances (fractions of the character's height unless said otherwise) ---------------
# Triangles this close to the arm's wrist are sampled for the hand.
HAND_REACH = 0.22
# Surface samples over the hand region; enough that a finger 1 % of the height wide gets dozens.
HAND_SAMPLES = 24000
# Voxel size that joins samples into lumps (fingers of one hand stay one lump through the palm).
LUMP_VOXEL = 0.006
# A lump belongs to the hand when it comes this close to the arm's wrist.
LUMP_TOUCH = 0.04
# The wrist is searched this far from the fingertips (hand lengths of stylised characters).
WRIST_SEARCH = (0.06, 0.17)
# Slabs for the cross-section profile, and the smallest number of samples that makes a hull.
SLAB = 0.006
MIN_SLAB_SAMPLES = 8
# The wrist is a narrowing to below this fraction of the widest section between it and the
# tips, after which the forearm widens again by at least this fraction.
WRIST_NARROWER = 0.9
WRIST_RISE = 0.05
# The finger block (for the width axis and the split) is the distal part of the hand, from this
# fraction of the wrist-to-tip length.
BLOCK_FROM = 0.6
# Levels for ``auto``: triangles on one hand below which a hand is a mitten / has no fingers.
# (A mitten with a thumb gets five fingers too: four spread across the block, as Mixamo does.)
FULL_MIN_TRIANGLES = 40
MITTEN_MIN_TRIANGLES = 12

# Where each finger's joints sit in the hand frame, as fractions of the wrist-to-tip length:
# (along the hand, across towards the thumb, towards the palm). Proportions of a human hand
# (knuckles a little under half way, phalanges about 1 : 0.7 : 0.6), as artists rig them.
FINGER_PROPORTIONS: dict[str, tuple[tuple[float, float, float], ...]] = {
    "Thumb": ((0.13, 0.13, 0.05), (0.27, 0.23, 0.12), (0.40, 0.28, 0.19), (0.52, 0.31, 0.24)),
    "Index": ((0.46, 0.12, 0.01), (0.66, 0.13, 0.03), (0.80, 0.14, 0.06), (0.95, 0.15, 0.08)),
    "Middle": ((0.47, 0.00, 0.00), (0.67, 0.00, 0.01), (0.82, 0.00, 0.04), (1.00, 0.00, 0.06)),
    "Ring": ((0.45, -0.11, 0.01), (0.63, -0.13, 0.04), (0.77, -0.14, 0.07), (0.93, -0.15, 0.09)),
    "Pinky": ((0.40, -0.21, 0.04), (0.54, -0.24, 0.06), (0.65, -0.25, 0.08), (0.78, -0.26, 0.10)),
}
# A finger's measured tip stretches its proportions by at most this fraction either way.
TIP_STRETCH = 0.1
# A finger's centre at a joint is the middle of its band's samples this long (fraction of the
# wrist-to-tip length) around the joint; fewer samples than this and the proportions are used.
SLICE_OF_LENGTH = 0.06
MIN_SLICE_SAMPLES = 5
# The thumb is what sticks out past the index finger's band on the thumb side, between these
# fractions of the wrist-to-tip length; with fewer samples than this the proportions are kept.
THUMB_SPAN = (0.05, 0.65)
MIN_THUMB_SAMPLES = 20
# The thumb's end is the middle of the samples this close (fraction of the length) to its
# farthest point from its base; joints 2 and 3 sit at these fractions of the way to it.
THUMB_TIP_CLUSTER = 0.12
THUMB_JOINT_FRACTIONS = (0.39, 0.72)
# ... and no further from its base than this (fraction of the length): beyond is something held.
THUMB_REACH = 0.65
# A hand this many times longer, wider or thicker than the other holds something
# (skeleton._hands mirrors the other hand onto it).
HAND_SIZE_MISMATCH = 1.25
# A lump of the finger block on the thumb's side that ends before this fraction of the block's
# tip, with less than this share of its samples, is the thumb's tip (left out of the split).
THUMB_LUMP_TIP = 0.8
THUMB_LUMP_SHARE = 0.25
# The split into fingers: the block's thickness across it in this many bins, over this share of
# the block (from its proximal end); a groove is searched within this fraction of a finger's
# width of the even split and must be thinner than this fraction of the fingers beside it.
GROOVE_BINS = 48
GROOVE_DEPTH_OF_BLOCK = 0.5
GROOVE_SEARCH = 0.5
GROOVE_DIP = 0.85
# Spread fingers: the block (or its part beyond this share of it) falls apart into four lumps
# of at least this share of its samples each.
APART_DISTAL = 0.25
APART_MIN_SHARE = 0.04
# The two hands' finger joints are averaged (in their own frames) where they agree within this
# fraction of the hand's length.
SYMMETRY_AGREE = 0.15
# Order of the four fingers across the block, thumb side first.
BLOCK_FINGERS = ("Index", "Middle", "Ring", "Pinky")


@dataclass
class Hand:
    """One hand in the canonical frame: the wrist, and finger joints by humanoid name
    (``LeftHandThumb1`` .. ``LeftHandPinky4``; 4 = the finger's end)."""

    wrist: npt.NDArray[np.float64]
    joints: dict[str, npt.NDArray[np.float64]]
    level: str
    axis: npt.NDArray[np.float64]
    width_axis: npt.NDArray[np.float64]
    palm_normal: npt.NDArray[np.float64]
    length: float
    reason: str = ""
    # (4,) the hand's size: wrist to tip, the finger block's width and thickness, the thumb's
    # span (world units).
    size: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(4))
    warnings: list[str] = field(default_factory=list)


def _sample_surface(
    vertices: npt.NDArray[np.float64], triangles: npt.NDArray[np.int64], count: int, seed: int = 0
) -> npt.NDArray[np.float64]:
    """(count, 3) points spread over the triangles by area (deterministic)."""
    if len(triangles) == 0:
        return np.empty((0, 3))
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    total = area.sum()
    if total <= 0:
        return np.concatenate([a, b, c])
    rng = np.random.default_rng(seed)
    tri = np.minimum(np.searchsorted(np.cumsum(area), rng.random(count) * total), len(triangles) - 1)
    r1, r2 = rng.random(count), rng.random(count)
    flip = r1 + r2 > 1
    r1[flip], r2[flip] = 1 - r1[flip], 1 - r2[flip]
    pts = a[tri] + r1[:, None] * (b[tri] - a[tri]) + r2[:, None] * (c[tri] - a[tri])
    return np.concatenate([pts, vertices[np.unique(triangles)]])


def _unit(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def _hand_samples(
    vertices: npt.NDArray[np.float64],
    triangles: npt.NDArray[np.int64],
    wrist: npt.NDArray[np.float64],
    elbow: npt.NDArray[np.float64],
    height: float,
) -> tuple[npt.NDArray[np.float64], int]:
    """Samples of the hand's lump and the number of triangles it is made of."""
    axis = _unit(wrist - elbow)
    near = np.linalg.norm(vertices - wrist, axis=1) < HAND_REACH * height
    tri = triangles[near[triangles].any(axis=1)]
    pts = _sample_surface(vertices, tri, HAND_SAMPLES)
    if len(pts) == 0:
        return pts, 0
    s = (pts - wrist) @ axis
    pts = pts[(s > -0.5 * HAND_REACH * height)]
    # Join samples into lumps on a voxel grid; keep the lumps that reach the wrist.
    vox = LUMP_VOXEL * height
    ijk = np.floor((pts - pts.min(axis=0)) / vox).astype(np.int64)
    grid = np.zeros(ijk.max(axis=0) + 1, dtype=bool)
    grid[tuple(ijk.T)] = True
    labels, _ = ndimage.label(grid, structure=np.ones((3, 3, 3)))
    lab = labels[tuple(ijk.T)]
    touching = np.unique(lab[np.linalg.norm(pts - wrist, axis=1) < LUMP_TOUCH * height])
    keep = np.isin(lab, touching)
    pts = pts[keep]
    # Only what lies beyond the elbow-wrist midpoint along the forearm belongs to the hand.
    s = (pts - wrist) @ axis
    pts = pts[s > -0.5 * np.linalg.norm(wrist - elbow)]
    cent = vertices[tri].mean(axis=1)
    n_tris = int(np.count_nonzero(((cent - wrist) @ axis > 0) & (np.linalg.norm(cent - wrist, axis=1) < HAND_REACH * height)))
    return pts, n_tris


def _section_area(pts2d: npt.NDArray[np.float64]) -> float:
    if len(pts2d) < MIN_SLAB_SAMPLES:
        return np.nan
    try:
        return float(ConvexHull(pts2d).volume)
    except QhullError:
        return np.nan


def _find_wrist(
    pts: npt.NDArray[np.float64], wrist: npt.NDArray[np.float64], axis: npt.NDArray[np.float64], height: float
) -> tuple[npt.NDArray[np.float64], float]:
    """The wrist from the hand side. Walking from the fingertips towards the elbow, the
    cross-section grows through the fingers and the palm (widened by the thumb), then
    narrows: the wrist is the last real narrowing before the forearm (below the widest section
    between it and the tips, and followed by a widening forearm). Returns the wrist (3,) and the
    tip's distance along ``axis`` from it; the given wrist when there is no such narrowing."""
    s = (pts - wrist) @ axis
    tip = float(s.max())
    basis = np.linalg.svd(np.eye(3) - np.outer(axis, axis))[0][:, :2]
    slab = SLAB * height
    # From the tip inward.
    centres = np.arange(tip - WRIST_SEARCH[0] * height / 2, tip - WRIST_SEARCH[1] * height, -slab / 2)
    areas = np.array([_section_area((pts[np.abs(s - c) < slab / 2] - wrist) @ basis) for c in centres])
    finite = np.isfinite(areas)
    if finite.sum() < 5:
        return wrist, tip
    last = int(np.flatnonzero(finite).max())
    smooth = ndimage.uniform_filter1d(np.where(finite, areas, 0.0), 3, mode="nearest")
    # The most proximal narrowing: a palm can narrow too between the knuckles and the thumb.
    best = None
    for k in range(1, last):
        if (tip - centres[k]) < WRIST_SEARCH[0] * height or not smooth[k] <= min(smooth[k - 1], smooth[k + 1]):
            continue
        if smooth[k] > WRIST_NARROWER * smooth[:k].max() or smooth[k + 1 : last + 1].max() < (1.0 + WRIST_RISE) * smooth[k]:
            continue
        best = k
    if best is not None:
        sel = np.abs(s - centres[best]) < slab / 2
        centre = pts[sel].mean(axis=0)
        centre = centre - ((centre - wrist) @ axis - centres[best]) * axis
        return centre, tip - centres[best]
    return wrist, tip


def _thumb_lump(
    s: npt.NDArray[np.float64], u: npt.NDArray[np.float64], in_block: npt.NDArray[np.bool_], cell: float
) -> npt.NDArray[np.bool_]:
    """(n,) bool: the samples of the finger block that are the thumb's tip. A long thumb reaches
    into the block; where it stands apart from the fingers it is a lump of its own in the
    (along, across) plane, wholly on the thumb's side of the block and ending well before the
    fingers' tips. Such a lump is left out of the split into fingers (it would push the four
    fingers' centres towards the thumb)."""
    out = np.zeros(len(s), dtype=bool)
    idx = np.flatnonzero(in_block)
    if len(idx) < MIN_SLAB_SAMPLES:
        return out
    ij = np.floor(np.column_stack([s[idx], u[idx]]) / cell).astype(np.int64)
    ij -= ij.min(axis=0)
    grid = np.zeros(ij.max(axis=0) + 1, dtype=bool)
    grid[tuple(ij.T)] = True
    labels, count = ndimage.label(grid, structure=np.ones((3, 3)))
    if count < 2:
        return out
    lab = labels[tuple(ij.T)]
    tip, mid_u = float(s[idx].max()), float(np.median(u[idx]))
    for k in range(1, count + 1):
        mine = lab == k
        if (
            u[idx][mine].min() > mid_u
            and s[idx][mine].max() < THUMB_LUMP_TIP * tip
            and np.count_nonzero(mine) < THUMB_LUMP_SHARE * len(idx)
        ):
            out[idx[mine]] = True
    return out


def _finger_lines(
    s: npt.NDArray[np.float64], u: npt.NDArray[np.float64], centres: npt.NDArray[np.float64], s0: float, rounds: int = 4
) -> npt.NDArray[np.float64]:
    """Fingers fan out: each finger's centre across the hand as a line ``u = a + b (s - s0)``.
    Samples go to the nearest line, each line is refitted to its samples (k-lines). Returns
    (k, 2) [a, b]; a line with too few samples keeps its constant centre."""
    lines = np.column_stack([centres, np.zeros(len(centres))])
    for _ in range(rounds):
        pred = lines[:, 0] + lines[:, 1] * (s - s0)[:, None]
        lab = np.argmin(np.abs(u[:, None] - pred), axis=1)
        for k in range(len(lines)):
            sel = lab == k
            if np.count_nonzero(sel) >= MIN_SLICE_SAMPLES * 2 and np.ptp(s[sel]) > 0:
                b, a = np.polyfit(s[sel] - s0, u[sel], 1)
                lines[k] = (a, b)
    return lines


def _apart_fingers(
    s: npt.NDArray[np.float64], u: npt.NDArray[np.float64], cell: float, s0: float, length: float
) -> npt.NDArray[np.float64] | None:
    """Spread fingers: (4, 2) each finger's centre line ``u = a + b (s - s0)`` (thumb side
    first) when the block (or its distal part) falls apart into four lumps in the (along,
    across) plane, one a finger; None when it does not (touching fingers, a mitten)."""
    for start in (s0, s0 + APART_DISTAL * (length - s0)):
        sel = s >= start
        if np.count_nonzero(sel) < 4 * MIN_SLICE_SAMPLES * 2:
            continue
        ss, uu = s[sel], u[sel]
        ij = np.floor(np.column_stack([ss, uu]) / cell).astype(np.int64)
        ij -= ij.min(axis=0)
        grid = np.zeros(ij.max(axis=0) + 1, dtype=bool)
        grid[tuple(ij.T)] = True
        labels, count = ndimage.label(grid, structure=np.ones((3, 3)))
        lab = labels[tuple(ij.T)]
        sizes = np.bincount(lab, minlength=count + 1)[1:]
        big = np.flatnonzero(sizes >= APART_MIN_SHARE * len(ss)) + 1
        if len(big) != 4:
            continue
        lines = []
        for k in big:
            mine = lab == k
            if np.ptp(ss[mine]) <= 0:
                break
            b, a = np.polyfit(ss[mine] - s0, uu[mine], 1)
            lines.append((a, b))
        if len(lines) == 4:
            out = np.array(lines)
            return out[np.argsort(-out[:, 0])]
    return None


def _groove_split(
    s: npt.NDArray[np.float64], u: npt.NDArray[np.float64], v: npt.NDArray[np.float64], lo: float, hi: float, length: float
) -> npt.NDArray[np.float64]:
    """(4,) the four fingers' centres across the block (thumb side first), between the
    grooves that part them. s, u, v: the block's samples in the hand frame; lo, hi: the block's
    extent across. Surface samples crowd at a finger's sides (a cylinder seen edge-on), so
    where fingers touch, the sample count peaks at the groove; the thickness (the spread of
    ``v``, palm to back) instead dips there and is greatest along each finger's middle. Each
    groove is the thinnest place near where an even split would put it (a gap between spread
    fingers has no thickness at all); without a clear dip the even split stands."""
    width = (hi - lo) / 4
    even_bounds = hi - np.arange(1, 4) * width
    # The proximal part of the block: all four fingers are there, the pinky too.
    near = s < (BLOCK_FROM + GROOVE_DEPTH_OF_BLOCK * (1.0 - BLOCK_FROM)) * length
    edges = np.linspace(lo, hi, GROOVE_BINS + 1)
    centre = 0.5 * (edges[:-1] + edges[1:])
    k = np.clip(np.searchsorted(edges, u[near]) - 1, 0, GROOVE_BINS - 1)
    thick = np.zeros(GROOVE_BINS)
    vn = v[near]
    for b in range(GROOVE_BINS):
        sel = vn[k == b]
        if len(sel) >= 3:
            lo_v, hi_v = np.percentile(sel, [3, 97])
            thick[b] = hi_v - lo_v
    thick = ndimage.uniform_filter1d(thick, 3, mode="nearest")
    bounds = even_bounds.copy()
    for j, e in enumerate(even_bounds):
        window = np.abs(centre - e) <= GROOVE_SEARCH * width
        if not window.any():
            continue
        best = np.flatnonzero(window)[int(np.argmin(thick[window]))]
        # A groove: thinner than the fingers on either side of it.
        left = thick[(centre > centre[best]) & (centre <= centre[best] + width)]
        right = thick[(centre < centre[best]) & (centre >= centre[best] - width)]
        if len(left) and len(right) and thick[best] < GROOVE_DIP * min(left.max(), right.max()):
            bounds[j] = centre[best]
    walls = np.concatenate([[hi], bounds, [lo]])
    centres: npt.NDArray[np.float64] = 0.5 * (walls[:-1] + walls[1:])
    return centres


def place_hand(
    vertices: npt.NDArray[np.float64],
    triangles: npt.NDArray[np.int64],
    wrist: npt.NDArray[np.float64],
    elbow: npt.NDArray[np.float64],
    side: str,
    height: float,
    level: str = "auto",
) -> Hand:
    """One hand. vertices: (n, 3) float64 canonical frame; triangles: (m, 3) int64; wrist,
    elbow: (3,) the arm pass's joints; side: "Left" or "Right"; level: one of LEVELS."""
    if level not in LEVELS:
        raise ValueError(f"fingers must be one of {', '.join(LEVELS)}, not {level!r}")
    wrist = np.asarray(wrist, dtype=np.float64)
    axis0 = _unit(wrist - elbow)
    front = np.array([0.0, -1.0, 0.0])
    empty = Hand(wrist, {}, "none", axis0, front, np.zeros(3), 0.0)
    if level == "none":
        empty.reason = "fingers not requested"
        return empty
    pts, n_tris = _hand_samples(vertices, triangles, wrist, elbow, height)
    if len(pts) < MIN_SLAB_SAMPLES * 4:
        empty.reason = "no hand beyond the wrist"
        return empty
    new_wrist, length = _find_wrist(pts, wrist, axis0, height)
    # The hand's own axis: from the wrist to the middle of the finger block.
    s = (pts - new_wrist) @ axis0
    block = pts[s > BLOCK_FROM * length]
    axis = _unit(block.mean(axis=0) - new_wrist) if len(block) >= MIN_SLAB_SAMPLES else axis0
    if np.dot(axis, axis0) < 0.5:  # a lump off to the side (a held object): keep the forearm's line
        axis = axis0
    s = (pts - new_wrist) @ axis
    length = float(s.max())
    if length <= SLAB * height:
        empty.reason = "no hand beyond the wrist"
        return empty
    block = pts[s > BLOCK_FROM * length]
    # Width axis: the block's widest spread across the axis, towards the front (the thumb).
    flat = block - block.mean(axis=0)
    flat = flat - np.outer(flat @ axis, axis)
    width = np.linalg.svd(flat, full_matrices=False)[2][0] if len(flat) >= 3 else front
    width = _unit(width - np.dot(width, axis) * axis)
    if np.dot(width, front) < 0:
        width = -width
    # Palm normal: down for a left hand in T-pose (axis x width), mirrored on the right.
    normal = _unit(np.cross(axis, width)) * (1.0 if side == "Left" else -1.0)

    if level == "auto":
        level = "full" if n_tris >= FULL_MIN_TRIANGLES else "mitten" if n_tris >= MITTEN_MIN_TRIANGLES else "none"
        reason = f"{n_tris} triangles beyond the wrist"
        if level == "none":
            return Hand(new_wrist, {}, "none", axis, width, normal, length, reason=f"hand too coarse for fingers ({reason})")
    else:
        reason = f"--fingers {level}"

    rel = pts - new_wrist
    s, u, v = rel @ axis, rel @ width, rel @ normal
    in_block = s > BLOCK_FROM * length
    in_block &= ~_thumb_lump(s, u, in_block, SLAB * height / 2)
    # The four fingers across the block (thumb side first).
    template_u = np.array([FINGER_PROPORTIONS[f][2][1] for f in BLOCK_FINGERS]) * length
    ub = u[in_block]
    if len(ub):
        lo, hi = np.percentile(ub, [2, 98])
        even = hi - (np.arange(4) + 0.5) * (hi - lo) / 4
        centres = _groove_split(s[in_block], u[in_block], v[in_block], lo, hi, length)
        # A split that drifts far from even (a finger missing, a held object) is not trusted.
        if np.any(np.abs(centres - even) > 0.5 * (hi - lo) / 4):
            centres = even
    else:
        centres = template_u
    # Spread fingers stand apart: their own lumps give their lines directly.
    apart = _apart_fingers(s[in_block], u[in_block], SLAB * height / 2, BLOCK_FROM * length, length)
    if apart is not None:
        centres = apart[:, 0]
    half_gap = np.abs(np.diff(centres)).min() / 2 if len(centres) > 1 else length
    lines = apart if apart is not None else _finger_lines(s[in_block], u[in_block], centres, BLOCK_FROM * length)

    joints: dict[str, npt.NDArray[np.float64]] = {}

    def put(name: str, sf: float, uf: float, vf: float) -> None:
        joints[f"{side}Hand{name}"] = new_wrist + sf * axis + uf * width + vf * normal

    slab = max(SLICE_OF_LENGTH * length, SLAB * height)
    line_u = lines[:, 0] + lines[:, 1] * (s - BLOCK_FROM * length)[:, None]  # (n, 4)
    nearest = np.argmin(np.abs(u[:, None] - line_u), axis=1)
    for k, f in enumerate(BLOCK_FINGERS):
        band = (np.abs(u - line_u[:, k]) < half_gap) & (nearest == k) & (s > 0)
        tip_s = float(s[band & in_block].max()) if (band & in_block).any() else FINGER_PROPORTIONS[f][3][0] * length
        prop = FINGER_PROPORTIONS[f]
        # The proportions stretch towards the finger's own tip, but only so far: where fingers
        # touch, a band can end at its neighbour's tip.
        scale = float(np.clip(tip_s / (prop[3][0] * length), 1.0 - TIP_STRETCH, 1.0 + TIP_STRETCH))
        u_shift = centres[k] - prop[2][1] * length
        for j, (sf, uf, vf) in enumerate(prop, 1):
            sj = sf * length * scale
            # The finger's centre line: the middle of its band's samples around this joint.
            near = band & (np.abs(s - min(sj, tip_s - slab / 2)) < slab / 2)
            if np.count_nonzero(near) >= MIN_SLICE_SAMPLES:
                uj, vj = float(np.median(u[near])), 0.5 * float(v[near].min() + v[near].max())
            else:
                uj, vj = uf * length + u_shift, vf * length
            put(f"{f}{j}", sj, uj, vj)
    # The thumb: its base at the front edge of the palm by the proportions; the rest follows
    # what sticks out past the index finger on the thumb side, when something does.
    thumb = FINGER_PROPORTIONS["Thumb"]
    for j, (sf, uf, vf) in enumerate(thumb, 1):
        put(f"Thumb{j}", sf * length, uf * length, vf * length)
    index_u = lines[0, 0] + lines[0, 1] * (s - BLOCK_FROM * length)
    out = (s > THUMB_SPAN[0] * length) & (s < THUMB_SPAN[1] * length) & (u > index_u + half_gap)
    base = joints[f"{side}HandThumb1"]
    out &= np.linalg.norm(pts - base, axis=1) < THUMB_REACH * length  # not up a held staff
    if np.count_nonzero(out) >= MIN_THUMB_SAMPLES:
        cand = pts[out]
        far = cand[np.argmax(np.linalg.norm(cand - base, axis=1))]
        end = cand[np.linalg.norm(cand - far, axis=1) < THUMB_TIP_CLUSTER * length].mean(axis=0)
        span = float(np.linalg.norm(end - base))
        along = (cand - base) @ _unit(end - base)
        for j, frac in zip((2, 3), THUMB_JOINT_FRACTIONS, strict=False):
            # The thumb's centre there: the middle of its samples across the line, at that place.
            near = np.abs(along - frac * span) < THUMB_TIP_CLUSTER * length / 2
            joints[f"{side}HandThumb{j}"] = (
                cand[near].mean(axis=0) if np.count_nonzero(near) > MIN_SLICE_SAMPLES else base + frac * (end - base)
            )
        joints[f"{side}HandThumb4"] = end
    if level == "mitten":
        # A thumb and one block: the mitten bone runs down the middle of the block.
        mid = {j: np.mean([joints[f"{side}Hand{f}{j}"] for f in BLOCK_FINGERS], axis=0) for j in range(1, 5)}
        joints = {k: p for k, p in joints.items() if "Thumb" in k}
        for j in range(1, 5):
            joints[f"{side}HandIndex{j}"] = mid[j]
    thumb_span = (
        float(np.linalg.norm(joints[f"{side}HandThumb4"] - joints[f"{side}HandThumb1"])) if f"{side}HandThumb4" in joints else 0.0
    )
    size = np.array(
        [length, np.ptp(u[in_block]) if in_block.any() else 0.0, np.ptp(v[in_block]) if in_block.any() else 0.0, thumb_span]
    )
    return Hand(new_wrist, joints, level, axis, width, normal, length, reason=reason, size=size)


def symmetrize(left: Hand, right: Hand) -> None:
    """Average the two hands' finger joints in their own frames (along the hand, across towards
    the thumb, out of the palm, which mirror each other), in place: a character's hands are
    alike, and each hand's placement has its own noise (a sample cluster, a line fitted on one
    side only). A joint whose two places disagree by more than ``SYMMETRY_AGREE`` of the hand's
    length (a fist and an open hand, a finger pointing) keeps its own."""
    if left.level != right.level or left.length <= 0 or right.length <= 0:
        return
    fl = np.array([left.axis, left.width_axis, left.palm_normal])
    fr = np.array([right.axis, right.width_axis, right.palm_normal])
    for name, p in list(left.joints.items()):
        other = "RightHand" + name[len("LeftHand") :]
        q = right.joints.get(other)
        if q is None:
            continue
        a = fl @ (p - left.wrist) / left.length
        b = fr @ (q - right.wrist) / right.length
        if np.linalg.norm(a - b) > SYMMETRY_AGREE:
            continue
        mean = 0.5 * (a + b)
        left.joints[name] = left.wrist + left.length * (fl.T @ mean)
        right.joints[other] = right.wrist + right.length * (fr.T @ mean)
