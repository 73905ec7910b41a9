"""The clip library: keyframes authored on plain arrays (rigging/clips/) and keyed on a real
armature in Blender (blender/animation.py).

The numpy tests take artist skeletons with Mixamo names from the evaluation set, so they check
the clips on real proportions without depending on our skeleton fitting; the Blender tests run
the real pipeline (load, fit, skin, armature) and key the clips on the armature it builds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from autorig.blender import animation, armature, scene  # noqa: E402
from autorig.evaluation.dataset import load_cached  # noqa: E402
from autorig.rigging import bones as bones_mod  # noqa: E402
from autorig.rigging import clips, humanoid  # noqa: E402

# Artist rigs with Mixamo bone names: a low-poly man facing +X, a 49k-triangle mannequin with
# the mixamorig: prefix facing -Y, a zombie 8 units tall.
MIXAMO_RIGS = ("quaternius__Animated_Human", "runxaway__Xbot", "quaternius__Zombie")
REQUIRED_CLIPS = {"idle", "walk", "run", "jump", "wave", "dance", "sit_down", "punch", "look_around", "t_pose", "a_pose", "grip"}
# Clips where both feet stay on the ground the whole time.
PLANTED = ("idle", "wave", "dance", "sit_down", "punch", "look_around")
# Keyed poses match the computed clips to this (world units relative to height; radians).
BLENDER_POSITION_TOL = 1e-5
BLENDER_ROTATION_TOL = 1e-5


# --- helpers --------------------------------------------------------------------------------------


def _humanoid_name(bone: str) -> str:
    return bone.split(":")[-1]


def artist_skeleton(c) -> tuple[clips.ClipSkeleton, clips.BodyShape]:
    """A ClipSkeleton and BodyShape from a cached artist rig with Mixamo names (world frame)."""
    names = [_humanoid_name(n) for n in c.bone_names]
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
    body = clips.BodyShape.from_skin(skel, c.rigged.vertices, dominant)
    return skel, body


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


@pytest.fixture(scope="module")
def libraries(eval_data):
    """name -> (skeleton, body, library) for MIXAMO_RIGS."""
    out = {}
    for name in MIXAMO_RIGS:
        skel, body = artist_skeleton(load_cached(eval_data, name))
        out[name] = (skel, body, clips.make_library(skel, body))
    return out


# --- the clips as numbers ---------------------------------------------------------------------------


def test_library_has_the_named_clips(libraries):
    for name, (skel, _, lib) in libraries.items():
        got = [c.name for c in lib.clips]
        assert REQUIRED_CLIPS <= set(got) and len(got) >= 10, name
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


def test_hands_relax_spread_and_close(libraries):
    """An artist's finger bones (Mixamo names) are animated: a relaxed hand in idle, a fist in
    punch (the fingers curl into the palm), spread fingers on the waving hand, and grip closes
    both hands and opens them again."""
    skel, _, lib = libraries["runxaway__Xbot"]
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


def test_loops_close(libraries):
    for name, (skel, _, lib) in libraries.items():
        for c in lib.clips:
            if c.loop:
                assert np.abs(c.deltas[0] - c.deltas[-1]).max() < 1e-6, (name, c.name)
                assert np.abs(c.offset[0] - c.offset[-1]).max() < 1e-6 * skel.height, (name, c.name)


def test_clips_are_relative_to_the_character(libraries):
    """Turn, scale and move the character: every clip turns, scales and moves with it, so no
    clip assumes a world axis, a facing or a size."""
    skel, body, lib = libraries["quaternius__Animated_Human"]
    axis = np.array([0.3, -0.8, 0.52])
    q = clips.rot(axis, 131.0)
    m = np.eye(4)
    m[:3, :3] = 0.37 * q
    m[:3, 3] = [4.0, -2.0, 7.5]
    skel2, body2 = transformed(skel, body, m)
    lib2 = clips.make_library(skel2, body2)
    for a, b in zip(lib.clips, lib2.clips):
        assert a.name == b.name and a.arm_fix == b.arm_fix
        assert np.abs(q @ a.deltas @ q.T - b.deltas).max() < 1e-6, a.name
        assert np.abs(0.37 * a.offset @ q.T - b.offset).max() < 1e-6 * skel.height, a.name


def test_feet_stay_on_the_ground(libraries):
    """Planted clips: each foot keeps a point on the floor, none goes below it. Walk and run:
    the lower foot touches the floor on every frame of its stance, none sinks."""
    for name, (skel, _, lib) in libraries.items():
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


def test_stride_and_hips_follow_the_legs(libraries):
    """The same character with 30 % longer legs: its stride is 30 % longer and its hips drop
    30 % more in the walk (both scale with the leg, not with the height)."""
    skel, body, _ = libraries["quaternius__Animated_Human"]
    k = 1.3
    joints = dict(skel.joints)
    for side in clips.SIDES:
        hip = joints[f"{side}UpLeg"]
        for part in ("Leg", "Foot", "ToeBase", "Toe_End"):
            if f"{side}{part}" in joints:
                joints[f"{side}{part}"] = hip + (joints[f"{side}{part}"] - hip) * k
    long = clips.ClipSkeleton(joints, skel.up, skel.front, skel.left, skel.height, 0.0)
    long.ground = float(min(long.joints[f"{s}Foot"] @ skel.up for s in clips.SIDES) - (min(skel.joints[f"{s}Foot"] @ skel.up for s in clips.SIDES) - skel.ground) * k)

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


def test_hands_stay_out_of_the_body(libraries):
    """The contact measure: hands penetrate the body by less than the tolerance on every
    frame of every clip (the report carries the numbers)."""
    for name, (skel, _, lib) in libraries.items():
        report = lib.report()
        for clip_name, r in report["clips"].items():
            assert r["hand_penetration_max_pct"] <= clips.PENETRATION_TOLERANCE_HEIGHT * 100 + 1e-9, (name, clip_name, r)
        assert 0 < report["neutral_arm_deg"]["Left"] <= clips.NEUTRAL_ARM_MAX_DEG


def test_contact_pass_moves_an_arm_out_of_the_body(libraries):
    """A body part in the way of the hanging hand is detected and the arm moves out."""
    skel, body, _ = libraries["quaternius__Animated_Human"]
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


def test_reference_poses(libraries):
    """t_pose: arms level and straight out; a_pose: 45 degrees below level."""
    for name, (skel, _, lib) in libraries.items():
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


# --- keyed in Blender -----------------------------------------------------------------------------------


def build_rig(path: Path, skeleton: str = "mixamo", mixamo_prefix: bool = False, fingers: str = "none") -> armature.RiggedScene:
    """The real pipeline up to the armature (what engine.rig_file does before writing files)."""
    from autorig.rigging import skeleton as skeleton_mod
    from autorig.rigging import skinning

    mesh, _ = scene.load(path)
    fit = skeleton_mod.fit(mesh, fingers=fingers)
    bones = bones_mod.from_joints(fit.joints)
    weights = skinning.compute_weights(mesh, bones)
    return armature.build(mesh, bones, weights, fit.orientation, skeleton=skeleton, mixamo_prefix=mixamo_prefix)


def _check_keys(rig, library, actions) -> None:
    by_name = {a.name: a for a in actions}
    h = rig.height
    for clip in library.clips:
        pos = clips.forward_kinematics(library.skeleton, clip.deltas, clip.offset)
        for frame in range(0, clip.frames, max(1, clip.frames // 6)):
            animation.play(rig, by_name[clip.name], frame)
            rots, heads = animation.posed_deltas(rig, clip.bones)
            assert np.abs(heads - pos[frame]).max() < BLENDER_POSITION_TOL * h, (clip.name, frame)
            assert np.abs(rots - clip.deltas[frame]).max() < BLENDER_ROTATION_TOL, (clip.name, frame)
    animation.play(rig, None)


def _skin(rig) -> np.ndarray:
    deps = bpy.context.evaluated_depsgraph_get()
    out = []
    for ob in rig.meshes:
        ev = ob.evaluated_get(deps)
        me = ev.to_mesh()
        co = np.empty(len(me.vertices) * 3)
        me.vertices.foreach_get("co", co)
        ev.to_mesh_clear()
        out.append(co.reshape(-1, 3))
    return np.concatenate(out)


@pytest.mark.slow
@pytest.mark.parametrize("skeleton,prefix,fingers", [("mixamo", False, "none"), ("unreal", False, "none"), ("mixamo", True, "full"),
                                                     ("unity", False, "full")])
def test_keys_play_the_clips_in_blender(eval_data, skeleton, prefix, fingers):
    """Keyed on the armature the pipeline builds, every clip poses every bone exactly as
    computed (global rotations and joint positions), for each naming preset, fingers too."""
    rig = build_rig(eval_data / "unrigged" / "quaternius__Animated_Human.glb", skeleton, prefix, fingers)
    assert ("LeftHandIndex2" in rig.bone_names) == (fingers == "full")
    assert ("grip" in [c.name for c in animation.make_library(rig, ["grip"]).clips]) == (fingers == "full")
    library = animation.make_library(rig)
    actions = animation.add_actions(rig, library)
    assert [a.name for a in actions] == [c.name for c in library.clips]
    ad = rig.armature.animation_data
    assert ad.action is None and {t.name for t in ad.nla_tracks} == {c.name for c in library.clips}
    _check_keys(rig, library, actions)


@pytest.mark.slow
def test_clips_do_not_depend_on_bone_rolls(eval_data):
    """Give every bone a random roll: the keys differ, the posed skin does not."""
    rig = build_rig(eval_data / "unrigged" / "quaternius__Female_Dress.glb", fingers="full")
    library = animation.make_library(rig, ["walk", "wave"])
    actions = animation.add_actions(rig, library)
    animation.play(rig, actions[1], 40)
    skin_before = _skin(rig)
    for a in actions:
        bpy.data.actions.remove(a)
    rig.armature.animation_data_clear()
    animation.play(rig, None)

    arm = rig.armature
    rng = np.random.default_rng(3)
    bpy.context.view_layer.objects.active = arm
    bpy.ops.object.mode_set(mode="EDIT")
    for eb in arm.data.edit_bones:
        eb.roll += float(rng.uniform(-np.pi, np.pi))
    bpy.ops.object.mode_set(mode="OBJECT")
    actions = animation.add_actions(rig, library)
    _check_keys(rig, library, actions)
    animation.play(rig, actions[1], 40)
    skin_after = _skin(rig)
    assert np.abs(skin_after - skin_before).max() < 1e-5 * rig.height
