"""Orientation analysis: up, front and left from the shape alone, on procedural figures."""

import itertools

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from autorig.rigging.errors import RigError
from autorig.rigging.mesh import CharacterMesh
from autorig.rigging.prepare import analyze, classify_pose

import synthetic

ORIENTATIONS = [
    (up, front)
    for up, front in itertools.permutations(synthetic.AXES, 2)
    if abs(synthetic.AXES[up] @ synthetic.AXES[front]) < 1e-9
]


def _assert_frame(o, fig):
    assert o.up @ fig.up > 0.99, (o.up, fig.up)
    assert o.front @ fig.front > 0.99, (o.front, fig.front)
    assert o.left @ fig.left > 0.99, (o.left, fig.left)


@pytest.mark.parametrize("up,front", ORIENTATIONS)
@pytest.mark.parametrize("pose", ["T", "A"])
def test_recovers_up_front_left_in_every_axis_orientation(pose, up, front):
    fig = synthetic.humanoid_figure(pose, up=up, front=front, height=1.8)
    o = analyze(fig.mesh)
    _assert_frame(o, fig)
    assert o.height == pytest.approx(fig.height, rel=1e-6)


def test_left_is_the_characters_own_left_for_blender_default():
    # Facing -Y with +Z up in Blender, the character's left is +X.
    o = analyze(synthetic.humanoid_figure("T").mesh)
    np.testing.assert_allclose(o.up, [0, 0, 1], atol=1e-6)
    np.testing.assert_allclose(o.front, [0, -1, 0], atol=1e-6)
    np.testing.assert_allclose(o.left, [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(np.cross(o.up, o.front), o.left, atol=1e-9)


@pytest.mark.parametrize("height", [0.7, 8.0])
def test_scale_and_offset_do_not_matter(height):
    fig = synthetic.humanoid_figure("A", up="+Y", front="+Z", height=height, offset=(5.0, -3.0, 2.0))
    o = analyze(fig.mesh)
    _assert_frame(o, fig)
    # The canonical frame puts the feet at z = 0 and the head at the height.
    can = o.canonical(fig.mesh.vertices)
    assert can[:, 2].min() == pytest.approx(0.0, abs=1e-9)
    assert can[:, 2].max() == pytest.approx(height, rel=1e-6)
    assert abs(o.canonical(fig.joints["Hips"])[0]) < 0.01 * height  # mirror plane at x = 0


def test_off_axis_and_chibi_with_separate_shells():
    tilt = Rotation.from_euler("xyz", (30, -20, 50), degrees=True).as_matrix()
    fig = synthetic.humanoid_figure("A", chibi=True, shells=True, extra=tilt)
    o = analyze(fig.mesh)
    _assert_frame(o, fig)
    assert "stands at an angle" in " ".join(o.warnings)


def test_canonical_round_trip():
    fig = synthetic.humanoid_figure("T", up="-X", front="+Y")
    o = analyze(fig.mesh)
    p = fig.mesh.vertices[:50]
    np.testing.assert_allclose(o.world(o.canonical(p)), p, atol=1e-9)
    np.testing.assert_allclose(o.rotation @ o.rotation.T, np.eye(3), atol=1e-9)


@pytest.mark.parametrize("pose,low,high", [("T", -10, 10), ("A", 35, 55)])
def test_pose_and_arm_angles(pose, low, high):
    o = analyze(synthetic.humanoid_figure(pose, up="+X", front="-Z").mesh)
    assert o.pose == pose
    for angle in o.arm_angles_deg:
        assert low <= angle <= high


def test_classify_pose():
    assert classify_pose(2.0, -3.0) == "T"
    assert classify_pose(50.0, 45.0) == "A"
    assert classify_pose(85.0, 80.0) == "other"
    assert classify_pose(float("nan"), 0.0) == "other"


def test_empty_and_degenerate_meshes_are_refused():
    with pytest.raises(RigError) as e:
        analyze(CharacterMesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)))
    assert e.value.code == "empty_scene"
    line = CharacterMesh(np.array([[0, 0, 0], [0, 0, 1.0], [0, 0, 2.0]]), np.array([[0, 1, 2]]))
    with pytest.raises(RigError) as e:
        analyze(line)
    assert e.value.code == "not_a_biped"
