"""The clip library keyed on a real armature in Blender (blender/animation.py): the tests run
the real pipeline (load, fit, skin, armature) and key the clips on the armature it builds.
The clips themselves, as numbers, are tested without Blender in tests/rigging/test_clips.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from autorig.blender import animation, armature, scene  # noqa: E402
from autorig.rigging import bones as bones_mod  # noqa: E402
from autorig.rigging import clips  # noqa: E402

# Keyed poses match the computed clips to this (world units relative to height; radians).
BLENDER_POSITION_TOL = 1e-5
BLENDER_ROTATION_TOL = 1e-5


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
@pytest.mark.parametrize(
    "skeleton,prefix,fingers",
    [("mixamo", False, "none"), ("unreal", False, "none"), ("mixamo", True, "full"), ("unity", False, "full")],
)
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
