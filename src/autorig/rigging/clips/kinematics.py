"""Rotations, frames, the character as the clips see it, forward kinematics, the neutral pose
and the two-bone leg IK. Pure numpy/scipy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.interpolate import PchipInterpolator

from autorig.rigging import humanoid
from autorig.rigging.tolerances import FOOT_BALL_HEIGHT, LEG_REACH

SIDES = ("Left", "Right")


# --- rotation helpers ---------------------------------------------------------------------


def rot(axis: npt.NDArray[np.float64], degrees: float | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Rotation by ``degrees`` (scalar or (f,)) about the unit ``axis`` (3,), right-handed.
    Returns (3, 3) for a scalar angle, (f, 3, 3) for an array."""
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    th = np.radians(np.asarray(degrees, dtype=np.float64))
    c, s = np.cos(th)[..., None, None], np.sin(th)[..., None, None]
    k = np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])
    r: npt.NDArray[np.float64] = np.eye(3) * c + s * k + (1.0 - c) * np.outer(a, a)
    return r


def arc(u: npt.NDArray[np.float64], v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
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
    r: npt.NDArray[np.float64] = np.eye(3) + sn * k + (1.0 - cs) * (k @ k)
    return r


def orthonormal_frame(primary: npt.NDArray[np.float64], secondary: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """An orthonormal frame (..., 3, 3) whose columns are ``primary``, ``secondary`` made
    orthogonal to it, and their cross product."""
    x = primary / np.linalg.norm(primary, axis=-1, keepdims=True)
    y = secondary - np.sum(secondary * x, axis=-1, keepdims=True) * x
    y = y / np.linalg.norm(y, axis=-1, keepdims=True)
    return np.stack([x, y, np.cross(x, y)], axis=-1)


def keys(t: npt.NDArray[np.float64], points: list[tuple[float, float]]) -> npt.NDArray[np.float64]:
    """A channel from keyframes ``[(time, value), ...]`` sampled at ``t`` (f,): monotone
    cubic between keys (no overshoot), held before the first and after the last."""
    kt = np.array([p[0] for p in points], dtype=np.float64)
    kv = np.array([p[1] for p in points], dtype=np.float64)
    if len(kt) == 1:
        return np.full(len(t), kv[0])
    sampled: npt.NDArray[np.float64] = PchipInterpolator(kt, kv)(np.clip(t, kt[0], kt[-1]))
    return sampled


def smooth(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
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

    joints: dict[str, npt.NDArray[np.float64]]
    up: npt.NDArray[np.float64]
    front: npt.NDArray[np.float64]
    left: npt.NDArray[np.float64]
    height: float
    ground: float

    def __post_init__(self) -> None:
        self.joints = {k: np.asarray(v, dtype=np.float64).reshape(3) for k, v in self.joints.items()}
        self.up = unit(self.up)
        self.front = unit(self.front - np.dot(self.front, self.up) * self.up)
        self.left = np.cross(self.up, self.front)
        missing = [
            b for b in ("Hips", "LeftUpLeg", "LeftLeg", "LeftFoot", "RightUpLeg", "RightLeg", "RightFoot") if b not in self.joints
        ]
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

    def h(self, p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
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

    def heel(self, side: str) -> npt.NDArray[np.float64]:
        """The heel on the ground: the ankle dropped to the sole."""
        a = self.joints[f"{side}Foot"]
        return a - self.h(a) * self.up

    def ball(self, side: str) -> npt.NDArray[np.float64]:
        """The ball of the foot on the ground (the toe joint dropped to the sole)."""
        t = self.joints.get(f"{side}ToeBase")
        if t is None:
            t = self.joints[f"{side}Foot"] + self.front * FOOT_BALL_HEIGHT * self.height
        return t - self.h(t) * self.up


def hand_of(name: str | None) -> str | None:
    """A finger bone's hand (``LeftHandIndex2`` -> ``LeftHand``); other names unchanged."""
    finger = humanoid.finger_of(name) if name else None
    return f"{finger[0]}Hand" if finger else name


def unit(v: npt.ArrayLike) -> npt.NDArray[np.float64]:
    v = np.asarray(v, dtype=np.float64).reshape(3)
    u: npt.NDArray[np.float64] = v / np.linalg.norm(v)
    return u


# --- forward kinematics -------------------------------------------------------------------


def forward_kinematics(
    skel: ClipSkeleton, deltas: npt.NDArray[np.float64], offset: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
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


def end_point(
    skel: ClipSkeleton, deltas: npt.NDArray[np.float64], pos: npt.NDArray[np.float64], bone: str, point: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """(f, 3) where the rest-pose ``point`` (3,) rigidly attached to ``bone`` goes."""
    i = skel.bones.index(bone)
    return pos[:, i] + deltas[:, i] @ (np.asarray(point) - skel.joints[bone])


# --- the neutral pose -----------------------------------------------------------------------


def _arm_dir(skel: ClipSkeleton, side: str, abduct_deg: float) -> npt.NDArray[np.float64]:
    """Hanging down, ``abduct_deg`` out to the side."""
    s = 1.0 if side == "Left" else -1.0
    a = np.radians(abduct_deg)
    d: npt.NDArray[np.float64] = -skel.up * np.cos(a) + s * skel.left * np.sin(a)
    return d


def neutral_pose(skel: ClipSkeleton, abduct: dict[str, float]) -> dict[str, npt.NDArray[np.float64]]:
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


# --- two-bone IK ----------------------------------------------------------------------------


def two_bone_ik(
    hip: npt.NDArray[np.float64], ankle: npt.NDArray[np.float64], a: float, b: float, pole: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
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
