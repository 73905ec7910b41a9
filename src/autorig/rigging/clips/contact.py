"""Contact: the hands against the body (`BodyShape`), the neutral arm angle that clears it, and
the arm turns that keep a clip's hands out of the body."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from autorig.rigging.clips.authoring import Context
from autorig.rigging.clips.kinematics import SIDES, ClipSkeleton, forward_kinematics, hand_of, neutral_pose
from autorig.rigging.tolerances import (
    ARM_FIX_EASE_S,
    ARM_FIX_KINDS,
    ARM_FIX_MAX_DEG,
    ARM_FIX_STEP_DEG,
    BODY_DIRECTIONS,
    BODY_PARTS,
    FPS,
    HAND_POINTS,
    HAND_RADIUS_HEIGHT,
    NEUTRAL_ARM_MAX_DEG,
    NEUTRAL_ARM_MIN_DEG,
    PENETRATION_TOLERANCE_HEIGHT,
)


@dataclass
class BodyShape:
    """What the contact measure needs, at rest, in world space.

    hulls: body-part bone -> (k, 4) float64 plane equations of a convex polytope around the
        skin that bone dominates (``n . x + d <= 0`` inside, ``n`` unit): BODY_DIRECTIONS
        support planes, a close outer bound of the convex hull.
    hands: "Left"/"Right" -> (m, 3) float64 points of the hand's skin.
    spheres: part or hand -> (centre (3,), radius): bounds that let a frame where the hand is
        nowhere near a part skip that part.
    """

    hulls: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    hands: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    spheres: dict[str, tuple[npt.NDArray[np.float64], float]] = field(default_factory=dict)

    @classmethod
    def from_skin(
        cls, skel: ClipSkeleton, vertices: npt.NDArray[np.float64], dominant: list[str | None], seed: int = 0
    ) -> BodyShape:
        """vertices: (n, 3) float64 world rest positions; dominant: (n,) the humanoid bone
        with the largest weight on each vertex (None for unweighted or other bones)."""
        vertices = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
        # Skin a finger dominates is the hand's.
        dom = np.array([hand_of(d) or "" for d in dominant])
        out = cls()
        for part in BODY_PARTS:
            pts = vertices[dom == part]
            if len(pts) < 8:
                continue
            support = (pts @ _DIRECTIONS.T).max(axis=0)
            out.hulls[part] = np.column_stack([_DIRECTIONS, -support])
            out.spheres[part] = _bounding_sphere(pts)
        rng = np.random.default_rng(seed)
        for side in SIDES:
            wrist = skel.joints.get(f"{side}Hand")
            if wrist is None:
                continue
            pts = vertices[dom == f"{side}Hand"]
            pts = pts[np.linalg.norm(pts - wrist, axis=1) <= HAND_RADIUS_HEIGHT * skel.height]
            if len(pts) == 0:
                pts = wrist[None]
            if len(pts) > HAND_POINTS:
                pts = pts[rng.choice(len(pts), HAND_POINTS, replace=False)]
            out.hands[side] = pts
            out.spheres[side] = _bounding_sphere(pts)
        return out

    def penetration(
        self, skel: ClipSkeleton, deltas: npt.NDArray[np.float64], offset: npt.NDArray[np.float64], sides: Sequence[str] = SIDES
    ) -> dict[str, npt.NDArray[np.float64]]:
        """Depth (world units) of each hand into the body or below the floor on every frame:
        side -> (f,).

        deltas: (f, b, 3, 3) global rotations (``skel.bones`` order); offset: (f, 3) hips translation.
        Hands and body parts move rigidly with their bones; depth is how far the deepest hand
        point is inside any part's polytope, or under the floor."""
        bones = skel.bones
        idx = {b: i for i, b in enumerate(bones)}
        pos = forward_kinematics(skel, deltas, offset)
        out = {}
        for side in sides:
            pts = self.hands.get(side)
            hb = f"{side}Hand"
            if pts is None or hb not in idx:
                continue
            j = idx[hb]
            # Bounding sphere of the posed hand, then the hand's points on the frames that need them.
            h_centre, h_radius = self.spheres[side]
            hc = np.einsum("fij,j->fi", deltas[:, j], h_centre - skel.joints[hb]) + pos[:, j]
            depth = np.zeros(len(deltas))
            low = np.flatnonzero(skel.h(hc) < h_radius)
            if len(low):
                x = np.einsum("fij,mj->fmi", deltas[low, j], pts - skel.joints[hb]) + pos[low, j, None, :]
                depth[low] = np.clip(-skel.h(x), 0.0, None).max(axis=1)
            for part, eq in self.hulls.items():
                if part not in idx:
                    continue
                k = idx[part]
                p_centre, p_radius = self.spheres[part]
                pc = np.einsum("fij,j->fi", deltas[:, k], p_centre - skel.joints[part]) + pos[:, k]
                near = np.flatnonzero(np.linalg.norm(hc - pc, axis=1) < h_radius + p_radius)
                if len(near) == 0:
                    continue
                x = np.einsum("fij,mj->fmi", deltas[near, j], pts - skel.joints[hb]) + pos[near, j, None, :]
                # Back into the part's rest frame: y = R^T (x - P) + h.
                y = np.einsum("fji,fmj->fmi", deltas[near, k], x - pos[near, k, None, :]) + skel.joints[part]
                signed = y @ eq[:, :3].T + eq[:, 3]  # (f, m, planes)
                inside = -signed.max(axis=2)  # > 0 inside: the distance to the nearest plane
                depth[near] = np.maximum(depth[near], np.clip(inside, 0.0, None).max(axis=1))
            out[side] = depth
        return out


def _bounding_sphere(points: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], float]:
    """A sphere (centre (3,), radius) holding ``points`` (m, 3): centred on their box."""
    centre = (points.min(axis=0) + points.max(axis=0)) / 2.0
    return centre, float(np.linalg.norm(points - centre, axis=1).max())


def _sphere_directions(n: int) -> npt.NDArray[np.float64]:
    """(n, 3) unit vectors spread evenly over the sphere (Fibonacci lattice)."""
    i = np.arange(n) + 0.5
    z = 1.0 - 2.0 * i / n
    phi = np.pi * (1.0 + 5**0.5) * i
    r = np.sqrt(1.0 - z * z)
    return np.column_stack([r * np.cos(phi), r * np.sin(phi), z])


_DIRECTIONS = _sphere_directions(BODY_DIRECTIONS)

# run(sides, frames) -> side -> (len(frames),) hand depth of the clip solved with ctx.arm_fix.
PenetrationRun: TypeAlias = Callable[[Sequence[str], npt.NDArray[np.int64]], dict[str, npt.NDArray[np.float64]]]


def neutral_abduction(skel: ClipSkeleton, body: BodyShape | None) -> dict[str, float]:
    """The smallest arm angle from vertical at which the hanging hand clears the body."""
    tol = PENETRATION_TOLERANCE_HEIGHT * skel.height
    out = {}
    bones = skel.bones
    for side in SIDES:
        angle = NEUTRAL_ARM_MIN_DEG
        if body is not None and side in body.hands:
            while angle < NEUTRAL_ARM_MAX_DEG:
                n = neutral_pose(skel, {s: angle for s in SIDES})
                g = np.stack([n[b] for b in bones])[None]
                depth = body.penetration(skel, g, np.zeros((1, 3))).get(side, np.zeros(1))
                if depth.max() <= tol:
                    break
                angle += 2.0
        out[side] = float(min(angle, NEUTRAL_ARM_MAX_DEG))
    return out


def _stretches(need: npt.NDArray[np.bool_], loop: bool) -> list[npt.NDArray[np.bool_]]:
    """The runs of consecutive True frames of ``need`` (f,), each as an (f,) bool mask; for a
    loop, a run through the last frame continues from the first."""
    f = len(need)
    edges = np.flatnonzero(np.diff(np.r_[0, need.astype(np.int8), 0]))
    runs = [np.arange(a, b) for a, b in zip(edges[::2], edges[1::2], strict=False)]
    if loop and len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == f - 1:
        runs = [np.r_[runs[-1], runs[0]]] + runs[1:-1]
    out = []
    for r in runs:
        m = np.zeros(f, dtype=bool)
        m[r] = True
        out.append(m)
    return out


def _ease(angles: npt.NDArray[np.float64], loop: bool, radius: int) -> npt.NDArray[np.float64]:
    """A smooth angle curve never below ``angles`` (f,): the largest value within ``radius``
    frames, then averaged over the same span (wrapping around for loops)."""
    f = len(angles)
    if radius < 1:
        return angles.copy()
    k = np.arange(-radius, radius + 1)
    idx = np.arange(f)[:, None] + k[None, :]
    idx = np.mod(idx, f - 1) if loop else np.clip(idx, 0, f - 1)  # a loop's last frame is its first
    peak = angles[idx].max(axis=1)
    eased: npt.NDArray[np.float64] = peak[idx].mean(axis=1)
    return eased


def _frame_distance(f: int, loop: bool) -> npt.NDArray[np.int64]:
    """(f, f) distance in frames (around the loop for loops)."""
    d = np.abs(np.arange(f)[:, None] - np.arange(f)[None, :])
    out: npt.NDArray[np.int64] = np.minimum(d, (f - 1) - d) if loop else d
    return out


def contact_fixes(
    ctx: Context, run: PenetrationRun, depth: npt.NDArray[np.float64], side: str, loop: bool
) -> list[tuple[str, float, npt.NDArray[np.float64]]]:
    """Turns of one arm that keep its hand out of the body: [(kind, 1.0, degrees per frame)].

    Each stretch of frames where the hand goes in gets its own turn, acting only on the frames
    nearer to it than to any other stretch, so turns never pile up. A frame's pose depends on
    that frame's rotations only, so the smallest clearing angle is found for all frames at
    once, for each kind of turn on a grid of angles; the kind that clears the stretch with the
    least turning wins, and its angles are eased in and out (never below what a frame needs)."""
    tol = PENETRATION_TOLERANCE_HEIGHT * ctx.skel.height
    f = len(depth)
    angles = np.arange(ARM_FIX_STEP_DEG, ARM_FIX_MAX_DEG + 1e-9, ARM_FIX_STEP_DEG)
    ease = max(1, int(round(ARM_FIX_EASE_S * FPS)))
    stretches = _stretches(depth > tol, loop)
    dist = _frame_distance(f, loop)
    to = np.stack([dist[:, m].min(axis=1) for m in stretches])  # (k, f) frames to each stretch
    fixes: list[tuple[str, float, npt.NDArray[np.float64]]] = []
    for s, stretch in enumerate(stretches):
        region = to[s] <= to.min(axis=0)  # frames nearer to this stretch than to any other
        others = np.delete(to, s, axis=0)
        gap = int(others[:, stretch].min()) if len(others) else f
        radius = min(ease, max(0, gap // 2 - 1))
        frames = np.flatnonzero(region & (to[s] <= 2 * radius))
        best: tuple[tuple[float, float], str, npt.NDArray[np.float64]] | None = None
        for kind in ARM_FIX_KINDS:
            clear = np.full(f, np.inf)  # smallest clearing angle per frame
            least = depth.copy()  # least depth reached per frame
            for a in angles:
                ctx.arm_fix = {side: [(kind, float(a), np.ones(f))]}
                d = np.full(f, np.inf)
                d[frames] = run((side,), frames)[side]
                clear[(d <= tol) & ~np.isfinite(clear)] = a
                least = np.minimum(least, d)
            cleared = np.isfinite(clear[stretch]).all()
            cost = (0.0, float(clear[stretch].max())) if cleared else (float(least[stretch].max()), 0.0)
            if best is None or cost < best[0]:
                best = (cost, kind, np.where(stretch, np.where(np.isfinite(clear), clear, angles[-1]), 0.0))
        # Easing raises a frame's angle to its neighbours'; a turn that goes past the clear
        # zone (into the body on the other side) then fails: ease less, down to none.
        assert best is not None  # ARM_FIX_KINDS is not empty
        kind, raw = best[1], best[2]
        for r in sorted({radius, radius // 2, 0}, reverse=True):
            profile = np.where(region, _ease(raw, loop, r), 0.0)
            ctx.arm_fix = {side: fixes + [(kind, 1.0, profile)]}
            moved = np.flatnonzero(profile > 0)
            # No frame the turn touches may end deeper than it was, or than the tolerance.
            allowed = np.maximum(np.where(stretch, best[0][0], depth), tol)[moved]
            if r == 0 or np.all(run((side,), moved)[side] <= allowed + 1e-12):
                break
        fixes.append((kind, 1.0, profile))
    ctx.arm_fix = {}
    return fixes
