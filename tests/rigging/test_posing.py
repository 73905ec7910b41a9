"""Posing by linear blend skinning: identity, one bone turned, the hierarchy, seeded poses."""

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial.transform import Rotation

from autorig.rigging.bones import BoneSet
from autorig.rigging.posing import deform, random_poses, skinning_matrices


def chain() -> BoneSet:
    """Root at the origin, an arm along +x: root -> upper (0.2) -> fore (0.5) -> hand (0.8)."""
    heads = [(0.0, 0.0, 0.0), (0.2, 0.0, 0.0), (0.5, 0.0, 0.0), (0.8, 0.0, 0.0)]
    tails = [(0.2, 0.0, 0.0), (0.5, 0.0, 0.0), (0.8, 0.0, 0.0), (0.9, 0.0, 0.0)]
    return BoneSet(["root", "upper", "fore", "hand"], heads, tails, [-1, 0, 1, 2])


def weights(rows: list[dict[int, float]], n_bones: int = 4) -> sparse.csr_matrix:
    w = np.zeros((len(rows), n_bones))
    for i, row in enumerate(rows):
        for b, v in row.items():
            w[i, b] = v
    return sparse.csr_matrix(w)


def test_identity_pose_returns_rest_vertices():
    bones = chain()
    rng = np.random.default_rng(1)
    vertices = rng.normal(size=(50, 3))
    w = sparse.csr_matrix(rng.dirichlet(np.ones(4), size=50))
    m = skinning_matrices(bones, np.tile(np.eye(3), (4, 1, 1)))
    np.testing.assert_allclose(m[:, :, :3], np.tile(np.eye(3), (4, 1, 1)), atol=1e-12)
    np.testing.assert_allclose(deform(vertices, w, m), vertices, atol=1e-12)


def test_one_bone_turned_moves_its_vertices_about_its_head():
    bones = chain()
    rot = np.tile(np.eye(3), (4, 1, 1))
    quarter = Rotation.from_euler("z", 90, degrees=True).as_matrix()
    rot[2] = quarter  # the forearm turns about the elbow (0.5, 0, 0)
    m = skinning_matrices(bones, rot)
    vertices = np.array(
        [
            [0.6, 0.0, 0.0],  # on the forearm
            [0.85, 0.0, 0.0],  # on the hand: follows its parent's turn
            [0.3, 0.05, 0.0],  # on the upper arm: stays
            [0.6, 0.0, 0.0],  # half forearm, half upper arm
        ]
    )
    w = weights([{2: 1.0}, {3: 1.0}, {1: 1.0}, {1: 0.5, 2: 0.5}])
    out = deform(vertices, w, m)
    elbow = np.array([0.5, 0.0, 0.0])
    np.testing.assert_allclose(out[0], elbow + quarter @ (vertices[0] - elbow), atol=1e-12)
    np.testing.assert_allclose(out[0], [0.5, 0.1, 0.0], atol=1e-12)
    np.testing.assert_allclose(out[1], [0.5, 0.35, 0.0], atol=1e-12)
    np.testing.assert_allclose(out[2], vertices[2], atol=1e-12)
    np.testing.assert_allclose(out[3], (vertices[3] + out[0]) / 2, atol=1e-12)


def test_rotations_compose_down_the_hierarchy():
    bones = chain()
    rot = np.tile(np.eye(3), (4, 1, 1))
    quarter = Rotation.from_euler("z", 90, degrees=True).as_matrix()
    rot[1] = quarter  # shoulder turns: the whole arm swings up
    rot[2] = quarter  # and the elbow folds back
    m = skinning_matrices(bones, rot)
    out = deform(np.array([[0.8, 0.0, 0.0]]), weights([{3: 1.0}]), m)
    # shoulder at (0.2, 0): elbow goes to (0.2, 0.3); the wrist 0.3 further, turned 180°.
    np.testing.assert_allclose(out[0], [-0.1, 0.3, 0.0], atol=1e-12)


def test_unweighted_vertex_stays_put():
    bones = chain()
    rot = random_poses(bones, 1, seed=3)[0]
    v = np.array([[0.3, 0.2, 0.1], [0.6, 0.0, 0.0]])
    out = deform(v, weights([{}, {2: 1.0}]), skinning_matrices(bones, rot))
    np.testing.assert_allclose(out[0], v[0])
    assert not np.allclose(out[1], v[1])


def test_random_poses_are_seeded_bounded_and_skip_non_deforming_bones():
    bones = chain()
    bones.deform = np.array([False, True, True, True])
    a = random_poses(bones, 5, max_angle_deg=30.0, seed=7)
    b = random_poses(bones, 5, max_angle_deg=30.0, seed=7)
    assert a.shape == (5, 4, 3, 3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a[:, 0], np.tile(np.eye(3), (5, 1, 1)))
    angles = np.degrees(Rotation.from_matrix(a[:, 1:].reshape(-1, 3, 3)).magnitude())
    assert angles.max() <= 30.0 + 1e-9 and angles.min() > 0.0
    assert not np.allclose(random_poses(bones, 5, seed=8), a)


@pytest.mark.parametrize("dense", [True, False])
def test_deform_takes_dense_or_sparse_weights(dense):
    bones = chain()
    rot = random_poses(bones, 1, seed=2)[0]
    m = skinning_matrices(bones, rot)
    rng = np.random.default_rng(0)
    v = rng.normal(size=(20, 3))
    w = rng.dirichlet(np.ones(4), size=20)
    ref = deform(v, sparse.csr_matrix(w), m)
    np.testing.assert_allclose(deform(v, w if dense else sparse.csr_matrix(w), m), ref, atol=1e-12)
