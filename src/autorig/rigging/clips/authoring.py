"""Authoring: a clip's per-frame turns and foot targets (`Pose`), and the named anatomical
rotations every clip function uses (`Context`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias, cast

import numpy as np
import numpy.typing as npt

from autorig.rigging import humanoid
from autorig.rigging.clips.kinematics import ClipSkeleton, rot, unit

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

# A channel value: one number for every frame, or (f,) float64, one per frame.
PerFrame: TypeAlias = float | npt.NDArray[np.float64]


# --- authoring --------------------------------------------------------------------------------


@dataclass
class FootTarget:
    """Where an ankle goes, per frame: ``lift`` (f,) height above its planted place,
    ``shift`` (f, 3) horizontal move (world), ``pitch`` (f,) degrees, > 0 heel up (pivot on
    the ball), < 0 toes up (pivot on the heel); ``yaw`` (f,) degrees about up."""

    lift: npt.NDArray[np.float64]
    shift: npt.NDArray[np.float64]
    pitch: npt.NDArray[np.float64]
    yaw: npt.NDArray[np.float64] | None = None


class Pose:
    """One clip being authored: every method is vectorised over the clip's frames.

    ``turn(bone, axis, deg)`` adds a rotation of ``bone`` relative to its parent, about a
    world axis of the neutral pose (the character's up / front / left); later turns apply
    after earlier ones. Arm bones take their turns as if the arm hung straight down (the
    neutral abduction comes after them, see `solve_pose`), so an arm held out to the side
    still swings and bends instead of rolling about its own length. ``feet[side]`` drives a
    leg by its ankle; ``offset`` moves the hips."""

    def __init__(self, ctx: Context, t: npt.NDArray[np.float64]):
        self.ctx = ctx
        self.t = t
        self.f = len(t)
        self.w: dict[str, npt.NDArray[np.float64]] = {}
        self.offset = np.zeros((self.f, 3))
        self.feet: dict[str, FootTarget] = {}
        # Reference poses (T, A) set their arms absolutely and take no contact fix.
        self.use_arm_fix = True

    def turn(self, bone: str, axis: npt.NDArray[np.float64], degrees: PerFrame) -> None:
        if bone not in self.ctx.skel.joints:
            return
        r = rot(axis, np.broadcast_to(np.asarray(degrees, dtype=np.float64), (self.f,)))
        self.w[bone] = r @ self.w[bone] if bone in self.w else r

    def plant(
        self,
        side: str,
        lift: PerFrame = 0.0,
        shift: npt.ArrayLike | None = None,
        pitch: PerFrame = 0.0,
        yaw: PerFrame | None = None,
    ) -> None:
        z = np.zeros(self.f)
        self.feet[side] = FootTarget(
            lift=z + lift,
            shift=np.zeros((self.f, 3)) if shift is None else np.broadcast_to(shift, (self.f, 3)).copy(),
            pitch=z + pitch,
            yaw=None if yaw is None else z + yaw,
        )


class Context:
    """The character and the helpers every clip function uses."""

    def __init__(self, skel: ClipSkeleton, neutral: dict[str, npt.NDArray[np.float64]], abduct: dict[str, float]):
        self.skel = skel
        self.neutral = neutral
        self.neutral_abduct = abduct
        # side -> contact fixes [(kind, degrees, weight per frame (f,))], applied in order.
        self.arm_fix: dict[str, list[tuple[str, float, npt.NDArray[np.float64]]]] = {}
        self.U, self.F, self.L = skel.up, skel.front, skel.left
        self.leg = skel.leg

    def side_sign(self, side: str) -> float:
        return 1.0 if side == "Left" else -1.0

    def hang(self, side: str) -> npt.NDArray[np.float64]:
        """(3, 3) the neutral arm's turn out to its side from hanging straight down."""
        return rot(self.side_sign(side) * self.F, self.neutral_abduct[side])

    def fix_axis(self, side: str, kind: str) -> npt.NDArray[np.float64]:
        """World axis of a contact fix (ARM_FIX_KINDS) for an arm, positive angles."""
        if kind == "out":
            return self.side_sign(side) * self.F
        if kind == "in":
            return -self.side_sign(side) * self.F
        if kind == "back":
            return self.L
        return -self.L  # forward

    # Named rotations of the neutral pose, so clip tables read as anatomy.
    def limb_forward(self, pose: Pose, bone: str, deg: PerFrame) -> None:
        """A hanging limb swings forward (negative: back)."""
        pose.turn(bone, -self.L, deg)

    def bend_forward(self, pose: Pose, bone: str, deg: PerFrame) -> None:
        """An upright bone (spine, neck, head) tips forward (negative: back)."""
        pose.turn(bone, self.L, deg)

    def twist_left(self, pose: Pose, bone: str, deg: PerFrame) -> None:
        """Turn about the up axis towards the character's left (negative: right)."""
        pose.turn(bone, self.U, deg)

    def lean_left(self, pose: Pose, bone: str, deg: PerFrame) -> None:
        """Tip sideways towards the character's left (negative: right)."""
        pose.turn(bone, -self.F, deg)

    def abduct(self, pose: Pose, side: str, bone: str, deg: PerFrame) -> None:
        """Move an arm (or raise a shoulder) out and up to its own side."""
        pose.turn(bone, self.side_sign(side) * self.F, deg)

    def rotate_out(self, pose: Pose, side: str, bone: str, deg: PerFrame) -> None:
        """External rotation of a hanging upper arm about its own (vertical) axis, so that
        the elbow's hinge turns from bending forward to bending out to the side."""
        pose.turn(bone, self.side_sign(side) * self.U, deg)

    def flex_elbow(self, pose: Pose, side: str, deg: PerFrame) -> None:
        pose.turn(f"{side}ForeArm", -self.L, deg)

    def palm_normal(self, side: str) -> npt.NDArray[np.float64] | None:
        """(3,) the rest pose's palm normal of a hand with fingers (towards the palm), or None.
        The hand's axis runs from the wrist to the middle (or mitten) knuckle, its width from
        the pinky's knuckle to the index's (the character's front on a mitten)."""
        j = self.skel.joints
        wrist = j.get(f"{side}Hand")
        knuckle = j.get(f"{side}HandMiddle1", j.get(f"{side}HandIndex1"))
        if wrist is None or knuckle is None:
            return None
        a, b = j.get(f"{side}HandIndex1"), j.get(f"{side}HandPinky1")
        width = unit(a - b) if a is not None and b is not None else self.F
        return self.side_sign(side) * unit(np.cross(unit(knuckle - wrist), width))

    def hand(
        self,
        pose: Pose,
        side: str,
        curl: Sequence[PerFrame] = (0.0, 0.0, 0.0),
        thumb: Sequence[PerFrame] = (0.0, 0.0, 0.0),
        spread: PerFrame = 0.0,
    ) -> None:
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
                d = unit(j[nxt] - j[bone])
                axis = np.cross(d, normal)
                if np.linalg.norm(axis) < 1e-6:
                    continue
                axis = turn_in @ unit(axis)
                amount = (thumb if finger == "Thumb" else curl)[k - 1]
                if k == 1 and finger in spreads:
                    pose.turn(bone, turn_in @ (self.side_sign(side) * normal), np.asarray(spread) * spreads[finger])
                pose.turn(bone, axis, amount)

    def hand_pose(self, pose: Pose, side: str, name: str, amount: PerFrame = 1.0) -> None:
        """One of HAND_POSES, scaled by ``amount`` (a number or (f,) per frame)."""
        h = HAND_POSES[name]
        a = np.asarray(amount, dtype=np.float64)
        self.hand(
            pose,
            side,
            [c * a for c in cast(tuple[float, ...], h["fingers"])],
            [c * a for c in cast(tuple[float, ...], h["thumb"])],
            cast(float, h["spread"]) * a,
        )
