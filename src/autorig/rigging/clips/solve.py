"""Solving: an authored `Pose` becomes each bone's global rotation and the hips' translation
(`Clip`), the legs by two-bone IK to their ankle targets."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from autorig.rigging.clips.authoring import Context, Pose
from autorig.rigging.clips.kinematics import SIDES, orthonormal_frame, rot, smooth, two_bone_ik
from autorig.rigging.tolerances import HANG_FADE_DEG, LEG_REACH


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
    deltas: npt.NDArray[np.float64]
    offset: npt.NDArray[np.float64]
    penetration: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    arm_fix: dict[str, list[tuple[str, float, float]]] = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return len(self.deltas)

    @property
    def seconds(self) -> float:
        return (self.frames - 1) / self.fps


def solve_pose(ctx: Context, pose: Pose) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
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


def _foot_targets(ctx: Context, pose: Pose, side: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
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


def _drop_hips_to_reach(
    ctx: Context, pose: Pose, g: npt.NDArray[np.float64], offset: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
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


def _solve_legs(ctx: Context, pose: Pose, g: npt.NDArray[np.float64], offset: npt.NDArray[np.float64]) -> None:
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
        knee, ankle = two_bone_ik(hip, target, a, b, pole)
        # Rest frames use the character's front as the knee direction; posed frames the pole.
        rest_thigh = orthonormal_frame(knee_rest - hip_rest, ctx.F)
        rest_shin = orthonormal_frame(ankle_rest - knee_rest, ctx.F)
        g[:, idx[up_leg]] = orthonormal_frame(knee - hip, pole) @ rest_thigh.T
        g[:, idx[leg]] = orthonormal_frame(ankle - knee, pole) @ rest_shin.T
        g[:, idx[foot]] = foot_rot
        toe = f"{side}ToeBase"
        if toe in idx:
            # Toes stay flat on the ground while the heel is up; otherwise they follow the foot.
            heel_up = (ft.pitch > 0)[:, None, None]
            flat = np.broadcast_to(np.eye(3) if ft.yaw is None else rot(ctx.U, ft.yaw), foot_rot.shape)
            g[:, idx[toe]] = np.where(heel_up, flat, foot_rot)
        # Bones below the foot that are not humanoid do not exist in skel.bones; nothing to do.
