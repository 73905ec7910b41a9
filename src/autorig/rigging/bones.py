"""A set of bones as plain arrays: what skinning, posing and export share.

Skinning works on any bone set (ours, or an artist's skeleton in `autorig eval`),
so nothing here is specific to the humanoid template.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from autorig.rigging import humanoid


@dataclass
class BoneSet:
    """names: b names; heads, tails: (b, 3) float64 world positions;
    parents: (b,) int64 parent index, -1 for roots; deform: (b,) bool (non-deforming
    bones get no weights)."""

    names: list[str]
    heads: npt.NDArray[np.float64]
    tails: npt.NDArray[np.float64]
    parents: npt.NDArray[np.int64]
    deform: npt.NDArray[np.bool_] | None = None

    def __post_init__(self) -> None:
        self.heads = np.asarray(self.heads, dtype=np.float64).reshape(-1, 3)
        self.tails = np.asarray(self.tails, dtype=np.float64).reshape(-1, 3)
        self.parents = np.asarray(self.parents, dtype=np.int64).reshape(-1)
        if self.deform is None:
            self.deform = np.ones(len(self.names), dtype=bool)
        self.deform = np.asarray(self.deform, dtype=bool)

    def __len__(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        return self.names.index(name)


# Leaf bones with no *_End joint point along their parent bone, this long relative to it.
_HAND_LENGTH = 0.35


def from_joints(joints: dict[str, npt.NDArray[np.float64]]) -> BoneSet:
    """The humanoid bone set from joint positions (humanoid.JOINT_NAMES, plus the finger
    joints when the skeleton has fingers; world space).

    A bone runs from its joint to its first child's joint (Spine2 to Neck, not to a
    shoulder); HeadTop_End and Toe_End close Head and ToeBase; a finger bone ends at the
    next joint of its finger (4 = the end); a hand ends at its middle finger's knuckle (the
    mitten's with a mitten), or without fingers continues its forearm's direction.
    """
    names = list(humanoid.BONE_NAMES) + [b for b in humanoid.FINGER_BONE_NAMES if b in joints]
    idx = {n: i for i, n in enumerate(names)}
    heads = np.array([joints[n] for n in names], dtype=np.float64)
    tails = np.empty_like(heads)
    ends = {parent: end for end, parent in humanoid.END_JOINTS.items()}
    for i, n in enumerate(names):
        kids = humanoid.children(n)
        finger = humanoid.finger_of(n)
        if finger is not None:
            side, f, k = finger
            tails[i] = joints[f"{side}Hand{f}{k + 1}"]
        elif n in ends:
            tails[i] = joints[ends[n]]
        elif kids:
            # The spine continues to the neck, not to a shoulder; a hip bone to the spine.
            main = next((k for k in kids if not k.startswith(("Left", "Right"))), kids[0])
            tails[i] = joints[main]
        elif f"{n}Middle1" in joints or f"{n}Index1" in joints:
            tails[i] = joints[f"{n}Middle1" if f"{n}Middle1" in joints else f"{n}Index1"]
        else:
            parent = humanoid.PARENT[n]
            assert parent is not None  # a bone with no child and no end joint (a hand without fingers) has a parent
            tails[i] = heads[i] + (heads[i] - joints[parent]) * _HAND_LENGTH
    parents = np.array([idx[p] if p else -1 for p in (humanoid.PARENT[n] for n in names)], dtype=np.int64)
    return BoneSet(names, heads, tails, parents)
