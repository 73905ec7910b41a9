"""The engine on generated variations of the procedural figures: arms hanging down,
stout bodies, lying and upside down, mirrored, thin limbs, capes, things on the floor
behind the feet; and what it must refuse, with a reason that names what is wrong (a
bust, several figures, a four-legged animal)."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from autorig.rigging import facing
from autorig.rigging.errors import RigError
from autorig.rigging.mesh import CharacterMesh
from autorig.rigging.metrics import joint_errors
from autorig.rigging.skeleton import fit
from autorig.rigging.skeleton_body import build
from autorig.rigging.skeleton_legs import find_legs

import synthetic

# Hanging arms are read from horizontal slices, a little less exactly than T- and A-pose
# arms from the front view (% of height).
JOINT_TOLERANCE = 8.0
MEAN_TOLERANCE = 3.5


def _check(fig, sk) -> dict[str, float]:
    """Joints near the known ones, and the character's own up, front and left."""
    err = joint_errors(sk.joints, fig.joints, fig.height)
    assert max(err.values()) < JOINT_TOLERANCE, err
    assert np.mean(list(err.values())) < MEAN_TOLERANCE, err
    assert sk.orientation.up @ fig.up > 0.95
    assert sk.orientation.front @ fig.front > 0.95, sk.reasons
    assert sk.orientation.left @ fig.left > 0.95
    return err


def _refused(mesh: CharacterMesh) -> str:
    with pytest.raises(RigError) as e:
        fit(mesh)
    assert e.value.code == "not_a_biped"
    assert "\n" not in e.value.reason
    return e.value.reason


@pytest.mark.parametrize(
    "up, front, extra",
    [
        ("+Z", "-Y", None),
        ("+Y", "+Z", None),  # glTF frame
        ("-Z", "+X", None),  # upside down
        ("+Y", "-X", None),  # lying on its side
        ("+Z", "-Y", Rotation.from_euler("xyz", (90, 15, -30), degrees=True).as_matrix()),  # lying, off the axes
    ],
)
def test_arms_hanging_down_in_any_orientation(up, front, extra):
    fig = synthetic.humanoid_figure("down", up=up, front=front, extra=extra)
    sk = fit(fig.mesh)
    _check(fig, sk)
    assert sk.orientation.pose == "other"
    assert min(sk.orientation.arm_angles_deg) > 65


def test_a_stout_figure_as_deep_as_it_is_wide():
    # With arms down and a deep body the thinnest axis is no longer front-to-back.
    fig = synthetic.humanoid_figure("down", deep=1.6, up="-X", front="+Y")
    _check(fig, fit(fig.mesh))


def test_chibi_with_arms_down():
    fig = synthetic.humanoid_figure("down", chibi=True)
    _check(fig, fit(fig.mesh))


@pytest.mark.parametrize("pose", ["T", "down"])
def test_mirrored_figures_keep_their_own_left(pose):
    fig = synthetic.humanoid_figure(pose, up="+Y", front="+Z")
    flip = np.diag([-1.0, 1.0, 1.0])
    mesh = CharacterMesh(fig.mesh.vertices @ flip, fig.mesh.triangles[:, ::-1])
    joints = {}
    for name, p in fig.joints.items():
        other = name.replace("Left", "#").replace("Right", "Left").replace("#", "Right")
        joints[other] = p @ flip
    mirrored = synthetic.Figure(mesh, joints, fig.up @ flip, fig.front @ flip, -(fig.left @ flip), fig.height)
    _check(mirrored, fit(mesh))


@pytest.mark.parametrize("thin", [0.4, 0.3])
def test_thin_limbs_are_rigged(thin):
    """An anatomical skeleton's or a slim robot's limbs are as thin as a cape."""
    pieces, joints = synthetic.humanoid_pieces(1.0, 0.0)
    out = []
    for i, (v, t) in enumerate(pieces):
        if i >= 4:  # limbs (after pelvis, chest, neck and head): thinner about their own axis
            c = v.mean(axis=0)
            axis = np.linalg.svd(v - c, full_matrices=False)[2][0]
            along = ((v - c) @ axis)[:, None] * axis
            v = c + along + (v - c - along) * thin
        out.append((v, t))
    fig = synthetic.orient(out, joints, scale=1.8)
    sk = fit(fig.mesh)
    assert sk.orientation.up @ fig.up > 0.95 and sk.orientation.front @ fig.front > 0.95
    err = joint_errors(sk.joints, fig.joints, fig.height)
    assert np.mean(list(err.values())) < 6.0, err


@pytest.mark.parametrize("pose", ["T", "down"])
@pytest.mark.parametrize("up, front", [("+Y", "-X"), ("+Z", "+Y")])
def test_a_cape_to_the_floor_does_not_turn_the_character_round(pose, up, front):
    angle = {"T": 0.0, "down": 80.0}[pose]
    pieces, joints = synthetic.humanoid_pieces(1.0, angle)
    sh = joints["LeftArm"][2]
    pieces.append(synthetic.box((0.34, 0.012, sh), (0.0, 0.1, sh / 2)))
    fig = synthetic.orient(pieces, joints, up=up, front=front, scale=1.7)
    _check(fig, fit(fig.mesh))


def test_the_shape_outvotes_the_file_convention():
    """glTF characters face +Z (-Y in Blender); one modelled facing +Y is still read
    from its feet, calves and head, and the reasons list every cue."""
    fig = synthetic.humanoid_figure("A", up="+Z", front="+Y")
    sk = fit(fig.mesh)
    _check(fig, sk)
    cues = [r for r in sk.reasons if r.startswith("facing cues")]
    assert cues and "file convention disagree" in cues[0] and "feet agree" in cues[0], cues


def test_without_feet_the_file_convention_decides():
    pieces, joints = synthetic.humanoid_pieces(1.0, 0.0)
    # No feet: the two foot ellipsoids (after pelvis, chest, neck, head: per side thigh,
    # shin, foot, upper arm, forearm, hand) are left out.
    no_feet = [p for i, p in enumerate(pieces) if not (i >= 4 and (i - 4) % 6 == 2)]
    fig = synthetic.orient(no_feet, joints, up="+Z", front="-Y", scale=1.7)
    sk = fit(fig.mesh)
    assert sk.orientation.front @ fig.front > 0.95, sk.reasons


@pytest.mark.parametrize("up, front", [("+Z", "-Y"), ("+Y", "+Z")])
def test_an_arm_raised_almost_straight_up_is_rigged(up, front):
    """The front view follows an arm raised 75 degrees lengthwise into the head and finds
    no armpit; it is looked for again along raised directions, not refused."""
    pieces, joints = synthetic.humanoid_pieces(1.0, 10.0, right_arm_deg=-75.0)
    fig = synthetic.orient(pieces, joints, up=up, front=front, scale=1.8)
    sk = fit(fig.mesh)
    err = _check(fig, sk)
    assert max(err[f"Right{j}"] for j in ("Arm", "ForeArm", "Hand")) < 3.0, err
    assert sk.orientation.arm_angles_deg[1] < -60, sk.orientation.arm_angles_deg
    assert any("raised above the shoulder" in w for w in sk.warnings), sk.warnings


@pytest.mark.parametrize("left, right", [(30.0, -45.0), (50.0, -65.0)])
def test_one_arm_raised_the_other_lowered(left, right):
    pieces, joints = synthetic.humanoid_pieces(1.0, left, right_arm_deg=right)
    fig = synthetic.orient(pieces, joints, scale=1.8)
    sk = fit(fig.mesh)
    err = _check(fig, sk)
    assert max(err[f"{s}{j}"] for s in ("Left", "Right") for j in ("Arm", "ForeArm", "Hand")) < 6.0, err
    assert sk.orientation.arm_angles_deg[0] > 20 and sk.orientation.arm_angles_deg[1] < -30, sk.orientation.arm_angles_deg


def test_feet_tilted_toes_down_keep_their_ankles():
    """Knees bent in a step tilt the feet toes-down: the lowest rows are only toes, and the
    ankle is still found above the foot, not put at the bottom of the leg."""
    pieces, joints = synthetic.humanoid_pieces(1.0, 45.0)
    tilt = Rotation.from_euler("x", 25, degrees=True).as_matrix()  # toes (-y) go down
    for k, side in enumerate(("Left", "Right")):
        i = 4 + 6 * k + 2  # after pelvis, chest, neck, head: thigh, shin, foot, ... per side
        ankle = joints[f"{side}Foot"]
        v, t = pieces[i]
        pieces[i] = ((v - ankle) @ tilt.T + ankle, t)
        for name in (f"{side}ToeBase", f"{side}Toe_End"):
            joints[name] = (joints[name] - ankle) @ tilt.T + ankle
    fig = synthetic.orient(pieces, joints, scale=1.8)
    sk = fit(fig.mesh)
    err = _check(fig, sk)
    assert max(err["LeftFoot"], err["RightFoot"]) < 3.0, err
    assert not any("no foot sticks out" in w for w in sk.warnings), sk.warnings


def test_a_feet_outline_against_the_legs_own_feet_says_nothing():
    """The lowest slab's outline and each leg's slices both read the feet; when they
    disagree (a sword's tip or a cape's hem on the floor, a foot tilted toes-down), the
    outline's vote is dropped and the legs' own feet decide with the other cues."""
    fig = synthetic.humanoid_figure("A")  # canonical frame: faces -Y, left +X
    body = build(fig.mesh.vertices, fig.mesh.triangles, fig.height)
    legs = find_legs(body)
    face = facing.decide(body, legs, fig.joints, prior=0.0, outline=-1.0)
    assert face.votes["feet"][0] > 0, face.describe()
    assert face.votes["feet outline"][1] == 0.0, face.votes
    assert not face.flip
    agreeing = facing.decide(body, legs, fig.joints, prior=0.0, outline=1.0)
    assert agreeing.votes["feet outline"] == (1.0, facing.tol.FACING_WEIGHTS["outline"])


def test_held_props_and_arms_down():
    pieces, joints = synthetic.humanoid_pieces(1.0, 80.0)
    hand = joints["RightHand"]
    pieces.append(synthetic.limb(hand + [-0.03, -0.03, 0.3], hand + [-0.03, -0.03, -0.45], 0.012, 0.012))  # a spear
    fig = synthetic.orient(pieces, joints, scale=1.8)
    _check(fig, fit(fig.mesh))


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("up, front", [("+Z", "-Y"), ("-Z", "+X"), ("+Y", "+Z")])
def test_a_bust_is_refused_for_having_no_legs(up, front):
    pieces, joints = synthetic.humanoid_pieces(1.0, 0.0)
    bust = [(v, t) for v, t in pieces if v[:, 2].max() > 0.7]  # chest, arms, neck, head
    reason = _refused(synthetic.orient(bust, joints, up=up, front=front).mesh)
    assert reason.startswith("no legs"), reason


@pytest.mark.parametrize("count", [2, 3, 7])
def test_several_figures_are_refused_naming_the_count(count):
    pieces, joints = synthetic.humanoid_pieces(1.0, 45.0)
    group = [(v + [i * 0.7, (i % 2) * 0.3, 0.0], t) for i in range(count) for v, t in pieces]
    reason = _refused(synthetic.orient(group, joints, up="+Y", front="+Z").mesh)
    assert reason.startswith(f"{count} separate figures"), reason


@pytest.mark.parametrize("angles", [(0, 0, 0), (90, 0, 0), (0, 0, 90)])
def test_a_four_legged_animal_is_refused_as_one(angles):
    mesh = synthetic.quadruped()
    turn = Rotation.from_euler("xyz", angles, degrees=True).as_matrix()
    reason = _refused(CharacterMesh(mesh.vertices @ turn.T, mesh.triangles))
    assert "four-legged animal" in reason, reason


def test_reasons_never_blame_missing_arms_for_a_bust_or_a_group():
    pieces, joints = synthetic.humanoid_pieces(1.0, 80.0)
    half = [(v, t) for v, t in pieces if v[:, 2].min() > 0.4]  # a half body cut at the hips, arms down
    reason = _refused(synthetic.orient(half, joints).mesh)
    assert "arm" not in reason.split(":")[0], reason


# --- confidence -----------------------------------------------------------------------------


def test_confidence_falls_when_the_cues_are_weak():
    """A clean T-pose is sure of itself; the same figure without feet (the facing rests on
    weaker cues) and one with arms hanging beside the body are less so, with reasons."""
    clean = fit(synthetic.humanoid_figure("T").mesh)
    pieces, joints = synthetic.humanoid_pieces(1.0, 0.0)
    no_feet = [p for i, p in enumerate(pieces) if not (i >= 4 and (i - 4) % 6 == 2)]
    footless = fit(synthetic.orient(no_feet, joints, scale=1.8).mesh)
    hanging = fit(synthetic.humanoid_figure("down").mesh)
    assert clean.confidence > 0.9
    assert footless.confidence < clean.confidence
    assert hanging.confidence < clean.confidence
    assert any("arms held out from the body" in r for r in hanging.reasons)
    assert any(r.startswith("facing cues") for r in footless.reasons)
