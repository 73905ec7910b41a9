"""The clip library on plain arrays (rigging/clips/): no Blender, no evaluation data.

The characters are procedural figures (tests/synthetic.py: an adult with hand-written finger
joints, a big-headed toy, a tall one turned to other world axes), so the clips are checked
without depending on our skeleton fitting. When the evaluation set and its cache are there,
three artist rigs with Mixamo names (a low-poly man facing +X, a mannequin with the
mixamorig: prefix facing -Y, a zombie 8 units tall) join them, for real proportions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autorig.rigging import clips, humanoid

import synthetic

REQUIRED_CLIPS = {"idle", "walk", "run", "jump", "wave", "dance", "sit_down", "punch", "look_around", "t_pose", "a_pose", "grip"}
# Clips where both feet stay on the ground the whole time.
PLANTED = ("idle", "wave", "dance", "sit_down", "punch", "look_around")
# Procedural characters: (pose, up, front, height, chibi, with finger joints).
FIGURES = {
    "adult": ("T", "+Z", "-Y", 1.8, False, True),
    "toy": ("T", "+Z", "-Y", 1.0, True, False),
    "turned": ("A", "+Y", "+X", 8.0, False, False),
}
ARTIST_RIGS = ("quaternius__Animated_Human", "runxaway__Xbot", "quaternius__Zombie")


# --- characters -----------------------------------------------------------------------------------


def _with_fingers(joints: dict[str, np.ndarray], front: np.ndarray, up: np.ndarray, hand_length: float) -> dict[str, np.ndarray]:
    """Five three-bone fingers (and their end joints) on each hand, palm down: the knuckles in a
    row across the hand (the index towards the front), the thumb forward of the palm."""
    out = dict(joints)
    for side in ("Left", "Right"):
        wrist = joints[f"{side}Hand"]
        d = wrist - joints[f"{side}ForeArm"]
        d /= np.linalg.norm(d)
        across = {"Index": 1.5, "Middle": 0.5, "Ring": -0.5, "Pinky": -1.5}
        for finger in humanoid.FINGERS:
            if finger == "Thumb":
                joint = wrist + d * 0.15 * hand_length + front * 0.3 * hand_length - up * 0.1 * hand_length
                along = (d + front) / np.linalg.norm(d + front)
            else:
                joint = wrist + d * 0.5 * hand_length + front * across[finger] * 0.12 * hand_length
                along = d
            # Phalanges shorter towards the tip, as on a real hand.
            for k, length in enumerate((0.22, 0.14, 0.1, 0.0), start=1):
                out[f"{side}Hand{finger}{k}"] = joint
                joint = joint + along * length * hand_length
    return out


def _dominant(joints: dict[str, np.ndarray], vertices: np.ndarray, hand_length: float) -> list[str | None]:
    """The humanoid bone nearest each vertex (distance to the bone's segment): a stand-in for
    the largest skin weight."""
    tails = {"Hips": "Spine", "Spine2": "Neck", "Head": "HeadTop_End"}
    names, heads, ends = [], [], []
    for b in humanoid.BONE_NAMES:
        if b not in joints:
            continue
        children = [c for c, p in humanoid.PARENT.items() if p == b and c in joints] + [
            c for c, p in humanoid.END_JOINTS.items() if p == b
        ]
        if b in tails:
            tail = joints[tails[b]]
        elif b.endswith("Hand"):
            d = joints[b] - joints[b.replace("Hand", "ForeArm")]
            tail = joints[b] + d / np.linalg.norm(d) * hand_length
        elif len(children) == 1:
            tail = joints[children[0]]
        else:
            continue
        names.append(b)
        heads.append(joints[b])
        ends.append(tail)
    a, b = np.array(heads), np.array(ends)
    ab = b - a
    t = np.clip(np.einsum("vbi,bi->vb", vertices[:, None] - a[None], ab) / np.sum(ab * ab, axis=1), 0.0, 1.0)
    dist = np.linalg.norm(vertices[:, None] - (a[None] + t[..., None] * ab[None]), axis=2)
    return [names[i] for i in dist.argmin(axis=1)]


def figure_character(name: str) -> tuple[clips.ClipSkeleton, clips.BodyShape]:
    pose, up, front, height, chibi, fingers = FIGURES[name]
    fig = synthetic.humanoid_figure(pose, up=up, front=front, height=height, chibi=chibi)
    hand_length = 0.1 * fig.height
    joints = {k: v for k, v in fig.joints.items() if k in humanoid.ALL_JOINT_NAMES}
    v = fig.mesh.vertices
    dominant = _dominant(joints, v, hand_length)
    if fingers:
        joints = _with_fingers(joints, fig.front, fig.up, hand_length)
    skel = clips.ClipSkeleton(joints, fig.up, fig.front, fig.left, fig.height, float((v @ fig.up).min()))
    return skel, clips.BodyShape.from_skin(skel, v, dominant)


def artist_character(eval_data: Path, name: str) -> tuple[clips.ClipSkeleton, clips.BodyShape]:
    """A ClipSkeleton and BodyShape from a cached artist rig with Mixamo names (world frame).
    Only from the cache: building it needs Blender."""
    from autorig.evaluation import dataset

    path = dataset.DEFAULT_CACHE / f"{name}.npz"
    if not path.exists() or int(np.load(path)["version"]) != dataset.CACHE_VERSION:
        pytest.skip(f"{name} is not in the evaluation cache (`autorig eval` makes it, with Blender)")
    c = dataset.load_cached(eval_data, name)
    names = [n.split(":")[-1] for n in c.bone_names]
    joints = {n: c.bone_heads[i] for i, n in enumerate(names) if n in humanoid.ALL_JOINT_NAMES}
    up = np.array([0.0, 0.0, 1.0])
    left = joints["LeftUpLeg"] - joints["RightUpLeg"]
    left = left - (left @ up) * up
    left /= np.linalg.norm(left)
    front = np.cross(left, up)
    ground = float(c.rigged.vertices[:, 2].min())
    skel = clips.ClipSkeleton(joints, up, front, left, float(np.ptp(c.rigged.vertices[:, 2])), ground)
    # Each bone counts as its nearest humanoid ancestor (fingers are the hand).
    humanoid_of = []
    for i in range(len(names)):
        j = i
        while j >= 0 and names[j] not in humanoid.ALL_BONE_NAMES:
            j = int(c.bone_parents[j])
        humanoid_of.append(names[j] if j >= 0 else None)
    w = c.weights.tocsr()
    dominant = [humanoid_of[int(np.argmax(w[k].toarray()))] if w[k].nnz else None for k in range(w.shape[0])]
    return skel, clips.BodyShape.from_skin(skel, c.rigged.vertices, dominant)


_CACHE: dict[str, tuple[clips.ClipSkeleton, clips.BodyShape, clips.Library]] = {}


def character(request: pytest.FixtureRequest, name: str) -> tuple[clips.ClipSkeleton, clips.BodyShape, clips.Library]:
    """(skeleton, body, library) of a figure or an artist rig (those need the ``eval_data``
    fixture, which skips without the data), made once per test run."""
    if name not in _CACHE:
        skel, body = figure_character(name) if name in FIGURES else artist_character(request.getfixturevalue("eval_data"), name)
        _CACHE[name] = (skel, body, clips.make_library(skel, body))
    return _CACHE[name]


@pytest.fixture(params=list(FIGURES) + list(ARTIST_RIGS))
def each(request) -> tuple[str, clips.ClipSkeleton, clips.BodyShape, clips.Library]:
    return (request.param, *character(request, request.param))


def transformed(skel: clips.ClipSkeleton, body: clips.BodyShape, m: np.ndarray) -> tuple[clips.ClipSkeleton, clips.BodyShape]:
    """The same character moved by the similarity ``m`` (4x4: rotation x uniform scale + shift)."""
    lin, t = m[:3, :3], m[:3, 3]
    s = float(np.cbrt(np.linalg.det(lin)))
    q = lin / s
    joints = {k: lin @ v + t for k, v in skel.joints.items()}
    up = q @ skel.up
    # The new ground: the old sole point moved.
    sole = skel.up * skel.ground
    moved = clips.ClipSkeleton(joints, up, q @ skel.front, q @ skel.left, skel.height * s, float((lin @ sole + t) @ up))
    hulls = {}
    for part, eq in body.hulls.items():
        n = eq[:, :3] @ q.T
        d = eq[:, 3] * s - n @ t
        hulls[part] = np.column_stack([n, d])
    hands = {k: v @ lin.T + t for k, v in body.hands.items()}
    spheres = {k: (lin @ c + t, r * s) for k, (c, r) in body.spheres.items()}
    return moved, clips.BodyShape(hulls, hands, spheres)


def contact_points(skel: clips.ClipSkeleton, clip: clips.Clip, side: str) -> np.ndarray:
    """(f, 2, 3) where the heel and the ball of a foot go in the clip."""
    pos = clips.forward_kinematics(skel, clip.deltas, clip.offset)
    heel = clips.end_point(skel, clip.deltas, pos, f"{side}Foot", skel.heel(side))
    ball_bone = f"{side}ToeBase" if f"{side}ToeBase" in skel.joints else f"{side}Foot"
    ball = clips.end_point(skel, clip.deltas, pos, ball_bone, skel.ball(side))
    return np.stack([heel, ball], axis=1)


# --- the clips as numbers ---------------------------------------------------------------------------


def test_library_has_the_named_clips(each):
    name, skel, _, lib = each
    got = [c.name for c in lib.clips]
    fingers = any(humanoid.finger_of(b) for b in skel.bones)
    assert REQUIRED_CLIPS - {"grip"} <= set(got) and len(got) >= 10, name
    assert ("grip" in got) == fingers, name  # grip only for skeletons with fingers
    for c in lib.clips:
        assert c.frames >= 2 and c.fps == clips.FPS
        assert c.deltas.shape == (c.frames, len(skel.bones), 3, 3)
        assert np.isfinite(c.deltas).all() and np.isfinite(c.offset).all()
        # proper rotations: orthonormal, determinant +1
        eye = np.einsum("fbji,fbjk->fbik", c.deltas, c.deltas)
        assert np.abs(eye - np.eye(3)).max() < 1e-9, (name, c.name)
        assert np.abs(np.linalg.det(c.deltas) - 1.0).max() < 1e-9, (name, c.name)


def _hand_measures(skel: clips.ClipSkeleton, clip: clips.Clip, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: wrist-to-middle-fingertip distance, index-to-pinky tip distance, and how far
    the middle fingertip sits on the palm's side of the hand (along the posed palm normal)."""
    pos = clips.forward_kinematics(skel, clip.deltas, clip.offset)
    b = skel.bones
    tip = lambda f: clips.end_point(skel, clip.deltas, pos, f"{side}Hand{f}3", skel.joints[f"{side}Hand{f}4"])  # noqa: E731
    wrist = pos[:, b.index(f"{side}Hand")]
    ctx_normal = clips.authoring.Context(skel, {n: np.eye(3) for n in b}, {"Left": 0.0, "Right": 0.0}).palm_normal(side)
    normal = np.einsum("fij,j->fi", clip.deltas[:, b.index(f"{side}Hand")], ctx_normal)
    reach = np.linalg.norm(tip("Middle") - wrist, axis=1)
    spread = np.linalg.norm(tip("Index") - tip("Pinky"), axis=1)
    palm_side = np.einsum("fi,fi->f", tip("Middle") - wrist, normal)
    return reach, spread, palm_side


@pytest.mark.parametrize("name", ["adult", "runxaway__Xbot"])
def test_hands_relax_spread_and_close(request, name):
    """Finger bones are animated: a relaxed hand in idle, a fist in punch (the fingers curl
    into the palm), spread fingers on the waving hand, and grip closes both hands and opens
    them again."""
    skel, _, lib = character(request, name)
    assert "LeftHandIndex2" in skel.bones
    by = {c.name: c for c in lib.clips}
    for side in ("Left", "Right"):
        flat = _hand_measures(skel, by["t_pose"], side)
        idle = _hand_measures(skel, by["idle"], side)
        fist = _hand_measures(skel, by["punch"], side)
        grip = _hand_measures(skel, by["grip"], side)
        assert 0.85 * flat[0].max() < idle[0].min() < flat[0].min()  # relaxed: curled a little
        assert fist[0].max() < 0.65 * flat[0].min()  # a fist: the fingertips come back to the palm
        assert fist[2].min() > flat[2].max() + 0.05 * flat[0].min()  # ... on the palm side
        assert grip[0].min() < 0.65 * flat[0].min() and grip[0][0] > 0.95 * flat[0].min()  # closes, starts open
    wave = _hand_measures(skel, by["wave"], "Right")
    assert wave[1].max() > 1.2 * _hand_measures(skel, by["t_pose"], "Right")[1].max()


def test_loops_close(each):
    name, skel, _, lib = each
    for c in lib.clips:
        if c.loop:
            assert np.abs(c.deltas[0] - c.deltas[-1]).max() < 1e-6, (name, c.name)
            assert np.abs(c.offset[0] - c.offset[-1]).max() < 1e-6 * skel.height, (name, c.name)


@pytest.mark.parametrize("name", ["adult", "quaternius__Animated_Human"])
def test_clips_are_relative_to_the_character(request, name):
    """Turn, scale and move the character: every clip turns, scales and moves with it, so no
    clip assumes a world axis, a facing or a size."""
    skel, body, lib = character(request, name)
    axis = np.array([0.3, -0.8, 0.52])
    q = clips.rot(axis, 131.0)
    m = np.eye(4)
    m[:3, :3] = 0.37 * q
    m[:3, 3] = [4.0, -2.0, 7.5]
    skel2, body2 = transformed(skel, body, m)
    lib2 = clips.make_library(skel2, body2)
    for a, b in zip(lib.clips, lib2.clips, strict=True):
        assert a.name == b.name and a.arm_fix == b.arm_fix
        assert np.abs(q @ a.deltas @ q.T - b.deltas).max() < 1e-6, a.name
        assert np.abs(0.37 * a.offset @ q.T - b.offset).max() < 1e-6 * skel.height, a.name


def test_feet_stay_on_the_ground(each):
    """Planted clips: each foot keeps a point on the floor, none goes below it. Walk and run:
    the lower foot touches the floor on every frame of its stance, none sinks."""
    name, skel, _, lib = each
    tol = 0.004 * skel.height
    by_name = {c.name: c for c in lib.clips}
    for clip_name in PLANTED + ("walk",):
        c = by_name[clip_name]
        heights = {s: skel.h(contact_points(skel, c, s)) for s in clips.SIDES}  # (f, 2)
        for s, h in heights.items():
            assert h.min() > -tol, (name, clip_name, s, h.min() / skel.height)
            if clip_name in PLANTED:
                assert np.abs(h.min(axis=1)).max() < tol, (name, clip_name, s)
        if clip_name == "walk":
            lowest = np.minimum(heights["Left"].min(axis=1), heights["Right"].min(axis=1))
            assert np.abs(lowest).max() < tol, (name, clip_name)


@pytest.mark.parametrize("name", ["adult", "quaternius__Animated_Human"])
def test_stride_and_hips_follow_the_legs(request, name):
    """The same character with 30 % longer legs: its stride is 30 % longer and its hips drop
    30 % more in the walk (both scale with the leg, not with the height)."""
    skel, _, _ = character(request, name)
    k = 1.3
    joints = dict(skel.joints)
    for side in clips.SIDES:
        hip = joints[f"{side}UpLeg"]
        for part in ("Leg", "Foot", "ToeBase", "Toe_End"):
            if f"{side}{part}" in joints:
                joints[f"{side}{part}"] = hip + (joints[f"{side}{part}"] - hip) * k
    long = clips.ClipSkeleton(joints, skel.up, skel.front, skel.left, skel.height, 0.0)
    long.ground = float(
        min(long.joints[f"{s}Foot"] @ skel.up for s in clips.SIDES)
        - (min(skel.joints[f"{s}Foot"] @ skel.up for s in clips.SIDES) - skel.ground) * k
    )

    def gait(sk):
        walk = clips.make_library(sk, None, ["walk"]).clips[0]
        ankle = clips.forward_kinematics(sk, walk.deltas, walk.offset)[:, sk.bones.index("LeftFoot")]
        stride = np.ptp(ankle @ sk.front)
        drop = -(walk.offset @ sk.up).min()
        return stride, drop, sk.leg

    s1, d1, l1 = gait(skel)
    s2, d2, l2 = gait(long)
    assert l2 / l1 == pytest.approx(k, rel=0.02)
    assert s2 / s1 == pytest.approx(l2 / l1, rel=0.03)
    assert d2 / d1 == pytest.approx(l2 / l1, rel=0.05)


def test_hands_stay_out_of_the_body(each):
    """The contact measure: hands penetrate the body by less than the tolerance on every
    frame of every clip (the report carries the numbers)."""
    name, _, _, lib = each
    report = lib.report()
    for clip_name, r in report["clips"].items():
        assert r["hand_penetration_max_pct"] <= clips.PENETRATION_TOLERANCE_HEIGHT * 100 + 1e-9, (name, clip_name, r)
    assert 0 < report["neutral_arm_deg"]["Left"] <= clips.NEUTRAL_ARM_MAX_DEG


@pytest.mark.parametrize("name", ["adult", "quaternius__Animated_Human"])
def test_contact_pass_moves_an_arm_out_of_the_body(request, name):
    """A body part in the way of the hanging hand is detected and the arm moves out."""
    skel, body, _ = character(request, name)
    # A block around the left thigh, three times wider than the thigh.
    thigh = body.hulls["LeftUpLeg"]
    centre, radius = body.spheres["LeftUpLeg"]
    fat = thigh.copy()
    fat[:, 3] = thigh[:, 3] * 3.0 + (thigh[:, :3] @ centre) * 2.0  # the polytope scaled by 3 about its centre
    body2 = clips.BodyShape({**body.hulls, "LeftUpLeg": fat}, body.hands, {**body.spheres, "LeftUpLeg": (centre, radius * 3)})
    before = clips.make_library(skel, body, ["idle"])
    after = clips.make_library(skel, body2, ["idle"])
    assert after.abduct["Left"] > before.abduct["Left"]
    assert after.clips[0].penetration["Left"].max() <= clips.PENETRATION_TOLERANCE_HEIGHT * skel.height


def test_reference_poses(each):
    """t_pose: arms level and straight out; a_pose: 45 degrees below level."""
    name, skel, _, lib = each
    by_name = {c.name: c for c in lib.clips}
    for clip_name, below in (("t_pose", 0.0), ("a_pose", 45.0)):
        c = by_name[clip_name]
        pos = clips.forward_kinematics(skel, c.deltas, c.offset)[0]
        for side, sign in (("Left", 1.0), ("Right", -1.0)):
            d = pos[skel.bones.index(f"{side}ForeArm")] - pos[skel.bones.index(f"{side}Arm")]
            d /= np.linalg.norm(d)
            angle = np.degrees(np.arcsin(-(d @ skel.up)))
            assert angle == pytest.approx(below, abs=1.0), (name, clip_name, side)
            assert sign * (d @ skel.left) > 0.6
