"""Which way the character faces: independent cues from the fitted body, combined.

``prepare`` picks a provisional front from the feet alone. Once legs, arms and trunk are
found (canonical frame: the provisional front is -Y), each cue here votes in -1..1
(+1: the provisional front is right, -1: the character faces +Y) with a weight saying
how much it can be trusted, and the weighted sum decides. No cue decides alone against
the others; the margin says how much they agree.

- feet: a foot reaches further ahead of the ankle than the heel reaches behind it
  (read on the leg's own slices, so a cape or a coat touching the floor is no heel);
- calves: below the knee the leg bulges backward (calf), its front (shin) is flat;
- sheets: capes, long hair and hair cards (thin sheets opened away from the core)
  hang behind the body;
- head: the skull and face sit forward of the neck;
- the file's convention (glTF and VRM characters face +Z, which is -Y in Blender), a
  prior that only counts when the shape is undecided.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from autorig.rigging import tolerances as tol
from autorig.rigging.skeleton_body import Body
from autorig.rigging.skeleton_legs import Legs


@dataclass
class Facing:
    """votes: cue name -> (vote -1..1, weight); score: the weighted mean vote (>= 0 keeps
    the provisional front); margin 0..1: how clearly and unanimously the cues decided."""

    votes: dict[str, tuple[float, float]] = field(default_factory=dict)
    score: float = 0.0
    margin: float = 0.0

    @property
    def flip(self) -> bool:
        return self.score < 0.0

    def describe(self) -> str:
        parts = [
            f"{k} {'agree' if v > 0 else 'disagree' if v < 0 else 'say nothing'} ({v:+.2f})"
            for k, (v, w) in self.votes.items()
            if w > 0
        ]
        return ", ".join(parts)


def _feet(body: Body, legs: Legs) -> tuple[float, float]:
    votes = []
    for leg in legs.sides.values():
        if not leg.slices:
            continue
        ka = body.k_of(float(leg.ankle[2]))
        foot = [s for s in leg.slices if s.k <= ka]
        if not foot:
            continue
        ys = []
        for s in foot:
            # the leg's own voxels in the slice near its centroid column band
            ys.append((s.y_min, s.y_min + s.y_extent))
        spans = np.array(ys)  # (slices, 2): front and back y of each foot slice
        toe = float(leg.ankle[1] - spans[:, 0].min())
        heel = float(spans[:, 1].max() - leg.ankle[1])
        votes.append((toe - heel) / body.height)
    if not votes:
        return 0.0, 0.0
    return float(np.clip(np.mean(votes) / tol.FACING_FEET_FULL, -1.0, 1.0)), tol.FACING_WEIGHTS["feet"]


def _calves(body: Body, legs: Legs) -> tuple[float, float]:
    votes = []
    for leg in legs.sides.values():
        if not leg.slices:
            continue
        z0 = float(leg.ankle[2]) + tol.CALF_WINDOW[0] * float(leg.knee[2] - leg.ankle[2])
        z1 = float(leg.ankle[2]) + tol.CALF_WINDOW[1] * float(leg.knee[2] - leg.ankle[2])
        sel = [s for s in leg.slices if z0 <= float(body.z(s.k)) <= z1]
        if len(sel) < 3:
            continue
        front = np.array([s.y_min for s in sel])
        back = np.array([s.y_min + s.y_extent for s in sel])

        # How far each outline bulges out of the straight line between its ends.
        def bulge(a: npt.NDArray[np.float64], sign: float) -> float:
            line = np.linspace(a[0], a[-1], len(a))
            return float(np.max(sign * (a - line)))

        b_back, b_front = bulge(back, 1.0), bulge(front, -1.0)
        span = float(np.mean([s.y_extent for s in sel]))
        if span > 0:
            votes.append((b_back - b_front) / span)
    if not votes:
        return 0.0, 0.0
    return float(np.clip(np.mean(votes) / tol.FACING_CALF_FULL, -1.0, 1.0)), tol.FACING_WEIGHTS["calves"]


def _sheets(body: Body, shoulder_z: float, hips_z: float) -> tuple[float, float]:
    """Thin sheets (solid minus core) between the hips and the shoulders, and how far
    behind the core's centre they hang."""
    sheet = body.grid.solid & ~body.core
    k0, k1 = body.k_of(hips_z), body.k_of(shoulder_z)
    s = sheet[:, :, k0 : k1 + 1]
    c = body.core[:, :, k0 : k1 + 1]
    n_s, n_c = int(s.sum()), int(c.sum())
    if n_c == 0 or n_s < tol.FACING_MIN_SHEET * n_c:
        return 0.0, 0.0
    ys = body.y(np.nonzero(s)[1])
    yc = body.y(np.nonzero(c)[1])
    half_depth = max(float(np.ptp(yc)) / 2.0, body.h)
    behind = (float(np.mean(ys)) - float(np.mean(yc))) / half_depth
    return float(np.clip(behind / tol.FACING_SHEET_FULL, -1.0, 1.0)), tol.FACING_WEIGHTS["sheets"]


def _head(
    body: Body, neck: npt.NDArray[np.float64], head: npt.NDArray[np.float64], head_top: npt.NDArray[np.float64]
) -> tuple[float, float]:
    """The head's middle against the neck: the face is in front of the spine."""
    k_n = body.k_of(float(neck[2]))
    k_mid = body.k_of(0.5 * float(head[2] + head_top[2]))
    core = body.core

    def centre_y(k: int) -> float | None:
        sl = core[:, :, k]
        band = sl[max(0, body.i0 - 2) : body.i0 + 3]
        jj = np.nonzero(band)[1]
        return float(body.y(jj).mean()) if jj.size else None

    yn, yh = centre_y(k_n), centre_y(k_mid)
    if yn is None or yh is None:
        return 0.0, 0.0
    size = max(float(head_top[2] - head[2]), body.h)
    return float(np.clip((yn - yh) / size / tol.FACING_HEAD_FULL, -1.0, 1.0)), tol.FACING_WEIGHTS["head"]


def decide(
    body: Body, legs: Legs, joints: dict[str, npt.NDArray[np.float64]], prior: float = 0.0, outline: float = 0.0
) -> Facing:
    """Combine the cues. joints: canonical joints (Neck, Head, HeadTop_End, LeftArm,
    RightArm, Hips); prior: the file convention's vote for the provisional front, -1..1
    (0: none); outline: the feet's vote from the whole outline (``prepare``), 0..1."""
    shoulder_z = 0.5 * float(joints["LeftArm"][2] + joints["RightArm"][2])
    votes = {
        "feet outline": (float(outline), tol.FACING_WEIGHTS["outline"]),
        "feet": _feet(body, legs),
        "calves": _calves(body, legs),
        "capes and hair": _sheets(body, shoulder_z, float(joints["Hips"][2])),
        "head": _head(body, joints["Neck"], joints["Head"], joints["HeadTop_End"]),
        "file convention": (float(np.clip(prior, -1.0, 1.0)), tol.FACING_WEIGHTS["prior"] if prior else 0.0),
    }
    feet, feet_w = votes["feet"]
    if feet_w > 0 and feet * float(outline) < 0:
        # Two readings of the feet that disagree: the lowest slab's outline also holds
        # whatever else reaches the floor (a sword's tip, a cape's hem, a foot tilted
        # toes-down); each leg's own slices hold only the foot. The outline says nothing.
        votes["feet outline"] = (0.0, 0.0)
    w = np.array([wt for _, wt in votes.values()])
    v = np.array([vt for vt, _ in votes.values()])
    total = float(w.sum())
    if total <= 0:
        return Facing(votes, 0.0, 0.0)
    score = float((w * v).sum() / total)
    # Margin: how strong the verdict is, times how little evidence spoke against it.
    sign = 1.0 if score >= 0 else -1.0
    pro = float((w * np.clip(sign * v, 0, None)).sum())
    against = float((w * np.clip(-sign * v, 0, None)).sum())
    agreement = 1.0 - against / pro if pro > 0 else 0.0
    margin = float(np.clip(abs(score) / tol.FACING_SCORE_FULL, 0.0, 1.0) * agreement)
    return Facing(votes, score, margin)
