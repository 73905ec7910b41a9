"""Automatic humanoid skeleton fitting: Mixamo joints inside the body, from the shape alone.

``fit(mesh)`` runs named passes on the character's voxel solid in its canonical frame
(``prepare.analyze`` finds up, front and left; ``skeleton_body`` voxelizes):

1. legs (``skeleton_legs``): the crotch is where horizontal slices stop being two
   legs; each leg's centre line; the ankle where the foot's forward reach ends;
   the knee between hip and ankle; the hip joint inside the top of the thigh.
   Legs hidden under a long dress are placed by proportion (with a warning and a low
   confidence) when arms and a head are clear.
2. arms (``skeleton_arms``): each arm followed from the fingertips inward through
   the front view until it merges with the torso (the armpit), stepping over things
   held in the hand; the wrist where the arm is narrowest about a hand's length in;
   the shoulder on the arm's centre line at the armpit, never further out than the
   hips (chibi rigs start the upper arm inside the torso); the elbow halfway along.
3. trunk (``skeleton_trunk``): the neck at the narrowest cross-section between the
   shoulders and the top of the head; the spine between the hips and the neck.
4. checks: two legs, two mirror-image arms and a head, or ``RigError("not_a_biped")``;
   a confidence with the reasons behind it.
5. hands (``skeleton_hands``, unless ``fingers="none"``): the wrist refined from the hand's
   own shape, and the finger joints (five fingers, or a thumb and a mitten).

Joints are mapped back to world space at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import numpy.typing as npt

from autorig.rigging import facing, humanoid
from autorig.rigging import tolerances as tol
from autorig.rigging.errors import RigError
from autorig.rigging.mesh import CharacterMesh
from autorig.rigging.prepare import Orientation, analyze, classify_pose
from autorig.rigging.skeleton_arms import Arm, find_arms, follow_raised_arm, mirror_quality
from autorig.rigging.skeleton_body import Body, build
from autorig.rigging.skeleton_hands import HAND_SIZE_MISMATCH, place_hand, symmetrize
from autorig.rigging.skeleton_legs import Legs, find_legs, hidden_legs
from autorig.rigging.skeleton_seams import cut_seams
from autorig.rigging.skeleton_trunk import Trunk, find_trunk


@dataclass
class SkeletonFit:
    """joints: every name in humanoid.JOINT_NAMES -> (3,) float64 world position (the
    frame of mesh.vertices); confidence 0..1 with human-readable reasons; timings:
    seconds per pass."""

    joints: dict[str, npt.NDArray[np.float64]]
    orientation: Orientation
    confidence: float
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # side -> {"level": "full" | "mitten" | "none", "reason": why}; finger joints are in ``joints``.
    hands: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def canonical_joints(self) -> dict[str, npt.NDArray[np.float64]]:
        """The joints in the canonical frame (+Z up, facing -Y, left = +X)."""
        return {k: self.orientation.canonical(v) for k, v in self.joints.items()}


def fit(mesh: CharacterMesh, fingers: str = "none") -> SkeletonFit:
    """Fit the humanoid skeleton to ``mesh``; raises RigError("not_a_biped", reason).
    fingers: ``skeleton_hands.LEVELS`` ("auto", "full", "mitten", "none"); with "none" (the
    default) the skeleton is the one of before fingers: no finger joints, the arm pass's wrists."""
    timings: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        timings[name] = now - t
        t = now

    orientation = analyze(mesh)
    lap("orientation")
    body, legs, arms, trunk = _fit_body(mesh, orientation, lap)
    joints_c = _assemble(legs, arms, trunk)
    face = facing.decide(body, legs, joints_c, _convention_prior(orientation), orientation.front_margin)
    if face.flip:
        # The cues together say the character faces the other way: turn the canonical
        # frame half a turn about up and fit again.
        orientation.flip_front()
        body, legs, arms, trunk = _fit_body(mesh, orientation, lap)
        joints_c = _assemble(legs, arms, trunk)
        face = facing.Facing({k: (-v, w) for k, (v, w) in face.votes.items()}, -face.score, face.margin)
        orientation.warnings.append("turned round: the feet alone pointed the other way (" + face.describe() + ")")
    orientation.front_margin = face.margin
    if face.margin < tol.WEAK_MARGIN:
        orientation.warnings.append("the facing direction is unclear (" + face.describe() + "): check the result")
    lap("facing")
    _check_biped(body.height, legs, arms, trunk)
    confidence, reasons = _confidence(orientation, legs, arms, trunk)
    reasons.append("facing cues: " + face.describe())
    lap("checks")
    hands = _hands(orientation.canonical(mesh.vertices), mesh.triangles, joints_c, orientation.height, fingers)
    lap("hands")

    left_deg, right_deg = (arms[side].angle_deg for side in ("Left", "Right"))
    orientation.arm_angles_deg = (left_deg, right_deg)
    orientation.pose = classify_pose(left_deg, right_deg)
    joints = {name: orientation.world(p) for name, p in joints_c.items()}
    warnings = list(orientation.warnings) + legs.warnings + [w for a in arms.values() for w in a.warnings] + trunk.warnings
    return SkeletonFit(joints, orientation, confidence, reasons, warnings, timings, hands)


def _convention_prior(orientation: Orientation) -> float:
    """The file convention's vote for the provisional front, -1..1: a character standing
    along Blender's +Z faces -Y (glTF and VRM face +Z; Blender's FBX and OBJ exports
    share that frame). No vote for a character lying down or upside down in the file
    (how it was turned is unknown)."""
    if float(orientation.up[2]) < np.cos(np.radians(tol.SNAP_DEG)):
        return 0.0
    return float(-orientation.front[1])


def _fit_body(
    mesh: CharacterMesh, orientation: Orientation, lap: Callable[[str], None]
) -> tuple[Body, Legs, dict[str, Arm], Trunk]:
    """Voxelize in the canonical frame and find legs, arms and trunk; if that finds no
    humanoid, again with thin rods kept in the core (thin limbs), then with thicker
    plates opened away (a shield or a big pauldron hiding an arm). The first reason is
    the one reported."""
    first: RigError | None = None
    for attempt, (keep_rods, opening) in enumerate(tol.FIT_RETRIES):
        try:
            return _fit_body_once(
                mesh, orientation, lap, keep_rods=keep_rods, opening=opening, last=attempt == len(tol.FIT_RETRIES) - 1
            )
        except RigError as e:
            if e.code != "not_a_biped" or "separate figures" in e.reason or "animal" in e.reason:
                raise
            first = first or e
    try:
        # Parts that touch face to face (a blocky character's legs, arms flat against
        # the torso), cut apart along the seams between them.
        return _fit_body_once(mesh, orientation, lap, keep_rods=False, opening=tol.SHEET_OPENING_VOXELS, seams=True)
    except RigError as e:
        if e.code != "not_a_biped" or "separate figures" in e.reason or "animal" in e.reason:
            raise
    assert first is not None  # FIT_RETRIES is not empty
    raise first


def _fit_body_once(
    mesh: CharacterMesh,
    orientation: Orientation,
    lap: Callable[[str], None],
    keep_rods: bool,
    opening: int,
    last: bool = True,
    seams: bool = False,
) -> tuple[Body, Legs, dict[str, Arm], Trunk]:
    canonical = orientation.canonical(mesh.vertices)
    body = build(canonical, mesh.triangles, orientation.height, keep_rods=keep_rods, opening=opening)
    if seams:
        cut = cut_seams(body)
        if cut is None:
            raise RigError("not_a_biped", "no seam between touching parts to cut")
        body = cut
    lap("voxels")
    no_legs: RigError | None = None
    try:
        legs: Legs | None = find_legs(body)
    except RigError as e:
        if e.code != "not_a_biped":
            raise
        legs, no_legs = None, e
    lap("legs")
    # On the last attempt an arm that cannot be found may be raised into the head.
    missing: dict[str, RigError] = {}
    try:
        arms = find_arms(body, legs, missing if last else None)
    except RigError as e:
        # Neither legs nor arms: not a humanoid, and the missing legs say it first.
        raise (no_legs or e) from None
    level = [float(a.shoulder[2]) for a in arms.values() if a.angle_deg >= -tol.RAISED_ARM_DEG]
    if len(missing) == 1 and level and legs is not None:
        # One arm found, the other not: raised so steeply that the front view follows it
        # lengthwise into the head? Looked for along a few raised directions.
        name = next(iter(missing))
        for guess in tol.RAISED_ARM_GUESSES_DEG:
            found = follow_raised_arm(
                canonical,
                mesh.triangles,
                orientation.height,
                1 if name == "Left" else -1,
                -guess,
                legs,
                keep_rods,
                opening,
                float(np.mean(level)),
            )
            other = next(iter(arms.values()))
            reach = float(np.linalg.norm(other.tip - other.shoulder))
            if (
                found is not None
                and found.angle_deg < -tol.RAISED_ARM_DEG
                and float(np.linalg.norm(found.tip - found.shoulder)) >= tol.RAISED_MIN_OF_OTHER * reach
            ):
                arms[name] = found
                missing.pop(name)
                break
    if missing:
        raise (no_legs or next(iter(missing.values())))
    mirror_quality(arms, body.height)
    for name, side in (("Left", 1), ("Right", -1)):
        if arms[name].angle_deg < -tol.RAISED_ARM_DEG and not arms[name].hanging and not arms[name].warnings:
            shoulder_z = float(np.mean(level)) if level else float(arms[name].shoulder[2])
            raised = follow_raised_arm(
                canonical, mesh.triangles, orientation.height, side, arms[name].angle_deg, legs, keep_rods, opening, shoulder_z
            )
            if raised is not None:
                arms[name] = raised
                mirror_quality(arms, body.height)
    if legs is None:
        # Arms with armpits but no legs to see: a long dress or robe. Legs by proportion.
        legs = hidden_legs(body, arms["Left"].shoulder)
    lap("arms")
    trunk = find_trunk(body, legs, arms)
    lap("trunk")
    if no_legs is not None:
        # Legs placed by proportion are only believable under a clear head and neck, and
        # under a body that reaches well below the shoulders (a bust or a half body ends
        # about a head's height below them).
        shoulder_z = float(np.mean([a.shoulder[2] for a in arms.values()]))
        below = shoulder_z - float(body.z(np.flatnonzero(body.core.any(axis=(0, 1)))[0]))
        above = float(trunk.joints["HeadTop_End"][2]) - shoulder_z
        if trunk.neck_quality < tol.HIDDEN_LEGS_MIN_NECK or below < tol.HIDDEN_LEGS_MIN_BELOW_SHOULDERS * above:
            raise RigError("not_a_biped", "no legs: the model looks like a bust or a half body, not a standing character")
    return body, legs, arms, trunk


def _hands(
    canonical: npt.NDArray[np.float64],
    triangles: npt.NDArray[np.int64],
    joints_c: dict[str, npt.NDArray[np.float64]],
    height: float,
    fingers: str,
) -> dict[str, dict[str, str]]:
    """Refine the wrists and add the finger joints to ``joints_c`` (in place). Both hands get
    the same level (the coarser of the two), so the skeleton stays symmetric."""
    if fingers == "none":
        return {side: {"level": "none", "reason": "--fingers none"} for side in ("Left", "Right")}
    found = {
        side: place_hand(canonical, triangles, joints_c[f"{side}Hand"], joints_c[f"{side}ForeArm"], side, height, fingers)
        for side in ("Left", "Right")
    }
    order = ("none", "mitten", "full")
    level = min((h.level for h in found.values()), key=order.index)
    # A hand much bigger than the other holds something (a sword, a staff): it takes the
    # mirror image of the other hand, moved to its own wrist.
    sizes = {side: h.size for side, h in found.items()}
    if (
        level != "none"
        and np.all(sizes["Left"] > 0)
        and np.all(sizes["Right"] > 0)
        and np.any(np.maximum(sizes["Left"], sizes["Right"]) > HAND_SIZE_MISMATCH * np.minimum(sizes["Left"], sizes["Right"]))
    ):
        held, good = sorted(sizes, key=lambda k: float(np.prod(sizes[k])), reverse=True)
        g = found[good]
        mirror = np.array([-1.0, 1.0, 1.0])  # the canonical frame's mirror plane is x = 0
        arm_wrist = joints_c[f"{held}Hand"]
        moved = {humanoid.mirror_name(k): arm_wrist + (p - g.wrist) * mirror for k, p in g.joints.items()}
        found[held] = type(g)(
            arm_wrist,
            moved,
            g.level,
            g.axis * mirror,
            g.width_axis * mirror,
            g.palm_normal * mirror,
            g.length,
            reason=f"mirrored from the {good.lower()} hand: this one holds something",
            size=g.size,
        )
    elif level != "none":
        symmetrize(found["Left"], found["Right"])  # alike hands: their placements averaged
    out = {}
    for side, hand in found.items():
        reason = hand.reason if hand.level == level else f"{hand.reason}; {level} like the other hand"
        out[side] = {"level": level, "reason": reason}
        if level == "none":
            continue
        joints_c[f"{side}Hand"] = hand.wrist
        keep = humanoid.FINGER_LEVELS[level]
        for name, p in hand.joints.items():
            if cast(tuple[str, str, int], humanoid.finger_of(name))[1] in keep:  # hand.joints holds finger joints only
                joints_c[name] = p
        if level == "mitten" and hand.level == "full":
            # The other hand is a mitten: this one's mitten bone runs down the middle of its block.
            for k in range(1, humanoid.PHALANGES + 2):
                joints_c[f"{side}HandIndex{k}"] = np.mean(
                    [hand.joints[f"{side}Hand{f}{k}"] for f in ("Index", "Middle", "Ring", "Pinky")], axis=0
                )
    return out


def _assemble(legs: Legs, arms: dict[str, Arm], trunk: Trunk) -> dict[str, npt.NDArray[np.float64]]:
    """All humanoid.JOINT_NAMES in the canonical frame."""
    j: dict[str, npt.NDArray[np.float64]] = dict(trunk.joints)
    for side in ("Left", "Right"):
        leg = legs.sides[side]
        j[f"{side}UpLeg"] = leg.hip
        j[f"{side}Leg"] = leg.knee
        j[f"{side}Foot"] = leg.ankle
        j[f"{side}ToeBase"] = leg.toe_base
        j[f"{side}Toe_End"] = leg.toe_end
        arm = arms[side]
        j[f"{side}Shoulder"] = arm.clavicle
        j[f"{side}Arm"] = arm.shoulder
        j[f"{side}ForeArm"] = arm.elbow
        j[f"{side}Hand"] = arm.wrist
    missing = [n for n in humanoid.JOINT_NAMES if n not in j]
    if missing:
        raise RigError("internal", f"skeleton passes left joints out: {', '.join(missing)}")
    return {n: np.asarray(j[n], dtype=np.float64) for n in humanoid.JOINT_NAMES}


def _check_biped(height: float, legs: Legs, arms: dict[str, Arm], trunk: Trunk) -> None:
    """Two arms whose roots mirror each other, above the legs, and a head above them.

    The roots, not the tips: a sword or a spear in one hand must not make a humanoid
    a non-biped (the arms' agreement still lowers the confidence)."""
    left, right = arms["Left"], arms["Right"]
    if (
        abs(left.shoulder[0] + right.shoulder[0]) > tol.ARM_MIRROR_TOLERANCE * height
        or abs(left.shoulder[2] - right.shoulder[2]) > tol.ARM_MIRROR_TOLERANCE * height
    ):
        if legs.separation >= tol.CUE_WEAK:
            # Two legs seen standing apart: a character whose arms are hard to read (one
            # raised, one down, one behind a prop). Rigged, with a warning and a low
            # confidence (the arms' agreement is a cue).
            trunk.warnings.append("the two arms do not mirror each other: check the arms")
        else:
            raise RigError("not_a_biped", "nothing on the two sides mirrors the other like a pair of arms")
    reach = (left.tip[0] - right.tip[0]) / 2.0
    if reach < tol.MIN_ARM_REACH * height:
        raise RigError("not_a_biped", "no arms stand out from the body")
    hip_z = legs.sides["Left"].hip[2]
    if min(left.shoulder[2], right.shoulder[2]) <= hip_z:
        raise RigError("not_a_biped", "what look like arms are not above the legs")
    # The lower shoulder: one arm raised (its shoulder read high) must not hide the head.
    if trunk.joints["HeadTop_End"][2] - min(left.shoulder[2], right.shoulder[2]) < tol.MIN_HEAD_ABOVE_SHOULDERS * height:
        raise RigError("not_a_biped", "there is no head above the shoulders")


def _confidence(orientation: Orientation, legs: Legs, arms: dict[str, Arm], trunk: Trunk) -> tuple[float, list[str]]:
    """0..1 and the reasons: the weakest of the cues that the fit relied on."""
    neck_z = float(trunk.joints["Neck"][2])
    height = float(orientation.height)
    above = max(float(a.shoulder[2]) for a in arms.values()) - neck_z
    cues = {
        "left-right symmetry": orientation.symmetry,
        "head-to-feet direction": orientation.up_margin,
        "facing direction": orientation.front_margin,
        "legs apart": legs.separation,
        "arms mirror each other": float(np.mean([a.quality for a in arms.values()])),
        "neck": trunk.neck_quality,
        # Shoulders above the base of the neck: horns, ears or a hat taken for arms?
        "arms below the head": float(np.clip(1.0 - above / (tol.SHOULDER_ABOVE_NECK_FULL * height), 0.0, 1.0)),
    }
    if any(a.hanging for a in arms.values()):
        # Arms read from slices beside the body are placed less exactly than arms held out.
        cues["arms held out from the body"] = tol.HANGING_ARMS_CUE
    reasons = []
    for name, value in cues.items():
        word = "clear" if value >= tol.CUE_CLEAR else "weak" if value >= tol.CUE_WEAK else "poor"
        reasons.append(f"{name}: {word} ({value:.2f})")
    values = np.clip(np.array(list(cues.values())), 0.0, 1.0)
    # A fit is as sure as its weakest cue, softened by the others.
    confidence = float(tol.CONFIDENCE_WEAKEST_WEIGHT * values.min() + (1 - tol.CONFIDENCE_WEAKEST_WEIGHT) * values.mean())
    return confidence, reasons
