"""The animation library on a rigged character: clips keyed as named Blender actions.

The clips are computed on plain arrays by `autorig.rigging.clips` (world-space global
rotations per bone and frame); this module reads what that needs from the scene and, in one
place, turns each global rotation into the bone's local pose rotation with the bone's own
rest matrix:

    basis[b] = R[b]^T (G[parent]^T G[b]) R[b]

where R is a bone's rest rotation in armature space and G its global delta in armature
space. So the clips come out right whatever the bone rolls and axes are, and the same
keys play in Blender, in glTF (three.js) and in FBX (Unity, Unreal).

Each clip becomes an action named after it, keyed from frame 0, on an NLA track of the
same name (muted, so the rest pose stays the scene's pose). glTF export with
``export_animation_mode="ACTIONS"`` writes one named animation per action; FBX export with
``bake_anim_use_all_actions`` one take per action.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import bpy
import numpy as np
from scipy.spatial.transform import Rotation

from autorig.rigging import clips as clip_lib
from autorig.rigging import humanoid

# Body vertices read for the contact measure: at most this many (hulls of a sample are
# close to hulls of all; reading weights is a Python loop).
MAX_BODY_VERTICES = 30000
# Keyframe interpolation, as Blender's enum index: clips are sampled on every frame.
_LINEAR = 1


def _mesh_world(ob: bpy.types.Object) -> np.ndarray:
    """(n, 3) float64 world positions of the mesh's undeformed vertices."""
    me = ob.data
    co = np.empty(len(me.vertices) * 3)
    me.vertices.foreach_get("co", co)
    m = np.array(ob.matrix_world, dtype=np.float64)
    return co.reshape(-1, 3) @ m[:3, :3].T + m[:3, 3]


def humanoid_of_bones(rig: Any) -> dict[str, str]:
    """Actual bone name -> humanoid name of the bone or of its nearest humanoid ancestor
    (so an artist's finger bones count as the hand)."""
    inverse = {actual: h for h, actual in rig.bone_names.items() if h in humanoid.ALL_BONE_NAMES}
    out: dict[str, str] = {}
    for bone in rig.armature.data.bones:
        b = bone
        while b is not None and b.name not in inverse:
            b = b.parent
        if b is not None:
            out[bone.name] = inverse[b.name]
    return out


def clip_skeleton(rig: Any) -> clip_lib.ClipSkeleton:
    """The character as `clips` sees it: joints, own axes, height and the ground."""
    joints = {k: np.asarray(v, dtype=np.float64) for k, v in rig.joints.items() if k in humanoid.ALL_JOINT_NAMES}
    # Only bones the armature really has are animated.
    ends = humanoid.END_JOINTS | humanoid.FINGER_END_JOINTS
    joints = {k: v for k, v in joints.items() if k in ends or k in rig.bone_names}
    up = np.asarray(rig.up, dtype=np.float64)
    ground = min(float((_mesh_world(ob) @ up).min()) for ob in rig.meshes if len(ob.data.vertices))
    return clip_lib.ClipSkeleton(
        joints, up, np.asarray(rig.front, dtype=np.float64), np.asarray(rig.left, dtype=np.float64), float(rig.height), ground
    )


def body_shape(rig: Any, skel: clip_lib.ClipSkeleton) -> clip_lib.BodyShape:
    """The skin as body-part hulls and hand points (rest pose, world space)."""
    to_h = humanoid_of_bones(rig)
    verts: list[np.ndarray] = []
    dominant: list[str | None] = []
    total = sum(len(ob.data.vertices) for ob in rig.meshes)
    step = max(1, int(np.ceil(total / MAX_BODY_VERTICES)))
    for ob in rig.meshes:
        group_h = {g.index: to_h.get(g.name) for g in ob.vertex_groups}
        co = _mesh_world(ob)
        # Blender's collections take no slice step: subsample the indices in numpy.
        sample = np.arange(0, len(co), step)
        vertices = ob.data.vertices
        for i in sample.tolist():
            best, best_w = None, 0.0
            for g in vertices[i].groups:
                if g.weight > best_w and group_h.get(g.group) is not None:
                    best, best_w = group_h[g.group], g.weight
            dominant.append(best)
        verts.append(co[sample])
    if not dominant:
        return clip_lib.BodyShape()
    return clip_lib.BodyShape.from_skin(skel, np.concatenate(verts), dominant)


def make_library(rig: Any, names: list[str] | None = None) -> clip_lib.Library:
    """Compute every clip for this character (numpy only; nothing is keyed yet)."""
    skel = clip_skeleton(rig)
    return clip_lib.make_library(skel, body_shape(rig, skel), names)


def _armature_rotation(arm: bpy.types.Object) -> tuple[np.ndarray, np.ndarray]:
    """The armature object's world rotation (3, 3) and the inverse of its full linear part."""
    m = np.array(arm.matrix_world, dtype=np.float64)[:3, :3]
    u, _, vt = np.linalg.svd(m)
    return u @ vt, np.linalg.inv(m)


def local_rotations(rig: Any, clip: clip_lib.Clip) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The clip as Blender pose channels.

    Returns (bone names, quaternions (f, k, 4) float64 in Blender's (w, x, y, z) order,
    sign-continuous over frames, hips location (f, 3) in the hips bone's rest frame), for the
    k humanoid bones of the armature. Other bones (an artist's fingers, a root) keep their
    rest pose relative to their parents and are not keyed."""
    arm = rig.armature
    a_rot, a_inv = _armature_rotation(arm)
    index = {b: i for i, b in enumerate(clip.bones)}
    to_h = {actual: h for h, actual in rig.bone_names.items()}
    f = clip.frames
    # Global deltas of every armature bone, in armature space.
    g_arm: dict[str, np.ndarray] = {}
    eye = np.broadcast_to(np.eye(3), (f, 3, 3))
    names, quats = [], []
    for bone in arm.data.bones:  # parents come before children
        h = to_h.get(bone.name)
        if h in index:
            g = a_rot.T @ clip.deltas[:, index[h]] @ a_rot
        else:
            g = g_arm[bone.parent.name] if bone.parent else eye
        g_arm[bone.name] = g
        gp = g_arm[bone.parent.name] if bone.parent else eye
        r = np.array(bone.matrix_local, dtype=np.float64)[:3, :3]
        basis = r.T @ np.swapaxes(gp, -1, -2) @ g @ r
        if h in index:
            q = Rotation.from_matrix(basis).as_quat()[:, [3, 0, 1, 2]]
            # Neighbouring keys on the same side of the quaternion double cover.
            flip = np.cumsum(np.r_[0, np.sum(q[1:] * q[:-1], axis=1) < 0]) % 2 == 1
            q[flip] *= -1.0
            names.append(bone.name)
            quats.append(q)
    hips = arm.data.bones[rig.bone_names["Hips"]]
    r_hips = np.array(hips.matrix_local, dtype=np.float64)[:3, :3]
    loc = (r_hips.T @ (a_inv @ clip.offset.T)).T
    return names, np.stack(quats, axis=1), loc


def _key(action: bpy.types.Action, arm: bpy.types.Object, path: str, group: str, values: np.ndarray) -> None:
    """Key ``values`` (f, channels) on frames 0..f-1, linear."""
    f = len(values)
    frames = np.arange(f, dtype=np.float64)
    for i in range(values.shape[1]):
        fc = action.fcurve_ensure_for_datablock(arm, path, index=i, group_name=group)
        fc.keyframe_points.clear()
        fc.keyframe_points.add(f)
        fc.keyframe_points.foreach_set("co", np.column_stack([frames, values[:, i]]).ravel())
        fc.keyframe_points.foreach_set("interpolation", [_LINEAR] * f)
        fc.update()


def add_actions(rig: Any, library: clip_lib.Library) -> list[bpy.types.Action]:
    """Key every clip as an action on the armature, each on its own muted NLA track.

    Leaves the armature with no active action (the rest pose) and the scene at the clips' fps."""
    arm = rig.armature
    scene = bpy.context.scene
    scene.render.fps = library.clips[0].fps if library.clips else clip_lib.FPS
    scene.render.fps_base = 1.0
    for pb in arm.pose.bones:
        pb.rotation_mode = "QUATERNION"
    ad = arm.animation_data or arm.animation_data_create()
    actions = []
    hips = rig.bone_names["Hips"]
    for clip in library.clips:
        names, quats, loc = local_rotations(rig, clip)
        action = bpy.data.actions.new(clip.name)
        ad.action = action
        for k, name in enumerate(names):
            _key(action, arm, f'pose.bones["{_escape(name)}"].rotation_quaternion', name, quats[:, k])
        _key(action, arm, f'pose.bones["{_escape(hips)}"].location', hips, loc)
        action.use_frame_range = True
        action.frame_start, action.frame_end = 0, clip.frames - 1
        action.use_cyclic = clip.loop
        slot = ad.action_slot
        ad.action = None
        track = ad.nla_tracks.new()
        track.name = clip.name
        strip = track.strips.new(clip.name, 0, action)
        if slot is not None and hasattr(strip, "action_slot"):
            strip.action_slot = slot
        track.mute = True
        actions.append(action)
    _reset_pose(arm)
    return actions


def _escape(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')


def _reset_pose(arm: bpy.types.Object) -> None:
    for pb in arm.pose.bones:
        pb.location = (0.0, 0.0, 0.0)
        pb.rotation_quaternion = (1.0, 0.0, 0.0, 0.0)
        pb.scale = (1.0, 1.0, 1.0)
    bpy.context.view_layer.update()


def play(rig: Any, action: bpy.types.Action | None, frame: float = 0.0) -> None:
    """Show ``action`` at ``frame`` on the armature (None: back to the rest pose)."""
    arm = rig.armature
    ad = arm.animation_data or arm.animation_data_create()
    if action is None:
        ad.action = None
        _reset_pose(arm)
        return
    ad.action = action
    if len(action.slots) and ad.action_slot is None:
        ad.action_slot = action.slots[0]
    bpy.context.scene.frame_set(int(np.floor(frame)), subframe=float(frame - np.floor(frame)))


def posed_deltas(rig: Any, bones: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """World global rotations (k, 3, 3) from rest and world head positions (k, 3) of the
    humanoid ``bones`` as Blender evaluates the current pose (for checks)."""
    arm = rig.armature
    mw = np.array(arm.matrix_world, dtype=np.float64)
    a_rot, _ = _armature_rotation(arm)
    rots, heads = [], []
    for h in bones:
        pb = arm.pose.bones[rig.bone_names[h]]
        posed = np.array(pb.matrix, dtype=np.float64)
        rest = np.array(pb.bone.matrix_local, dtype=np.float64)
        g = _orthonormal(posed[:3, :3]) @ _orthonormal(rest[:3, :3]).T
        rots.append(a_rot @ g @ a_rot.T)
        heads.append(mw[:3, :3] @ posed[:3, 3] + mw[:3, 3])
    return np.array(rots), np.array(heads)


def _orthonormal(m: np.ndarray) -> np.ndarray:
    u, _, vt = np.linalg.svd(m)
    return u @ vt
