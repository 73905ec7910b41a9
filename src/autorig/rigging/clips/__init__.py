"""The animation library: keyframes for the humanoid skeleton, made from the character itself.

Every clip is computed on plain arrays, in world space, in named passes:

1. **character frame** (`ClipSkeleton`): joint positions, the character's own up / front /
   left axes, the ground height and the leg lengths. Nothing assumes +Z up or a facing.
2. **neutral pose** (`neutral_pose`): arms hanging at the sides with enough clearance that
   the hands stay outside the body, whatever the rest pose (T, A, or in between).
3. **authoring** (one function per clip, vectorised over frames): each bone turns by a
   rotation about the character's axes ("swing the upper arm forward by 20 degrees about
   the character's left axis"), relative to its parent and to the neutral pose. Legs are
   driven by targets for the ankles (two-bone IK), so feet stay planted and the hips drop
   exactly as much as the leg length requires: stride and hip height follow the legs.
4. **solve** (`solve_pose`): composes the rotations down the hierarchy into each bone's global
   rotation from its rest orientation, ``deltas[f, b]`` (world axes), and the hips'
   translation. Bone rolls never enter: the Blender side turns a global delta into each
   bone's local pose rotation with the bone's own rest matrix, whatever its roll.
5. **contact** (`BodyShape`): the hands' penetration into the body (or below the floor),
   measured on every frame against convex polytopes around the body parts, each moving with
   its bone. The neutral arm angle is the smallest that clears the body; a clip whose hands
   still go in gets the smallest arm turn (out, in or forward) that clears them, and the
   measured depth goes into the report.

Conventions: rotations are (3, 3) float64 matrices acting on world column vectors; angles
in the clip tables are degrees; lengths are world units unless a name ends in ``_LEG``
(fraction of the leg length) or ``_HEIGHT`` (fraction of the character's height). Left and
right are the character's own. Pure numpy/scipy: no bpy.

Modules, in import order: `kinematics` (rotations, frames, `ClipSkeleton`, forward kinematics,
the neutral pose, two-bone IK), `authoring` (`Pose`, the named rotations), `contact`
(`BodyShape`, the neutral arm angle, arm fixes), `solve` (`Clip`), `report` (`Library`) and
`library` (the clips, `ClipSpec`, `make_clip`, `make_library`). Tolerances live in
`rigging/tolerances.py`.
"""

from autorig.rigging.clips.authoring import HAND_POSES, FootTarget, Pose
from autorig.rigging.clips.contact import BodyShape
from autorig.rigging.clips.kinematics import (
    SIDES,
    ClipSkeleton,
    arc,
    end_point,
    forward_kinematics,
    keys,
    neutral_pose,
    rot,
    smooth,
)
from autorig.rigging.clips.library import CLIP_NAMES, LIBRARY, ClipSpec, make_clip, make_library
from autorig.rigging.clips.report import Library
from autorig.rigging.clips.solve import Clip
from autorig.rigging.tolerances import FPS, NEUTRAL_ARM_MAX_DEG, NEUTRAL_ARM_MIN_DEG, PENETRATION_TOLERANCE_HEIGHT

__all__ = [
    "CLIP_NAMES",
    "FPS",
    "HAND_POSES",
    "LIBRARY",
    "NEUTRAL_ARM_MAX_DEG",
    "NEUTRAL_ARM_MIN_DEG",
    "PENETRATION_TOLERANCE_HEIGHT",
    "SIDES",
    "BodyShape",
    "Clip",
    "ClipSkeleton",
    "ClipSpec",
    "FootTarget",
    "Library",
    "Pose",
    "arc",
    "end_point",
    "forward_kinematics",
    "keys",
    "make_clip",
    "make_library",
    "neutral_pose",
    "rot",
    "smooth",
]
