"""The humanoid skeleton autorig produces: Mixamo names and hierarchy.

Left and right are the character's own. Each bone starts at the joint of the
same name; leaf bones end at the ``*_End`` joints (HeadTop_End, Toe_End) or,
for hands, a short way past the wrist along the forearm direction.
"""

from __future__ import annotations

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
PARENT: dict[str, str | None] = dict(BONES)

# Joints that are positions only (tails of leaf bones), not deforming bones.
END_JOINTS: dict[str, str] = {
    "HeadTop_End": "Head",
    "LeftToe_End": "LeftToeBase",
    "RightToe_End": "RightToeBase",
}

JOINT_NAMES: tuple[str, ...] = BONE_NAMES + tuple(END_JOINTS)

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


def mirror_name(name: str) -> str:
    """LeftArm -> RightArm and back; names without a side are returned as they are."""
    if name.startswith("Left"):
        return "Right" + name[4:]
    if name.startswith("Right"):
        return "Left" + name[5:]
    return name
