"""Arms: followed from the fingertips inward, column by column of the front view.

In T- and A-pose an arm seen from the front is a band of nearly constant thickness
running out from the torso; walking inward from the outermost column and keeping the
run of filled pixels that touches the previous one follows it through the hand, the
wrist and the elbow until the run suddenly lengthens: the arm has merged with the
torso (the armpit). Each column's run gives a centre (z from the run, y from the
voxels behind it) and a cross-section area.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from autorig.rigging import tolerances as tol
from autorig.rigging.errors import RigError
from autorig.rigging.skeleton_body import Body, runs
from autorig.rigging.skeleton_legs import Legs


@dataclass
class Arm:
    """Canonical-frame joints of one arm plus what was measured on the way.

    pit: the centre of the last arm column before the torso (the armpit's column);
    track: (c, 3) centres from the fingertip inward; area: (c,) cross-section per column
    (world units squared); angle_deg: the arm's angle below the horizontal;
    quality: 0..1, how much the two arms agree in mirror image."""

    tip: np.ndarray
    pit: np.ndarray
    wrist: np.ndarray
    elbow: np.ndarray
    shoulder: np.ndarray
    clavicle: np.ndarray
    track: np.ndarray
    area: np.ndarray
    angle_deg: float
    quality: float = 1.0
    warnings: list[str] = field(default_factory=list)


def _track(body: Body, side: int, floor_k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """Follow one arm inward: (c, 3) centres, (c,) areas, (c,) widths (the larger of the
    section's extents along y and z, world units), (c, 2) run bounds (rows), and whether
    it ended at a torso (the run lengthened) rather than running out."""
    front = body.front
    core = body.core
    if side > 0:
        columns = range(front.shape[0] - 1, body.i0, -1)
    else:
        columns = range(0, body.i0)
    prev: tuple[int, int] | None = None
    lengths: list[int] = []
    centres, areas, widths, bounds = [], [], [], []
    at_torso = False
    for c in columns:
        col = front[c].copy()
        col[:floor_k] = False
        rs = runs(col)
        if not rs:
            if prev is None:
                continue
            break
        if prev is None:
            run = max(rs, key=len)
        else:
            touching = [r for r in rs if r[0] <= prev[1] + 1 and r[-1] >= prev[0] - 1]
            if not touching:
                break
            run = max(touching, key=len)
        if (
            len(lengths) >= tol.ARM_TRACK_MIN_COLUMNS
            and len(run) > tol.ARM_TRACK_GROWTH * float(np.median(lengths[-tol.ARM_TRACK_MEMORY :]))
            and len(run) * body.h >= tol.TORSO_MIN_RUN * body.height
        ):
            at_torso = True
            break
        lengths.append(len(run))
        block = core[c, :, run[0] : run[-1] + 1]  # (ny, run)
        jj, kk = np.nonzero(block)
        centres.append((float(body.x(c)), float(body.y(jj).mean()), float(body.z(run[0] + kk).mean())))
        areas.append(float(jj.size) * body.h**2)
        widths.append(float(max(np.ptp(jj), np.ptp(kk)) + 1) * body.h)
        bounds.append((int(run[0]), int(run[-1])))
        prev = (int(run[0]), int(run[-1]))
    track = np.array(centres).reshape(-1, 3)
    return track, np.array(areas), np.array(widths), np.array(bounds).reshape(-1, 2), at_torso


def _arc(track: np.ndarray) -> np.ndarray:
    """(c,) cumulative length along the track from its first centre."""
    if len(track) < 2:
        return np.zeros(len(track))
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(track, axis=0), axis=1))])


def _smooth(a: np.ndarray, width: int) -> np.ndarray:
    if width <= 1 or len(a) < width:
        return a
    k = np.ones(width) / width
    pad = width // 2
    return np.convolve(np.pad(a, pad, mode="edge"), k, mode="valid")[: len(a)]


def _one_arm(body: Body, side: int, legs: Legs | None) -> Arm:
    if legs is not None:
        floor_k = body.k_of(legs.pelvis_z - tol.ARM_BELOW_PELVIS * body.height)
    else:
        floor_k = 0
    track, area, width, bounds, at_torso = _track(body, side, floor_k)
    if len(track) < tol.ARM_TRACK_MIN_COLUMNS or not at_torso:
        raise RigError("not_a_biped", "no arm stands out from the side of the body")
    s = _arc(track)
    length = float(s[-1])
    tip = track[0]

    # Wrist: where the arm is narrowest, a hand's length from the fingertips give or take
    # (the hand is wider, the forearm widens toward the elbow); among equally narrow
    # columns, the one nearest a hand's length.
    w = _smooth(width, max(1, body.voxels(tol.ARM_AREA_SMOOTH)))
    prior = tol.HAND_LENGTH * body.height
    window = np.flatnonzero((s >= tol.WRIST_WINDOW[0] * prior) & (s <= min(tol.WRIST_WINDOW[1] * prior, tol.WRIST_MAX_SHARE * length)))
    if window.size == 0:
        window = np.arange(len(s))
    narrow = window[w[window] <= w[window].min() + tol.WRIST_WIDTH_SLACK * body.h]
    iw = int(narrow[np.argmin(np.abs(s[narrow] - prior))])
    wrist = track[iw]

    # Shoulder: the arm's centre line (a straight fit between wrist and armpit) where it
    # reaches the armpit column.
    # The armpit: walking back out from where the torso was met, the last column whose
    # run is still about as thick as the arm between wrist and there.
    runs_len = (bounds[:, 1] - bounds[:, 0] + 1).astype(np.float64)
    ip = len(track) - 1
    while ip > iw + 1 and runs_len[ip] > tol.ARMPIT_GROWTH * float(np.median(runs_len[iw : ip + 1])):
        ip -= 1
    pit = track[ip]
    upper = track[iw : ip + 1]
    if len(upper) >= 2:
        cut = max(2, len(upper) - body.voxels(tol.ARMPIT_SKIP))
        line = upper[:cut]
        x = line[:, 0]
        A = np.stack([x, np.ones_like(x)], axis=1)
        (zy_slope, zy_icpt) = np.linalg.lstsq(A, line[:, 1:], rcond=None)[0]
        # Shoulders sit over the hips: a shoulder joint is no further out than the outer
        # side of the thigh below it (a chibi's or a toy's upper arm starts inside its
        # wide torso, not where the arm comes out of it).
        sx = side * (side * pit[0] + tol.SHOULDER_PAST_PIT * body.height)
        if legs is not None:
            hip_side = legs.sides["Left" if side > 0 else "Right"].outer_x
            sx = side * min(side * sx, tol.SHOULDER_OVER_HIP * abs(hip_side))
        # Height from the arm's line (an A-pose arm is straight from shoulder to wrist);
        # depth from the arm's centres next to the armpit (a line through hand and
        # sleeve can tilt front-to-back).
        near = track[max(iw, ip + 1 - body.voxels(tol.SHOULDER_DEPTH_PROBE)) : ip + 1]
        shoulder = np.array([sx, float(np.median(near[:, 1])), zy_icpt[1] + zy_slope[1] * sx])
        angle = float(np.degrees(np.arctan(-zy_slope[1] * side)))
    else:
        shoulder = pit.copy()
        angle = 0.0

    # Elbow: halfway from shoulder to wrist, on the track (so a bent arm keeps its bend).
    mid_x = 0.5 * (shoulder[0] + wrist[0])
    ie = int(np.argmin(np.abs(track[:, 0] - mid_x)))
    elbow = track[ie].copy()
    if side * (elbow[0] - shoulder[0]) <= 0:
        elbow = 0.5 * (shoulder + wrist)

    clavicle = np.array([tol.CLAVICLE_FRACTION * shoulder[0], shoulder[1], shoulder[2] + tol.CLAVICLE_RISE * body.height])
    return Arm(
        tip=tip, pit=pit, wrist=wrist, elbow=elbow, shoulder=shoulder, clavicle=clavicle, track=track, area=area, angle_deg=angle
    )


def find_arms(body: Body, legs: Legs | None) -> dict[str, Arm]:
    """Both arms; ``legs`` None when the legs could not be seen (a long dress)."""
    arms = {"Left": _one_arm(body, 1, legs), "Right": _one_arm(body, -1, legs)}
    left, right = arms["Left"], arms["Right"]
    # Agreement of the two arms in mirror image, relative to the height.
    mirror = np.array([-1.0, 1.0, 1.0])
    d = np.mean(
        [np.linalg.norm(getattr(left, j) - getattr(right, j) * mirror) for j in ("tip", "wrist", "elbow", "shoulder")]
    )
    q = float(np.clip(1.0 - d / (tol.ARM_MIRROR_TOLERANCE * body.height), 0.0, 1.0))
    for a in arms.values():
        a.quality = q
    return arms
