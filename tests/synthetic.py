"""Procedural test characters with known joints: humanoids in T- and A-pose, and
non-bipeds (cube, sphere, four-legged animal, car).

A humanoid is a union of closed ellipsoids around its bones (pelvis, chest, neck,
head, upper and lower limbs, hands and feet), built in the canonical frame (+Z up,
facing -Y, left = +X, feet at z = 0) and then turned to any orientation with
``orient``. The ellipsoids overlap like a real character's loose shells; ``shells``
keeps each as its own mesh part, as glTF files split at seams do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autorig.rigging import humanoid
from autorig.rigging.mesh import CharacterMesh, MeshPart

AXES = {
    "+X": np.array([1.0, 0.0, 0.0]),
    "-X": np.array([-1.0, 0.0, 0.0]),
    "+Y": np.array([0.0, 1.0, 0.0]),
    "-Y": np.array([0.0, -1.0, 0.0]),
    "+Z": np.array([0.0, 0.0, 1.0]),
    "-Z": np.array([0.0, 0.0, -1.0]),
}


@dataclass
class Figure:
    """mesh: world-space triangles; joints: humanoid.JOINT_NAMES -> (3,) world position
    (empty for non-bipeds); up, front, left: the figure's own axes in world space."""

    mesh: CharacterMesh
    joints: dict[str, np.ndarray]
    up: np.ndarray
    front: np.ndarray
    left: np.ndarray
    height: float


def ellipsoid(centre, axes: np.ndarray, radii, rings: int = 10, segments: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """A closed UV ellipsoid. centre: (3,); axes: (3, 3) rows are its unit axes; radii: (3,).
    Returns vertices (n, 3) float64 and triangles (m, 3) int64."""
    theta = np.linspace(0.0, np.pi, rings + 1)[1:-1]  # (rings-1,) polar angles, poles apart
    phi = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    unit = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], axis=-1).reshape(-1, 3)
    unit = np.vstack([unit, [[0.0, 0.0, 1.0]], [[0.0, 0.0, -1.0]]])
    v = (unit * np.asarray(radii, dtype=np.float64)) @ np.asarray(axes, dtype=np.float64) + np.asarray(centre, dtype=np.float64)
    tris = []
    n_ring = rings - 1
    top, bottom = n_ring * segments, n_ring * segments + 1
    for r in range(n_ring - 1):
        for s in range(segments):
            a, b = r * segments + s, r * segments + (s + 1) % segments
            c, d = a + segments, b + segments
            tris += [(a, c, b), (b, c, d)]
    for s in range(segments):
        tris.append((top, (s + 1) % segments, s))
        last = (n_ring - 1) * segments
        tris.append((bottom, last + s, last + (s + 1) % segments))
    return v, np.array(tris, dtype=np.int64)


def frustum(bottom_centre, r_bottom: float, r_top: float, height: float, segments: int = 24):
    """A closed upright truncated cone (a long skirt): vertices (n, 3), triangles (m, 3)."""
    c = np.asarray(bottom_centre, dtype=np.float64)
    a = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    ring = np.stack([np.cos(a), np.sin(a), np.zeros_like(a)], axis=1)
    v = np.vstack([c + ring * r_bottom, c + ring * r_top + [0, 0, height], [c], [c + [0, 0, height]]])
    tris = []
    for i in range(segments):
        j = (i + 1) % segments
        tris += [(i, j, segments + j), (i, segments + j, segments + i)]
        tris += [(2 * segments, j, i), (2 * segments + 1, segments + i, segments + j)]
    return v, np.array(tris, dtype=np.int64)


def _frame(direction: np.ndarray, side_hint: np.ndarray) -> np.ndarray:
    """(3, 3) rows: two axes across ``direction`` (the first near ``side_hint``), then it."""
    d = direction / np.linalg.norm(direction)
    a = side_hint - (side_hint @ d) * d
    if np.linalg.norm(a) < 1e-9:
        a = np.cross(d, [0.0, 0.0, 1.0]) if abs(d[2]) < 0.9 else np.cross(d, [1.0, 0.0, 0.0])
    a /= np.linalg.norm(a)
    return np.stack([a, np.cross(d, a), d])


def limb(a, b, radius_side: float, radius_depth: float, overshoot: float = 0.6, side_hint=(1.0, 0.0, 0.0)):
    """An ellipsoid around the bone a->b: along the bone it reaches ``overshoot`` of its
    thinner radius past each end (so neighbouring pieces overlap at the joint)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    f = _frame(b - a, np.asarray(side_hint, dtype=np.float64))
    half = np.linalg.norm(b - a) / 2 + overshoot * min(radius_side, radius_depth)
    return ellipsoid((a + b) / 2, f, (radius_side, radius_depth, half))


def humanoid_joints(
    height: float = 1.8, arm_angle_deg: float = 0.0, chibi: bool = False, right_arm_deg: float | None = None
) -> dict[str, np.ndarray]:
    """Canonical-frame joints of a standing figure (fractions of an adult's proportions,
    or a big-headed, short-legged chibi). arm_angle_deg: arms below the horizontal;
    right_arm_deg: the right arm's own angle, if different (negative: raised)."""
    if chibi:
        p = dict(
            hip=0.22,
            knee=0.12,
            ankle=0.05,
            hip_x=0.07,
            neck=0.5,
            head=0.52,
            top=1.0,
            shoulder=0.45,
            arm_x=0.11,
            upper=0.1,
            fore=0.09,
            hand=0.08,
            shoulder_clav=0.04,
        )
    else:
        p = dict(
            hip=0.53,
            knee=0.29,
            ankle=0.05,
            hip_x=0.055,
            neck=0.83,
            head=0.87,
            top=1.0,
            shoulder=0.81,
            arm_x=0.1,
            upper=0.16,
            fore=0.14,
            hand=0.1,
            shoulder_clav=0.035,
        )
    if arm_angle_deg > 60.0:
        # Arms hanging down start further out, so that they hang beside the chest and
        # hips rather than through them (shoulders are wider than hips).
        p["arm_x"] *= 1.45
    H = height
    a = np.radians(arm_angle_deg)
    j: dict[str, np.ndarray] = {}
    j["Hips"] = np.array([0.0, 0.0, (p["hip"] + 0.02) * H])
    j["Neck"] = np.array([0.0, 0.0, p["neck"] * H])
    j["Head"] = np.array([0.0, 0.0, p["head"] * H])
    j["HeadTop_End"] = np.array([0.0, 0.0, p["top"] * H])
    for i, name in enumerate(("Spine", "Spine1", "Spine2")):
        f = (i + 1) / 4
        j[name] = j["Hips"] + f * (j["Neck"] - j["Hips"])
    for side, sx in (("Left", 1.0), ("Right", -1.0)):
        if side == "Right" and right_arm_deg is not None:
            a = np.radians(right_arm_deg)
        out = np.array([sx * np.cos(a), 0.0, -np.sin(a)])
        j[f"{side}Shoulder"] = np.array([sx * p["shoulder_clav"] * H, 0.0, (p["shoulder"] + 0.015) * H])
        j[f"{side}Arm"] = np.array([sx * p["arm_x"] * H, 0.0, p["shoulder"] * H])
        j[f"{side}ForeArm"] = j[f"{side}Arm"] + out * p["upper"] * H
        j[f"{side}Hand"] = j[f"{side}ForeArm"] + out * p["fore"] * H
        j[f"{side}UpLeg"] = np.array([sx * p["hip_x"] * H, 0.0, p["hip"] * H])
        j[f"{side}Leg"] = np.array([sx * p["hip_x"] * H, -0.01 * H, p["knee"] * H])
        j[f"{side}Foot"] = np.array([sx * p["hip_x"] * H, 0.0, p["ankle"] * H])
        j[f"{side}ToeBase"] = np.array([sx * p["hip_x"] * H, -0.07 * H, 0.015 * H])
        j[f"{side}Toe_End"] = np.array([sx * p["hip_x"] * H, -0.11 * H, 0.015 * H])
    j["_hand_length"] = np.array([p["hand"] * H])
    return j


def humanoid_pieces(
    height: float = 1.8, arm_angle_deg: float = 0.0, chibi: bool = False, dress: bool = False, right_arm_deg: float | None = None
):
    """The figure's ellipsoids (list of (vertices, triangles)) and its joints, canonical
    frame; ``dress``: a closed floor-length skirt from the waist down hides the legs;
    ``right_arm_deg``: the right arm at its own angle (negative: raised)."""
    j = humanoid_joints(height, arm_angle_deg, chibi, right_arm_deg)
    H = height
    hand_len = float(j.pop("_hand_length")[0])
    s = 1.6 if chibi else 1.0  # chibi limbs are stubbier
    pieces = []
    hip_mid = 0.5 * (j["LeftUpLeg"] + j["RightUpLeg"])
    # Pelvis and chest: wide, shallow ellipsoids overlapping at the waist.
    pelvis_top = hip_mid[2] + 0.09 * H
    pieces.append(ellipsoid([0, 0, hip_mid[2] + 0.02 * H], np.eye(3), (0.11 * H * s**0.5, 0.075 * H, 0.08 * H)))
    chest_lo, chest_hi = pelvis_top - 0.02 * H, j["Neck"][2] - 0.005 * H
    pieces.append(
        ellipsoid(
            [0, 0, 0.5 * (chest_lo + chest_hi)],
            np.eye(3),
            (
                min(abs(j["LeftArm"][0]), (0.11 if chibi else 0.1) * H) + 0.01 * H,
                0.08 * H * s**0.5,
                0.5 * (chest_hi - chest_lo) + 0.02 * H,
            ),
        )
    )
    pieces.append(limb(j["Neck"] - [0, 0, 0.02 * H], j["Head"] + [0, 0, 0.01 * H], 0.03 * H, 0.03 * H))
    head_c = 0.5 * (j["Head"] + j["HeadTop_End"]) + np.array([0.0, -0.005 * H, 0.0])
    head_r = 0.5 * (j["HeadTop_End"][2] - j["Head"][2])
    pieces.append(ellipsoid(head_c, np.eye(3), (0.8 * head_r, 0.9 * head_r, head_r)))
    for side in ("Left", "Right"):
        pieces.append(limb(j[f"{side}UpLeg"] + [0, 0, 0.02 * H], j[f"{side}Leg"], 0.055 * H * s**0.5, 0.06 * H * s**0.5))
        pieces.append(limb(j[f"{side}Leg"], j[f"{side}Foot"], 0.04 * H * s**0.5, 0.045 * H * s**0.5))
        heel = j[f"{side}Foot"] + np.array([0.0, 0.03 * H, -j[f"{side}Foot"][2] + 0.025 * H])
        toe = j[f"{side}Toe_End"] + np.array([0.0, 0.0, 0.01 * H])
        pieces.append(limb(heel, toe, 0.035 * H, 0.025 * H, overshoot=0.3, side_hint=(1, 0, 0)))
        pieces.append(limb(j[f"{side}Arm"], j[f"{side}ForeArm"], 0.033 * H * s, 0.035 * H * s, side_hint=(0, 1, 0)))
        pieces.append(limb(j[f"{side}ForeArm"], j[f"{side}Hand"], 0.026 * H * s, 0.028 * H * s, side_hint=(0, 1, 0)))
        d = j[f"{side}Hand"] - j[f"{side}ForeArm"]
        d /= np.linalg.norm(d)
        tip = j[f"{side}Hand"] + d * hand_len
        pieces.append(limb(j[f"{side}Hand"] + d * 0.02 * H, tip, 0.02 * H * s, 0.038 * H * s, overshoot=0.2, side_hint=(0, 1, 0)))
    if dress:
        waist = hip_mid[2] + 0.12 * H
        pieces.append(frustum((0.0, 0.0, 0.0), 0.2 * H, 0.1 * H, waist))
    return pieces, j


def _mesh(pieces, shells: bool) -> CharacterMesh:
    verts, tris, parts = [], [], []
    n = 0
    for i, (v, t) in enumerate(pieces):
        verts.append(v)
        tris.append(t + n)
        parts.append(MeshPart(f"piece{i}", n, len(v)))
        n += len(v)
    mesh = CharacterMesh(np.vstack(verts), np.vstack(tris), parts if shells else [])
    return mesh


def rotation(up: str = "+Z", front: str = "-Y") -> np.ndarray:
    """(3, 3) rotation taking the canonical frame (+Z up, facing -Y) to one where the
    figure's up is ``up`` and it faces ``front`` (world axis names like "+X")."""
    u, f = AXES[up], AXES[front]
    if abs(u @ f) > 1e-9:
        raise ValueError("up and front must be perpendicular")
    left = np.cross(u, f)
    # Columns: where canonical +X (left), +Y (back), +Z (up) go.
    return np.stack([left, -f, u], axis=1)


def orient(
    pieces,
    joints: dict[str, np.ndarray],
    up: str = "+Z",
    front: str = "-Y",
    scale: float = 1.0,
    offset=(0.0, 0.0, 0.0),
    shells: bool = False,
    extra: np.ndarray | None = None,
) -> Figure:
    """Turn canonical pieces and joints into a world-space Figure; ``extra``: an optional
    (3, 3) rotation applied last (for orientations off the world axes)."""
    r = rotation(up, front)
    if extra is not None:
        r = np.asarray(extra, dtype=np.float64) @ r
    off = np.asarray(offset, dtype=np.float64)
    moved = [((v * scale) @ r.T + off, t) for v, t in pieces]
    mesh = _mesh(moved, shells)
    j = {k: (p * scale) @ r.T + off for k, p in joints.items()}
    height = float(np.ptp(np.vstack([v for v, _ in pieces])[:, 2])) * scale
    return Figure(mesh=mesh, joints=j, up=r[:, 2], front=-r[:, 1], left=r[:, 0], height=height)


def humanoid_figure(
    pose: str = "T",
    up: str = "+Z",
    front: str = "-Y",
    height: float = 1.8,
    chibi: bool = False,
    shells: bool = False,
    extra: np.ndarray | None = None,
    offset=(0.0, 0.0, 0.0),
    dress: bool = False,
    deep: float = 1.0,
) -> Figure:
    """A humanoid in "T" (arms level), "A" (arms 45 degrees down) or "down" (arms hanging
    80 degrees down, beside the body) pose, any orientation. deep: the body's depth is
    stretched by this factor (a stout figure as deep as it is wide)."""
    angle = {"T": 0.0, "A": 45.0, "down": 80.0}[pose]
    pieces, joints = humanoid_pieces(1.0, angle, chibi, dress)
    if deep != 1.0:
        stretch = np.array([1.0, deep, 1.0])
        pieces = [(v * stretch, t) for v, t in pieces]
        joints = {k: p * stretch for k, p in joints.items()}
    fig = orient(pieces, joints, up, front, scale=height, shells=shells, extra=extra, offset=offset)
    assert set(humanoid.JOINT_NAMES) <= set(fig.joints)
    return fig


# --- non-bipeds -----------------------------------------------------------------------------


def box(size=(1.0, 1.0, 1.0), centre=(0.0, 0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """A closed axis-aligned box: vertices (8, 3), triangles (12, 3)."""
    sx, sy, sz = np.asarray(size, dtype=np.float64) / 2
    v = np.array([[x, y, z] for x in (-sx, sx) for y in (-sy, sy) for z in (-sz, sz)]) + np.asarray(centre, dtype=np.float64)
    t = np.array(
        [
            [0, 1, 3],
            [0, 3, 2],
            [4, 6, 7],
            [4, 7, 5],
            [0, 4, 5],
            [0, 5, 1],
            [2, 3, 7],
            [2, 7, 6],
            [0, 2, 6],
            [0, 6, 4],
            [1, 5, 7],
            [1, 7, 3],
        ],
        dtype=np.int64,
    )
    return v, t


def cube(size: float = 1.0) -> CharacterMesh:
    return _mesh([box((size, size, size), (0, 0, size / 2))], False)


def sphere(radius: float = 1.0) -> CharacterMesh:
    return _mesh([ellipsoid((0, 0, radius), np.eye(3), (radius, radius, radius), rings=16, segments=24)], False)


def quadruped(length: float = 1.6) -> CharacterMesh:
    """A four-legged animal standing on +Z: body along X, head at +X, tail at -X."""
    L = length
    pieces = [ellipsoid((0, 0, 0.55 * L), np.eye(3), (0.45 * L, 0.16 * L, 0.17 * L))]
    for x in (0.32 * L, -0.32 * L):
        for y in (0.1 * L, -0.1 * L):
            pieces.append(limb((x, y, 0.5 * L), (x, y, 0.02 * L), 0.05 * L, 0.05 * L))
    pieces.append(limb((0.4 * L, 0, 0.65 * L), (0.6 * L, 0, 0.85 * L), 0.07 * L, 0.07 * L))  # neck
    pieces.append(ellipsoid((0.68 * L, 0, 0.88 * L), np.eye(3), (0.13 * L, 0.08 * L, 0.08 * L)))  # head
    pieces.append(limb((-0.45 * L, 0, 0.6 * L), (-0.7 * L, 0, 0.45 * L), 0.03 * L, 0.03 * L))  # tail
    return _mesh(pieces, False)


def car(length: float = 4.0) -> CharacterMesh:
    """A car on +Z: a long low body, a cabin and four wheels."""
    L = length
    pieces = [box((L, 0.45 * L, 0.25 * L), (0, 0, 0.25 * L)), box((0.5 * L, 0.4 * L, 0.18 * L), (-0.05 * L, 0, 0.45 * L))]
    for x in (0.32 * L, -0.32 * L):
        for y in (0.22 * L, -0.22 * L):
            axes = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, 1.0, 0]])
            pieces.append(ellipsoid((x, y, 0.1 * L), axes, (0.1 * L, 0.1 * L, 0.04 * L)))
    return _mesh(pieces, False)
