"""The humanoid skeleton autorig produces: Mixamo names and hierarchy.

Left and right are the character's own. Each bone starts at the joint of the
same name; leaf bones end at the ``*_End`` joints (HeadTop_End, Toe_End) or,
for hands without fingers, a short way past the wrist along the forearm direction.

Fingers are optional (``--fingers``): Mixamo's ``LeftHandThumb1..3``, ``LeftHandIndex1..3``,
Middle, Ring, Pinky, each ending at its ``4`` joint (Mixamo's end bone). A mitten hand has
the thumb and ``Index`` only (the mitten bone). ``BONE_NAMES`` / ``JOINT_NAMES`` are the
bones every skeleton has; ``ALL_BONE_NAMES`` / ``ALL_JOINT_NAMES`` add the fingers.
"""

from __future__ import annotations

from collections.abc import Collection

# (bone, parent) in creation order; a parent always precedes its children.
BONES: tuple[tuple[str, str | None], ...] = (
    ("Hips", None),
    ("Spine", "Hips"),
    ("Spine1", "Spine"),
    ("Spine2", "Spine1"),
    ("Neck", "Spine2"),
    ("Head", "Neck"),
    ("LeftShoulder", "Spine2"),
    ("LeftArm", "LeftShoulder"),
    ("LeftForeArm", "LeftArm"),
    ("LeftHand", "LeftForeArm"),
    ("RightShoulder", "Spine2"),
    ("RightArm", "RightShoulder"),
    ("RightForeArm", "RightArm"),
    ("RightHand", "RightForeArm"),
    ("LeftUpLeg", "Hips"),
    ("LeftLeg", "LeftUpLeg"),
    ("LeftFoot", "LeftLeg"),
    ("LeftToeBase", "LeftFoot"),
    ("RightUpLeg", "Hips"),
    ("RightLeg", "RightUpLeg"),
    ("RightFoot", "RightLeg"),
    ("RightToeBase", "RightFoot"),
)

BONE_NAMES: tuple[str, ...] = tuple(b for b, _ in BONES)

FINGERS: tuple[str, ...] = ("Thumb", "Index", "Middle", "Ring", "Pinky")
# The fingers of each level of ``--fingers``; a mitten is a thumb and one block (Index).
FINGER_LEVELS: dict[str, tuple[str, ...]] = {"full": FINGERS, "mitten": ("Thumb", "Index"), "none": ()}
# Phalanges per finger (bones 1..3; joint 4 is the finger's end).
PHALANGES = 3

FINGER_BONES: tuple[tuple[str, str], ...] = tuple(
    (f"{side}Hand{finger}{k}", f"{side}Hand" if k == 1 else f"{side}Hand{finger}{k - 1}")
    for side in ("Left", "Right")
    for finger in FINGERS
    for k in range(1, PHALANGES + 1)
)
FINGER_BONE_NAMES: tuple[str, ...] = tuple(b for b, _ in FINGER_BONES)
# End joints of the fingers: the tip of each finger's last bone.
FINGER_END_JOINTS: dict[str, str] = {
    f"{side}Hand{finger}{PHALANGES + 1}": f"{side}Hand{finger}{PHALANGES}" for side in ("Left", "Right") for finger in FINGERS
}
ALL_BONE_NAMES: tuple[str, ...] = BONE_NAMES + FINGER_BONE_NAMES
PARENT: dict[str, str | None] = dict(BONES) | dict(FINGER_BONES)

# Joints that are positions only (tails of leaf bones), not deforming bones.
END_JOINTS: dict[str, str] = {
    "HeadTop_End": "Head",
    "LeftToe_End": "LeftToeBase",
    "RightToe_End": "RightToeBase",
}

JOINT_NAMES: tuple[str, ...] = BONE_NAMES + tuple(END_JOINTS)
ALL_JOINT_NAMES: tuple[str, ...] = JOINT_NAMES + FINGER_BONE_NAMES + tuple(FINGER_END_JOINTS)

# The anatomical joints scored by `autorig eval` (the pelvis is scored
# through the hip joints; where a Hips bone sits is a matter of convention).
SCORED_JOINTS: tuple[str, ...] = (
    "Neck",
    "Head",
    "LeftArm",
    "LeftForeArm",
    "LeftHand",
    "RightArm",
    "RightForeArm",
    "RightHand",
    "LeftUpLeg",
    "LeftLeg",
    "LeftFoot",
    "RightUpLeg",
    "RightLeg",
    "RightFoot",
)


def children(bone: str) -> list[str]:
    return [b for b, p in BONES if p == bone]


def finger_of(name: str) -> tuple[str, str, int] | None:
    """``LeftHandIndex2`` -> ("Left", "Index", 2); None for a name that is not a finger joint."""
    for side in ("Left", "Right"):
        prefix = f"{side}Hand"
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            for finger in FINGERS:
                if rest.startswith(finger) and rest[len(finger) :].isdigit():
                    return side, finger, int(rest[len(finger) :])
    return None


def finger_level(joints: Collection[str]) -> str:
    """ "full", "mitten" or "none": which finger bones a set of joint names has."""
    if any(f"LeftHand{f}1" in joints for f in ("Middle", "Ring", "Pinky")):
        return "full"
    return "mitten" if "LeftHandThumb1" in joints else "none"


def finger_bones(level: str) -> list[str]:
    """The finger bones of ``level`` (FINGER_LEVELS), in FINGER_BONE_NAMES order."""
    keep = FINGER_LEVELS[level]
    # Every name here is a finger bone: finger_of is never None.
    return [b for b in FINGER_BONE_NAMES if (f := finger_of(b)) is not None and f[1] in keep]


def mirror_name(name: str) -> str:
    """LeftArm -> RightArm and back; names without a side are returned as they are."""
    if name.startswith("Left"):
        return "Right" + name[4:]
    if name.startswith("Right"):
        return "Left" + name[5:]
    return name
