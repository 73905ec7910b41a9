"""Armature building and GLB/FBX export, checked by loading the files back in a fresh Blender.

These tests feed the exporter a ground-truth skeleton (the artist's joints from the eval set)
and simple distance-based weights computed here, so they test the armature and the files, not
the fitting or skinning (tests/rigging does that; test_engine.py runs the whole pipeline).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from rigcheck import bbox as _bbox  # noqa: E402 (after the importorskip of bpy)
from rigcheck import check_rigged_file, inspect  # noqa: E402 (after the importorskip of bpy)

from autorig.blender import armature, export, scene  # noqa: E402 (after the importorskip of bpy)
from autorig.evaluation.dataset import gt_joints, read_gt  # noqa: E402 (after the importorskip of bpy)
from autorig.rigging import bones as bones_mod  # noqa: E402 (after the importorskip of bpy)
from autorig.rigging import humanoid, presets  # noqa: E402 (after the importorskip of bpy)

CHARACTER = "quaternius__Animated_Human"  # small, complete skeleton, faces +X (not the default -Y)
# glTF facing (the eval set's import_info.facing_gltf) -> Blender world front.
FACING = {"+Z": (0.0, -1.0, 0.0), "-Z": (0.0, 1.0, 0.0), "+X": (1.0, 0.0, 0.0), "-X": (-1.0, 0.0, 0.0)}


# --- plain helpers ------------------------------------------------------------------------------


def humanoid_joints(gt: dict[str, np.ndarray], front: np.ndarray, height: float) -> dict[str, np.ndarray]:
    """Our humanoid joints from the eval set's canonical ones (Chest -> Spine2, Spine1 halfway;
    HeadTop -> HeadTop_End; toe ends continue the foot; a missing toe sits in front of the ankle)."""
    j = {n: gt[n] for n in ("Hips", "Spine", "Neck", "Head")}
    j["Spine2"] = gt["Chest"]
    j["Spine1"] = (gt["Spine"] + gt["Chest"]) / 2
    j["HeadTop_End"] = gt.get("HeadTop", gt["Head"] + np.array([0, 0, 0.1 * height]))
    for side in ("Left", "Right"):
        for part in ("Shoulder", "Arm", "ForeArm", "Hand", "UpLeg", "Leg", "Foot"):
            j[side + part] = gt[side + part]
        foot = gt[side + "Foot"]
        toe = gt.get(side + "ToeBase", foot + front * 0.05 * height)
        j[side + "ToeBase"] = toe
        j[side + "Toe_End"] = toe + (toe - foot) * 0.5
    return j


def distance_weights(vertices: np.ndarray, bones) -> SimpleNamespace:
    """Each vertex to its 4 nearest bone segments, weights falling off with distance^-4."""
    d = np.empty((len(vertices), len(bones)))
    for i in range(len(bones)):
        a, b = bones.heads[i], bones.tails[i]
        t = np.clip((vertices - a) @ (b - a) / max(float((b - a) @ (b - a)), 1e-12), 0.0, 1.0)
        d[:, i] = np.linalg.norm(vertices - (a + t[:, None] * (b - a)), axis=1)
    idx = np.argsort(d, axis=1)[:, :4]
    w = 1.0 / np.maximum(np.take_along_axis(d, idx, axis=1), 1e-9) ** 4
    return SimpleNamespace(indices=idx, weights=w / w.sum(axis=1, keepdims=True))


def ground_truth_rig_inputs(eval_data: Path, name: str, input_path: Path | None = None, transform: np.ndarray | None = None):
    """(mesh, bones, weights, orientation) for ``name``: its unrigged file (or ``input_path``,
    the same character moved by the 4x4 ``transform``) loaded into the scene."""
    gt = read_gt(eval_data, name)
    m = np.eye(4) if transform is None else transform
    rot = m[:3, :3] / np.cbrt(np.linalg.det(m[:3, :3]))
    scale = float(np.cbrt(np.linalg.det(m[:3, :3])))
    joints = {k: m[:3, :3] @ v + m[:3, 3] for k, v in gt_joints(gt).items()}
    up = rot @ np.array([0.0, 0.0, 1.0])
    front = rot @ np.array(FACING[gt["import_info"]["facing_gltf"]])
    height = float(gt["mesh"]["height"]) * scale
    mesh, _ = scene.load(input_path or eval_data / "unrigged" / f"{name}.glb")
    bones = bones_mod.from_joints(humanoid_joints(joints, front, height))
    orientation = SimpleNamespace(up=up, front=front, left=np.cross(up, front), height=height)
    return mesh, bones, distance_weights(mesh.vertices, bones), orientation


# --- atomic writes ------------------------------------------------------------------------------


def test_atomic_output_renames_when_complete(tmp_path):
    target = tmp_path / "model.glb"
    target.write_bytes(b"old")
    with export.atomic_output(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".glb" and tmp != target
        tmp.write_bytes(b"new")
        assert target.read_bytes() == b"old"  # still the old, whole file while writing
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["model.glb"]


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "model.fbx"
    with pytest.raises(ValueError), export.atomic_output(target) as tmp:
        tmp.write_bytes(b"half a file")
        raise ValueError("exporter crashed")
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_refuses_when_nothing_was_written(tmp_path):
    with pytest.raises(RuntimeError), export.atomic_output(tmp_path / "x.glb"):
        pass
    assert list(tmp_path.iterdir()) == []


# --- the roll convention (plain numpy) ------------------------------------------------------------


def _plans(eval_data, rotation: np.ndarray) -> dict[str, armature.BonePlan]:
    gt = read_gt(eval_data, CHARACTER)
    joints = {k: rotation @ v for k, v in gt_joints(gt).items()}
    up, front = rotation @ [0.0, 0.0, 1.0], rotation @ np.array(FACING[gt["import_info"]["facing_gltf"]])
    height = float(gt["mesh"]["height"])
    bones = bones_mod.from_joints(humanoid_joints(joints, front, height))
    orientation = SimpleNamespace(up=up, front=front, left=np.cross(up, front), height=height)
    feet = np.array([joints["LeftFoot"], joints["RightFoot"]])
    plans = armature.plan_bones(bones, orientation, presets.get("mixamo"), feet)
    return {p.humanoid: p for p in plans}, up, front, np.cross(up, front)


@pytest.mark.parametrize("turn", ["upright", "lying"])
def test_roll_convention(eval_data, turn):
    from scipy.spatial.transform import Rotation

    rotation = np.eye(3) if turn == "upright" else Rotation.from_euler("xyz", [80, 20, -35], degrees=True).as_matrix()
    plans, up, front, left = _plans(eval_data, rotation)
    for name, p in plans.items():
        y = (p.tail - p.head) / np.linalg.norm(p.tail - p.head)
        assert abs(np.dot(y, p.z_axis)) < 1e-9 and abs(np.linalg.norm(p.z_axis) - 1) < 1e-9, name
        x = np.cross(y, p.z_axis)
        fam = armature.family(name)
        if name in ("Hips", "Spine", "Spine1", "Spine2", "Neck", "Head"):
            assert np.dot(p.z_axis, front) > 0.9 and np.dot(x, left) > 0.9, name
        elif fam == armature.LEG and name.endswith(("UpLeg", "Leg")):
            assert np.dot(p.z_axis, front) > 0.9 and np.dot(x, -left) > 0.9, name
        elif fam == armature.LEG:  # feet and toes
            assert np.dot(p.z_axis, up) > 0.3 and np.dot(x, -left) > 0.9, name
        elif fam == armature.ARM:
            assert np.dot(p.z_axis, front) > 0.9, name
    # left and right bones are mirror images through the character's plane of symmetry
    mirror = np.eye(3) - 2 * np.outer(left, left)
    for name, p in plans.items():
        if name.startswith("Left"):
            q = plans[humanoid.mirror_name(name)]
            y_l = (p.tail - p.head) / np.linalg.norm(p.tail - p.head)
            y_r = (q.tail - q.head) / np.linalg.norm(q.tail - q.head)
            x_l, x_r = np.cross(y_l, p.z_axis), np.cross(y_r, q.z_axis)
            # the test character is not perfectly symmetric: compare directions loosely
            assert np.dot(mirror @ p.z_axis, q.z_axis) > 0.95, name
            assert np.dot(-(mirror @ x_l), x_r) > 0.95, name


FINGERED = "runxaway__Xbot"  # an artist's full hands (mixamorig: names), palms down in T-pose


def _finger_plans(eval_data, rotation: np.ndarray, skeleton: str = "mixamo"):
    """Plans of our armature on the artist's joints, fingers included (their first three bones
    and the 4 end joints), turned by ``rotation``."""
    gt = read_gt(eval_data, FINGERED)
    height = float(gt["mesh"]["height"])
    front0 = np.array(FACING[gt["import_info"]["facing_gltf"]])
    joints = humanoid_joints(gt_joints(gt), front0, height)
    for b in gt["skeleton"]["bones"]:
        name = b["name"].split(":")[-1]
        if humanoid.finger_of(name) and name in humanoid.ALL_JOINT_NAMES:
            x, y, z = b["head"]  # glTF frame -> Blender's (x, -z, y)
            joints[name] = np.array([x, -z, y])
    joints = {k: rotation @ v for k, v in joints.items()}
    up, front = rotation @ [0.0, 0.0, 1.0], rotation @ front0
    bones = bones_mod.from_joints(joints)
    orientation = SimpleNamespace(up=up, front=front, left=np.cross(up, front), height=height)
    feet = np.array([joints["LeftFoot"], joints["RightFoot"]])
    plans = armature.plan_bones(bones, orientation, presets.get(skeleton), feet)
    return {p.humanoid: p for p in plans}, joints, up, front, np.cross(up, front)


@pytest.mark.parametrize("turn", ["upright", "lying"])
def test_finger_roll_convention(eval_data, turn):
    """Every finger bone and thumb bone: Z out of the palm, X = direction x palm normal, so a
    positive turn about X curls it into the palm, on both hands (mirror images)."""
    from scipy.spatial.transform import Rotation

    rotation = np.eye(3) if turn == "upright" else Rotation.from_euler("xyz", [80, 20, -35], degrees=True).as_matrix()
    plans, joints, up, front, left = _finger_plans(eval_data, rotation)
    fingers = [n for n in plans if humanoid.finger_of(n)]
    assert len(fingers) == 2 * 5 * 4  # 3 bones and the end bone per finger
    for side in ("Left", "Right"):
        wrist, knuckle = joints[f"{side}Hand"], joints[f"{side}HandMiddle1"]
        palm = armature.palm_normal(joints, side, front)
        assert np.dot(palm, -up) > 0.7  # palms down in the T-pose
        for name in [n for n in fingers if n.startswith(side)]:
            p = plans[name]
            y = (p.tail - p.head) / np.linalg.norm(p.tail - p.head)
            x = np.cross(y, p.z_axis)
            assert abs(np.dot(y, p.z_axis)) < 1e-9 and np.dot(p.z_axis, palm) > 0.0, name
            # A positive turn about X moves the tail towards the palm side.
            tip = Rotation.from_rotvec(x * np.radians(30)).as_matrix() @ (p.tail - p.head)
            assert np.dot(tip - (p.tail - p.head), palm) > 0, name
            if humanoid.finger_of(name)[1] != "Thumb":
                # Across the hand: X points away from the thumb on the left, towards it on the right.
                across = (joints[f"{side}HandIndex1"] - joints[f"{side}HandPinky1"]) * (-1 if side == "Left" else 1)
                assert np.dot(x, across / np.linalg.norm(across)) > 0.8, name
        assert np.linalg.norm(knuckle - wrist) > 0
    mirror = np.eye(3) - 2 * np.outer(left, left)
    for name in fingers:
        if name.startswith("Left"):
            p, q = plans[name], plans[humanoid.mirror_name(name)]
            assert np.dot(mirror @ p.z_axis, q.z_axis) > 0.9, name


def test_finger_bones_in_every_preset(eval_data):
    for skeleton, names in (
        ("mixamo", ("LeftHandThumb1", "RightHandPinky4")),
        ("unreal", ("thumb_01_l", "pinky_03_r")),
        ("unity", ("Left Thumb Proximal", "Right Little Distal")),
    ):
        plans, *_ = _finger_plans(eval_data, np.eye(3), skeleton)
        got = {p.name for p in plans.values()}
        assert set(names) <= got, skeleton
        assert sorted(got) == sorted(presets.get(skeleton).all_bones("full")), skeleton


def test_rolls_follow_the_character_not_the_world(eval_data):
    from scipy.spatial.transform import Rotation

    rotation = Rotation.from_euler("xyz", [80, 20, -35], degrees=True).as_matrix()
    upright, *_ = _plans(eval_data, np.eye(3))
    turned, *_ = _plans(eval_data, rotation)
    for name in upright:
        np.testing.assert_allclose(turned[name].z_axis, rotation @ upright[name].z_axis, atol=1e-9)


# --- files loaded back ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("skeleton,prefix", [("mixamo", False), ("mixamo", True), ("unity", False)])
def test_glb_and_fbx_load_back(eval_data, tmp_path, skeleton, prefix):
    mesh, bones, weights, orientation = ground_truth_rig_inputs(eval_data, CHARACTER)
    rig = armature.build(mesh, bones, weights, orientation, skeleton=skeleton, mixamo_prefix=prefix)
    preset = presets.get(skeleton, prefix)
    assert rig.bone_names == {**{h: preset.bone(h) for h in (*humanoid.BONE_NAMES, *preset.end_joints())}}
    assert sorted(b.name for b in rig.armature.data.bones) == sorted(preset.all_bones())
    assert np.allclose(np.array(rig.armature.matrix_world), np.eye(4))
    glb = export.export_glb(tmp_path / "rigged.glb", rig.objects)
    fbx = export.export_fbx(tmp_path / "rigged.fbx", rig.objects)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rigged.fbx", "rigged.glb"]  # no temporary files
    left_forearm = preset.bone("LeftForeArm")
    hips = rig.joints["Hips"]
    for path in (glb, fbx):
        info = inspect(path, pose_bone=left_forearm)
        check_rigged_file(info, preset, _bbox(mesh.vertices), orientation.height)
        # the exported "Left" is the character's own left: turning it moves vertices on that side
        probe = info["pose"]
        assert probe["moved"] > 0
        assert np.dot(np.array(probe["centroid"]) - hips, orientation.left) > 0.2 * orientation.height
        # bone frames survive the round trip (Y along the bone, Z as the roll convention says)
        spine = info["bones"][preset.bone("Spine1")]
        assert np.dot(spine["z"], orientation.front) > 0.9
        arm = info["bones"][preset.bone("LeftArm")]
        assert np.dot(arm["z"], orientation.front) > 0.9


@pytest.mark.slow
def test_moved_and_scaled_input_stays_in_place_with_a_root_bone(eval_data, tmp_path):
    """A mesh under a rotated, scaled, offset parent: the rig and both files keep its world
    placement; the unreal preset adds a root bone on the ground below the pelvis."""
    from mathutils import Matrix

    scene.import_file(eval_data / "unrigged" / f"{CHARACTER}.glb")
    ob = scene.mesh_objects()[0]
    parent = bpy.data.objects.new("Offset", None)
    bpy.context.scene.collection.objects.link(parent)
    place = Matrix.Translation((3.0, -1.0, 0.5)) @ Matrix.Rotation(0.7, 4, "Z")
    parent.matrix_world = place
    ob.parent = parent
    ob.matrix_world = place @ Matrix.Diagonal((0.3, 0.3, 0.3, 1.0))
    bpy.context.view_layer.update()
    moved_input = tmp_path / "moved.glb"
    bpy.ops.export_scene.gltf(filepath=str(moved_input), export_format="GLB")
    transform = np.array(ob.matrix_world)

    mesh, bones, weights, orientation = ground_truth_rig_inputs(eval_data, CHARACTER, moved_input, transform)
    rig = armature.build(mesh, bones, weights, orientation, skeleton="unreal")
    preset = presets.get("unreal")
    root = rig.armature.data.bones["root"]
    pelvis = rig.armature.data.bones["pelvis"]
    assert pelvis.parent == root and root.parent is None and not root.use_deform
    floor = float(np.min(mesh.vertices @ orientation.up))
    assert abs(np.dot(np.array(root.head_local), orientation.up) - floor) < 1e-6
    offset = np.array(pelvis.head_local) - np.array(root.head_local)
    assert np.linalg.norm(offset - np.dot(offset, orientation.up) * orientation.up) < 1e-6  # straight below
    for path in (export.export_glb(tmp_path / "r.glb", rig.objects), export.export_fbx(tmp_path / "r.fbx", rig.objects)):
        check_rigged_file(inspect(path), preset, _bbox(mesh.vertices), orientation.height)
