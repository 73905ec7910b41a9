"""The animation library: keyframes for the humanoid skeleton, made from the character itself.

Every clip is computed on plain arrays, in world space, in named passes:

1. **character frame** (`ClipSkeleton`): joint positions, the character's own up / front /
   left axes, the ground height and the leg lengths. Nothing assumes +Z up or a facing.
2. **neutral pose** (`neutral_pose`): arms hanging at the sides with enough clearance that
   the hands stay outside the body, whatever the rest pose (T, A, or in between).
3. **authoring** (one function per clip, vectorised over frames): each bone turns by a
   rotation about the character's axes ("swing the upper arm forward by 20 degrees about
   the character's left axis"), relative to its parent and to the neutral pose. Legs are
   driven by targets for the ankles (two-bone IK), so feet stay planted and the hips drop
   exactly as much as the leg length requires: stride and hip height follow the legs.
4. **solve** (`_solve`): composes the rotations down the hierarchy into each bone's global
   rotation from its rest orientation, ``deltas[f, b]`` (world axes), and the hips'
   translation. Bone rolls never enter: the Blender side turns a global delta into each
   bone's local pose rotation with the bone's own rest matrix, whatever its roll.
5. **contact** (`BodyShape`): the hands' penetration into the body (or below the floor),
   measured on every frame against convex polytopes around the body parts, each moving with
   its bone. The neutral arm angle is the smallest that clears the body; a clip whose hands
   still go in gets the smallest arm turn (out, in or forward) that clears them, and the
   measured depth goes into the report.

Conventions: rotations are (3, 3) float64 matrices acting on world column vectors; angles
in the clip tables are degrees; lengths are world units unless a name ends in ``_LEG``
(fraction of the leg length) or ``_HEIGHT`` (fraction of the character's height). Left and
right are the character's own. Pure numpy/scipy: no bpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.interpolate import PchipInterpolator

from autorig.rigging import humanoid

# --- tolerances and proportions (one place) ----------------------------------------------

FPS = 30
# A clip's hands may enter the body by at most this (fraction of height) on any frame before
# its arms are moved out; small enough to read as "touching", not "inside".
PENETRATION_TOLERANCE_HEIGHT = 0.005
# Neutral arm abduction is searched in this range (degrees from hanging straight down);
# the minimum keeps a gap even on thin characters; the maximum is for toy-like characters
# whose arms are longer than their legs (hanging straight, the hands would go through the
# floor) and stops absurd spreads when a character's shape is odd.
NEUTRAL_ARM_MIN_DEG = 6.0
NEUTRAL_ARM_MAX_DEG = 75.0
# The neutral arm's abduction fades out as the arm is raised forward or back from this angle
# (degrees from hanging down) to this one (see `_solve`).
HANG_FADE_DEG = (45.0, 135.0)
# A clip whose hand goes into the body has that whole arm turned about the shoulder, in
# world axes, after the clip's own rotations: out to the side, in towards the midline (moves
# a raised hand away from the head), forward or back. The smallest turn that clears wins;
# tried in these steps up to this limit (big heads of toy-like characters need large turns
# for raised arms).
ARM_FIX_KINDS = ("out", "in", "forward", "back")
ARM_FIX_STEP_DEG = 4.0
ARM_FIX_MAX_DEG = 90.0
# A fix eases in and out over up to this long around the frames that need it, so the arm
# does not jump.
ARM_FIX_EASE_S = 0.2
# The ankle target stays within this fraction of the leg's full length, so the knee never
# snaps straight (a straight knee flips its bend direction under noise).
LEG_REACH = 0.985
# Hand points for the contact measure: skin dominated by the hand, no further than this
# (fraction of height) from the wrist, so a sword or shield held in the hand does not count.
HAND_RADIUS_HEIGHT = 0.12
# At most this many hand points per side (the measure is a maximum, a sample is enough).
HAND_POINTS = 96
# Body parts are convex polytopes bounded by planes facing this many directions spread over
# the sphere (a "k-DOP"): a little larger than the convex hull, and a fixed, small number of
# planes however dense the mesh, so checking every frame of every clip stays cheap.
BODY_DIRECTIONS = 64
# Body parts whose hulls the hands must stay out of (humanoid names); arms are not body here.
BODY_PARTS = (
    "Hips",
    "Spine",
    "Spine1",
    "Spine2",
    "Neck",
    "Head",
    "LeftUpLeg",
    "RightUpLeg",
    "LeftLeg",
    "RightLeg",
)
# When a rig lacks toes, the ball of the foot sits this far forward of the ankle (fraction of height).
FOOT_BALL_HEIGHT = 0.07

SIDES = ("Left", "Right")
# Hand poses, for skeletons with finger bones: the curl of joints 1, 2, 3 of the four fingers,
# of the thumb's, and the spread of the fingers at the knuckles (degrees; the index turns
# towards the thumb by the spread, the ring and pinky away by RING_PINKY_SPREAD times it).
HAND_POSES: dict[str, dict[str, tuple[float, ...] | float]] = {
    "flat": {"fingers": (0.0, 0.0, 0.0), "thumb": (0.0, 0.0, 0.0), "spread": 0.0},
    "relaxed": {"fingers": (18.0, 24.0, 14.0), "thumb": (8.0, 10.0, 8.0), "spread": 2.0},
    "spread": {"fingers": (-4.0, 2.0, 2.0), "thumb": (-8.0, 0.0, 0.0), "spread": 12.0},
    "fist": {"fingers": (80.0, 95.0, 60.0), "thumb": (25.0, 35.0, 45.0), "spread": -2.0},
}
RING_PINKY_SPREAD = (-0.7, -1.4)


# --- rotation helpers ---------------------------------------------------------------------


def rot(axis: np.ndarray, degrees) -> np.ndarray:
    """Rotation by ``degrees`` (scalar or (f,)) about the unit ``axis`` (3,), right-handed.
    Returns (3, 3) for a scalar angle, (f, 3, 3) for an array."""
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    th = np.radians(np.asarray(degrees, dtype=np.float64))
    c, s = np.cos(th)[..., None, None], np.sin(th)[..., None, None]
    k = np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])
    return np.eye(3) * c + s * k + (1.0 - c) * np.outer(a, a)


def arc(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The shortest rotation taking direction ``u`` to direction ``v``; both (..., 3).
    Returns (..., 3, 3). Opposite directions turn about any perpendicular axis."""
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    u = u / np.linalg.norm(u, axis=-1, keepdims=True)
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)
    axis = np.cross(u, v)
    s = np.linalg.norm(axis, axis=-1)
    c = np.sum(u * v, axis=-1)
    # A perpendicular axis for the antiparallel case.
    alt = np.cross(u, np.where(np.abs(u[..., :1]) < 0.9, [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]))
    axis = np.where((s < 1e-9)[..., None], alt, axis)
    axis = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    th = np.arctan2(s, c)
    k = np.zeros(axis.shape[:-1] + (3, 3))
    k[..., 0, 1], k[..., 0, 2] = -axis[..., 2], axis[..., 1]
    k[..., 1, 0], k[..., 1, 2] = axis[..., 2], -axis[..., 0]
    k[..., 2, 0], k[..., 2, 1] = -axis[..., 1], axis[..., 0]
    sn, cs = np.sin(th)[..., None, None], np.cos(th)[..., None, None]
    return np.eye(3) + sn * k + (1.0 - cs) * (k @ k)


def _frame(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """An orthonormal frame (..., 3, 3) whose columns are ``primary``, ``secondary`` made
    orthogonal to it, and their cross product."""
    x = primary / np.linalg.norm(primary, axis=-1, keepdims=True)
    y = secondary - np.sum(secondary * x, axis=-1, keepdims=True) * x
    y = y / np.linalg.norm(y, axis=-1, keepdims=True)
    return np.stack([x, y, np.cross(x, y)], axis=-1)


def keys(t: np.ndarray, points: list[tuple[float, float]]) -> np.ndarray:
    """A channel from keyframes ``[(time, value), ...]`` sampled at ``t`` (f,): monotone
    cubic between keys (no overshoot), held before the first and after the last."""
    kt = np.array([p[0] for p in points], dtype=np.float64)
    kv = np.array([p[1] for p in points], dtype=np.float64)
    if len(kt) == 1:
        return np.full(len(t), kv[0])
    return PchipInterpolator(kt, kv)(np.clip(t, kt[0], kt[-1]))


def smooth(x: np.ndarray) -> np.ndarray:
    """Smoothstep of ``x`` clipped to [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


# --- the character ------------------------------------------------------------------------


@dataclass
class ClipSkeleton:
    """The character as the clip generator sees it, in world space.

    joints: humanoid joint name -> (3,) float64 world position; every bone of
        humanoid.ALL_BONE_NAMES the armature has (fingers too), plus end joints (HeadTop_End,
        *Toe_End, finger ends) when known.
    up, front, left: (3,) unit vectors of the character's own frame (left = up x front).
    height: float, the character's height along ``up``.
    ground: float, height of the soles along ``up`` (min over the mesh of ``v . up``).
    """

    joints: dict[str, np.ndarray]
    up: np.ndarray
    front: np.ndarray
    left: np.ndarray
    height: float
    ground: float

    def __post_init__(self) -> None:
        self.joints = {k: np.asarray(v, dtype=np.float64).reshape(3) for k, v in self.joints.items()}
        self.up = _unit(self.up)
        self.front = _unit(self.front - np.dot(self.front, self.up) * self.up)
        self.left = np.cross(self.up, self.front)
        missing = [b for b in ("Hips", "LeftUpLeg", "LeftLeg", "LeftFoot", "RightUpLeg", "RightLeg", "RightFoot") if b not in self.joints]
        if missing:
            raise ValueError(f"the skeleton lacks {', '.join(missing)}: clips need hips and two legs")

    @property
    def bones(self) -> list[str]:
        """The humanoid bones present, parents first."""
        return [b for b in humanoid.ALL_BONE_NAMES if b in self.joints]

    def parent(self, bone: str) -> str | None:
        """The nearest present humanoid ancestor."""
        p = humanoid.PARENT[bone]
        while p is not None and p not in self.joints:
            p = humanoid.PARENT[p]
        return p

    def h(self, p: np.ndarray) -> np.ndarray:
        """Height above the ground of point(s) p (..., 3)."""
        return p @ self.up - self.ground

    def length(self, a: str, b: str) -> float:
        return float(np.linalg.norm(self.joints[b] - self.joints[a]))

    def leg_length(self, side: str) -> float:
        return self.length(f"{side}UpLeg", f"{side}Leg") + self.length(f"{side}Leg", f"{side}Foot")

    @property
    def leg(self) -> float:
        """Mean hip-to-ankle length along the bones; the unit of every stride and drop."""
        return float(np.mean([self.leg_length(s) for s in SIDES]))

    def heel(self, side: str) -> np.ndarray:
        """The heel on the ground: the ankle dropped to the sole."""
        a = self.joints[f"{side}Foot"]
        return a - self.h(a) * self.up

    def ball(self, side: str) -> np.ndarray:
        """The ball of the foot on the ground (the toe joint dropped to the sole)."""
        t = self.joints.get(f"{side}ToeBase")
        if t is None:
            t = self.joints[f"{side}Foot"] + self.front * FOOT_BALL_HEIGHT * self.height
        return t - self.h(t) * self.up


def _hand_of(name: str | None) -> str | None:
    """A finger bone's hand (``LeftHandIndex2`` -> ``LeftHand``); other names unchanged."""
    finger = humanoid.finger_of(name) if name else None
    return f"{finger[0]}Hand" if finger else name


def _unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64).reshape(3)
    return v / np.linalg.norm(v)


# --- contact: hands against the body -------------------------------------------------------


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

    hulls: dict[str, np.ndarray] = field(default_factory=dict)
    hands: dict[str, np.ndarray] = field(default_factory=dict)
    spheres: dict[str, tuple[np.ndarray, float]] = field(default_factory=dict)

    @classmethod
    def from_skin(cls, skel: ClipSkeleton, vertices: np.ndarray, dominant: list[str | None], seed: int = 0) -> "BodyShape":
        """vertices: (n, 3) float64 world rest positions; dominant: (n,) the humanoid bone
        with the largest weight on each vertex (None for unweighted or other bones)."""
        vertices = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
        # Skin a finger dominates is the hand's.
        dom = np.array([_hand_of(d) or "" for d in dominant])
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

    def penetration(self, skel: ClipSkeleton, deltas: np.ndarray, offset: np.ndarray, sides=SIDES) -> dict[str, np.ndarray]:
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


def _bounding_sphere(points: np.ndarray) -> tuple[np.ndarray, float]:
    """A sphere (centre (3,), radius) holding ``points`` (m, 3): centred on their box."""
    centre = (points.min(axis=0) + points.max(axis=0)) / 2.0
    return centre, float(np.linalg.norm(points - centre, axis=1).max())


def _sphere_directions(n: int) -> np.ndarray:
    """(n, 3) unit vectors spread evenly over the sphere (Fibonacci lattice)."""
    i = np.arange(n) + 0.5
    z = 1.0 - 2.0 * i / n
    phi = np.pi * (1.0 + 5**0.5) * i
    r = np.sqrt(1.0 - z * z)
    return np.column_stack([r * np.cos(phi), r * np.sin(phi), z])


_DIRECTIONS = _sphere_directions(BODY_DIRECTIONS)


def forward_kinematics(skel: ClipSkeleton, deltas: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """(f, b, 3) posed joint positions for global rotations ``deltas`` (f, b, 3, 3) and the
    hips translation ``offset`` (f, 3); bones in ``skel.bones`` order."""
    bones = skel.bones
    idx = {b: i for i, b in enumerate(bones)}
    f = len(deltas)
    pos = np.zeros((f, len(bones), 3))
    for i, b in enumerate(bones):
        p = skel.parent(b)
        if p is None:
            pos[:, i] = skel.joints[b] + offset
        else:
            k = idx[p]
            pos[:, i] = pos[:, k] + deltas[:, k] @ (skel.joints[b] - skel.joints[p])
    return pos


def end_point(skel: ClipSkeleton, deltas: np.ndarray, pos: np.ndarray, bone: str, point: np.ndarray) -> np.ndarray:
    """(f, 3) where the rest-pose ``point`` (3,) rigidly attached to ``bone`` goes."""
    i = skel.bones.index(bone)
    return pos[:, i] + deltas[:, i] @ (np.asarray(point) - skel.joints[bone])


# --- the neutral pose -----------------------------------------------------------------------


def _arm_dir(skel: ClipSkeleton, side: str, abduct_deg: float) -> np.ndarray:
    """Hanging down, ``abduct_deg`` out to the side."""
    s = 1.0 if side == "Left" else -1.0
    a = np.radians(abduct_deg)
    return -skel.up * np.cos(a) + s * skel.left * np.sin(a)


def neutral_pose(skel: ClipSkeleton, abduct: dict[str, float]) -> dict[str, np.ndarray]:
    """Global rotations (3, 3) from rest to the neutral standing pose: upper arms and
    forearms aimed down at ``abduct[side]`` degrees from vertical, the rest as at rest."""
    n = {b: np.eye(3) for b in skel.bones}
    for side in SIDES:
        arm, fore, hand = f"{side}Arm", f"{side}ForeArm", f"{side}Hand"
        if arm not in skel.joints or fore not in skel.joints:
            continue
        target = _arm_dir(skel, side, abduct[side])
        r_arm = arc(skel.joints[fore] - skel.joints[arm], target)
        n[arm] = r_arm
        if hand in skel.joints:
            # The forearm straight in line with the upper arm, turned only as little as needed.
            now = r_arm @ (skel.joints[hand] - skel.joints[fore])
            n[fore] = arc(now, target) @ r_arm
            n[hand] = n[fore]
        else:
            n[fore] = r_arm
    for b in skel.bones:  # fingers hang with their hand
        finger = humanoid.finger_of(b)
        if finger and f"{finger[0]}Hand" in n:
            n[b] = n[f"{finger[0]}Hand"]
    return n


# --- authoring --------------------------------------------------------------------------------


@dataclass
class FootTarget:
    """Where an ankle goes, per frame: ``lift`` (f,) height above its planted place,
    ``shift`` (f, 3) horizontal move (world), ``pitch`` (f,) degrees, > 0 heel up (pivot on
    the ball), < 0 toes up (pivot on the heel); ``yaw`` (f,) degrees about up."""

    lift: np.ndarray
    shift: np.ndarray
    pitch: np.ndarray
    yaw: np.ndarray | None = None


class Pose:
    """One clip being authored: every method is vectorised over the clip's frames.

    ``turn(bone, axis, deg)`` adds a rotation of ``bone`` relative to its parent, about a
    world axis of the neutral pose (the character's up / front / left); later turns apply
    after earlier ones. Arm bones take their turns as if the arm hung straight down (the
    neutral abduction comes after them, see `_solve`), so an arm held out to the side
    still swings and bends instead of rolling about its own length. ``feet[side]`` drives a
    leg by its ankle; ``offset`` moves the hips."""

    def __init__(self, ctx: "_Context", t: np.ndarray):
        self.ctx = ctx
        self.t = t
        self.f = len(t)
        self.w: dict[str, np.ndarray] = {}
        self.offset = np.zeros((self.f, 3))
        self.feet: dict[str, FootTarget] = {}
        # Reference poses (T, A) set their arms absolutely and take no contact fix.
        self.use_arm_fix = True

    def turn(self, bone: str, axis: np.ndarray, degrees) -> None:
        if bone not in self.ctx.skel.joints:
            return
        r = rot(axis, np.broadcast_to(np.asarray(degrees, dtype=np.float64), (self.f,)))
        self.w[bone] = r @ self.w[bone] if bone in self.w else r

    def plant(self, side: str, lift=0.0, shift=None, pitch=0.0, yaw=None) -> None:
        z = np.zeros(self.f)
        self.feet[side] = FootTarget(
            lift=z + lift,
            shift=np.zeros((self.f, 3)) if shift is None else np.broadcast_to(shift, (self.f, 3)).copy(),
            pitch=z + pitch,
            yaw=None if yaw is None else z + yaw,
        )


class _Context:
    """The character and the helpers every clip function uses."""

    def __init__(self, skel: ClipSkeleton, neutral: dict[str, np.ndarray], abduct: dict[str, float]):
        self.skel = skel
        self.neutral = neutral
        self.neutral_abduct = abduct
        # side -> contact fixes [(kind, degrees, weight per frame (f,))], applied in order.
        self.arm_fix: dict[str, list[tuple[str, float, np.ndarray]]] = {}
        self.U, self.F, self.L = skel.up, skel.front, skel.left
        self.leg = skel.leg

    def side_sign(self, side: str) -> float:
        return 1.0 if side == "Left" else -1.0

    def hang(self, side: str) -> np.ndarray:
        """(3, 3) the neutral arm's turn out to its side from hanging straight down."""
        return rot(self.side_sign(side) * self.F, self.neutral_abduct[side])

    def fix_axis(self, side: str, kind: str) -> np.ndarray:
        """World axis of a contact fix (ARM_FIX_KINDS) for an arm, positive angles."""
        if kind == "out":
            return self.side_sign(side) * self.F
        if kind == "in":
            return -self.side_sign(side) * self.F
        if kind == "back":
            return self.L
        return -self.L  # forward

    # Named rotations of the neutral pose, so clip tables read as anatomy.
    def limb_forward(self, pose: Pose, bone: str, deg) -> None:
        """A hanging limb swings forward (negative: back)."""
        pose.turn(bone, -self.L, deg)

    def bend_forward(self, pose: Pose, bone: str, deg) -> None:
        """An upright bone (spine, neck, head) tips forward (negative: back)."""
        pose.turn(bone, self.L, deg)

    def twist_left(self, pose: Pose, bone: str, deg) -> None:
        """Turn about the up axis towards the character's left (negative: right)."""
        pose.turn(bone, self.U, deg)

    def lean_left(self, pose: Pose, bone: str, deg) -> None:
        """Tip sideways towards the character's left (negative: right)."""
        pose.turn(bone, -self.F, deg)

    def abduct(self, pose: Pose, side: str, bone: str, deg) -> None:
        """Move an arm (or raise a shoulder) out and up to its own side."""
        pose.turn(bone, self.side_sign(side) * self.F, deg)

    def rotate_out(self, pose: Pose, side: str, bone: str, deg) -> None:
        """External rotation of a hanging upper arm about its own (vertical) axis, so that
        the elbow's hinge turns from bending forward to bending out to the side."""
        pose.turn(bone, self.side_sign(side) * self.U, deg)

    def flex_elbow(self, pose: Pose, side: str, deg) -> None:
        pose.turn(f"{side}ForeArm", -self.L, deg)

    def palm_normal(self, side: str) -> np.ndarray | None:
        """(3,) the rest pose's palm normal of a hand with fingers (towards the palm), or None.
        The hand's axis runs from the wrist to the middle (or mitten) knuckle, its width from
        the pinky's knuckle to the index's (the character's front on a mitten)."""
        j = self.skel.joints
        wrist = j.get(f"{side}Hand")
        knuckle = j.get(f"{side}HandMiddle1", j.get(f"{side}HandIndex1"))
        if wrist is None or knuckle is None:
            return None
        a, b = j.get(f"{side}HandIndex1"), j.get(f"{side}HandPinky1")
        width = _unit(a - b) if a is not None and b is not None else self.F
        return self.side_sign(side) * _unit(np.cross(_unit(knuckle - wrist), width))

    def hand(self, pose: Pose, side: str, curl=(0.0, 0.0, 0.0), thumb=(0.0, 0.0, 0.0), spread=0.0) -> None:
        """Curl a hand's fingers (positive: towards the palm) at joints 1, 2, 3 and spread
        them at the knuckles; each value a number or (f,) per frame. Nothing without fingers."""
        normal = self.palm_normal(side)
        if normal is None:
            return
        j = self.skel.joints
        turn_in = self.neutral[f"{side}Hand"]  # rest -> neutral pose, the axes turn with the hand
        spreads = {"Index": 1.0, "Middle": 0.0, "Ring": RING_PINKY_SPREAD[0], "Pinky": RING_PINKY_SPREAD[1]}
        for finger in humanoid.FINGERS:
            for k in range(1, humanoid.PHALANGES + 1):
                bone, nxt = f"{side}Hand{finger}{k}", f"{side}Hand{finger}{k + 1}"
                if bone not in j or nxt not in j:
                    continue
                d = _unit(j[nxt] - j[bone])
                axis = np.cross(d, normal)
                if np.linalg.norm(axis) < 1e-6:
                    continue
                axis = turn_in @ _unit(axis)
                amount = (thumb if finger == "Thumb" else curl)[k - 1]
                if k == 1 and finger in spreads:
                    pose.turn(bone, turn_in @ (self.side_sign(side) * normal), np.asarray(spread) * spreads[finger])
                pose.turn(bone, axis, amount)

    def hand_pose(self, pose: Pose, side: str, name: str, amount=1.0) -> None:
        """One of HAND_POSES, scaled by ``amount`` (a number or (f,) per frame)."""
        h = HAND_POSES[name]
        a = np.asarray(amount, dtype=np.float64)
        self.hand(pose, side, [c * a for c in h["fingers"]], [c * a for c in h["thumb"]], h["spread"] * a)


# --- the clips ------------------------------------------------------------------------------------
# Each returns a Pose for times t (seconds). Angles in degrees. Phases are periodic for loops.


def _breathe(c: _Context, p: Pose, period: float, amount: float = 1.0) -> None:
    w = np.sin(2 * np.pi * p.t / period)
    c.bend_forward(p, "Spine1", -1.2 * amount * w)
    c.bend_forward(p, "Spine2", -0.8 * amount * w)
    c.bend_forward(p, "Neck", 1.5 * amount * w)
    for side in SIDES:
        c.abduct(p, side, f"{side}Shoulder", 1.0 * amount * w)


def _arms_relaxed(c: _Context, p: Pose, sway: float = 0.0, period: float = 4.0) -> None:
    for side in SIDES:
        s = np.sin(2 * np.pi * p.t / period + (0.0 if side == "Left" else 0.6))
        c.limb_forward(p, f"{side}Arm", 2.0 + sway * s)
        c.flex_elbow(p, side, 12.0 + 0.5 * sway * s)


def clip_idle(c: _Context, t: np.ndarray) -> Pose:
    """Standing, breathing, the weight shifting gently from foot to foot."""
    p = Pose(c, t)
    period = t[-1]
    w = np.sin(2 * np.pi * t / period)
    # Weight shift: the pelvis slides over one foot and tilts; the legs follow by IK.
    p.offset += c.L[None] * (0.025 * c.leg * w)[:, None] - c.U[None] * 0.012 * c.leg
    c.lean_left(p, "Hips", -2.0 * w)
    c.lean_left(p, "Spine", 1.2 * w)
    c.lean_left(p, "Spine1", 0.8 * w)
    _breathe(c, p, period / 2)
    _arms_relaxed(c, p, sway=2.0, period=period)
    c.twist_left(p, "Head", 4.0 * np.sin(2 * np.pi * t / period + 1.0))
    c.bend_forward(p, "Head", 2.0 * np.sin(4 * np.pi * t / period))
    for side in SIDES:
        p.plant(side)
    return p


def _gait(c: _Context, t: np.ndarray, *, period: float, stride_leg: float, stance: float, lift_leg: float,
          bob_leg: float, arm_swing: float, elbow: float, lean: float, hip_yaw: float, crouch_leg: float) -> Pose:
    """A gait in place: each foot moves back on the ground through its stance and forward
    through the air; the stride, lift and hips' height scale with the leg."""
    p = Pose(c, t)
    stride = stride_leg * c.leg
    for side in SIDES:
        phase = np.mod(t / period + (0.0 if side == "Left" else 0.5), 1.0)
        in_stance = phase < stance
        u = np.clip(phase / stance, 0.0, 1.0)
        v = np.clip((phase - stance) / (1.0 - stance), 0.0, 1.0)
        forward = np.where(in_stance, 0.5 - u, -0.5 + smooth(v)) * stride
        lift = np.where(in_stance, 0.0, np.sin(np.pi * v) * lift_leg * c.leg)
        # Heel strike with the toes up, flat through the stance, heel off at the push.
        pitch = np.where(
            in_stance,
            np.interp(u, [0.0, 0.15, 0.65, 1.0], [-12.0, 0.0, 0.0, 28.0]),
            np.interp(v, [0.0, 0.35, 1.0], [28.0, 10.0, -12.0]),
        )
        p.plant(side, lift=lift, shift=c.F[None] * forward[:, None], pitch=pitch)
        # The opposite arm swings with the leg.
        swing = -arm_swing * np.cos(2 * np.pi * (t / period + (0.0 if side == "Left" else 0.5)))
        c.limb_forward(p, f"{side}Arm", swing)
        c.flex_elbow(p, side, elbow + 0.4 * np.clip(swing, 0.0, None))
    ph = 2 * np.pi * t / period
    c.twist_left(p, "Hips", -hip_yaw * np.cos(ph))
    # The chest turns against the pelvis.
    c.twist_left(p, "Spine", 0.7 * hip_yaw * np.cos(ph))
    c.twist_left(p, "Spine1", 0.7 * hip_yaw * np.cos(ph))
    c.lean_left(p, "Hips", 2.5 * np.sin(ph))
    c.lean_left(p, "Spine", -2.0 * np.sin(ph))
    c.bend_forward(p, "Spine", lean * 0.5)
    c.bend_forward(p, "Spine1", lean * 0.5)
    c.bend_forward(p, "Head", -lean * 0.6)
    # Hips drop as far as the stride needs (solved per frame) plus a bounce on each step.
    p.offset -= c.U[None] * (crouch_leg + bob_leg * (0.5 + 0.5 * np.cos(2 * ph)))[:, None] * c.leg
    return p


def clip_walk(c: _Context, t: np.ndarray) -> Pose:
    return _gait(c, t, period=t[-1], stride_leg=0.62, stance=0.6, lift_leg=0.09, bob_leg=0.012,
                 arm_swing=18.0, elbow=14.0, lean=3.0, hip_yaw=6.0, crouch_leg=0.01)


def clip_run(c: _Context, t: np.ndarray) -> Pose:
    p = _gait(c, t, period=t[-1], stride_leg=0.95, stance=0.38, lift_leg=0.26, bob_leg=0.03,
              arm_swing=38.0, elbow=85.0, lean=10.0, hip_yaw=9.0, crouch_leg=0.04)
    return p


def clip_jump(c: _Context, t: np.ndarray) -> Pose:
    """Crouch, spring up with the arms, tuck, land softly, stand."""
    p = Pose(c, t)
    lg = c.leg
    crouch = keys(t, [(0.0, 0.0), (0.15, 0.0), (0.45, 0.22), (0.6, 0.05), (0.68, 0.0), (1.12, 0.0), (1.22, 0.2), (1.45, 0.06), (1.8, 0.0)])
    # Ballistic: a parabola between take-off and landing.
    air = np.where((t > 0.68) & (t < 1.12), 0.3 * (1.0 - ((t - 0.9) / 0.22) ** 2), 0.0)
    tuck = keys(t, [(0.0, 0.0), (0.7, 0.0), (0.9, 0.12), (1.08, 0.0), (1.8, 0.0)])
    heel = keys(t, [(0.0, 0.0), (0.5, 0.0), (0.66, 35.0), (0.8, 20.0), (1.06, 15.0), (1.14, 0.0), (1.8, 0.0)])
    p.offset += c.U[None] * ((air - crouch) * lg)[:, None]
    for side in SIDES:
        p.plant(side, lift=(air + tuck) * lg, pitch=heel)
        arms = keys(t, [(0.0, 0.0), (0.15, 0.0), (0.45, -45.0), (0.72, 150.0), (0.95, 120.0), (1.2, 30.0), (1.8, 0.0)])
        c.limb_forward(p, f"{side}Arm", arms)
        c.flex_elbow(p, side, keys(t, [(0.0, 12.0), (0.45, 25.0), (0.72, 10.0), (1.2, 40.0), (1.8, 12.0)]))
    bend = keys(t, [(0.0, 0.0), (0.15, 0.0), (0.45, 22.0), (0.7, -4.0), (0.95, 0.0), (1.22, 18.0), (1.8, 0.0)])
    c.bend_forward(p, "Spine", bend * 0.4)
    c.bend_forward(p, "Spine1", bend * 0.35)
    c.bend_forward(p, "Spine2", bend * 0.25)
    c.bend_forward(p, "Head", -bend * 0.5)
    return p


def clip_wave(c: _Context, t: np.ndarray) -> Pose:
    """Raise the right hand and wave it side to side, then lower it."""
    p = Pose(c, t)
    up = keys(t, [(0.0, 0.0), (0.2, 0.0), (0.7, 1.0), (2.4, 1.0), (2.9, 0.0), (3.0, 0.0)])
    side = "Right"
    c.rotate_out(p, side, f"{side}Arm", 80.0 * up)
    c.abduct(p, side, f"{side}Arm", 95.0 * up)
    c.abduct(p, side, f"{side}Shoulder", 12.0 * up)
    wave = 22.0 * np.sin(2 * np.pi * 2.2 * (t - 0.7)) * smooth((t - 0.5) / 0.3) * smooth((2.6 - t) / 0.3)
    c.flex_elbow(p, side, 12.0 + (88.0 * up) + wave)
    c.lean_left(p, "Spine1", 3.0 * up)
    # The waving hand opens, fingers spread; the other hangs relaxed.
    c.hand_pose(p, side, "relaxed", 1.0 - up)
    c.hand_pose(p, side, "spread", up)
    c.hand_pose(p, "Left", "relaxed")
    c.twist_left(p, "Head", -8.0 * up)
    c.bend_forward(p, "Head", -4.0 * up)
    _arms_relaxed_one(c, p, "Left")
    _breathe(c, p, 1.5, 0.6)
    for s in SIDES:
        p.plant(s)
    p.offset -= c.U[None] * 0.01 * c.leg
    return p


def _arms_relaxed_one(c: _Context, p: Pose, side: str) -> None:
    c.limb_forward(p, f"{side}Arm", 2.0)
    c.flex_elbow(p, side, 12.0)


def clip_dance(c: _Context, t: np.ndarray) -> Pose:
    """Two bars at 120 bpm: a bounce on every beat, hips swaying, arms pumping; then the
    arms go up and pump over the head, and come back down to loop."""
    p = Pose(c, t)
    beat = 0.5
    bounce = 0.5 - 0.5 * np.cos(2 * np.pi * t / beat)
    sway = np.sin(2 * np.pi * t / (2 * beat))
    p.offset += (c.L[None] * (0.05 * c.leg * sway)[:, None]) - c.U[None] * ((0.03 + 0.05 * bounce) * c.leg)[:, None]
    c.lean_left(p, "Hips", -6.0 * sway)
    c.lean_left(p, "Spine", 4.0 * sway)
    c.lean_left(p, "Spine2", 3.0 * sway)
    c.twist_left(p, "Spine1", 8.0 * sway)
    c.bend_forward(p, "Head", 6.0 * bounce - 3.0)
    c.lean_left(p, "Head", -3.0 * sway)
    # 0 in the first bar (arms pumping in front), 1 in the second (arms overhead).
    high = smooth((t - 1.75) / 0.5) * smooth((4.0 - t) / 0.4)
    for i, side in enumerate(SIDES):
        pump = np.sin(2 * np.pi * t / (2 * beat) + np.pi * i)
        c.abduct(p, side, f"{side}Arm", 20.0 + 10.0 * high)
        c.limb_forward(p, f"{side}Arm", (1 - high) * (35.0 + 25.0 * pump) + high * (150.0 + 12.0 * pump))
        c.flex_elbow(p, side, (1 - high) * (95.0 - 20.0 * pump) + high * (35.0 + 25.0 * bounce))
        p.plant(side, pitch=(12.0 * bounce * (0.5 + 0.5 * np.sin(2 * np.pi * t / (2 * beat) + np.pi * i))))
    return p


def clip_sit_down(c: _Context, t: np.ndarray) -> Pose:
    """Sit down on a seat at knee height behind the character, and stay seated."""
    p = Pose(c, t)
    s = keys(t, [(0.0, 0.0), (0.3, 0.0), (1.6, 1.0), (3.0, 1.0)])
    lean = keys(t, [(0.0, 0.0), (0.3, 0.0), (0.95, 28.0), (1.6, 8.0), (2.2, 4.0), (3.0, 4.0)])
    sk = c.skel
    thigh = np.mean([sk.length(f"{x}UpLeg", f"{x}Leg") for x in SIDES])
    knee_h = np.mean([sk.h(sk.joints[f"{x}Leg"]) for x in SIDES])
    hip_h = np.mean([sk.h(sk.joints[f"{x}UpLeg"]) for x in SIDES])
    # Seated: hip joints at knee height, a thigh's length behind the knees (which sit a
    # little in front of the ankles).
    drop = hip_h - knee_h
    back = thigh * 0.92
    p.offset += (-c.U[None] * drop - c.F[None] * back) * s[:, None]
    for side in SIDES:
        p.plant(side, shift=c.F[None] * (0.12 * thigh * s)[:, None] + c.side_sign(side) * c.L[None] * (0.05 * thigh * s)[:, None])
        c.limb_forward(p, f"{side}Arm", 2.0 + 28.0 * s)
        c.abduct(p, side, f"{side}Arm", 8.0 * s)
        c.flex_elbow(p, side, 12.0 + 38.0 * s)
    c.bend_forward(p, "Spine", lean * 0.5)
    c.bend_forward(p, "Spine1", lean * 0.3)
    c.bend_forward(p, "Spine2", lean * 0.2)
    c.bend_forward(p, "Head", -lean * 0.4)
    # Seated, the pelvis tilts back a little.
    c.bend_forward(p, "Hips", -6.0 * s)
    _breathe(c, p, 1.5, 0.5)
    return p


def clip_punch(c: _Context, t: np.ndarray) -> Pose:
    """From a boxing guard: a right cross, back to guard, a left jab, back to guard."""
    p = Pose(c, t)
    cross = keys(t, [(0.0, 0.0), (0.25, 0.0), (0.42, 1.0), (0.55, 1.0), (0.8, 0.0), (1.6, 0.0)])
    jab = keys(t, [(0.0, 0.0), (0.9, 0.0), (1.03, 1.0), (1.12, 1.0), (1.35, 0.0), (1.6, 0.0)])
    ext = {"Right": cross, "Left": jab}
    for side in SIDES:
        c.hand_pose(p, side, "fist")
        e = ext[side]
        c.abduct(p, side, f"{side}Arm", 12.0 - 16.0 * e)
        c.limb_forward(p, f"{side}Arm", 55.0 + 33.0 * e)
        c.flex_elbow(p, side, 100.0 - 92.0 * e)
        p.plant(side, shift=c.F[None] * c.side_sign(side) * 0.06 * c.leg, pitch=10.0 * (cross if side == "Right" else 0.0))
    yaw = 22.0 * cross - 12.0 * jab
    c.twist_left(p, "Hips", yaw * 0.3)
    c.twist_left(p, "Spine", yaw * 0.3)
    c.twist_left(p, "Spine1", yaw * 0.25)
    c.twist_left(p, "Spine2", yaw * 0.15)
    c.twist_left(p, "Head", -yaw * 0.7)
    c.bend_forward(p, "Spine1", 6.0 + 4.0 * cross)
    c.bend_forward(p, "Head", 4.0)
    p.offset -= c.U[None] * (0.05 * c.leg) + c.F[None] * (0.02 * c.leg) * cross[:, None]
    return p


def clip_grip(c: _Context, t: np.ndarray) -> Pose:
    """Both forearms raised in front, the hands closing into fists and opening again."""
    p = Pose(c, t)
    close = keys(t, [(0.0, 0.0), (0.2, 0.0), (0.8, 1.0), (1.3, 1.0), (1.9, 0.0), (2.0, 0.0)])
    for side in SIDES:
        c.limb_forward(p, f"{side}Arm", 12.0)
        c.flex_elbow(p, side, 70.0)
        c.hand_pose(p, side, "flat", 1.0)
        c.hand_pose(p, side, "fist", close)
        p.plant(side)
    c.bend_forward(p, "Head", 10.0)
    _breathe(c, p, 2.0, 0.5)
    p.offset -= c.U[None] * 0.01 * c.leg
    return p


def clip_look_around(c: _Context, t: np.ndarray) -> Pose:
    """Look to the left, back, to the right, back, with the chest turning a little."""
    p = Pose(c, t)
    yaw = keys(t, [(0.0, 0.0), (0.3, 0.0), (1.1, 60.0), (1.7, 60.0), (2.3, 0.0), (2.6, 0.0), (3.4, -60.0), (4.0, -60.0), (4.6, 0.0), (5.0, 0.0)])
    nod = keys(t, [(0.0, 0.0), (1.1, -6.0), (1.7, 4.0), (2.3, 0.0), (3.4, -4.0), (4.0, 6.0), (4.6, 0.0), (5.0, 0.0)])
    c.twist_left(p, "Spine1", yaw * 0.08)
    c.twist_left(p, "Spine2", yaw * 0.12)
    c.twist_left(p, "Neck", yaw * 0.35)
    c.twist_left(p, "Head", yaw * 0.45)
    c.bend_forward(p, "Neck", nod * 0.4)
    c.bend_forward(p, "Head", nod * 0.6)
    _breathe(c, p, 2.5)
    _arms_relaxed(c, p, sway=1.5, period=t[-1])
    for side in SIDES:
        p.plant(side)
    p.offset -= c.U[None] * 0.01 * c.leg
    return p


def _reference(c: _Context, t: np.ndarray, arm_deg_below_horizontal: float) -> Pose:
    p = Pose(c, t)
    p.use_arm_fix = False
    for side in SIDES:
        # From the neutral hang (abduct[side] from vertical) out to the reference angle, but
        # never lower than the neutral pose (long arms would go into the legs or the floor).
        below = min(arm_deg_below_horizontal, 90.0 - c.neutral_abduct[side])
        c.abduct(p, side, f"{side}Arm", 90.0 - below - c.neutral_abduct[side])
    return p


def clip_t_pose(c: _Context, t: np.ndarray) -> Pose:
    """Reference: arms straight out to the sides, level."""
    return _reference(c, t, 0.0)


def clip_a_pose(c: _Context, t: np.ndarray) -> Pose:
    """Reference: arms straight, 45 degrees below level (less for arms too long for that)."""
    return _reference(c, t, 45.0)


@dataclass(frozen=True)
class ClipSpec:
    """hands: the HAND_POSES entry both hands hold through the clip, or None when the clip
    poses the hands itself; needs_fingers: the clip is made only for skeletons with fingers."""

    name: str
    seconds: float
    loop: bool
    make: Callable[[_Context, np.ndarray], Pose]
    hands: str | None = "relaxed"
    needs_fingers: bool = False


# The library, in the order it is exported. Durations: gait cycles are two steps.
LIBRARY: tuple[ClipSpec, ...] = (
    ClipSpec("idle", 4.0, True, clip_idle),
    ClipSpec("walk", 1.1, True, clip_walk),
    ClipSpec("run", 0.7, True, clip_run),
    ClipSpec("jump", 1.8, False, clip_jump),
    ClipSpec("wave", 3.0, False, clip_wave, hands=None),
    ClipSpec("dance", 4.0, True, clip_dance),
    ClipSpec("sit_down", 3.0, False, clip_sit_down),
    ClipSpec("punch", 1.6, True, clip_punch, hands=None),
    ClipSpec("look_around", 5.0, True, clip_look_around),
    ClipSpec("t_pose", 1.0, False, clip_t_pose, hands="flat"),
    ClipSpec("a_pose", 1.0, False, clip_a_pose, hands="flat"),
    ClipSpec("grip", 2.0, True, clip_grip, hands=None, needs_fingers=True),
)
CLIP_NAMES: tuple[str, ...] = tuple(c.name for c in LIBRARY)


# --- solving ------------------------------------------------------------------------------------------


@dataclass
class Clip:
    """One clip, ready to key.

    deltas: (f, b, 3, 3) float64, bone b's global rotation from its rest orientation, in world
        axes (its posed world rotation is ``deltas[f, b] @ rest_rotation[b]``), bones in
        ``bones`` order.
    offset: (f, 3) float64, the hips' world translation from rest.
    penetration: side -> (f,) float64, depth of the hand into the body, world units.
    arm_fix: side -> the turns the contact pass gave that arm, if any: [(kind, degrees, share
        of the frames it acts on)], one per stretch of frames where the hand went in.
    """

    name: str
    fps: int
    loop: bool
    bones: list[str]
    deltas: np.ndarray
    offset: np.ndarray
    penetration: dict[str, np.ndarray] = field(default_factory=dict)
    arm_fix: dict[str, list[tuple[str, float, float]]] = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return len(self.deltas)

    @property
    def seconds(self) -> float:
        return (self.frames - 1) / self.fps


def _two_bone(hip: np.ndarray, ankle: np.ndarray, a: float, b: float, pole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knee position (f, 3) and the reachable ankle (f, 3) for a hip (f, 3) and an ankle
    target (f, 3), thigh length a, shin length b, the knee bending towards ``pole`` (f, 3)."""
    d_vec = ankle - hip
    d = np.linalg.norm(d_vec, axis=1)
    reach = LEG_REACH * (a + b)
    d_clamped = np.clip(d, abs(a - b) + 1e-6 * (a + b), reach)
    axis = d_vec / np.maximum(d, 1e-12)[:, None]
    ankle = hip + axis * d_clamped[:, None]
    x = (a * a - b * b + d_clamped**2) / (2 * d_clamped)
    hgt = np.sqrt(np.clip(a * a - x * x, 0.0, None))
    side = pole - np.sum(pole * axis, axis=1, keepdims=True) * axis
    side /= np.linalg.norm(side, axis=1, keepdims=True)
    return hip + axis * x[:, None] + side * hgt[:, None], ankle


def _solve(ctx: _Context, pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    """Global rotations (f, b, 3, 3) and the hips' offset (f, 3) of an authored pose."""
    skel = ctx.skel
    bones = skel.bones
    idx = {b: i for i, b in enumerate(bones)}
    f = pose.f
    eye = np.broadcast_to(np.eye(3), (f, 3, 3))
    n = ctx.neutral
    w = dict(pose.w)
    # Arm turns are authored for an arm hanging straight down: swing forward about the left
    # axis, turn out about the vertical (the arm's own length), bend the elbow about the
    # left axis. The neutral arm hangs out to its side (50 degrees on toy-like characters),
    # so the turns are made on the straight hang and the hang's abduction comes after them;
    # about the world axes instead, a swing or an elbow bend of an arm held well out would
    # mostly roll the arm about its own length (forearms and hands flip instead of bending).
    # The abduction only keeps hanging hands off the body: it fades out while the arm is
    # raised forward or back (arms raised overhead stay parallel, not crossed).
    for side in SIDES:
        hang = ctx.hang(side)
        for b in (f"{side}ForeArm", f"{side}Hand"):
            if b in w:
                w[b] = hang @ w[b] @ hang.T
        arm = f"{side}Arm"
        if arm in w:
            e = w[arm] @ -ctx.U  # (f, 3) where the straight hang points after the turns
            down, fwd = -(e @ ctx.U), e @ ctx.F
            raised = np.degrees(np.abs(np.arctan2(fwd, down)))  # 0 hanging, 90 forward/back, 180 up
            keep = smooth((HANG_FADE_DEG[1] - raised) / (HANG_FADE_DEG[1] - HANG_FADE_DEG[0]))
            # Out to the side (little up/forward component), the raise is undefined: keep it.
            keep = 1.0 - (1.0 - keep) * smooth(np.hypot(down, fwd) / 0.5)
            lift = rot(ctx.side_sign(side) * ctx.F, ctx.neutral_abduct[side] * keep)
            w[arm] = lift @ w[arm] @ hang.T
    if pose.use_arm_fix:
        for side, turns in ctx.arm_fix.items():
            arm = f"{side}Arm"
            for kind, deg, weight in turns:
                if deg and arm in skel.joints:
                    r = rot(ctx.fix_axis(side, kind), deg * weight)
                    w[arm] = (r @ w[arm]) if arm in w else r
    offset = pose.offset.copy()
    g = np.zeros((f, len(bones), 3, 3))
    # Hips first: its rotation is needed for the hips' joints before the legs are solved.
    for i, b in enumerate(bones):
        p = skel.parent(b)
        wb = w.get(b, eye)
        if p is None:
            g[:, i] = wb @ n[b]
        else:
            gp = g[:, idx[p]]
            g[:, i] = gp @ n[p].T @ wb @ n[b]
    if pose.feet:
        offset = _drop_hips_to_reach(ctx, pose, g, offset)
        _solve_legs(ctx, pose, g, offset)
    return g, offset


def _foot_targets(ctx: _Context, pose: Pose, side: str) -> tuple[np.ndarray, np.ndarray]:
    """The ankle's target (f, 3) and the foot's global rotation (f, 3, 3)."""
    skel = ctx.skel
    ft = pose.feet[side]
    ankle = skel.joints[f"{side}Foot"]
    pitch = ft.pitch
    r = rot(ctx.L, pitch)  # heel up = toes down, about the character's left axis
    if ft.yaw is not None:
        r = rot(ctx.U, ft.yaw) @ r
    pivot = np.where((pitch > 0)[:, None], skel.ball(side)[None], skel.heel(side)[None])
    target = pivot + np.einsum("fij,fj->fi", r, ankle[None] - pivot)
    target = target + ft.shift + ctx.U[None] * ft.lift[:, None]
    return target, r


def _drop_hips_to_reach(ctx: _Context, pose: Pose, g: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Lower the hips, frame by frame, just enough that each planted leg reaches its ankle target."""
    skel = ctx.skel
    idx = {b: i for i, b in enumerate(skel.bones)}
    hips = idx["Hips"]
    drop = np.zeros(pose.f)
    for side in pose.feet:
        target, _ = _foot_targets(ctx, pose, side)
        a = skel.length(f"{side}UpLeg", f"{side}Leg")
        b = skel.length(f"{side}Leg", f"{side}Foot")
        reach = LEG_REACH * (a + b)
        hip = skel.joints["Hips"] + offset + np.einsum("fij,j->fi", g[:, hips], skel.joints[f"{side}UpLeg"] - skel.joints["Hips"])
        v = hip - target
        # Solve |v - x up| = reach for the smallest x >= 0 (hips go down by x).
        vu = v @ ctx.U
        horiz2 = np.sum(v * v, axis=1) - vu**2
        room = np.sqrt(np.clip(reach**2 - horiz2, 0.0, None))
        drop = np.maximum(drop, np.clip(vu - room, 0.0, None))
    return offset - ctx.U[None] * drop[:, None]


def _solve_legs(ctx: _Context, pose: Pose, g: np.ndarray, offset: np.ndarray) -> None:
    """Overwrite the leg bones' global rotations in ``g`` with the two-bone IK solution."""
    skel = ctx.skel
    idx = {b: i for i, b in enumerate(skel.bones)}
    hips = idx["Hips"]
    for side, ft in pose.feet.items():
        up_leg, leg, foot = f"{side}UpLeg", f"{side}Leg", f"{side}Foot"
        target, foot_rot = _foot_targets(ctx, pose, side)
        hip_rest, knee_rest, ankle_rest = skel.joints[up_leg], skel.joints[leg], skel.joints[foot]
        a = float(np.linalg.norm(knee_rest - hip_rest))
        b = float(np.linalg.norm(ankle_rest - knee_rest))
        hip = skel.joints["Hips"] + offset + np.einsum("fij,j->fi", g[:, hips], hip_rest - skel.joints["Hips"])
        # The knee points where the pelvis faces, turned by the foot's yaw when it has one.
        pole = np.einsum("fij,j->fi", g[:, hips], ctx.F)
        if ft.yaw is not None:
            pole = np.einsum("fij,fj->fi", rot(ctx.U, ft.yaw), pole)
        knee, ankle = _two_bone(hip, target, a, b, pole)
        # Rest frames use the character's front as the knee direction; posed frames the pole.
        rest_thigh = _frame(knee_rest - hip_rest, ctx.F)
        rest_shin = _frame(ankle_rest - knee_rest, ctx.F)
        g[:, idx[up_leg]] = _frame(knee - hip, pole) @ rest_thigh.T
        g[:, idx[leg]] = _frame(ankle - knee, pole) @ rest_shin.T
        g[:, idx[foot]] = foot_rot
        toe = f"{side}ToeBase"
        if toe in idx:
            # Toes stay flat on the ground while the heel is up; otherwise they follow the foot.
            heel_up = (ft.pitch > 0)[:, None, None]
            flat = np.broadcast_to(np.eye(3) if ft.yaw is None else rot(ctx.U, ft.yaw), foot_rot.shape)
            g[:, idx[toe]] = np.where(heel_up, flat, foot_rot)
        # Bones below the foot that are not humanoid do not exist in skel.bones; nothing to do.


# --- the library -----------------------------------------------------------------------------------------


@dataclass
class Library:
    """The clips of one character and how the contact pass went.

    abduct: side -> the neutral pose's arm angle from vertical (degrees).
    """

    skeleton: ClipSkeleton
    clips: list[Clip]
    abduct: dict[str, float]

    def report(self) -> dict:
        """Per clip: frames, seconds, loop, hand penetration (max and mean over frames, % of
        height), and the extra arm abduction the contact pass added."""
        h = self.skeleton.height
        out = {"fps": FPS, "neutral_arm_deg": {k: round(v, 1) for k, v in self.abduct.items()}, "clips": {}}
        for c in self.clips:
            depth = np.max(np.stack(list(c.penetration.values())), axis=0) if c.penetration else np.zeros(c.frames)
            out["clips"][c.name] = {
                "frames": c.frames,
                "seconds": round(c.seconds, 3),
                "loop": c.loop,
                "hand_penetration_max_pct": round(float(depth.max() / h * 100.0), 3),
                "hand_penetration_mean_pct": round(float(depth.mean() / h * 100.0), 4),
                "arm_fix": {
                    k: "; ".join(f"{kind} {deg:g} deg on {share * 100:.0f} % of frames" for kind, deg, share in turns)
                    for k, turns in c.arm_fix.items()
                },
            }
        return out


def _neutral_abduction(skel: ClipSkeleton, body: BodyShape | None) -> dict[str, float]:
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


def _stretches(need: np.ndarray, loop: bool) -> list[np.ndarray]:
    """The runs of consecutive True frames of ``need`` (f,), each as an (f,) bool mask; for a
    loop, a run through the last frame continues from the first."""
    f = len(need)
    edges = np.flatnonzero(np.diff(np.r_[0, need.astype(np.int8), 0]))
    runs = [np.arange(a, b) for a, b in zip(edges[::2], edges[1::2])]
    if loop and len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == f - 1:
        runs = [np.r_[runs[-1], runs[0]]] + runs[1:-1]
    out = []
    for r in runs:
        m = np.zeros(f, dtype=bool)
        m[r] = True
        out.append(m)
    return out


def _ease(angles: np.ndarray, loop: bool, radius: int) -> np.ndarray:
    """A smooth angle curve never below ``angles`` (f,): the largest value within ``radius``
    frames, then averaged over the same span (wrapping around for loops)."""
    f = len(angles)
    if radius < 1:
        return angles.copy()
    k = np.arange(-radius, radius + 1)
    idx = np.arange(f)[:, None] + k[None, :]
    idx = np.mod(idx, f - 1) if loop else np.clip(idx, 0, f - 1)  # a loop's last frame is its first
    peak = angles[idx].max(axis=1)
    return peak[idx].mean(axis=1)


def _frame_distance(f: int, loop: bool) -> np.ndarray:
    """(f, f) distance in frames (around the loop for loops)."""
    d = np.abs(np.arange(f)[:, None] - np.arange(f)[None, :])
    return np.minimum(d, (f - 1) - d) if loop else d


def _contact_fixes(ctx: _Context, run, depth: np.ndarray, side: str, loop: bool) -> list[tuple[str, float, np.ndarray]]:
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
    fixes = []
    for s, stretch in enumerate(stretches):
        region = to[s] <= to.min(axis=0)  # frames nearer to this stretch than to any other
        others = np.delete(to, s, axis=0)
        gap = int(others[:, stretch].min()) if len(others) else f
        radius = min(ease, max(0, gap // 2 - 1))
        frames = np.flatnonzero(region & (to[s] <= 2 * radius))
        best: tuple[tuple[float, float], str, np.ndarray] | None = None
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


def _author(ctx: _Context, spec: ClipSpec, t: np.ndarray) -> Pose:
    """The clip's pose, with the spec's hand pose on both hands (skeletons with fingers)."""
    pose = spec.make(ctx, t)
    if spec.hands:
        for side in SIDES:
            ctx.hand_pose(pose, side, spec.hands)
    return pose


def make_clip(ctx: _Context, spec: ClipSpec, body: BodyShape | None = None) -> Clip:
    """Author, solve and contact-check one clip; where a hand goes into the body, the arm
    turns (`_contact_fixes`) just enough, just then."""
    n = int(round(spec.seconds * FPS)) + 1
    t = np.arange(n) / FPS
    tol = PENETRATION_TOLERANCE_HEIGHT * ctx.skel.height
    ctx.arm_fix = {}

    def run(sides=SIDES, frames=None) -> dict[str, np.ndarray]:
        g, offset = _solve(ctx, _author(ctx, spec, t))
        if frames is not None:
            g, offset = g[frames], offset[frames]
        return body.penetration(ctx.skel, g, offset, sides)

    pose = _author(ctx, spec, t)
    g, offset = _solve(ctx, pose)
    depth = body.penetration(ctx.skel, g, offset) if body is not None else {}
    fixes: dict[str, list[tuple[str, float, np.ndarray]]] = {}
    if pose.use_arm_fix:
        for side in [s for s, d in depth.items() if d.max() > tol]:
            fixes[side] = _contact_fixes(ctx, run, depth[side], side, spec.loop)
        if fixes:
            ctx.arm_fix = fixes
            g, offset = _solve(ctx, _author(ctx, spec, t))
            depth = body.penetration(ctx.skel, g, offset)
    ctx.arm_fix = {}
    report = {side: [(kind, float(w.max()), float((w > 0).mean())) for kind, _, w in turns] for side, turns in fixes.items() if turns}
    return Clip(spec.name, FPS, spec.loop, ctx.skel.bones, g, offset, depth, report)


def make_library(skel: ClipSkeleton, body: BodyShape | None = None, names: list[str] | None = None) -> Library:
    """Every clip of LIBRARY (or those in ``names``) for this character; ``grip`` only when the
    skeleton has fingers (without them it would only raise the forearms)."""
    abduct = _neutral_abduction(skel, body)
    ctx = _Context(skel, neutral_pose(skel, abduct), abduct)
    fingers = any(humanoid.finger_of(b) for b in skel.bones)
    specs = [s for s in LIBRARY if (names is None or s.name in names) and (fingers or not s.needs_fingers)]
    return Library(skel, [make_clip(ctx, s, body) for s in specs], abduct)
