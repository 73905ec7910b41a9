"""Build the Blender armature of a fitted skeleton and bind the character's meshes to it.

The armature object has the identity transform; its bones sit at the fitted joints in world
space, and every mesh object is parented to it with its world transform unchanged, so the
rigged model stays exactly where, how big and how turned the input was.

Bone axes (the roll convention; animation code relies on it)
-------------------------------------------------------------
Every bone's local **Y axis runs along the bone**, head to tail (Blender's and Mixamo's rule).
The roll is chosen from the character's own axes (``up``, ``front``, ``left``, orthonormal,
``left = up x front``), never from the world's, so it is the same for a character facing +X
or lying on its back:

- torso, neck and head (Hips, Spine, Spine1, Spine2, Neck, Head, HeadTop_End, and a preset's
  root): **X = the character's left**, so Z = X x Y points to the character's **front**. Bending
  forward is a rotation about +X, twisting about Y, leaning sideways about Z.
- legs, feet and toes (UpLeg, Leg, Foot, ToeBase, Toe_End): **X = the character's right**; with
  Y running down the leg, Z points to the **front** on thighs and shins and **up** on feet and
  toes. Knee and ankle flexion are rotations about X on both sides.
- shoulders, arms and hands (Shoulder, Arm, ForeArm, Hand): **Z = the character's front**
  (made perpendicular to the bone). In a T-pose X points down on the left arm and up on the
  right arm; raising or lowering the arm is a rotation about Z, swinging it forward about X.

- fingers and thumbs (``LeftHandIndex1``, ``LeftHandThumb2``, ...): **X = the bone's direction
  crossed with the palm's normal** (the normal pointing out of the palm: down for palms-down
  hands in T-pose; the hand's axis crossed with its width, pinky knuckle to index knuckle, or
  the character's front on a mitten), so **Z points out of the palm** and a **positive turn
  about X curls** the finger or thumb into the palm, the same on both hands (mirror images).
  On the left hand of a T-pose X points back (away from the thumb), on the right to the front.

"X = left/right" and "Z = front" mean the given direction made perpendicular to Y (the closest
possible axis). Because ``front`` and ``up`` lie in the character's plane of symmetry, the left
and right bones are exact mirror images (Blender's Symmetrize convention: Y and Z reflected
through that plane, X reflected and negated), so a clip mirrored between sides needs no
per-bone fix-ups. Exported files keep these frames: FBX with primary bone axis Y and secondary
X (see ``export.py``); glTF stores the full rest transforms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import bpy
import numpy as np
import numpy.typing as npt

from autorig.rigging import humanoid, presets
from autorig.rigging.bones import BoneSet
from autorig.rigging.mesh import CharacterMesh

# Bones shorter than this fraction of the height are lengthened along their parent: Blender
# deletes zero-length bones, and a roll is undefined for them.
MIN_BONE_FRACTION = 1e-3
# End bones (HeadTop_End, *Toe_End) continue their parent; they are this fraction of its length
# (Mixamo's end bones are short stubs; the joint position is what matters).
END_BONE_FRACTION = 0.5
# Finger bones may be this much shorter than MIN_BONE_FRACTION (a toy hand's phalanx is tiny).
FINGER_MIN_FRACTION = 0.25
# A preset's root bone points up from the ground this fraction of the height (it only needs a
# direction and a length that is visible in an editor).
ROOT_BONE_FRACTION = 0.1
# Below this length the projection of a reference axis onto a bone's cross-section is too
# unstable to define a roll (bone within ~6 degrees of the axis); use the fallback axis.
DEGENERATE_PROJECTION = 0.1

TORSO, LEG, ARM, FINGER, THUMB = "torso", "leg", "arm", "finger", "thumb"
_LEG_PARTS = ("UpLeg", "Leg", "Foot", "ToeBase", "Toe_End")
_ARM_PARTS = ("Shoulder", "Arm", "ForeArm", "Hand")

ARMATURE_NAME = "Armature"


@dataclass
class RiggedScene:
    """A character bound to its armature in the current Blender scene.

    joints: humanoid joint names (humanoid.JOINT_NAMES) -> (3,) float64 world positions.
    bone_names: humanoid name -> bone name in the armature (after preset and prefix), for every
        bone that exists; a preset's root bone is under the key ``"root"``.
    up, front, left: (3,) float64 unit vectors, the character's own axes (right-handed:
        left = up x front). height: along ``up``, world units.
    ground: (3,) float64 world point on the floor below the hips (the root bone's head).
    """

    armature: bpy.types.Object
    meshes: list[bpy.types.Object]
    joints: dict[str, np.ndarray]
    bone_names: dict[str, str]
    up: np.ndarray
    front: np.ndarray
    left: np.ndarray
    height: float
    skeleton: str = "mixamo"
    ground: np.ndarray = field(default_factory=lambda: np.zeros(3))

    @property
    def objects(self) -> list[bpy.types.Object]:
        """The armature and its meshes: what the exporters write."""
        return [self.armature, *self.meshes]


@dataclass
class BonePlan:
    """One bone to create. head, tail, z_axis: (3,) float64 world; z_axis is a unit vector
    perpendicular to tail - head (the bone's local Z, which fixes the roll)."""

    name: str
    humanoid: str
    parent: str | None
    head: np.ndarray
    tail: np.ndarray
    z_axis: np.ndarray
    deform: bool


# --- plain data first ---------------------------------------------------------------------


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def character_axes(orientation) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(up, front, left) as an orthonormal right-handed triple from an Orientation-like object:
    ``front`` made perpendicular to ``up``, ``left = up x front``."""
    up = _unit(np.asarray(orientation.up, dtype=np.float64))
    front = np.asarray(orientation.front, dtype=np.float64)
    front = _unit(front - np.dot(front, up) * up)
    return up, front, np.cross(up, front)


def family(humanoid_name: str) -> str:
    """Which roll rule a bone follows: TORSO, LEG or ARM (see the module docstring)."""
    finger = humanoid.finger_of(humanoid_name)
    if finger is not None:
        return THUMB if finger[1] == "Thumb" else FINGER
    part = humanoid_name.removeprefix("Left").removeprefix("Right")
    if humanoid_name != part:
        if part in _LEG_PARTS:
            return LEG
        if part in _ARM_PARTS:
            return ARM
    return TORSO


def _perpendicular(v: np.ndarray, y: np.ndarray) -> np.ndarray:
    return v - np.dot(v, y) * y


def hand_width(joints: dict[str, np.ndarray], side: str, front: np.ndarray) -> np.ndarray:
    """(3,) unit: a hand's width axis towards the thumb (pinky knuckle to index knuckle), or
    the character's front for a hand without the four fingers (a mitten)."""
    a, b = joints.get(f"{side}HandIndex1"), joints.get(f"{side}HandPinky1")
    if a is not None and b is not None and np.linalg.norm(a - b) > 0:
        return _unit(a - b)
    return front


def palm_normal(joints: dict[str, np.ndarray], side: str, front: np.ndarray) -> np.ndarray:
    """(3,) unit: the palm's normal (pointing out of the palm) of a hand with finger joints:
    the hand's axis (wrist to the middle or mitten knuckle) crossed with its width, mirrored
    on the right hand (down on both hands of a T-pose with the palms down)."""
    knuckle = joints.get(f"{side}HandMiddle1", joints.get(f"{side}HandIndex1"))
    if knuckle is None:
        knuckle = joints[f"{side}HandThumb2"]
    axis = _unit(knuckle - joints[f"{side}Hand"])
    return _unit(np.cross(axis, hand_width(joints, side, front))) * (1.0 if side == "Left" else -1.0)


def finger_x(
    joints: dict[str, np.ndarray], humanoid_name: str, front: np.ndarray, head: np.ndarray, tail: np.ndarray
) -> np.ndarray:
    """The X axis of a finger bone (see the module docstring): the bone's direction crossed
    with the palm's normal, so a positive turn about X curls the finger into the palm."""
    side = humanoid.finger_of(humanoid_name)[0]
    return np.cross(_unit(tail - head), palm_normal(joints, side, front))


def z_axis(
    head: np.ndarray,
    tail: np.ndarray,
    rule: str,
    up: np.ndarray,
    front: np.ndarray,
    left: np.ndarray,
    x_ref: np.ndarray | None = None,
) -> np.ndarray:
    """The local Z axis of a bone from ``head`` to ``tail`` under the roll convention: (3,) unit.
    x_ref: the reference X axis of a finger bone (``finger_x``)."""
    y = _unit(tail - head)
    if rule in (FINGER, THUMB) and x_ref is not None:
        x = _perpendicular(x_ref, y)
        if np.linalg.norm(x) >= DEGENERATE_PROJECTION:  # not a bone pointing straight out of the palm
            return _unit(np.cross(_unit(x), y))
        rule = ARM
    if rule == ARM:
        z = _perpendicular(front, y)
        if np.linalg.norm(z) < DEGENERATE_PROJECTION:  # arm pointing forward: keep Z in the symmetry plane
            z = _perpendicular(up, y)
        return _unit(z)
    x = _perpendicular(left if rule == TORSO else -left, y)
    if np.linalg.norm(x) < DEGENERATE_PROJECTION:  # bone along left-right: fall back to Z = front
        return _unit(_perpendicular(front, y))
    return _unit(np.cross(_unit(x), y))


def joints_from_bones(bones: BoneSet) -> dict[str, np.ndarray]:
    """Humanoid joint positions from the bone set of ``bones.from_joints``: each bone's head,
    and the end joints (HeadTop_End, *Toe_End) from the tails of their bones."""
    joints = {n: bones.heads[i].copy() for i, n in enumerate(bones.names)}
    for end, parent in (humanoid.END_JOINTS | humanoid.FINGER_END_JOINTS).items():
        if parent in joints:
            joints[end] = bones.tails[bones.index(parent)].copy()
    return joints


def ground_point(vertices: np.ndarray, hips: np.ndarray, up: np.ndarray) -> np.ndarray:
    """The point on the floor (the lowest vertex along ``up``) straight below ``hips``.
    vertices: (n, 3) float64 world; returns (3,) float64."""
    floor = float(np.min(vertices @ up))
    return hips - (np.dot(hips, up) - floor) * up


def plan_bones(bones: BoneSet, orientation, preset: presets.Preset, vertices: np.ndarray) -> list[BonePlan]:
    """Every bone of the armature, parents first, from the humanoid ``bones``
    (``bones.from_joints``) and the character's ``orientation``. vertices: (n, 3) world, used
    to find the floor for a root bone."""
    missing = [n for n in humanoid.BONE_NAMES if n not in bones.names]
    if missing:
        raise ValueError(f"the bone set lacks humanoid bones: {', '.join(missing)}")
    up, front, left = character_axes(orientation)
    height = float(orientation.height)
    min_len = MIN_BONE_FRACTION * height
    joints = joints_from_bones(bones)
    plans: dict[str, BonePlan] = {}

    def add(hname: str, name: str, parent: str | None, head, tail, deform: bool, rule: str) -> None:
        head = np.asarray(head, dtype=np.float64)
        tail = np.asarray(tail, dtype=np.float64)
        # Finger bones are short: a fraction of the usual minimum still keeps them apart.
        floor = min_len * (FINGER_MIN_FRACTION if rule in (FINGER, THUMB) else 1.0)
        if np.linalg.norm(tail - head) < floor:
            along = plans[parent].tail - plans[parent].head if parent else up
            tail = head + _unit(along) * floor
        x_ref = finger_x(joints, hname, front, head, tail) if rule in (FINGER, THUMB) else None
        plans[name] = BonePlan(name, hname, parent, head, tail, z_axis(head, tail, rule, up, front, left, x_ref), deform)

    ground = ground_point(vertices, joints["Hips"], up)
    if preset.root:
        add("root", preset.root, None, ground, ground + up * ROOT_BONE_FRACTION * height, False, TORSO)
    for hname in humanoid.BONE_NAMES:
        i = bones.index(hname)
        parent = humanoid.PARENT[hname]
        parent_name = preset.bone(parent) if parent else preset.root
        add(hname, preset.bone(hname), parent_name, bones.heads[i], bones.tails[i], bool(bones.deform[i]), family(hname))
    for end in preset.end_joints():
        parent = plans[preset.bone(humanoid.END_JOINTS[end])]
        direction = parent.tail - parent.head
        head = joints[end]
        add(end, preset.bone(end), parent.name, head, head + direction * END_BONE_FRACTION, False, family(end))
    level = humanoid.finger_level(bones.names)
    for hname in humanoid.finger_bones(level):
        i = bones.index(hname)
        add(
            hname,
            preset.bone(hname),
            preset.bone(humanoid.PARENT[hname]),
            bones.heads[i],
            bones.tails[i],
            bool(bones.deform[i]),
            family(hname),
        )
    for end in preset.finger_end_joints(level):
        parent = plans[preset.bone(humanoid.FINGER_END_JOINTS[end])]
        head = joints[end]
        add(end, preset.bone(end), parent.name, head, head + (parent.tail - parent.head) * END_BONE_FRACTION, False, family(end))
    return list(plans.values())


# --- then the Blender objects, in one place -------------------------------------------------


def _create_armature(plans: list[BonePlan], name: str = ARMATURE_NAME) -> bpy.types.Object:
    data = bpy.data.armatures.new(name)
    arm = bpy.data.objects.new(name, data)
    bpy.context.scene.collection.objects.link(arm)
    arm.matrix_world = np.eye(4).tolist()  # identity: bones are in world space
    data.display_type = "STICK"
    for ob in bpy.context.selected_objects:
        ob.select_set(False)
    bpy.context.view_layer.objects.active = arm
    arm.select_set(True)
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        for p in plans:
            eb = data.edit_bones.new(p.name)
            eb.head = p.head.tolist()
            eb.tail = p.tail.tolist()
            eb.align_roll(p.z_axis.tolist())
            eb.use_deform = p.deform
            eb.use_connect = False  # heads stay exactly at the joints
            if p.parent:
                eb.parent = data.edit_bones[p.parent]
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
    arm.select_set(False)
    return arm


def mesh_objects_for(mesh: CharacterMesh) -> list[bpy.types.Object]:
    """The Blender objects behind ``mesh.parts`` (scene.read_character names each part after
    its object), checked against their vertex counts."""
    out = []
    for part in mesh.parts:
        ob = bpy.data.objects.get(part.name)
        if ob is None or ob.type != "MESH" or len(ob.data.vertices) != part.count:
            raise RuntimeError(f"mesh part {part.name!r} no longer matches a mesh object in the scene")
        out.append(ob)
    return out


def _bind(objects, mesh: CharacterMesh, bones: BoneSet, indices: np.ndarray, weights: np.ndarray, preset, arm) -> None:
    """Parent each object to ``arm`` keeping its world transform, add an Armature modifier
    first in the stack, and write the weights as vertex groups. indices, weights: (n, k)."""
    deform_names = [preset.bone(n) for n, d in zip(bones.names, bones.deform, strict=False) if d]
    group_of = np.array([preset.bone(n) for n in bones.names], dtype=object)
    for ob, part in zip(objects, mesh.parts, strict=False):
        if ob.data.users > 1:  # weights live in the mesh data: instances need their own copy
            ob.data = ob.data.copy()
        world = ob.matrix_world.copy()
        ob.parent = arm
        ob.matrix_parent_inverse = arm.matrix_world.inverted()
        ob.matrix_world = world
        mod = ob.modifiers.new("Armature", "ARMATURE")
        mod.object = arm
        mod.use_vertex_groups = True
        mod.use_deform_preserve_volume = False  # linear blend skinning, as glTF/FBX/engines do
        if len(ob.modifiers) > 1:
            ob.modifiers.move(len(ob.modifiers) - 1, 0)
        ob.vertex_groups.clear()
        groups = {n: ob.vertex_groups.new(name=n) for n in deform_names}
        rows = slice(part.start, part.start + part.count)
        idx, w = indices[rows], weights[rows]
        for k in range(idx.shape[1]):
            # One call per (bone, weight): vertices of rigid regions (weight 1) and split
            # copies of one position (same weights) go in together.
            for bone, value, vertices in _runs(idx[:, k], w[:, k]):
                groups[group_of[bone]].add(vertices.tolist(), value, "REPLACE")


def _runs(bone: npt.NDArray[np.int64], weight: npt.NDArray[np.float64]) -> list[tuple[int, float, npt.NDArray[np.int64]]]:
    """The vertices with a positive ``weight`` grouped by equal (bone, weight): a list of
    (bone index, weight, vertex indices ascending)."""
    rows = np.flatnonzero(weight > 0.0)
    if not len(rows):
        return []
    rows = rows[np.lexsort((rows, weight[rows], bone[rows]))]
    b, w = bone[rows], weight[rows]
    starts = np.flatnonzero(np.r_[True, (b[1:] != b[:-1]) | (w[1:] != w[:-1])])
    return [(int(b[s]), float(w[s]), part) for s, part in zip(starts, np.split(rows, starts[1:]), strict=True)]


def build(
    mesh: CharacterMesh, bones: BoneSet, weights, orientation, *, skeleton: str = "mixamo", mixamo_prefix: bool = False
) -> RiggedScene:
    """Create the armature for ``bones`` (humanoid names, from ``bones.from_joints``) in the
    current scene and bind the mesh objects behind ``mesh.parts`` with ``weights``
    (SkinWeights: ``.indices``, ``.weights`` (n, k) into ``bones``)."""
    preset = presets.get(skeleton, mixamo_prefix and str(skeleton) == "mixamo")
    indices = np.asarray(weights.indices, dtype=np.int64)
    w = np.asarray(weights.weights, dtype=np.float64)
    if indices.shape != w.shape or len(indices) != mesh.n_vertices:
        raise ValueError(f"weights of shape {w.shape} do not match {mesh.n_vertices} vertices")
    plans = plan_bones(bones, orientation, preset, mesh.vertices)
    objects = mesh_objects_for(mesh)
    arm = _create_armature(plans)
    _bind(objects, mesh, bones, indices, w, preset, arm)
    bpy.context.view_layer.update()
    up, front, left = character_axes(orientation)
    names = {p.humanoid: p.name for p in plans}
    return RiggedScene(
        armature=arm,
        meshes=objects,
        joints=joints_from_bones(bones),
        bone_names=names,
        up=up,
        front=front,
        left=left,
        height=float(orientation.height),
        skeleton=preset.skeleton,
        ground=plans[0].head.copy() if preset.root else ground_point(mesh.vertices, bones.heads[bones.index("Hips")], up),
    )
