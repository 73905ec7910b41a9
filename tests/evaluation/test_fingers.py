"""Finger scores of `autorig eval` (evaluation/fingers.py): names matched across the artists'
conventions, joint errors, curled poses, the summary lines."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from autorig.evaluation import fingers
from autorig.rigging.bones import BoneSet


@pytest.mark.parametrize(
    "name,expected",
    [
        ("mixamorig:LeftHandIndex1", ("Left", "Index", 1, False)),
        ("RightHandPinky3", ("Right", "Pinky", 3, False)),
        ("LeftHandThumb4", ("Left", "Thumb", 4, False)),
        ("IndexFinger2_L", ("Left", "Index", 2, False)),
        ("LittleFinger3_R_End", ("Right", "Pinky", 3, True)),
        ("Thumb0_L", ("Left", "Thumb", 0, False)),
        ("MiddleFinger1.L", ("Left", "Middle", 1, False)),
        ("J_Bip_R_Ring2", ("Right", "Ring", 2, False)),
        ("thumb_02_l", ("Left", "Thumb", 2, False)),
        ("Left Little Distal", ("Left", "Pinky", 3, False)),
        ("leftRingIntermediate", ("Left", "Ring", 2, False)),
    ],
)
def test_finger_names_of_every_convention(name, expected):
    assert fingers.parse_finger(name) == expected


@pytest.mark.parametrize("name", ["LeftHand", "Spine2", "handslot.l", "Fingers.L", "RightForeArm", "Ring_Light"])
def test_other_bones_are_not_fingers(name):
    assert fingers.parse_finger(name) is None


def _hand_bones() -> BoneSet:
    """A left hand along +X, palm down: a wrist bone and two fingers of three bones and an end."""
    names, heads, tails, parents = ["LeftHand"], [[0.0, 0, 0]], [[0.1, 0, 0]], [-1]
    for finger, y in (("Index", -0.02), ("Pinky", 0.02)):
        for k in range(1, 5):
            names.append(f"LeftHand{finger}{k}")
            heads.append([0.1 + 0.03 * (k - 1), y, 0.0])
            tails.append([0.1 + 0.03 * k, y, 0.0])
            parents.append(0 if k == 1 else len(names) - 2)
    return BoneSet(names, heads, tails, parents)


def test_joint_errors_match_by_name_and_skip_end_bones():
    bones = _hand_bones()
    artist = fingers.artist_finger_joints([f"mixamorig:{n}" for n in bones.names], bones.heads)
    assert set(artist) == {f"LeftHand{f}{k}" for f in ("Index", "Pinky") for k in (1, 2, 3)}
    pred = {n: p + [0.0, 0.0, 0.018] for n, p in artist.items()}  # 1 % of a 1.8 tall character
    errs = fingers.joint_errors(pred, artist, 1.8)
    assert errs and all(abs(e - 1.0) < 1e-9 for e in errs.values())
    assert not fingers.complete(artist)


def test_curled_poses_curl_towards_the_palm():
    bones = _hand_bones()
    axes = fingers.curl_axes(bones)
    assert set(axes) == {i for i, n in enumerate(bones.names) if n != "LeftHand"}
    poses = fingers.curled_poses(bones, 5, seed=3)
    i = bones.names.index("LeftHandIndex1")
    for r in poses[:, i]:
        moved = r @ (bones.tails[i] - bones.heads[i])
        assert moved[2] <= 1e-12  # the palm faces down (-Z): a curl never lifts the finger
        angle = np.degrees(np.arccos(np.clip(moved @ [1.0, 0, 0] / np.linalg.norm(moved), -1, 1)))
        assert angle <= fingers.MAX_CURL_DEG + 1e-6


def test_deformation_is_zero_for_the_same_weights():
    bones = _hand_bones()
    rng = np.random.default_rng(0)
    verts = bones.heads[1:] + rng.normal(scale=0.003, size=(len(bones) - 1, 3))
    w = sparse.csr_matrix(
        (np.ones(len(verts)), (np.arange(len(verts)), np.arange(1, len(bones)))), shape=(len(verts), len(bones))
    )
    d = fingers.deformation(verts, bones, w, w, 1.8, poses=4)
    assert d["mean"] == 0.0 and d["curled_bones"] == 8 and d["finger_vertices"] == len(verts)


def test_summary_lines():
    rows = [
        {"name": "a", "fingers": {"full_hand": True, "mean": 0.8, "artist_joints": 30}, "skinning_fingers": {"mean": 0.4}},
        {"name": "b", "fingers": {"full_hand": True, "mean": 1.0, "artist_joints": 30}, "skinning_fingers": {"mean": 0.5}},
        {"name": "c", "fingers": {"full_hand": False, "mean": 5.0, "artist_joints": 6}, "skinning_fingers": {"mean": 0.3}},
        {"name": "d", "fingers": None, "skinning_fingers": {"mean": 0.6}},
    ]
    s = fingers.summarize(rows)
    assert s["joint_mean"]["value"] == pytest.approx(0.9) and s["joint_mean"]["scored"] == 2
    assert s["joint_mean"]["pass"] and s["joint_mean"]["worst_name"] == "b"
    assert s["deformation_mean"]["value"] == pytest.approx(0.45) and s["deformation_mean"]["pass"]
    text = "\n".join(fingers.format_summary(s))
    assert "finger joint error" in text and "PASS" in text


def test_sides_follow_the_wrists_when_names_are_wrong():
    """An artist's ``Thumb.L`` on the right hand is scored as the right thumb."""
    heads = np.array([[-1.0, 0, 1.5], [-1.05, 0, 1.5], [1.0, 0, 1.5]])
    names = ["Thumb.L", "Thumb2.L", "Thumb.R"]
    wrists = {"Left": np.array([0.9, 0, 1.5]), "Right": np.array([-0.9, 0, 1.5])}
    artist = fingers.artist_finger_joints(names, heads, wrists)
    assert set(artist) == {"RightHandThumb1", "RightHandThumb2", "LeftHandThumb1"}
    assert np.allclose(artist["RightHandThumb1"], heads[0])
