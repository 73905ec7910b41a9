"""Finger placement (rigging/skeleton_hands.py) on procedural hands with known fingers, and the
finger bones through the skeleton, the bone set and the presets."""

from __future__ import annotations

import numpy as np
import pytest

from autorig.rigging import bones as bones_mod
from autorig.rigging import humanoid, presets
from autorig.rigging.skeleton import fit
from autorig.rigging.skeleton_hands import place_hand

import synthetic

HEIGHT = 1.8
WRIST = np.array([0.25, 0.0, 1.4])
ELBOW = np.array([0.0, 0.0, 1.4])
# Four fingers along +X (a left hand in T-pose, palm down, facing -Y): (across y, length).
FINGERS = {"Index": (-0.03, 0.075), "Middle": (-0.01, 0.085), "Ring": (0.01, 0.078), "Pinky": (0.03, 0.06)}
KNUCKLE_X = 0.345
FINGER_RADIUS = 0.0085


def _merge(pieces):
    verts, tris, n = [], [], 0
    for v, t in pieces:
        verts.append(v)
        tris.append(t + n)
        n += len(v)
    return np.vstack(verts), np.vstack(tris)


def _hand(fingers: str = "separate"):
    """A forearm, a palm, a thumb and four separate fingers, or one block (a mitten)."""
    x = np.eye(3)
    pieces = [synthetic.limb(ELBOW, WRIST, 0.03, 0.025, overshoot=0.0)]
    pieces.append(synthetic.ellipsoid(WRIST + [0.05, 0.0, 0.0], x, (0.06, 0.045, 0.016), rings=16, segments=24))
    if fingers == "separate":
        for y, length in FINGERS.values():
            c = np.array([KNUCKLE_X + length / 2 - 0.01, y, 1.4])
            pieces.append(synthetic.ellipsoid(c, x, (length / 2 + 0.01, FINGER_RADIUS, FINGER_RADIUS), rings=16, segments=16))
    else:
        pieces.append(synthetic.ellipsoid([KNUCKLE_X + 0.035, 0.0, 1.4], x, (0.05, 0.043, 0.014), rings=16, segments=24))
    d = np.array([1.0, -1.0, -0.2]) / np.linalg.norm([1.0, -1.0, -0.2])
    frame = np.array([d, np.cross([0, 0, 1.0], d) / np.linalg.norm(np.cross([0, 0, 1.0], d)), np.zeros(3)])
    frame[2] = np.cross(frame[0], frame[1])
    pieces.append(synthetic.ellipsoid(WRIST + [0.03, -0.04, -0.005] + d * 0.03, frame, (0.04, 0.01, 0.01), rings=12, segments=12))
    return _merge(pieces)


def test_separate_fingers_follow_their_centre_lines():
    v, t = _hand("separate")
    hand = place_hand(v, t, WRIST, ELBOW, "Left", HEIGHT, "auto")
    assert hand.level == "full"
    j = hand.joints
    for finger, (y, length) in FINGERS.items():
        for k in (1, 2, 3):
            p = j[f"LeftHand{finger}{k}"]
            # On the finger's centre line (within its radius) and inside the body of the hand.
            assert abs(p[1] - y) < FINGER_RADIUS, (finger, k, p)
            assert abs(p[2] - 1.4) < FINGER_RADIUS, (finger, k, p)
        xs = [j[f"LeftHand{finger}{k}"][0] for k in (1, 2, 3, 4)]
        assert xs == sorted(xs)
        assert KNUCKLE_X - 0.03 < xs[0] < KNUCKLE_X + 0.03  # the knuckle near the base of the finger
        assert xs[3] <= KNUCKLE_X + length + 0.01  # the end no further than the fingertip
    # The thumb on the front side (-Y), the index finger next to it.
    assert j["LeftHandThumb3"][1] < j["LeftHandIndex1"][1] < j["LeftHandPinky1"][1]


def test_a_mitten_gets_four_fingers_spread_across_its_block():
    v, t = _hand("mitten")
    hand = place_hand(v, t, WRIST, ELBOW, "Left", HEIGHT, "auto")
    assert hand.level == "full"
    ys = np.array([hand.joints[f"LeftHand{f}2"][1] for f in ("Index", "Middle", "Ring", "Pinky")])
    gaps = np.diff(ys)
    assert np.all(gaps > 0) and gaps.max() < 1.5 * gaps.min()  # evenly spread, thumb side first
    assert -0.043 < ys[0] and ys[-1] < 0.043  # within the block


def test_mitten_and_none_levels():
    v, t = _hand("separate")
    mitten = place_hand(v, t, WRIST, ELBOW, "Left", HEIGHT, "mitten")
    assert mitten.level == "mitten"
    assert {humanoid.finger_of(n)[1] for n in mitten.joints} == {"Thumb", "Index"}
    # The mitten bone runs down the middle of the block.
    assert abs(mitten.joints["LeftHandIndex2"][1]) < 0.01
    none = place_hand(v, t, WRIST, ELBOW, "Left", HEIGHT, "none")
    assert none.level == "none" and not none.joints
    with pytest.raises(ValueError):
        place_hand(v, t, WRIST, ELBOW, "Left", HEIGHT, "six")


def test_a_toy_hand_of_a_few_triangles_gets_no_fingers():
    forearm = synthetic.limb(ELBOW, WRIST, 0.03, 0.025, overshoot=0.0)
    stub = synthetic.ellipsoid(WRIST + [0.03, 0, 0], np.eye(3), (0.04, 0.03, 0.02), rings=2, segments=4)  # 8 triangles
    v, t = _merge([forearm, stub])
    hand = place_hand(v, t, WRIST, ELBOW, "Left", HEIGHT, "auto")
    assert hand.level == "none" and not hand.joints
    assert "triangles" in hand.reason


def test_fit_with_and_without_fingers():
    mesh = synthetic.humanoid_figure("T").mesh
    plain = fit(mesh, fingers="none")
    assert set(plain.joints) == set(humanoid.JOINT_NAMES)
    assert {s: h["level"] for s, h in plain.hands.items()} == {"Left": "none", "Right": "none"}
    full = fit(mesh, fingers="full")
    assert {s: h["level"] for s, h in full.hands.items()} == {"Left": "full", "Right": "full"}
    assert set(full.joints) == set(humanoid.ALL_JOINT_NAMES)
    # Mirror images: each left finger joint mirrors its right one through the body's plane.
    for n in humanoid.FINGER_BONE_NAMES:
        if n.startswith("Left"):
            left, right = full.joints[n], full.joints[humanoid.mirror_name(n)]
            assert abs(left[0] + right[0]) < 0.02 * full.orientation.height, n
    bs = bones_mod.from_joints(full.joints)
    assert bs.names[: len(humanoid.BONE_NAMES)] == list(humanoid.BONE_NAMES)
    assert len(bs) == len(humanoid.ALL_BONE_NAMES)
    # Every finger bone points from its joint to the next; the hand ends at the middle knuckle.
    i = bs.index("LeftHandIndex2")
    assert np.allclose(bs.tails[i], full.joints["LeftHandIndex3"])
    assert np.allclose(bs.tails[bs.index("LeftHand")], full.joints["LeftHandMiddle1"])
    assert bs.names[bs.parents[bs.index("LeftHandIndex1")]] == "LeftHand"


@pytest.mark.parametrize(
    "skeleton,prefix,names",
    [
        ("mixamo", False, ["LeftHandThumb1", "LeftHandIndex3", "RightHandPinky2", "LeftHandMiddle4"]),
        ("mixamo", True, ["mixamorig:LeftHandThumb1", "mixamorig:RightHandRing3", "mixamorig:LeftHandPinky4"]),
        ("unreal", False, ["thumb_01_l", "index_03_l", "pinky_02_r", "middle_01_r", "ring_03_l"]),
        ("unity", False, ["Left Thumb Proximal", "Left Index Distal", "Right Little Intermediate", "Right Ring Proximal"]),
    ],
)
def test_finger_names_in_every_preset(skeleton, prefix, names):
    p = presets.get(skeleton, prefix)
    full = p.all_bones("full")
    assert len(set(full)) == len(full)
    assert set(names) <= set(full)
    assert p.all_bones("none") == [b for b in full if b in set(p.all_bones("none"))]
    mitten = set(p.all_bones("mitten")) - set(p.all_bones("none"))
    assert {humanoid.finger_of(h)[1] for h, b in p.names.items() if b in mitten} == {"Thumb", "Index"}
    # Parents before children.
    order = {b: i for i, b in enumerate(full)}
    for h in humanoid.FINGER_BONE_NAMES:
        parent = presets.parent_of(p, h)
        assert order[p.bone(parent)] < order[p.bone(h)]


def test_skin_weights_keep_the_fingers_apart():
    """On the procedural hand with its fitted fingers: every finger's skin follows its own
    finger's bones (and the hand's), never a neighbour's, so curling one drags no other."""
    from autorig.rigging.bones import BoneSet
    from autorig.rigging.mesh import CharacterMesh
    from autorig.rigging.skinning import compute_weights

    v, t = _hand("separate")
    hand = place_hand(v, t, WRIST, ELBOW, "Left", HEIGHT, "full")
    names, heads, tails, parents = (
        ["LeftForeArm", "LeftHand"],
        [ELBOW, hand.wrist],
        [hand.wrist, hand.joints["LeftHandMiddle1"]],
        [-1, 0],
    )
    for finger in humanoid.FINGERS:
        for k in (1, 2, 3):
            names.append(f"LeftHand{finger}{k}")
            heads.append(hand.joints[f"LeftHand{finger}{k}"])
            tails.append(hand.joints[f"LeftHand{finger}{k + 1}"])
            parents.append(1 if k == 1 else len(names) - 2)
    bones = BoneSet(names, heads, tails, parents)
    w = compute_weights(CharacterMesh(v, t), bones).dense(len(bones))
    for finger, (y, length) in FINGERS.items():
        # The outer half of the finger (well past where it leaves the palm).
        on = (np.abs(v[:, 1] - y) < FINGER_RADIUS * 1.2) & (v[:, 0] > KNUCKLE_X + 0.5 * length)
        assert on.sum() > 10, finger
        own = [names.index(f"LeftHand{finger}{k}") for k in (1, 2, 3)]
        others = [i for i, n in enumerate(names) if humanoid.finger_of(n) and humanoid.finger_of(n)[1] != finger]
        assert w[on][:, own].sum(axis=1).min() > 0.95, finger
        assert w[on][:, others].max() < 0.02, finger


def test_a_hand_holding_a_staff_takes_the_other_hands_fingers():
    fig = synthetic.humanoid_figure("T")
    wrist = fig.joints["RightHand"]
    staff = synthetic.limb(wrist + [-0.08, 0.0, -0.5], wrist + [-0.08, 0.0, 0.5], 0.015, 0.015)
    v, t = _merge([(fig.mesh.vertices, fig.mesh.triangles), staff])
    from autorig.rigging.mesh import CharacterMesh

    sk = fit(CharacterMesh(v, t), fingers="full")
    assert "mirrored" in sk.hands["Right"]["reason"]
    for n in ("HandIndex3", "HandThumb2", "HandPinky1"):
        left, right = sk.joints["Left" + n] - sk.joints["LeftHand"], sk.joints["Right" + n] - sk.joints["RightHand"]
        assert np.allclose(left * [-1, 1, 1], right, atol=1e-9), n


def _touching_hand() -> tuple[np.ndarray, np.ndarray, dict[str, tuple[float, float]]]:
    """Four fingers of unequal widths side by side, touching (a little flattened, each
    overlapping its neighbour): the surface samples crowd at the grooves between them."""
    x = np.eye(3)
    widths = {"Index": 0.011, "Middle": 0.0095, "Ring": 0.0085, "Pinky": 0.0065}
    centres, y = {}, -0.04
    for f, r in widths.items():
        y += r
        centres[f] = (y, r)
        y += r * 0.9  # overlapping: no gap between fingers
    pieces = [synthetic.limb(ELBOW, WRIST, 0.03, 0.025, overshoot=0.0)]
    pieces.append(synthetic.ellipsoid(WRIST + [0.05, -0.005, 0.0], x, (0.06, 0.04, 0.016), rings=16, segments=24))
    for yc, r in centres.values():
        c = np.array([KNUCKLE_X + 0.03, yc, 1.4])
        pieces.append(synthetic.ellipsoid(c, x, (0.045, r, 0.8 * r), rings=16, segments=16))
    v, t = _merge(pieces)
    return v, t, centres


def test_touching_fingers_are_parted_at_their_grooves():
    v, t, centres = _touching_hand()
    hand = place_hand(v, t, WRIST, ELBOW, "Left", HEIGHT, "full")
    for f, (yc, r) in centres.items():
        for k in (3, 4):
            p = hand.joints[f"LeftHand{f}{k}"]
            assert abs(p[1] - yc) < r, (f, k, p[1], yc)  # on its own finger, not in a groove


def test_the_two_hands_are_averaged_in_their_own_frames():
    from autorig.rigging.skeleton_hands import Hand, symmetrize

    axis, width = np.array([1.0, 0.0, 0.0]), np.array([0.0, -1.0, 0.0])
    mirror = np.array([-1.0, 1.0, 1.0])
    left = Hand(
        WRIST.copy(),
        {"LeftHandIndex1": WRIST + [0.10, -0.02, 0.0], "LeftHandIndex2": WRIST + [0.12, -0.02, 0.0]},
        "full",
        axis,
        width,
        np.cross(axis, width),
        0.2,
    )
    rw = WRIST * mirror
    right = Hand(
        rw,
        {"RightHandIndex1": rw + [-0.12, -0.02, 0.0], "RightHandIndex2": rw + [-0.12, -0.02, 0.1]},
        "full",
        axis * mirror,
        width,
        -np.cross(axis * mirror, width),
        0.2,
    )
    symmetrize(left, right)
    # Index1 agrees (0.10 and 0.12 along the hand): both take 0.11, mirrored.
    assert np.allclose(left.joints["LeftHandIndex1"], WRIST + [0.11, -0.02, 0.0])
    assert np.allclose(right.joints["RightHandIndex1"], rw + [-0.11, -0.02, 0.0])
    # Index2 disagrees by half the hand's length: each keeps its own.
    assert np.allclose(right.joints["RightHandIndex2"], rw + [-0.12, -0.02, 0.1])
    assert np.allclose(left.joints["LeftHandIndex2"], WRIST + [0.12, -0.02, 0.0])
