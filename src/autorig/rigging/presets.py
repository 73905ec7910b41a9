"""Bone naming presets: the names our humanoid skeleton is exported with.

The engine always fits the Mixamo-named skeleton of ``humanoid``; a preset renames it for the
tool the user targets, and may add bones that carry no weight:

- ``mixamo`` (default): Mixamo's names (Hips, Spine, Spine1, Spine2, LeftArm, ...), optionally
  with the ``mixamorig:`` prefix that Mixamo's own downloads use, plus the end bones Mixamo has
  (HeadTop_End, LeftToe_End, RightToe_End).
- ``unreal``: the UE5 mannequin's names (pelvis, spine_01..spine_03, neck_01, head, clavicle_l,
  upperarm_l, lowerarm_l, hand_l, thigh_l, calf_l, foot_l, ball_l, ...), under a ``root`` bone on
  the ground below the pelvis, as Unreal expects for root motion. We fit three spine bones, so
  there is no spine_04/spine_05; Unreal's IK retargeter maps a chain of any length.
- ``unity``: names Unity's Humanoid avatar maps by itself (Hips, Spine, Chest, UpperChest, Neck,
  Head, LeftShoulder, LeftUpperArm, LeftLowerArm, LeftHand, LeftUpperLeg, LeftLowerLeg, LeftFoot,
  LeftToes), plus end bones.

Fingers (when the skeleton has them, see ``humanoid.FINGER_LEVELS``): Mixamo's
``LeftHandThumb1..3``, ``LeftHandIndex1..3``, Middle, Ring, Pinky with the end bones
``LeftHandThumb4`` ...; Unreal's ``thumb_01_l..thumb_03_l``, ``index_01_l``, ``middle_01_l``,
``ring_01_l``, ``pinky_01_l``; Unity's ``Left Thumb Proximal/Intermediate/Distal``, ``Left Index
...``, ``Left Middle ...``, ``Left Ring ...``, ``Left Little ...`` (the names of Unity's
HumanBodyBones, which its avatar maps). Only the Mixamo preset has finger end bones.

Left and right are the character's own, in every preset. Pure python: no bpy, no numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

from autorig.protocol import Skeleton
from autorig.rigging import humanoid

MIXAMO_PREFIX = "mixamorig:"
SKELETONS: tuple[str, ...] = tuple(s.value for s in Skeleton)  # the list is protocol.Skeleton


@dataclass(frozen=True)
class Preset:
    """names: humanoid joint name -> bone name, for every deforming bone (all of
    ``humanoid.BONE_NAMES``) and for the end joints this preset keeps as bones.
    root: name of an extra non-deforming bone on the ground under the hips, parent of the
    hips bone, or None."""

    skeleton: str
    names: dict[str, str]
    root: str | None = None

    def bone(self, humanoid_name: str) -> str:
        return self.names[humanoid_name]

    def end_joints(self) -> list[str]:
        """The end joints (HeadTop_End, ...) this preset makes bones of, in humanoid order."""
        return [j for j in humanoid.END_JOINTS if j in self.names]

    def finger_end_joints(self, fingers: str = "none") -> list[str]:
        """The finger end joints (LeftHandThumb4, ...) of ``fingers`` this preset makes bones of."""
        keep = humanoid.FINGER_LEVELS[fingers]
        # Every finger end joint is a finger joint: finger_of is never None.
        return [
            j for j in humanoid.FINGER_END_JOINTS if j in self.names and (f := humanoid.finger_of(j)) is not None and f[1] in keep
        ]

    def all_bones(self, fingers: str = "none") -> list[str]:
        """Every bone name of the exported armature, parents before children, for a skeleton
        with ``fingers`` ("full", "mitten" or "none")."""
        out = [self.root] if self.root else []
        out += [self.names[b] for b in humanoid.BONE_NAMES] + [self.names[j] for j in self.end_joints()]
        return (
            out
            + [self.names[b] for b in humanoid.finger_bones(fingers)]
            + [self.names[j] for j in self.finger_end_joints(fingers)]
        )


def _sided(table: dict[str, str], left: str, right: str) -> dict[str, str]:
    """Expand ``{"Arm": "upperarm{side}"}`` into LeftArm/RightArm entries."""
    out: dict[str, str] = {}
    for part, pattern in table.items():
        out["Left" + part] = pattern.format(side=left)
        out["Right" + part] = pattern.format(side=right)
    return out


_MIXAMO: dict[str, str] = {n: n for n in humanoid.ALL_JOINT_NAMES}


def _fingers(pattern: str, fingers: dict[str, str], phalanges: tuple[str, ...], sides: tuple[str, str]) -> dict[str, str]:
    """Finger bone names: ``pattern.format(side=, finger=, k=)`` for every finger bone."""
    out = {}
    for humanoid_side, side in zip(("Left", "Right"), sides, strict=False):
        for finger, fname in fingers.items():
            for k in range(1, humanoid.PHALANGES + 1):
                out[f"{humanoid_side}Hand{finger}{k}"] = pattern.format(side=side, finger=fname, k=phalanges[k - 1])
    return out


_UNREAL: dict[str, str] = {
    "Hips": "pelvis",
    "Spine": "spine_01",
    "Spine1": "spine_02",
    "Spine2": "spine_03",
    "Neck": "neck_01",
    "Head": "head",
    **_sided(
        {
            "Shoulder": "clavicle{side}",
            "Arm": "upperarm{side}",
            "ForeArm": "lowerarm{side}",
            "Hand": "hand{side}",
            "UpLeg": "thigh{side}",
            "Leg": "calf{side}",
            "Foot": "foot{side}",
            "ToeBase": "ball{side}",
        },
        "_l",
        "_r",
    ),
    **_fingers("{finger}_{k}{side}", {f: f.lower() for f in humanoid.FINGERS}, ("01", "02", "03"), ("_l", "_r")),
}

_UNITY: dict[str, str] = {
    "Hips": "Hips",
    "Spine": "Spine",
    "Spine1": "Chest",
    "Spine2": "UpperChest",
    "Neck": "Neck",
    "Head": "Head",
    "HeadTop_End": "HeadTop_End",
    **_sided(
        {
            "Shoulder": "{side}Shoulder",
            "Arm": "{side}UpperArm",
            "ForeArm": "{side}LowerArm",
            "Hand": "{side}Hand",
            "UpLeg": "{side}UpperLeg",
            "Leg": "{side}LowerLeg",
            "Foot": "{side}Foot",
            "ToeBase": "{side}Toes",
            "Toe_End": "{side}Toes_End",
        },
        "Left",
        "Right",
    ),
    **_fingers(
        "{side} {finger} {k}",
        {"Thumb": "Thumb", "Index": "Index", "Middle": "Middle", "Ring": "Ring", "Pinky": "Little"},
        ("Proximal", "Intermediate", "Distal"),
        ("Left", "Right"),
    ),
}


def get(skeleton: str = "mixamo", mixamo_prefix: bool = False) -> Preset:
    """The preset for ``skeleton`` (one of SKELETONS). ``mixamo_prefix`` applies to the
    mixamo preset only; callers report it as ignored for the others."""
    skeleton = str(getattr(skeleton, "value", skeleton))
    if skeleton == "mixamo":
        prefix = MIXAMO_PREFIX if mixamo_prefix else ""
        return Preset("mixamo", {k: prefix + v for k, v in _MIXAMO.items()})
    if skeleton == "unreal":
        return Preset("unreal", dict(_UNREAL), root="root")
    if skeleton == "unity":
        return Preset("unity", dict(_UNITY))
    raise ValueError(f"unknown skeleton preset {skeleton!r} (choose from {', '.join(SKELETONS)})")


def parent_of(preset: Preset, humanoid_name: str) -> str | None:
    """The humanoid name of the parent bone (end joints hang from their bone), or None for
    the hips. The preset's root, when it has one, is the hips' parent (not a humanoid name)."""
    if humanoid_name in humanoid.END_JOINTS:
        return humanoid.END_JOINTS[humanoid_name]
    if humanoid_name in humanoid.FINGER_END_JOINTS:
        return humanoid.FINGER_END_JOINTS[humanoid_name]
    return humanoid.PARENT[humanoid_name]
