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
import numpy.typing as npt
from scipy import ndimage

from autorig.rigging import tolerances as tol
from autorig.rigging.errors import RigError
from autorig.rigging.skeleton_body import EIGHT, Body, build, runs
from autorig.rigging.skeleton_legs import Legs


@dataclass
class Arm:
    """Canonical-frame joints of one arm plus what was measured on the way.

    pit: the centre of the last arm column before the torso (the armpit's column);
    track: (c, 3) centres from the fingertip inward; area: (c,) cross-section per column
    (world units squared); angle_deg: the arm's angle below the horizontal;
    quality: 0..1, how much the two arms agree in mirror image."""

    tip: npt.NDArray[np.float64]
    pit: npt.NDArray[np.float64]
    wrist: npt.NDArray[np.float64]
    elbow: npt.NDArray[np.float64]
    shoulder: npt.NDArray[np.float64]
    clavicle: npt.NDArray[np.float64]
    track: npt.NDArray[np.float64]
    area: npt.NDArray[np.float64]
    angle_deg: float
    quality: float = 1.0
    warnings: list[str] = field(default_factory=list)
    hanging: bool = False  # found hanging beside the body (horizontal slices)


def _track(
    body: Body, side: int, floor_k: int, body_x: float | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64], bool]:
    """Follow one arm inward: (c, 3) centres, (c,) areas, (c,) widths (the larger of the
    section's extents along y and z, world units), (c, 2) run bounds (rows), and whether
    it ended at a torso (the run lengthened) rather than running out.

    body_x: how far out from the mirror plane the body (hips) reaches, when known. A run
    that lengthens further out than TORSO_MAX_OF_HIP times that is something held in the
    hand (a sword hanging down, a shield), not the torso: the column is skipped."""
    front = body.front
    core = body.core
    if side > 0:
        columns = range(front.shape[0] - 1, body.i0, -1)
    else:
        columns = range(0, body.i0)
    prev: tuple[int, int] | None = None
    lengths: list[int] = []
    centres: list[tuple[float, float, float]]
    areas: list[float]
    widths: list[float]
    bounds: list[tuple[int, int]]
    centres, areas, widths, bounds = [], [], [], []
    at_torso = False
    gap, max_gap = 0, body.voxels(tol.ARM_TRACK_GAP)
    for c in columns:
        col = front[c].copy()
        col[:floor_k] = False
        rs = runs(col)
        touching = rs if prev is None else [r for r in rs if r[0] <= prev[1] + 1 and r[-1] >= prev[0] - 1]
        if not touching:
            if prev is None:
                continue
            gap += 1
            if gap <= max_gap:
                continue  # a crack between a glove and a sleeve
            # Loose fingertips at the very end, or something held out beyond the hand (a
            # sword's blade) that ends in the air: start again from the next piece.
            prev, gap = None, 0
            lengths, centres, areas, widths, bounds = [], [], [], [], []
            continue
        gap = 0
        run = max(touching, key=len)
        x = abs(float(body.x(c)))
        if (
            len(lengths) >= tol.ARM_TRACK_MIN_COLUMNS
            and len(run) > tol.ARM_TRACK_GROWTH * float(np.median(lengths[-tol.ARM_TRACK_MEMORY :]))
            and len(run) * body.h >= tol.TORSO_MIN_RUN * body.height
        ):
            if body_x is None or x <= tol.TORSO_MAX_OF_HIP * body_x:
                at_torso = True
                break
            # Too far out for a torso: keep to the part of the run where the arm was.
            assert prev is not None  # lengths is not empty: a run was taken before
            lo, hi = max(int(run[0]), prev[0]), min(int(run[-1]), prev[1])
            if lo <= hi:
                prev = (lo, hi)
            continue
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


def _arc(track: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """(c,) cumulative length along the track from its first centre."""
    if len(track) < 2:
        return np.zeros(len(track))
    return np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(track, axis=0), axis=1))])


def _smooth(a: npt.NDArray[np.float64], width: int) -> npt.NDArray[np.float64]:
    if width <= 1 or len(a) < width:
        return a
    k = np.ones(width) / width
    pad = width // 2
    return np.convolve(np.pad(a, pad, mode="edge"), k, mode="valid")[: len(a)]


def _wrist_index(body: Body, s: npt.NDArray[np.float64], width: npt.NDArray[np.float64]) -> int:
    """The wrist: where the arm is narrowest about a hand's length in from the tip (the
    hand is wider, the forearm widens toward the elbow); of equally narrow columns, the
    one nearest a hand's length. s: (c,) arc length from the tip; width: (c,)."""
    w = _smooth(width, max(1, body.voxels(tol.ARM_AREA_SMOOTH)))
    prior = tol.HAND_LENGTH * body.height
    reach = min(tol.WRIST_WINDOW[1] * prior, tol.WRIST_MAX_SHARE * float(s[-1]))
    window = np.flatnonzero((s >= tol.WRIST_WINDOW[0] * prior) & (s <= reach))
    if window.size == 0:
        window = np.arange(len(s))
    narrow = window[w[window] <= w[window].min() + tol.WRIST_WIDTH_SLACK * body.h]
    return int(narrow[np.argmin(np.abs(s[narrow] - prior))])


def _armpit_index(bounds: npt.NDArray[np.int64], iw: int) -> int:
    """The armpit: walking back out from where the torso was met, the last column whose
    run is still about as thick as the arm between the wrist and there (further in, the
    torso's side rises into the shoulder). bounds: (c, 2) run rows."""
    lengths = (bounds[:, 1] - bounds[:, 0] + 1).astype(np.float64)
    ip = len(lengths) - 1
    while ip > iw + 1 and lengths[ip] > tol.ARMPIT_GROWTH * float(np.median(lengths[iw : ip + 1])):
        ip -= 1
    return ip


def _shoulder(
    body: Body, side: int, track: npt.NDArray[np.float64], iw: int, ip: int, legs: Legs | None
) -> tuple[npt.NDArray[np.float64], float]:
    """The shoulder joint and the arm's angle below the horizontal (degrees).

    x: the armpit's column, but no further out than the outer side of the thigh below
    (shoulders sit over the hips: a chibi's or a toy's upper arm starts inside its wide
    torso, not where the arm comes out of it). z: on the arm's straight centre line from
    the wrist to the armpit (an A-pose arm is straight from shoulder to wrist). y: the
    arm's centres next to the armpit (a line through hand and sleeve can tilt).
    """
    pit = track[ip]
    sx = side * (side * pit[0] + tol.SHOULDER_PAST_PIT * body.height)
    if legs is not None:
        hip_side = legs.sides["Left" if side > 0 else "Right"].outer_x
        sx = side * min(side * sx, tol.SHOULDER_OVER_HIP * abs(hip_side))
    upper = track[iw : ip + 1]
    if len(upper) < 2:
        return np.array([sx, pit[1], pit[2]]), 0.0
    line = upper[: max(2, len(upper) - body.voxels(tol.ARMPIT_SKIP))]
    design = np.stack([line[:, 0], np.ones(len(line))], axis=1)
    slope, intercept = np.linalg.lstsq(design, line[:, 2], rcond=None)[0]
    near = track[max(iw, ip + 1 - body.voxels(tol.SHOULDER_DEPTH_PROBE)) : ip + 1]
    shoulder = np.array([sx, float(np.median(near[:, 1])), intercept + slope * sx])
    return shoulder, float(np.degrees(np.arctan(-slope * side)))


def _one_arm(body: Body, side: int, legs: Legs | None) -> Arm:
    if legs is not None:
        floor_k = body.k_of(legs.pelvis_z - tol.ARM_BELOW_PELVIS * body.height)
        body_x = abs(legs.sides["Left" if side > 0 else "Right"].outer_x)
    else:
        floor_k, body_x = 0, None
    track, area, width, bounds, at_torso = _track(body, side, floor_k, body_x)
    if len(track) < tol.ARM_TRACK_MIN_COLUMNS or not at_torso:
        raise RigError("not_a_biped", "no arm stands out from the side of the body")
    s = _arc(track)
    iw = _wrist_index(body, s, width)
    ip = _armpit_index(bounds, iw)
    wrist, pit = track[iw], track[ip]
    shoulder, angle = _shoulder(body, side, track, iw, ip, legs)

    # Elbow: halfway from shoulder to wrist, on the track (so a bent arm keeps its bend).
    mid_x = 0.5 * (shoulder[0] + wrist[0])
    elbow = track[int(np.argmin(np.abs(track[:, 0] - mid_x)))].copy()
    if side * (elbow[0] - shoulder[0]) <= 0:
        elbow = 0.5 * (shoulder + wrist)

    clavicle = np.array([tol.CLAVICLE_FRACTION * shoulder[0], shoulder[1], shoulder[2] + tol.CLAVICLE_RISE * body.height])
    return Arm(
        tip=track[0],
        pit=pit,
        wrist=wrist,
        elbow=elbow,
        shoulder=shoulder,
        clavicle=clavicle,
        track=track,
        area=area,
        angle_deg=angle,
    )


def _arm_pieces(body: Body, legs: Legs, erode: bool = True, k_hi: int | None = None) -> npt.NDArray[np.bool_]:
    """(nx, ny, nz) bool: voxels of horizontal slices that belong neither to the torso
    (the piece the mirror plane cuts) nor to a leg (below the pelvis, the piece holding
    the leg's centre): arms hanging beside the body, and whatever else stands apart."""
    core = body.core
    out = np.zeros_like(core)
    k_lo = int(np.flatnonzero(core.any(axis=(0, 1)))[0])  # from the ground: extra legs count too
    k_pelvis = body.k_of(legs.pelvis_z)
    min_count = tol.HANG_MIN_SECTION * body.height**2 / body.h**2
    leg_at: dict[int, list[tuple[int, int]]] = {}
    for name in ("Left", "Right"):
        for s in legs.sides[name].slices:
            leg_at.setdefault(s.k, []).append(
                (body.i_of(s.cx), int(np.clip(np.rint((s.cy - body.grid.origin[1]) / body.h), 0, core.shape[1] - 1)))
            )
    for k in range(k_lo, core.shape[2] if k_hi is None else min(k_hi, core.shape[2])):
        sl = core[:, :, k]
        if not sl.any():
            continue
        # An arm resting against the torso joins it along a narrow contact: eroding the
        # slice a little separates the two (tried from no erosion up).
        for e in range((tol.HANG_SPLIT_EROSION if erode else 0) + 1):
            part = ndimage.binary_erosion(sl, structure=EIGHT, iterations=e) if e else sl
            lab, n = ndimage.label(part, structure=EIGHT)
            if n < 2:
                continue
            drop = set(np.unique(lab[body.i0][lab[body.i0] > 0]).tolist())
            if k < k_pelvis:
                for i, j in leg_at.get(k, []):
                    if lab[i, j] > 0:
                        drop.add(int(lab[i, j]))
                    else:  # the leg's centroid falls in a gap: its nearest piece
                        ii, jj = np.nonzero(lab)
                        m = int(np.argmin((ii - i) ** 2 + (jj - j) ** 2))
                        drop.add(int(lab[ii[m], jj[m]]))
            counts = np.bincount(lab.ravel(), minlength=n + 1)
            keep = [q for q in range(1, n + 1) if q not in drop and counts[q] >= min_count / (1 + e)]
            if keep:
                found = np.isin(lab, keep)
                if e:
                    rest = ndimage.binary_dilation(part & ~found, structure=EIGHT, iterations=e)
                    found = ndimage.binary_dilation(found, structure=EIGHT, iterations=e) & sl & ~rest
                out[:, :, k] = found
                break
    return out


def _floor_k(body: Body) -> int:
    """The grid row a piece must reach down to to stand on the ground."""
    rows = np.flatnonzero(body.core.any(axis=(0, 1)))
    return int(rows[0]) + body.voxels(tol.GROUND_SLAB)


def _hanging_arm(body: Body, side: int, legs: Legs, pieces: npt.NDArray[np.bool_]) -> Arm | None:
    """One arm hanging beside the body, from the horizontal slices, or None.

    The arm is the longest vertical piece on its side that reaches down near the hips;
    its top is the armpit (above it the arm has merged with the torso), its bottom the
    fingertips. The wrist is where it is narrowest about a hand's length up from the
    tip, the shoulder joint an upper arm's half-width above the armpit."""
    # Armour plates and sleeves that touch the body for a slice or two break an arm into
    # pieces along its length: join them across short vertical gaps.
    gap = body.voxels(tol.ARM_TRACK_GAP)
    column = np.zeros((1, 1, 2 * gap + 1), dtype=bool)
    column[0, 0, :] = True
    joined = ndimage.binary_closing(pieces, structure=column, border_value=0) | pieces
    lab, n = ndimage.label(joined, structure=np.ones((3, 3, 3), dtype=bool))
    lab[~pieces] = 0
    if n == 0:
        return None
    slices = ndimage.find_objects(lab)
    x_mean = ndimage.mean(np.broadcast_to(np.arange(lab.shape[0])[:, None, None], lab.shape), lab, np.arange(1, n + 1))
    best, best_low = None, np.inf
    k_top_hips = body.k_of(legs.pelvis_z + tol.HANG_MAX_ABOVE_PELVIS * body.height)
    span_min = tol.HANG_MIN_SPAN * body.height / body.h
    k_floor = _floor_k(body)
    for q, box in enumerate(slices, start=1):
        if box is None or side * float(body.x(x_mean[q - 1])) <= 0:
            continue
        k_min, k_max = box[2].start, box[2].stop - 1
        if k_max - k_min < span_min or k_min > k_top_hips or k_min <= k_floor:
            continue
        if k_min < best_low:
            best, best_low = q, k_min
    if best is None:
        return None
    mask = lab == best
    centres, widths, areas = [], [], []
    for k in range(int(best_low), mask.shape[2]):
        sl = mask[:, :, k]
        if not sl.any():
            continue
        i, j = np.nonzero(sl)
        centres.append((float(body.x(i).mean()), float(body.y(j).mean()), float(body.z(k))))
        widths.append(float(max(np.ptp(i), np.ptp(j)) + 1) * body.h)
        areas.append(float(i.size) * body.h**2)
    track = np.array(centres)
    if len(track) < tol.ARM_TRACK_MIN_COLUMNS:
        return None
    width = np.array(widths)
    # A stick held in the hanging hand (a spear, a staff) continues the piece below the
    # fingers, much thinner than the arm: the arm starts where the piece thickens.
    thick = np.flatnonzero(width >= tol.HELD_STICK_SHARE * float(np.median(width)))
    if thick.size and thick[0] > 0:
        track, width = track[thick[0] :], width[thick[0] :]
        areas = areas[thick[0] :]
        if len(track) < tol.ARM_TRACK_MIN_COLUMNS:
            return None
    pit = track[-1]
    k_pit = body.k_of(float(pit[2]))
    if (
        not body.front[body.i0, k_pit:].any()
        or not body.front[body.i0, min(k_pit + body.voxels(tol.HANG_HEAD_ABOVE_PIT), body.front.shape[1] - 1) :].any()
    ):
        # An arm hangs from a shoulder with a torso and a head above it; a sword held
        # upright reaches higher than that.
        return None
    s = _arc(track)
    iw = _wrist_index(body, s, width)
    top = track[max(iw + 1, len(track) - body.voxels(tol.SHOULDER_DEPTH_PROBE)) :]
    upper_w = (
        float(np.median(width[max(iw + 1, len(track) - body.voxels(tol.SHOULDER_DEPTH_PROBE)) :]))
        if len(top)
        else float(width[-1])
    )
    sx = float(np.median(top[:, 0])) if len(top) else float(pit[0])
    hip_side = legs.sides["Left" if side > 0 else "Right"].outer_x
    if legs.sides["Left"].slices:
        sx = side * min(side * sx, tol.SHOULDER_OVER_HIP * abs(hip_side))
    # The shoulder's top: the front view's column over the arm, followed up from the
    # armpit to the air above the shoulder (the joint sits half an arm's width below).
    # A column that runs on into a wide head or hat says nothing: then a fixed share of
    # the arm's width above the armpit.
    sz = float(pit[2]) + tol.HANG_SHOULDER_ABOVE_PIT * upper_w
    column = body.front[body.i_of(float(np.median(top[:, 0])) if len(top) else float(pit[0]))]
    empty = np.flatnonzero(~column[k_pit:])
    if empty.size:
        top_z = float(body.z(k_pit + int(empty[0]) - 1))
        if top_z - float(pit[2]) <= tol.HANG_SHOULDER_MAX_RISE * body.height:
            sz = top_z - 0.5 * upper_w
    shoulder = np.array([sx, float(np.median(top[:, 1])) if len(top) else float(pit[1]), sz])
    wrist = track[iw].copy()
    mid_z = 0.5 * (shoulder[2] + wrist[2])
    elbow = track[int(np.argmin(np.abs(track[:, 2] - mid_z)))].copy()
    if elbow[2] >= shoulder[2] or elbow[2] <= wrist[2]:
        elbow = 0.5 * (shoulder + wrist)
    run = abs(float(wrist[0] - shoulder[0]))
    angle = float(np.degrees(np.arctan2(float(shoulder[2] - wrist[2]), max(run, 1e-9))))
    clavicle = np.array([tol.CLAVICLE_FRACTION * shoulder[0], shoulder[1], shoulder[2] + tol.CLAVICLE_RISE * body.height])
    return Arm(
        tip=track[0],
        pit=pit,
        wrist=wrist,
        elbow=elbow,
        shoulder=shoulder,
        clavicle=clavicle,
        track=track,
        area=np.array(areas),
        angle_deg=angle,
        hanging=True,
    )


def find_arms(body: Body, legs: Legs | None, missing: dict[str, RigError] | None = None) -> dict[str, Arm]:
    """Both arms; ``legs`` None when the legs could not be seen (a long dress).

    Each arm is first followed through the front view (raised, T- and A-pose arms); an
    arm that is missing there or steeper than HANG_SWITCH_DEG is looked for hanging
    beside the body in horizontal slices. ``missing``: when given, an arm found neither
    way is left out and its error recorded there by side name (the caller looks again)."""
    arms: dict[str, Arm] = {}
    pieces: npt.NDArray[np.bool_] | None = None
    for name, side in (("Left", 1), ("Right", -1)):
        tracked: Arm | None = None
        failure: RigError | None = None
        try:
            tracked = _one_arm(body, side, legs)
        except RigError as e:
            failure = e
        if legs is not None and (tracked is None or tracked.angle_deg > tol.HANG_SWITCH_DEG):
            if pieces is None:
                pieces = _arm_pieces(body, legs)
            hanging = _hanging_arm(body, side, legs, pieces)
            # A steep front-view arm is replaced only by a hanging arm that is steep too
            # (an A-pose arm seen in slices starts at the armpit, below the shoulder).
            if hanging is not None and (tracked is None or hanging.angle_deg >= tol.HANG_SWITCH_DEG):
                tracked = hanging
        elif legs is not None and tracked is not None:
            # The front view can follow a forearm sticking out from a hanging arm, or a
            # horn: if an arm hangs beside the body from higher up, that is the arm.
            if pieces is None:
                pieces = _arm_pieces(body, legs)
            hanging = _hanging_arm(body, side, legs, pieces)
            # ... or a stub: an arm half as long as the one hanging beside the body.
            if hanging is not None and (
                tracked.shoulder[2] < hanging.pit[2] - tol.HANG_OVERRIDE_DROP * body.height
                or np.linalg.norm(tracked.tip - tracked.shoulder)
                < tol.HANG_OVERRIDE_STUB * np.linalg.norm(hanging.tip - hanging.shoulder)
            ):
                tracked = hanging
        if tracked is None:
            error = failure or RigError("not_a_biped", "no arm stands out from the side of the body")
            if missing is None:
                raise error
            missing[name] = error
            continue
        arms[name] = tracked
    if len(arms) == 2:
        mirror_quality(arms, body.height)
    return arms


def mirror_quality(arms: dict[str, Arm], height: float) -> None:
    """Set each arm's quality: the two arms' agreement in mirror image, relative to the height."""
    left, right = arms["Left"], arms["Right"]
    mirror = np.array([-1.0, 1.0, 1.0])
    d = np.mean([np.linalg.norm(getattr(left, j) - getattr(right, j) * mirror) for j in ("tip", "wrist", "elbow", "shoulder")])
    q = float(np.clip(1.0 - d / (tol.ARM_MIRROR_TOLERANCE * height), 0.0, 1.0))
    for a in arms.values():
        a.quality = q


def _turn_xz(points: npt.NDArray[np.float64], pivot: npt.NDArray[np.float64], phi: float) -> npt.NDArray[np.float64]:
    """(n, 3) points turned by ``phi`` radians about the y axis through ``pivot`` (x towards z)."""
    c, s = float(np.cos(phi)), float(np.sin(phi))
    rel = np.asarray(points, dtype=np.float64) - pivot
    out = rel.copy()
    out[..., 0] = c * rel[..., 0] - s * rel[..., 2]
    out[..., 2] = s * rel[..., 0] + c * rel[..., 2]
    return out + pivot


def follow_raised_arm(
    vertices: npt.NDArray[np.float64],
    triangles: npt.NDArray[np.int64],
    height: float,
    side: int,
    angle_deg: float,
    legs: Legs | None,
    keep_rods: bool,
    opening: int,
    shoulder_z: float,
) -> Arm | None:
    """A raised arm followed along its own direction, or None.

    The front view's columns cut an arm held out sideways straight across; an arm raised
    well above the horizontal they cut lengthwise, so its runs merge with the head and
    the shoulder long before the armpit. Turned about the front-back axis until the arm
    found first is level (vertices: (n, 3) canonical), the body is voxelized again and
    the arm followed there like an arm held out in T-pose; its joints are turned back.
    The turn is about the mirror plane at ``shoulder_z`` (the shoulders' height, read
    from an arm that is not raised when there is one), so the torso stays inward.
    The turned fit is kept only if it ends at a torso and the arm it finds is level
    there (it is the same arm, not the head). angle_deg: the arm's angle below the
    horizontal as first found (negative: raised), or a guess when it was not found."""
    angle = float(np.radians(angle_deg))
    # The arm's direction in the (x, z) plane is (side cos a, -sin a); turned level.
    theta = float(np.arctan2(-np.sin(angle), side * np.cos(angle)))
    target = 0.0 if side > 0 else float(np.pi)
    phi = float(np.angle(np.exp(1j * (target - theta))))
    pivot = np.array([0.0, 0.0, float(shoulder_z)])
    turned = build(_turn_xz(vertices, pivot, phi), triangles, height, keep_rods=keep_rods, opening=opening)
    try:
        found = _one_arm(turned, side, None)
    except RigError:
        return None
    if abs(found.angle_deg) > tol.RAISED_LEVEL_DEG:
        return None
    back = {name: _turn_xz(getattr(found, name), pivot, -phi) for name in ("tip", "pit", "wrist", "elbow", "shoulder")}
    shoulder = back["shoulder"]
    if side * float(back["tip"][0] - shoulder[0]) <= 0 or side * float(back["tip"][0]) <= 0:
        return None  # a hand reaches out on its own side; what ends over the middle is the head
    if legs is not None:
        hip_side = legs.sides["Left" if side > 0 else "Right"].outer_x
        shoulder[0] = side * min(side * float(shoulder[0]), tol.SHOULDER_OVER_HIP * abs(hip_side))
    clavicle = np.array([tol.CLAVICLE_FRACTION * shoulder[0], shoulder[1], shoulder[2] + tol.CLAVICLE_RISE * height])
    rise = float(shoulder[2] - back["wrist"][2])
    run = abs(float(back["wrist"][0] - shoulder[0]))
    return Arm(
        tip=back["tip"],
        pit=back["pit"],
        wrist=back["wrist"],
        elbow=back["elbow"],
        shoulder=shoulder,
        clavicle=clavicle,
        track=_turn_xz(found.track, pivot, -phi),
        area=found.area,
        angle_deg=float(np.degrees(np.arctan2(rise, max(run, 1e-9)))),
        warnings=["an arm is raised above the shoulder: followed along its own direction"],
    )
