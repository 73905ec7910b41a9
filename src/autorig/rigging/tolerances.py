"""Tolerances and anatomical ratios of the rigging engine, in one place, with reasons.

Lengths are fractions of the character's height unless a name says otherwise
(``*_VOXELS`` are voxel counts, ``*_DEG`` angles). Others may add their own section.
"""

from __future__ import annotations

# --- voxelization (voxel.py) ----------------------------------------------------------
# Surface points no further apart than this many voxels, so a rasterized triangle has
# no holes.
SURFACE_SAMPLE_SPACING = 0.5
# A huge triangle (a ground plane) is sampled at most this finely per edge; beyond it
# the grid itself is too coarse to matter.
MAX_TRIANGLE_SUBDIVISIONS = 512
# Empty voxels around the bounding box, so the outside is connected all around.
VOXEL_PADDING = 3
# The surface is thickened by this many voxels before the interior is filled.
FILL_CLOSING_VOXELS = 1

# --- orientation (prepare.py) -----------------------------------------------------------
# Voxels along the largest extent for the orientation passes: enough to see legs apart
# and feet forward, coarse enough to be quick.
ORIENT_VOXELS = 64
# A shape whose second principal spread is below this fraction of the first is a stick.
MIN_SECOND_SPREAD = 0.08
# Axes this close to a world axis are snapped to it when symmetry agrees (uploads are
# nearly always axis-aligned); within SNAP_SLACK of the best mirror error counts as agreeing.
SNAP_DEG = 12.0
SNAP_SLACK = 0.15
# Points used for the mirror-symmetry test, and its search over mirror directions.
SYMMETRY_SAMPLES = 3000
MIRROR_SEARCH_STEP_DEG = 6.0
MIRROR_SEARCH_FINE_DEG = 0.5
MIRROR_OFFSET_ITERATIONS = 2
# A mirrored point further than this from the shape counts as this far (a sword, a bag).
MIRROR_DISTANCE_CAP_VOXELS = 4.0
# Surface samples for the silhouette and end cues: spacing (1/this of the largest
# extent) and the most kept; rows of the front silhouette.
ORIENT_SURFACE_RES = 256
ORIENT_SURFACE_SAMPLES = 60000
ORIENT_SILHOUETTE_RES = 128
# A leg gap longer at one end by this fraction of the height decides up on its own;
# at LEG_GAP_FULL the decision is certain (a crotch is 15-45% of the height up).
LEG_GAP_DECISIVE = 0.03
LEG_GAP_FULL = 0.15
# Without a clear leg gap: slabs of this fraction at each end compare their spread
# (log ratio), plus the volume centroid's offset from the middle and any small gap.
END_SLAB = 0.02
MASS_VOTE_WEIGHT = 4.0
LEG_GAP_WEIGHT = 10.0
SHAPE_VOTE_FULL = 1.0
# Feet: the lowest FOOT_SLAB of the height; shins: SHIN_SLAB (between ankle and knee
# for chibi and realistic proportions alike). FEET_VOTE_FULL: toe-minus-heel reach
# (fraction of height) at which the facing is certain.
FOOT_SLAB = 0.03
SHIN_SLAB = (0.08, 0.16)
FEET_VOTE_FULL = 0.05
# Arm angle from the front silhouette: the arm is followed inward from the hand until
# a column's run is this many times the arm's thickness (the torso); at least
# ARM_TRACK_MIN_COLUMNS columns make a line.
ARM_TRACK_GROWTH = 2.5
ARM_TRACK_MIN_COLUMNS = 4
# Pose classes by arm angle below the horizontal.
T_POSE_MAX_DEG = 25.0
A_POSE_MAX_DEG = 70.0
# Below these a cue or the symmetry is reported as weak.
WEAK_MARGIN = 0.2
WEAK_SYMMETRY = 0.5
