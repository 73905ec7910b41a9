"""Augmented test characters with exact ground truth, made from the artists' rigs.

A case starts from one evaluation character (its artist skeleton, skin weights and the
unrigged mesh a user would upload) and changes it in named passes, all on plain arrays in
Blender's world frame (+Z up, the frame of ``rig.json``'s joints):

1. **pose**: the artist skeleton is posed (arms from level to 75 degrees below, or one arm
   raised; elbows and knees bent; legs apart; spine and head turned) and the pose is baked
   into the mesh by linear blend skinning with the artist's weights. The ground-truth joints
   are bone heads, so they move with their bones exactly.
2. **props**: a long thin box held in one hand (a sword or staff), a flat disc on the other
   forearm (a shield), or a sheet hanging from the shoulders (a cape, or a long coat that
   wraps round the back and sides). Props are extra meshes; the joints do not change.
3. **placement**: one similarity transform for everything: turned to face another way,
   laid down (its up along another axis of the file, so a Z-up or upside-down file), mirrored
   (the character's left becomes its right: the ground truth swaps Left/Right names), scaled
   (0.01 to 100 units tall), moved far from the origin.

Each case is drawn from its own seeded generator (``seed``, character, kind, index), so a
case is the same whatever else is run. ``blender.augmented`` writes a case as a GLB;
``evaluation.augment_run`` rigs and scores it like a real character.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from autorig.evaluation.dataset import CachedCharacter
from autorig.rigging.bones import BoneSet
from autorig.rigging.posing import deform, skinning_matrices

# Bumped whenever a change here makes a (seed, character, kind, index) another case, so two
# stored runs are only compared case by case when they agree.
CASES_VERSION = 2

# Kinds of augmentation, in report order. "none" is the character written through the same
# path unchanged: the baseline every other case of that character is compared with.
KINDS: tuple[str, ...] = ("none", "pose", "facing", "upaxis", "mirror", "scale", "offset", "prop", "cape", "mixed")
AUGMENTED_KINDS: tuple[str, ...] = KINDS[1:]

# --- the ranges of the augmentations (degrees, fractions of the character's height) ---------
ARM_DOWN_DEG = (0.0, 75.0)  # upper arm below horizontal
ARM_UP_DEG = (20.0, 70.0)  # the raised arm above horizontal
ARM_UP_PROBABILITY = 0.3  # one arm raised instead of lowered
ARM_FORWARD_DEG = (-10.0, 20.0)  # upper arm swung forward (negative: back)
ELBOW_DEG = (0.0, 25.0)
KNEE_DEG = (0.0, 25.0)
LEGS_APART_DEG = (0.0, 20.0)  # each thigh out to its side; the total spread up to twice this
SPINE_YAW_DEG = 10.0  # spine turned about up, +-
SPINE_LEAN_DEG = 5.0  # spine leaning forward/back and sideways, +-
HEAD_YAW_DEG = 20.0
HEAD_PITCH_DEG = 10.0
LOG10_HEIGHT = (-2.0, 2.0)  # scale: the character's height from 0.01 to 100 units
LOG10_OFFSET_HEIGHTS = (1.0, 3.0)  # offset: 10 to 1000 heights from the origin
SWORD_LENGTH = (0.3, 0.6)  # held box: length, as a fraction of height
SWORD_WIDTH = (0.02, 0.05)
SWORD_GRIP = 0.15  # share of the length behind the hand
SHIELD_RADIUS = (0.1, 0.18)
SHIELD_THICKNESS = 0.015
CAPE_LENGTH = (0.45, 0.75)  # from the shoulders down, as a fraction of height
CAPE_GAP = 0.01  # distance kept from the body
CAPE_FLARE = (0.0, 0.15)  # how far the hem stands out behind, beyond the body
PROP_SEGMENTS = 24  # disc and cape resolution

# Joints whose names a mirror swaps, and the limb pairs a left/right swap is judged on.
LIMB_PAIRS: dict[str, tuple[str, ...]] = {
    "arms": ("Arm", "ForeArm", "Hand"),
    "legs": ("UpLeg", "Leg", "Foot"),
}
# Where "upaxis" puts the character's up, as an axis of the glTF file (+Y is upright).
UP_CHOICES_GLTF = ("+Z", "-Z", "+X", "-X", "-Y")


@dataclass
class Prop:
    """An extra mesh of a case: vertices (n, 3) float64, triangles (m, 3) int64."""

    name: str
    vertices: npt.NDArray[np.float64]
    triangles: npt.NDArray[np.int64]


@dataclass
class Case:
    """One augmented character, everything in Blender's world frame.

    bone_matrices: (b, 3, 4) the pose, rest -> posed, for the artist's bones;
    transform: (4, 4) the placement, applied after the pose (a similarity, maybe mirrored);
    joints: ground truth after both, canonical names (names swapped when mirrored);
    height: the character's unaugmented height times the scale (errors are % of this).
    """

    character: str
    kind: str
    index: int
    bone_matrices: npt.NDArray[np.float64]
    transform: npt.NDArray[np.float64]
    joints: dict[str, npt.NDArray[np.float64]]
    height: float
    props: list[Prop] = field(default_factory=list)
    mirrored: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    up: npt.NDArray[np.float64] = field(default_factory=lambda: np.array([0.0, 0.0, 1.0]))  # the character's, placed
    front: npt.NDArray[np.float64] = field(default_factory=lambda: np.array([0.0, -1.0, 0.0]))  # (unit vectors)

    @property
    def case_id(self) -> str:
        return f"{self.character}/{self.kind}/{self.index}"

    def place(self, points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The placement applied to (n, 3) points."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        placed: npt.NDArray[np.float64] = p @ self.transform[:3, :3].T + self.transform[:3, 3]
        return placed


# --- helpers ------------------------------------------------------------------------------


def case_rng(seed: int, character: str, kind: str, index: int) -> np.random.Generator:
    """The generator of one case: stable across runs, independent of the other cases."""
    return np.random.default_rng([int(seed), zlib.crc32(character.encode()), zlib.crc32(kind.encode()), int(index)])


def _unit(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    v = np.asarray(v, dtype=np.float64)
    n = np.linalg.norm(v)
    return v / n if n > 0 else v


def _rot(axis: npt.NDArray[np.float64], deg: float) -> npt.NDArray[np.float64]:
    r: npt.NDArray[np.float64] = Rotation.from_rotvec(_unit(axis) * np.radians(deg)).as_matrix()
    return r


def _align(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The smallest rotation taking direction a to direction b."""
    a, b = _unit(a), _unit(b)
    axis = np.cross(a, b)
    s, c = np.linalg.norm(axis), float(np.dot(a, b))
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        perp = np.cross(a, [1.0, 0, 0]) if abs(a[0]) < 0.9 else np.cross(a, [0, 1.0, 0])
        return _rot(perp, 180.0)
    return _rot(axis, np.degrees(np.arctan2(s, c)))


def _gltf_to_blender(v: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """A direction of the glTF frame (+Y up) in Blender's (+Z up): (x, y, z) -> (x, -z, y)."""
    x, y, z = np.asarray(v, dtype=np.float64)
    return np.array([x, -z, y])


def _axis(label: str) -> npt.NDArray[np.float64]:
    v = np.zeros(3)
    v["XYZ".index(label[1])] = 1.0 if label[0] == "+" else -1.0
    return v


def swap_sides(joints: dict[str, npt.NDArray[np.float64]]) -> dict[str, npt.NDArray[np.float64]]:
    """Left* <-> Right* names (a mirrored character's left is the original's right)."""
    out = {}
    for k, v in joints.items():
        if k.startswith("Left"):
            out["Right" + k[4:]] = v
        elif k.startswith("Right"):
            out["Left" + k[5:]] = v
        else:
            out[k] = v
    return out


@dataclass
class Frame:
    """The character's own axes at rest (Blender frame): up, front, left = up x front."""

    up: npt.NDArray[np.float64]
    front: npt.NDArray[np.float64]
    left: npt.NDArray[np.float64]


def character_frame(c: CachedCharacter) -> Frame:
    """Up is +Z for every evaluation character; the front is the GT's facing direction."""
    up = np.array([0.0, 0.0, 1.0])
    front = _gltf_to_blender(_axis(c.gt["import_info"]["facing_gltf"]))
    left = np.cross(up, front)
    j = c.joints
    if "LeftArm" in j and "RightArm" in j and np.dot(j["LeftArm"] - j["RightArm"], left) < 0:
        raise ValueError(f"{c.name}: the ground truth's left arm is not on the character's left")
    return Frame(up, front, left)


def _bone(c: CachedCharacter, joint: str) -> int | None:
    rec = c.gt["canonical"].get(joint)
    if not rec or rec.get("bone") not in c.bone_names:
        return None
    return c.bone_names.index(rec["bone"])


def artist_bones(c: CachedCharacter) -> BoneSet:
    return BoneSet(c.bone_names, c.bone_heads, c.bone_tails, c.bone_parents, c.bone_deform)


# --- pass 1: the pose ---------------------------------------------------------------------


def _limb_direction(c: CachedCharacter, start: str, ends: tuple[str, ...]) -> npt.NDArray[np.float64] | None:
    """Rest direction of the bone starting at joint ``start``: towards the first of ``ends``
    the ground truth has, else the bone's own tail."""
    if start not in c.joints:
        return None
    for e in ends:
        if e in c.joints:
            return _unit(c.joints[e] - c.joints[start])
    b = _bone(c, start)
    return None if b is None else _unit(c.bone_tails[b] - c.bone_heads[b])


def draw_pose(c: CachedCharacter, rng: np.random.Generator) -> tuple[npt.NDArray[np.float64], dict[str, Any]]:
    """(b, 3, 3) local rotations (rest frame, about each bone's head) and what was drawn."""
    f = character_frame(c)
    rot = np.tile(np.eye(3), (len(c.bone_names), 1, 1))
    params: dict[str, Any] = {}

    def set_rot(joint: str, r: npt.NDArray[np.float64]) -> bool:
        b = _bone(c, joint)
        if b is None:
            return False
        rot[b] = r @ rot[b]
        return True

    raised = rng.choice(["Left", "Right"]) if rng.random() < ARM_UP_PROBABILITY else None
    for side, sign in (("Left", 1.0), ("Right", -1.0)):
        lateral = f.left * sign
        d = _limb_direction(c, f"{side}Arm", (f"{side}ForeArm", f"{side}Hand"))
        if d is not None:
            down = rng.uniform(*ARM_DOWN_DEG) if side != raised else -rng.uniform(*ARM_UP_DEG)
            fwd = rng.uniform(*ARM_FORWARD_DEG)
            t = np.cos(np.radians(down)) * lateral - np.sin(np.radians(down)) * f.up
            t = _rot(np.cross(t, f.front), fwd) @ t  # about t x front: towards the front
            set_rot(f"{side}Arm", _align(d, t))
            params[f"{side.lower()}_arm_below_deg"] = round(float(down), 1)
            params[f"{side.lower()}_arm_forward_deg"] = round(float(fwd), 1)
        e = _limb_direction(c, f"{side}ForeArm", (f"{side}Hand",))
        if e is not None:
            bend = rng.uniform(*ELBOW_DEG)
            set_rot(f"{side}ForeArm", _rot(np.cross(e, f.front), bend))  # forearm towards the front
            params[f"{side.lower()}_elbow_deg"] = round(float(bend), 1)
        u = _limb_direction(c, f"{side}UpLeg", (f"{side}Leg", f"{side}Foot"))
        if u is not None:
            apart = rng.uniform(*LEGS_APART_DEG)
            knee = rng.uniform(*KNEE_DEG)
            thigh = _rot(np.cross(u, lateral), apart) @ _rot(np.cross(u, f.front), knee / 2)
            set_rot(f"{side}UpLeg", thigh)
            params[f"{side.lower()}_leg_apart_deg"] = round(float(apart), 1)
            s = _limb_direction(c, f"{side}Leg", (f"{side}Foot",))
            if s is not None:
                set_rot(f"{side}Leg", _rot(np.cross(s, -f.front), knee))  # shin backwards
                params[f"{side.lower()}_knee_deg"] = round(float(knee), 1)
    spine = "Spine" if _bone(c, "Spine") is not None else "Chest"
    yaw, lean_f, lean_s = (
        rng.uniform(-1, 1) * SPINE_YAW_DEG,
        rng.uniform(-1, 1) * SPINE_LEAN_DEG,
        rng.uniform(-1, 1) * SPINE_LEAN_DEG,
    )
    if set_rot(spine, _rot(f.left, lean_f) @ _rot(f.front, lean_s) @ _rot(f.up, yaw)):
        params["spine_yaw_deg"] = round(float(yaw), 1)
    hy, hp = rng.uniform(-1, 1) * HEAD_YAW_DEG, rng.uniform(-1, 1) * HEAD_PITCH_DEG
    if set_rot("Head", _rot(f.left, hp) @ _rot(f.up, hy)):
        params["head_yaw_deg"] = round(float(hy), 1)
    params["raised_arm"] = None if raised is None else str(raised)
    return rot, params


def posed_points(
    c: CachedCharacter, matrices: npt.NDArray[np.float64]
) -> tuple[dict[str, npt.NDArray[np.float64]], dict[str, npt.NDArray[np.float64]]]:
    """Ground-truth joints and bone tails by joint name after the pose (matrices (b, 3, 4))."""
    joints: dict[str, npt.NDArray[np.float64]] = {}
    tails: dict[str, npt.NDArray[np.float64]] = {}
    for name, p in c.joints.items():
        b = _bone(c, name)
        joints[name] = p if b is None else matrices[b, :, :3] @ p + matrices[b, :, 3]
        if b is not None:
            tails[name] = matrices[b, :, :3] @ c.bone_tails[b] + matrices[b, :, 3]
    if "LeftUpLeg" in joints and "RightUpLeg" in joints:  # the GT's HipsCenter is their midpoint
        joints["HipsCenter"] = (joints["LeftUpLeg"] + joints["RightUpLeg"]) / 2.0
    return joints, tails


# --- pass 2: props ------------------------------------------------------------------------


def box(
    center: npt.NDArray[np.float64], axes: npt.NDArray[np.float64], half: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """A box: axes (3, 3) rows, half sizes (3,). Returns vertices (8, 3), triangles (12, 3)
    wound outwards when the axes are right-handed."""
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
    v = center + (signs * half) @ axes
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    tris = [t for a, b, cc, d in quads for t in ((a, b, cc), (a, cc, d))]
    return v, np.array(tris, dtype=np.int64)


def disc(
    center: npt.NDArray[np.float64],
    normal: npt.NDArray[np.float64],
    radius: float,
    thickness: float,
    segments: int = PROP_SEGMENTS,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """A closed flat cylinder (a shield). Returns vertices, triangles (outwards)."""
    n = _unit(normal)
    a = _unit(np.cross(n, [0.0, 0, 1]) if abs(n[2]) < 0.9 else np.cross(n, [1.0, 0, 0]))
    b = np.cross(n, a)
    ang = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    ring = radius * (np.cos(ang)[:, None] * a + np.sin(ang)[:, None] * b)
    top, bottom = center + ring + n * thickness / 2, center + ring - n * thickness / 2
    v = np.vstack([top, bottom, center + n * thickness / 2, center - n * thickness / 2])
    ct, cb = 2 * segments, 2 * segments + 1
    tris = []
    for i in range(segments):
        j = (i + 1) % segments
        tris += [(ct, i, j), (cb, segments + j, segments + i), (i, segments + i, segments + j), (i, segments + j, j)]
    return v, np.array(tris, dtype=np.int64)


def sheet(grid: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """A single-sided sheet from a (rows, cols, 3) grid of points."""
    r, k = grid.shape[:2]
    idx = np.arange(r * k).reshape(r, k)
    a, b, cc, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]
    tris = np.concatenate([np.stack([a, b, cc], -1).reshape(-1, 3), np.stack([a, cc, d], -1).reshape(-1, 3)])
    return grid.reshape(-1, 3), tris


def _hand_point(
    joints: dict[str, npt.NDArray[np.float64]], tails: dict[str, npt.NDArray[np.float64]], side: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
    """Where the hand is and the direction the forearm points (posed)."""
    for start, end in ((f"{side}ForeArm", f"{side}Hand"), (f"{side}Arm", f"{side}ForeArm")):
        if start in joints and end in joints:
            return joints[end], _unit(joints[end] - joints[start])
    start = f"{side}ForeArm" if f"{side}ForeArm" in tails else f"{side}Arm"
    if start in tails and start in joints:  # no hand joint (toy rigs): the arm bone's tail
        return tails[start], _unit(tails[start] - joints[start])
    return None


def make_props(
    c: CachedCharacter,
    joints: dict[str, npt.NDArray[np.float64]],
    tails: dict[str, npt.NDArray[np.float64]],
    vertices: npt.NDArray[np.float64],
    rng: np.random.Generator,
    cape: bool,
) -> tuple[list[Prop], dict[str, Any]]:
    """Props for a posed character: a held box and a shield, or a cape/coat. vertices: the
    posed mesh (to keep the cape off the body)."""
    f = character_frame(c)
    h = c.height
    props: list[Prop] = []
    params: dict[str, Any] = {}
    if not cape:
        hand = rng.choice(["Left", "Right"])
        other = "Right" if hand == "Left" else "Left"
        what = rng.choice(["both", "sword", "shield"], p=[0.6, 0.2, 0.2])
        params.update(prop=str(what), prop_hand=str(hand))
        hp = _hand_point(joints, tails, hand)
        if hp is not None and what in ("both", "sword"):
            p, d = hp
            grip = p + d * rng.uniform(0.02, 0.05) * h
            # pointing up and forward, at right angles to the forearm as far as can be
            axis = _unit(f.up * np.cos(np.radians(rng.uniform(0, 60))) + f.front * np.sin(np.radians(rng.uniform(0, 60))))
            axis = _unit(axis - np.dot(axis, d) * d) if abs(np.dot(axis, d)) < 0.95 else axis
            if rng.random() < 0.3:
                axis = -axis  # held pointing down
            length = rng.uniform(*SWORD_LENGTH) * h
            width = rng.uniform(*SWORD_WIDTH) * h
            side = _unit(np.cross(axis, f.front)) if abs(np.dot(axis, f.front)) < 0.95 else f.left
            third = np.cross(axis, side)
            center = grip + axis * length * (0.5 - SWORD_GRIP)
            v, t = box(center, np.stack([axis, side, third]), np.array([length / 2, width / 2, width / 4]))
            props.append(Prop("AugmentSword", v, t))
        hp = _hand_point(joints, tails, other)
        if hp is not None and what in ("both", "shield"):
            p, d = hp
            fore = f"{other}ForeArm" if f"{other}ForeArm" in joints else f"{other}Arm"
            mid = (joints[fore] + p) / 2
            lateral = f.left * (1.0 if other == "Left" else -1.0)
            n = f.front + 0.5 * lateral
            n = _unit(n - np.dot(n, d) * d)
            # out from the forearm's surface: the nearest mesh points give its thickness
            near = vertices[np.linalg.norm(vertices - mid, axis=1) < 0.06 * h]
            out = float(np.max((near - mid) @ n)) if len(near) else 0.03 * h
            radius = rng.uniform(*SHIELD_RADIUS) * h
            v, t = disc(mid + n * (out + CAPE_GAP * h + SHIELD_THICKNESS * h / 2), n, radius, SHIELD_THICKNESS * h)
            props.append(Prop("AugmentShield", v, t))
    else:
        coat = bool(rng.random() < 0.4)
        params.update(prop="coat" if coat else "cape")
        props.append(_cape(c, joints, vertices, f, rng, coat, params))
    return props, params


def _arm_bones(c: CachedCharacter) -> npt.NDArray[np.bool_]:
    """(b,) bool: the bones of both arms (shoulder or upper arm and everything below)."""
    out = np.zeros(len(c.bone_names), dtype=bool)
    for joint in ("LeftShoulder", "RightShoulder", "LeftArm", "RightArm"):
        b = _bone(c, joint)
        if b is not None:
            out[b] = True
    for _ in range(len(out)):  # children inherit, until nothing changes
        grown = out | np.array([p >= 0 and out[p] for p in c.bone_parents])
        if np.array_equal(grown, out):
            break
        out = grown
    return out


def _cape(
    c: CachedCharacter,
    joints: dict[str, npt.NDArray[np.float64]],
    vertices: npt.NDArray[np.float64],
    f: Frame,
    rng: np.random.Generator,
    coat: bool,
    params: dict[str, Any],
) -> Prop:
    """A sheet from the shoulders down, kept just off the body (the arms left out, so a coat
    goes under them): across the back (cape), or round the back and both sides (coat). It
    hangs: going down, it never comes closer to the body than the row above."""
    h = c.height
    la, ra = joints.get("LeftArm"), joints.get("RightArm")
    center = (la + ra) / 2 if la is not None and ra is not None else joints.get("Neck", joints["Hips"])
    half_w = abs(float(np.dot(la - ra, f.left))) / 2 if la is not None and ra is not None else 0.12 * h
    dominant = np.asarray(c.weights.argmax(axis=1)).ravel()
    body = vertices[~_arm_bones(c)[dominant]] - center
    up, left, front = body @ f.up, body @ f.left, body @ f.front
    top = 0.02 * h
    # never below the feet (chibi characters have their shoulders low)
    length = min(rng.uniform(*CAPE_LENGTH) * h, 0.95 * (top - float(up.min())))
    flare = rng.uniform(*CAPE_FLARE) * h
    rows, cols = PROP_SEGMENTS, (PROP_SEGMENTS if coat else PROP_SEGMENTS // 2)
    dz = max(0.03 * h, length / rows)
    grid = np.zeros((rows, cols, 3))
    reach = np.zeros(cols)
    if coat:  # angle 0 straight behind, round to both sides
        angles = np.radians(np.linspace(-110.0, 110.0, cols))
    for i, s in enumerate(np.linspace(0.0, 1.0, rows)):
        z = top - s * length
        band = np.abs(up - z) < dz
        for j in range(cols):
            if coat:
                d = np.sin(angles[j]) * f.left - np.cos(angles[j]) * f.front
                dl, df = np.sin(angles[j]), -np.cos(angles[j])
                proj = left[band] * dl + front[band] * df
                perp = np.abs(left[band] * df - front[band] * dl)
                near = proj[(perp < 0.06 * h) & (proj > 0)]
                reach[j] = max(reach[j], float(near.max()) if len(near) else 0.05 * h)
                grid[i, j] = center + f.up * z + d * (reach[j] + CAPE_GAP * h + flare * s)
            else:
                lat = (2.0 * j / (cols - 1) - 1.0) * half_w * (1.0 + 0.5 * s)
                near = -front[band & (np.abs(left - lat) < max(0.04 * h, half_w / cols))]
                reach[j] = max(reach[j], float(near.max()) if len(near) else 0.05 * h)
                grid[i, j] = center + f.up * z + f.left * lat - f.front * (reach[j] + CAPE_GAP * h + flare * s)
    v, t = sheet(grid)
    params["cape_length"] = round(float(length / h), 3)
    return Prop("AugmentCoat" if coat else "AugmentCape", v, t)


# --- pass 3: placement --------------------------------------------------------------------


def draw_placement(
    c: CachedCharacter, rng: np.random.Generator, kinds: set[str]
) -> tuple[npt.NDArray[np.float64], bool, float, dict[str, Any]]:
    """(4, 4) transform, mirrored?, scale, params. ``kinds``: which of facing, upaxis,
    mirror, scale, offset to draw."""
    f = character_frame(c)
    m = np.eye(3)
    params: dict[str, Any] = {}
    if "facing" in kinds or "upaxis" in kinds:
        turn = float(rng.choice([90.0, 180.0, 270.0])) if "upaxis" not in kinds else float(rng.choice([0.0, 90.0, 180.0, 270.0]))
        m = _rot(f.up, turn) @ m
        params["turn_deg"] = turn
    if "upaxis" in kinds:
        label = str(rng.choice(UP_CHOICES_GLTF))
        m = _align(f.up, _gltf_to_blender(_axis(label))) @ m
        params["up_gltf"] = label
    mirrored = False
    if "mirror" in kinds:
        axis = int(rng.integers(3))
        mir = np.eye(3)
        mir[axis, axis] = -1.0
        m = mir @ m
        mirrored = True
        params["mirror_axis"] = "XYZ"[axis]
    scale = 1.0
    if "scale" in kinds:
        scale = 10 ** rng.uniform(*LOG10_HEIGHT) / c.height
        params["height"] = float(f"{scale * c.height:.4g}")
    t = np.zeros(3)
    if "offset" in kinds:
        dist = 10 ** rng.uniform(*LOG10_OFFSET_HEIGHTS) * c.height * scale
        t = _unit(rng.normal(size=3)) * dist
        params["offset_heights"] = round(float(dist / (c.height * scale)), 1)
    out = np.eye(4)
    out[:3, :3] = scale * m
    out[:3, 3] = t
    return out, mirrored, scale, params


# --- the case -----------------------------------------------------------------------------


def make_case(c: CachedCharacter, kind: str, index: int = 0, seed: int = 0) -> Case:
    """The case ``kind``/``index`` of cached character ``c`` (see the module docstring)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (choose from {', '.join(KINDS)})")
    rng = case_rng(seed, c.name, kind, index)
    bones = artist_bones(c)
    rot = np.tile(np.eye(3), (len(bones), 1, 1))
    params: dict[str, Any] = {}
    mixed = kind == "mixed"
    if kind == "pose" or mixed:
        rot, p = draw_pose(c, rng)
        params.update(p)
    matrices = skinning_matrices(bones, rot)
    joints, tails = posed_points(c, matrices)
    props: list[Prop] = []
    want_prop = kind == "prop" or (mixed and rng.random() < 0.4)
    want_cape = kind == "cape" or (mixed and rng.random() < 0.4)
    if want_prop or want_cape:
        posed = deform(c.rigged.vertices, c.weights, matrices)
        if want_prop:
            pr, p = make_props(c, joints, tails, posed, rng, cape=False)
            props += pr
            params.update(p)
        if want_cape:
            pr, p = make_props(c, joints, tails, posed, rng, cape=True)
            props += pr
            params.update(p)
    place_kinds = {kind} if kind in ("facing", "upaxis", "mirror", "scale", "offset") else set()
    if mixed:
        place_kinds = {"upaxis" if rng.random() < 0.4 else "facing", "scale", "offset"}
        if rng.random() < 0.5:
            place_kinds.add("mirror")
    transform, mirrored, scale, p = draw_placement(c, rng, place_kinds)
    params.update(p)
    placed = {k: transform[:3, :3] @ v + transform[:3, 3] for k, v in joints.items()}
    if mirrored:
        placed = swap_sides(placed)
    f = character_frame(c)
    case = Case(
        c.name,
        kind,
        index,
        matrices,
        transform,
        placed,
        float(c.height * scale),
        mirrored=mirrored,
        params=params,
        up=_unit(transform[:3, :3] @ f.up),
        front=_unit(transform[:3, :3] @ f.front),
    )
    case.props = [Prop(p_.name, case.place(p_.vertices), p_.triangles) for p_ in props]
    return case


def skin_rows(c: CachedCharacter, rest_vertices: npt.NDArray[np.float64]) -> sparse.csr_matrix:
    """The artist's weights for arbitrary rest vertices (the unrigged file's, which sit
    where the rigged mesh's do): each takes the weights of the nearest rigged vertex."""
    _, idx = cKDTree(c.rigged.vertices).query(np.asarray(rest_vertices, dtype=np.float64))
    return c.weights[idx]


def apply(case: Case, c: CachedCharacter, rest_vertices: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Rest vertices of the unrigged mesh (n, 3) -> the case's vertices (n, 3)."""
    if np.allclose(case.bone_matrices[:, :, :3], np.eye(3)) and np.allclose(case.bone_matrices[:, :, 3], 0):
        posed = np.asarray(rest_vertices, dtype=np.float64)
    else:
        posed = deform(rest_vertices, skin_rows(c, rest_vertices), case.bone_matrices)
    return case.place(posed)


# --- which cases a run holds ---------------------------------------------------------------


def plan(names: list[str], kinds: list[str], count: int, seed: int) -> list[tuple[str, str, int]]:
    """``count`` (character, kind, index) triples, spread evenly: each round holds every
    character x kind once, in an order shuffled by ``seed``; the ``none`` baseline of each
    character used comes first."""
    kinds = [k for k in kinds if k != "none"]
    out: list[tuple[str, str, int]] = []
    if kinds and names:
        k = 0
        while len(out) < count:
            pairs = [(n, kd) for kd in kinds for n in names]
            order = np.random.default_rng([int(seed), k]).permutation(len(pairs))
            out += [(pairs[i][0], pairs[i][1], k) for i in order]
            k += 1
        out = out[:count]
    used = [n for n in names if any(o[0] == n for o in out)] if out else list(names)
    return [(n, "none", 0) for n in used] + out
