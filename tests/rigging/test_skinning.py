"""Skin weights on small synthetic characters built here from boxes, and on one real one.

The synthetic character is what breaks bone heat: every box face is its own grid
(vertices duplicated along every edge, as glTF splits meshes at UV seams), legs,
arms, torso and head are separate shells that only overlap, a pompom floats above
the head touching nothing, an eye sits inside the head and a helmet over it.
"""

import numpy as np
import pytest

from autorig.rigging import humanoid
from autorig.rigging.bones import BoneSet, from_joints
from autorig.rigging.errors import RigError
from autorig.rigging.mesh import CharacterMesh, MeshPart
from autorig.rigging.skinning import MAX_INFLUENCES, SkinWeights, compute_weights, loose_parts, weld

# A 2-unit T-pose figure, +Z up, facing -Y, so its left is +X.
JOINTS = {
    "Hips": (0.0, 0.0, 1.0),
    "Spine": (0.0, 0.0, 1.1),
    "Spine1": (0.0, 0.0, 1.25),
    "Spine2": (0.0, 0.0, 1.4),
    "Neck": (0.0, 0.0, 1.55),
    "Head": (0.0, 0.0, 1.62),
    "HeadTop_End": (0.0, 0.0, 1.92),
    "LeftShoulder": (0.06, 0.0, 1.48),
    "LeftArm": (0.22, 0.0, 1.48),
    "LeftForeArm": (0.52, 0.0, 1.48),
    "LeftHand": (0.8, 0.0, 1.48),
    "LeftUpLeg": (0.12, 0.0, 0.95),
    "LeftLeg": (0.12, 0.0, 0.5),
    "LeftFoot": (0.12, 0.0, 0.1),
    "LeftToeBase": (0.12, -0.12, 0.03),
    "LeftToe_End": (0.12, -0.2, 0.03),
}
JOINTS.update({humanoid.mirror_name(k): (-x, y, z) for k, (x, y, z) in list(JOINTS.items()) if k.startswith("Left")})

BOXES = {  # part name: (low corner, high corner)
    "torso": ((-0.2, -0.1, 0.88), (0.2, 0.1, 1.56)),
    "head": ((-0.12, -0.12, 1.52), (0.12, 0.12, 1.92)),
    "left_arm": ((0.16, -0.05, 1.43), (0.95, 0.05, 1.53)),
    "right_arm": ((-0.95, -0.05, 1.43), (-0.16, 0.05, 1.53)),
    "left_leg": ((0.05, -0.07, 0.0), (0.19, 0.07, 0.94)),
    "right_leg": ((-0.19, -0.07, 0.0), (-0.05, 0.07, 0.94)),
    "left_foot": ((0.06, -0.22, 0.0), (0.18, 0.06, 0.08)),
    "right_foot": ((-0.18, -0.22, 0.0), (-0.06, 0.06, 0.08)),
    "pompom": ((-0.04, -0.04, 2.0), (0.04, 0.04, 2.06)),  # floats 8 cm above the head
    "eye": ((0.03, -0.11, 1.76), (0.06, -0.08, 1.79)),  # a closed shell inside the head
    "helmet": ((-0.15, -0.15, 1.8), (0.15, 0.15, 1.97)),  # a closed box over the head top
}


def box(lo, hi, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A box surface whose six faces are separate (n+1) x (n+1) grids: corners and
    edges are duplicated vertices, like a mesh split at UV seams."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    verts, tris = [], []
    g = np.linspace(0.0, 1.0, n + 1)
    u, v = np.meshgrid(g, g, indexing="ij")
    quads = [
        (i * (n + 1) + j, (i + 1) * (n + 1) + j, (i + 1) * (n + 1) + j + 1, i * (n + 1) + j + 1)
        for i in range(n)
        for j in range(n)
    ]
    for axis in range(3):
        a1, a2 = [a for a in range(3) if a != axis]
        for side in (0.0, 1.0):
            p = np.zeros(((n + 1) ** 2, 3))
            p[:, axis] = side
            p[:, a1] = u.ravel()
            p[:, a2] = v.ravel()
            base = sum(len(x) for x in verts)
            verts.append(lo + p * (hi - lo))
            for q in quads:
                tris += [(base + q[0], base + q[1], base + q[2]), (base + q[0], base + q[2], base + q[3])]
    return np.concatenate(verts), np.array(tris, dtype=np.int64)


def character(n: int = 8) -> CharacterMesh:
    verts, tris, parts = [], [], []
    offset = 0
    for name, (lo, hi) in BOXES.items():
        v, t = box(lo, hi, n)
        verts.append(v)
        tris.append(t + offset)
        parts.append(MeshPart(name, offset, len(v)))
        offset += len(v)
    return CharacterMesh(np.concatenate(verts), np.concatenate(tris), parts)


def skeleton() -> BoneSet:
    return from_joints({k: np.array(v, float) for k, v in JOINTS.items()})


def rows_of(mesh: CharacterMesh, part: str) -> np.ndarray:
    p = next(p for p in mesh.parts if p.name == part)
    return np.arange(p.start, p.start + p.count)


def weight_on(skin: SkinWeights, rows: np.ndarray, bone: int) -> np.ndarray:
    """(len(rows),) the weight each of those vertices gives ``bone``."""
    return np.where(skin.indices[rows] == bone, skin.weights[rows], 0.0).sum(axis=1)


@pytest.fixture(scope="module")
def bound():
    mesh, bones = character(16), skeleton()
    return mesh, bones, compute_weights(mesh, bones)


def test_every_vertex_weighted_normalised_at_most_four(bound):
    mesh, bones, skin = bound
    assert skin.indices.shape == skin.weights.shape == (mesh.n_vertices, MAX_INFLUENCES)
    assert skin.indices.dtype == np.int64 and skin.weights.dtype == np.float64
    assert ((skin.indices >= 0) & (skin.indices < len(bones))).all()
    assert (skin.weights >= 0).all()
    np.testing.assert_allclose(skin.weights.sum(axis=1), 1.0, atol=1e-9)
    assert (skin.weights[:, 0] > 0).all()  # no unweighted vertex
    assert (np.diff(skin.weights, axis=1) <= 1e-12).all()  # sorted descending
    # padding is bone 0 with weight 0
    assert (skin.indices[skin.weights == 0] == 0).all()
    dense = skin.dense(len(bones))
    assert dense.shape == (mesh.n_vertices, len(bones))
    assert ((dense > 0).sum(axis=1) <= MAX_INFLUENCES).all()
    np.testing.assert_allclose(skin.sparse(len(bones)).toarray(), dense)
    assert set(skin.timings) >= {"voxelize", "labels", "blend"}


def test_legs_do_not_bleed_into_each_other(bound):
    mesh, bones, skin = bound
    right = [i for i, n in enumerate(bones.names) if n.startswith("Right")]
    left = [i for i, n in enumerate(bones.names) if n.startswith("Left")]
    for part, other_side in (("left_leg", right), ("right_leg", left), ("left_foot", right), ("right_foot", left)):
        rows = rows_of(mesh, part)
        assert not np.isin(skin.indices[rows][skin.weights[rows] > 0], other_side).any(), part


def test_arms_do_not_bleed_into_legs_or_the_other_arm(bound):
    mesh, bones, skin = bound
    rows = rows_of(mesh, "left_arm")
    used = {bones.names[i] for i in np.unique(skin.indices[rows][skin.weights[rows] > 0])}
    assert not any(n.startswith("Right") or "Leg" in n or "Foot" in n for n in used), used
    # the side of the torso below the arm does not follow the arm
    torso = rows_of(mesh, "torso")
    side = torso[(mesh.vertices[torso, 0] > 0.19) & (mesh.vertices[torso, 2] < 1.3)]
    arm = [bones.index(n) for n in ("LeftArm", "LeftForeArm", "LeftHand")]
    assert len(side) and not np.isin(skin.indices[side][skin.weights[side] > 0], arm).any()


def test_limb_middles_are_rigid_and_joints_blend(bound):
    mesh, bones, skin = bound
    v = mesh.vertices
    leg = rows_of(mesh, "left_leg")
    up, low = bones.index("LeftUpLeg"), bones.index("LeftLeg")
    thigh = leg[np.abs(v[leg, 2] - 0.72) < 0.03]
    assert (weight_on(skin, thigh, up) > 0.99).all()
    shin = leg[np.abs(v[leg, 2] - 0.3) < 0.03]
    assert (weight_on(skin, shin, low) > 0.99).all()
    # Across the knee the lower leg's weight rises smoothly from 0 to 1.
    column = leg[(np.abs(v[leg, 0] - 0.19) < 1e-9) & (np.abs(v[leg, 1]) < 1e-9) & (np.abs(v[leg, 2] - 0.5) < 0.3)]
    column = column[np.argsort(-v[column, 2])]
    w_low = weight_on(skin, column, low)
    z = v[column, 2]
    assert (np.diff(w_low) >= -1e-9).all()  # top to bottom, never decreasing
    knee = np.abs(z - 0.5) < 0.06
    assert ((w_low[knee] > 0.05) & (w_low[knee] < 0.95)).any()


@pytest.mark.parametrize("part", ["pompom", "eye", "helmet"])
def test_loose_shells_on_and_in_the_head_follow_the_head(bound, part):
    mesh, bones, skin = bound
    rows = rows_of(mesh, part)
    assert (weight_on(skin, rows, bones.index("Head")) > 0.99).all()


def test_head_top_follows_the_head(bound):
    mesh, bones, skin = bound
    head = rows_of(mesh, "head")
    assert (weight_on(skin, head[mesh.vertices[head, 2] > 1.8], bones.index("Head")) > 0.99).all()


def test_split_vertices_get_identical_weights(bound):
    mesh, bones, skin = bound
    dense = skin.dense(len(bones))
    _, first, inverse = np.unique(np.round(mesh.vertices, 9), axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    assert len(first) < mesh.n_vertices  # the boxes really are split
    np.testing.assert_allclose(dense, dense[first[inverse]], atol=1e-12)


def test_non_deforming_bones_get_no_weight():
    mesh, bones = character(6), skeleton()
    helper = [bones.index("LeftToeBase"), bones.index("Spine1")]
    bones.deform[helper] = False
    skin = compute_weights(mesh, bones)
    assert not np.isin(skin.indices[skin.weights > 0], helper).any()
    # the toes now follow the foot
    toes = rows_of(mesh, "left_foot")
    toes = toes[mesh.vertices[toes, 1] < -0.18]
    assert (weight_on(skin, toes, bones.index("LeftFoot")) > 0.99).all()


def test_works_for_an_artist_like_skeleton_with_helpers():
    """Bone names do not matter; an IK pole target in front of the knee and a ground
    root outside the body drive nothing; a finger-like leaf gets its own tip."""
    mesh = character(6)
    base = skeleton()
    names = ["root"] + [f"b{i}" for i in range(len(base))] + ["pole"]
    heads = np.vstack([[0.0, 0.0, 0.0], base.heads, [0.12, -0.6, 0.5]])
    tails = np.vstack([base.heads[0], base.tails, [0.12, -0.6, 0.6]])
    parents = np.concatenate([[-1], np.where(base.parents < 0, 0, base.parents + 1), [0]])
    bones = BoneSet(names, heads, tails, parents)
    skin = compute_weights(mesh, bones)
    used = set(np.unique(skin.indices[skin.weights > 0]))
    assert 0 not in used and len(names) - 1 not in used
    np.testing.assert_allclose(skin.weights.sum(axis=1), 1.0, atol=1e-9)


def test_loose_parts_welds_split_faces():
    mesh = character(3)
    welded = weld(mesh.vertices, 1e-9)
    assert len(np.unique(welded)) < mesh.n_vertices
    parts = loose_parts(mesh.triangles, welded)
    assert len(np.unique(parts)) == len(BOXES)
    for p in mesh.parts:
        assert len(np.unique(parts[p.start : p.start + p.count])) == 1


def test_bad_input_is_a_clear_error():
    bones = skeleton()
    with pytest.raises(RigError):
        compute_weights(CharacterMesh(np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)), bones)
    mesh = character(2)
    bones.deform[:] = False
    with pytest.raises(RigError):
        compute_weights(mesh, bones)


@pytest.mark.slow
def test_real_character_deforms_like_the_artist_rig(eval_data):
    from autorig.evaluation.dataset import load_cached
    from autorig.rigging.metrics import deformation_error

    c = load_cached(eval_data, "quaternius__Zombie")
    bones = BoneSet(c.bone_names, c.bone_heads, c.bone_tails, c.bone_parents, c.bone_deform)
    skin = compute_weights(c.rigged, bones)
    err = deformation_error(c.rigged.vertices, bones, c.weights, skin.sparse(len(bones)), c.height)
    assert err["unweighted"] == 0
    assert err["mean"] < 2.5
    assert err["p99"] < 10.0
