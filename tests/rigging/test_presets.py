"""Bone naming presets: complete, unique names, the right hierarchy, Left = the character's left."""

import pytest

from autorig.rigging import humanoid, presets


@pytest.mark.parametrize("skeleton", presets.SKELETONS)
def test_every_humanoid_bone_has_a_unique_name(skeleton):
    p = presets.get(skeleton)
    names = p.all_bones()
    assert len(names) == len(set(names))
    assert all(b in p.names for b in humanoid.BONE_NAMES)


def test_mixamo_names_and_prefix():
    plain, prefixed = presets.get("mixamo"), presets.get("mixamo", mixamo_prefix=True)
    assert plain.bone("LeftForeArm") == "LeftForeArm" and plain.root is None
    assert prefixed.bone("Hips") == "mixamorig:Hips"
    assert prefixed.bone("HeadTop_End") == "mixamorig:HeadTop_End"
    assert plain.end_joints() == list(humanoid.END_JOINTS)


def test_unreal_mannequin_names_under_a_root():
    p = presets.get("unreal")
    assert p.root == "root" and p.all_bones()[0] == "root"
    expected = {
        "Hips": "pelvis",
        "Spine": "spine_01",
        "Spine2": "spine_03",
        "Neck": "neck_01",
        "Head": "head",
        "LeftShoulder": "clavicle_l",
        "LeftArm": "upperarm_l",
        "LeftForeArm": "lowerarm_l",
        "LeftHand": "hand_l",
        "RightUpLeg": "thigh_r",
        "RightLeg": "calf_r",
        "RightFoot": "foot_r",
        "RightToeBase": "ball_r",
    }
    assert {k: p.bone(k) for k in expected} == expected
    assert p.end_joints() == []  # the mannequin has no end bones
    assert presets.parent_of(p, "Hips") is None  # the root is the preset's, not a humanoid joint


def test_unity_humanoid_names():
    p = presets.get("unity")
    assert [p.bone(b) for b in ("Spine", "Spine1", "Spine2")] == ["Spine", "Chest", "UpperChest"]
    assert [p.bone(b) for b in ("LeftArm", "LeftForeArm", "LeftUpLeg", "LeftLeg", "LeftToeBase")] == [
        "LeftUpperArm",
        "LeftLowerArm",
        "LeftUpperLeg",
        "LeftLowerLeg",
        "LeftToes",
    ]


@pytest.mark.parametrize("skeleton", presets.SKELETONS)
def test_sides_stay_sides(skeleton):
    p = presets.get(skeleton)
    for b in humanoid.BONE_NAMES:
        if b.startswith("Left"):
            left, right = p.bone(b), p.bone(humanoid.mirror_name(b))
            assert "Left" in left or left.endswith("_l"), left
            assert "Right" in right or right.endswith("_r"), right


def test_unknown_preset():
    with pytest.raises(ValueError):
        presets.get("blender")
