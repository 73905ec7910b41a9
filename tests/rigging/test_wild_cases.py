"""Cases from real files in the wild (scripts/wild_check.py) that the skeleton fitting gets
wrong, rebuilt from boxes and the procedural figure so they run without the network. Each is
expected to fail until the fitting handles it (xfail, not strict: a fix shows as XPASS)."""

import numpy as np
import pytest

from autorig.rigging.errors import RigError
from autorig.rigging.skeleton import fit

import synthetic


def _blocky_character() -> synthetic.Figure:
    """Minetest's player (minetest-data, player_api/models/character.b3d) and Minecraft-style
    avatars: boxes, the two legs touching each other and the arms touching the torso, in Minecraft
    proportions (legs 12, torso 12, head 8 units tall; torso 8 wide and 4 deep; limbs 4 x 4)."""
    B = synthetic.box
    pieces = [
        B((4, 4, 12), (-2, 0, 6)),
        B((4, 4, 12), (2, 0, 6)),  # legs, touching at x = 0
        B((8, 4, 12), (0, 0, 18)),  # torso
        B((4, 4, 12), (-6, 0, 18)),
        B((4, 4, 12), (6, 0, 18)),  # arms down, touching the torso
        B((8, 8, 8), (0, 0, 28)),  # head
    ]
    pieces = [(v / 32.0, t) for v, t in pieces]
    return synthetic.orient(pieces, {}, "+Z", "-Y", scale=1.8, shells=True)


def test_blocky_character_with_touching_legs_is_rigged() -> None:
    """Was refused as 'no legs: ... a bust or a half body' (minetest_character): the legs and the
    arms are now cut apart along the seams their touching faces leave inside the solid."""
    fig = _blocky_character()
    try:
        sk = fit(fig.mesh)
    except RigError as e:  # the failure seen in the wild, said in the test's output
        pytest.fail(f"refused: {e.reason}")
    assert sk.orientation.up @ fig.up > 0.95
    hips = sk.joints["Hips"]
    assert 0.30 * fig.height < hips[2] < 0.47 * fig.height, hips  # the legs end at 0.375
    knees = [sk.joints["LeftLeg"], sk.joints["RightLeg"]]
    assert all(k[2] < 0.3 * fig.height for k in knees), knees
    assert np.sign(knees[0][0]) != np.sign(knees[1][0]), knees
    hands = [sk.joints["LeftHand"], sk.joints["RightHand"]]
    assert all(0.25 * fig.height < h[2] < 0.55 * fig.height for h in hands), hands  # the arms hang
    assert np.sign(hands[0][0]) != np.sign(hands[1][0]), hands


def test_boxes_touching_face_to_face_are_still_refused() -> None:
    """Cutting seams must not make a humanoid of stacked crates: two crates side by side, a third
    on top of them (a pair of 'legs' and a 'torso', but no arms and no head)."""
    B = synthetic.box
    pieces = [B((4, 4, 6), (-2, 0, 3)), B((4, 4, 6), (2, 0, 3)), B((8, 4, 6), (0, 0, 9))]
    pieces = [(v / 16.0, t) for v, t in pieces]
    fig = synthetic.orient(pieces, {}, "+Z", "-Y", scale=1.0, shells=True)
    with pytest.raises(RigError):
        fit(fig.mesh)


def _winged_figure() -> synthetic.Figure:
    """Irrlicht's faerie (assimp-testmodels, MD2/faerie.md2): legs together (here a long dress), two large wings on
    the back reaching above the head, about as long as the legs."""
    fig = synthetic.humanoid_figure("A", "+Z", "-Y", height=1.0, shells=True, dress=True)
    verts, tris = [fig.mesh.vertices], [fig.mesh.triangles]
    n = len(fig.mesh.vertices)
    for side in (-1.0, 1.0):
        # a thin plate from the upper back, out to the side and up past the head
        v, t = synthetic.box((0.02, 0.30, 0.50), (0.0, 0.0, 0.0))
        angle = np.radians(25.0) * side
        rot = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
        rot = rot @ np.array([[0, 1, 0], [-1, 0, 0], [0, 0, 1]])  # the plate's width across, not along the body
        v = v @ rot.T + np.array([0.17 * side, 0.10, 0.92])
        verts.append(v)
        tris.append(t + n)
        n += len(v)
    mesh = synthetic.CharacterMesh(np.vstack(verts), np.vstack(tris), [])
    return synthetic.Figure(mesh=mesh, joints=fig.joints, up=fig.up, front=fig.front, left=fig.left, height=1.0)


@pytest.mark.xfail(
    strict=False,
    reason="wild: assimp_faerie (assimp-testmodels MD2/faerie.md2, legs together, wings) is rigged "
    "upside down, the wings taken for the legs; this rebuilt figure (legs in a dress) is refused instead: "
    "'no arm stands out from the side of the body'",
)
def test_winged_figure_is_rigged_head_up() -> None:
    fig = _winged_figure()
    try:
        sk = fit(fig.mesh)
    except RigError as e:
        pytest.fail(f"refused: {e.reason}")
    assert sk.orientation.up @ fig.up > 0.95, sk.reasons
    assert sk.joints["Head"][2] > sk.joints["Hips"][2]
