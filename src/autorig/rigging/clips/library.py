"""The clips (one function per clip, vectorised over frames), their specs and the library in
export order; `make_clip` authors, solves and contact-checks one clip, `make_library` all."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from autorig.rigging import humanoid
from autorig.rigging.clips.authoring import Context, Pose
from autorig.rigging.clips.contact import BodyShape, contact_fixes, neutral_abduction
from autorig.rigging.clips.kinematics import SIDES, ClipSkeleton, keys, neutral_pose, smooth
from autorig.rigging.clips.report import Library
from autorig.rigging.clips.solve import Clip, solve_pose
from autorig.rigging.tolerances import FPS, PENETRATION_TOLERANCE_HEIGHT

# --- the clips ------------------------------------------------------------------------------------
# Each returns a Pose for times t (seconds). Angles in degrees. Phases are periodic for loops.


def _breathe(c: Context, p: Pose, period: float, amount: float = 1.0) -> None:
    w = np.sin(2 * np.pi * p.t / period)
    c.bend_forward(p, "Spine1", -1.2 * amount * w)
    c.bend_forward(p, "Spine2", -0.8 * amount * w)
    c.bend_forward(p, "Neck", 1.5 * amount * w)
    for side in SIDES:
        c.abduct(p, side, f"{side}Shoulder", 1.0 * amount * w)


def _arms_relaxed(c: Context, p: Pose, sway: float = 0.0, period: float = 4.0) -> None:
    for side in SIDES:
        s = np.sin(2 * np.pi * p.t / period + (0.0 if side == "Left" else 0.6))
        c.limb_forward(p, f"{side}Arm", 2.0 + sway * s)
        c.flex_elbow(p, side, 12.0 + 0.5 * sway * s)


def clip_idle(c: Context, t: npt.NDArray[np.float64]) -> Pose:
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


def _gait(
    c: Context,
    t: npt.NDArray[np.float64],
    *,
    period: float,
    stride_leg: float,
    stance: float,
    lift_leg: float,
    bob_leg: float,
    arm_swing: float,
    elbow: float,
    lean: float,
    hip_yaw: float,
    crouch_leg: float,
) -> Pose:
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


def clip_walk(c: Context, t: npt.NDArray[np.float64]) -> Pose:
    return _gait(
        c,
        t,
        period=t[-1],
        stride_leg=0.62,
        stance=0.6,
        lift_leg=0.09,
        bob_leg=0.012,
        arm_swing=18.0,
        elbow=14.0,
        lean=3.0,
        hip_yaw=6.0,
        crouch_leg=0.01,
    )


def clip_run(c: Context, t: npt.NDArray[np.float64]) -> Pose:
    p = _gait(
        c,
        t,
        period=t[-1],
        stride_leg=0.95,
        stance=0.38,
        lift_leg=0.26,
        bob_leg=0.03,
        arm_swing=38.0,
        elbow=85.0,
        lean=10.0,
        hip_yaw=9.0,
        crouch_leg=0.04,
    )
    return p


def clip_jump(c: Context, t: npt.NDArray[np.float64]) -> Pose:
    """Crouch, spring up with the arms, tuck, land softly, stand."""
    p = Pose(c, t)
    lg = c.leg
    crouch = keys(
        t, [(0.0, 0.0), (0.15, 0.0), (0.45, 0.22), (0.6, 0.05), (0.68, 0.0), (1.12, 0.0), (1.22, 0.2), (1.45, 0.06), (1.8, 0.0)]
    )
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


def clip_wave(c: Context, t: npt.NDArray[np.float64]) -> Pose:
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


def _arms_relaxed_one(c: Context, p: Pose, side: str) -> None:
    c.limb_forward(p, f"{side}Arm", 2.0)
    c.flex_elbow(p, side, 12.0)


def clip_dance(c: Context, t: npt.NDArray[np.float64]) -> Pose:
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


def clip_sit_down(c: Context, t: npt.NDArray[np.float64]) -> Pose:
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


def clip_punch(c: Context, t: npt.NDArray[np.float64]) -> Pose:
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


def clip_grip(c: Context, t: npt.NDArray[np.float64]) -> Pose:
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


def clip_look_around(c: Context, t: npt.NDArray[np.float64]) -> Pose:
    """Look to the left, back, to the right, back, with the chest turning a little."""
    p = Pose(c, t)
    yaw = keys(
        t,
        [
            (0.0, 0.0),
            (0.3, 0.0),
            (1.1, 60.0),
            (1.7, 60.0),
            (2.3, 0.0),
            (2.6, 0.0),
            (3.4, -60.0),
            (4.0, -60.0),
            (4.6, 0.0),
            (5.0, 0.0),
        ],
    )
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


def _reference(c: Context, t: npt.NDArray[np.float64], arm_deg_below_horizontal: float) -> Pose:
    p = Pose(c, t)
    p.use_arm_fix = False
    for side in SIDES:
        # From the neutral hang (abduct[side] from vertical) out to the reference angle, but
        # never lower than the neutral pose (long arms would go into the legs or the floor).
        below = min(arm_deg_below_horizontal, 90.0 - c.neutral_abduct[side])
        c.abduct(p, side, f"{side}Arm", 90.0 - below - c.neutral_abduct[side])
    return p


def clip_t_pose(c: Context, t: npt.NDArray[np.float64]) -> Pose:
    """Reference: arms straight out to the sides, level."""
    return _reference(c, t, 0.0)


def clip_a_pose(c: Context, t: npt.NDArray[np.float64]) -> Pose:
    """Reference: arms straight, 45 degrees below level (less for arms too long for that)."""
    return _reference(c, t, 45.0)


@dataclass(frozen=True)
class ClipSpec:
    """hands: the HAND_POSES entry both hands hold through the clip, or None when the clip
    poses the hands itself; needs_fingers: the clip is made only for skeletons with fingers."""

    name: str
    seconds: float
    loop: bool
    make: Callable[[Context, npt.NDArray[np.float64]], Pose]
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


def _author(ctx: Context, spec: ClipSpec, t: npt.NDArray[np.float64]) -> Pose:
    """The clip's pose, with the spec's hand pose on both hands (skeletons with fingers)."""
    pose = spec.make(ctx, t)
    if spec.hands:
        for side in SIDES:
            ctx.hand_pose(pose, side, spec.hands)
    return pose


def make_clip(ctx: Context, spec: ClipSpec, body: BodyShape | None = None) -> Clip:
    """Author, solve and contact-check one clip; where a hand goes into the body, the arm
    turns (`contact_fixes`) just enough, just then."""
    n = int(round(spec.seconds * FPS)) + 1
    t = np.arange(n) / FPS
    tol = PENETRATION_TOLERANCE_HEIGHT * ctx.skel.height
    ctx.arm_fix = {}

    def run(sides: Sequence[str] = SIDES, frames: npt.NDArray[np.int64] | None = None) -> dict[str, npt.NDArray[np.float64]]:
        assert body is not None  # run is called only for a side whose hand went into the body
        g, offset = solve_pose(ctx, _author(ctx, spec, t))
        if frames is not None:
            g, offset = g[frames], offset[frames]
        return body.penetration(ctx.skel, g, offset, sides)

    pose = _author(ctx, spec, t)
    g, offset = solve_pose(ctx, pose)
    depth = body.penetration(ctx.skel, g, offset) if body is not None else {}
    fixes: dict[str, list[tuple[str, float, npt.NDArray[np.float64]]]] = {}
    if pose.use_arm_fix:
        for side in [s for s, d in depth.items() if d.max() > tol]:
            fixes[side] = contact_fixes(ctx, run, depth[side], side, spec.loop)
        if fixes:
            ctx.arm_fix = fixes
            g, offset = solve_pose(ctx, _author(ctx, spec, t))
            assert body is not None  # fixes exist only where body found a penetration
            depth = body.penetration(ctx.skel, g, offset)
    ctx.arm_fix = {}
    report = {
        side: [(kind, float(w.max()), float((w > 0).mean())) for kind, _, w in turns] for side, turns in fixes.items() if turns
    }
    return Clip(spec.name, FPS, spec.loop, ctx.skel.bones, g, offset, depth, report)


def make_library(skel: ClipSkeleton, body: BodyShape | None = None, names: list[str] | None = None) -> Library:
    """Every clip of LIBRARY (or those in ``names``) for this character; ``grip`` only when the
    skeleton has fingers (without them it would only raise the forearms)."""
    abduct = neutral_abduction(skel, body)
    ctx = Context(skel, neutral_pose(skel, abduct), abduct)
    fingers = any(humanoid.finger_of(b) for b in skel.bones)
    specs = [s for s in LIBRARY if (names is None or s.name in names) and (fingers or not s.needs_fingers)]
    return Library(skel, [make_clip(ctx, s, body) for s in specs], abduct)
