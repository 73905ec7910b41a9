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
SYMMETRY_SAMPLES = 20000
SYMMETRY_SAMPLES_COARSE = 3000
MIRROR_SEARCH_STEP_DEG = 6.0
MIRROR_SEARCH_FINE_DEG = 0.5
# The mirror plane's offset is searched from this many voxels either side of the mean
# down to MIRROR_OFFSET_FINE_VOXELS.
MIRROR_OFFSET_SEARCH_VOXELS = 2.0
MIRROR_OFFSET_FINE_VOXELS = 0.25
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

# --- skeleton fitting (skeleton*.py) --------------------------------------------------
# Voxels along the height: a finger is about one voxel, a forearm three to six.
FIT_VOXELS = 128
# Sheets (capes, skirts, hair cards) up to about twice this thick are opened away.
SHEET_OPENING_VOXELS = 1
# If opening removes more than this share of the solid, the model is all sheets: keep it.
MIN_CORE_FRACTION = 0.3

# Legs. A row is "split" when the core at the mirror plane is thinner than
# LEG_SPLIT_RATIO of the row's thickest column; the pelvis starts where the ratio stays
# above PELVIS_RATIO for PELVIS_RUN of the height (thighs that touch give a shallow
# crease, not a full-depth column).
LEG_SPLIT_RATIO = 0.5
PELVIS_RATIO = 0.9
PELVIS_RUN = 0.03
# Legs apart over less than this share of the height are not legs; at LEG_SPLIT_FULL
# the legs are certain.
MIN_LEG_SPLIT = 0.03
LEG_SPLIT_FULL = 0.15
MIN_LEG_ROWS = 3
# The thigh is measured this far below the pelvis; the hip joint sits this share of the
# thigh's width above where the pelvis starts (the femoral head is a thigh radius up).
THIGH_PROBE = 0.03
HIP_ABOVE_PELVIS = 0.4
# Ankle: the sole is the lowest SOLE_PROBE; the shin is the SHIN_PERCENTILE of the leg's
# depth over SHIN_WINDOW (shares of the leg's rows); the ankle is the first row above the
# sole whose depth has fallen to shin + ANKLE_FRACTION of (foot - shin). SOLE_SHARE: the
# sole ends where the depth is still this share of the foot's length.
SOLE_PROBE = 0.015
SHIN_WINDOW = (0.15, 0.5)
SHIN_PERCENTILE = 20
ANKLE_FRACTION = 0.25
SOLE_SHARE = 0.9
MIN_FOOT_RATIO = 1.3
ANKLE_PROBE = 0.02
# The knee halfway between hip and ankle (thigh and shin are about equally long).
KNEE_FRACTION = 0.5
# The ball of the foot, as a share of the way from the ankle to the toe tip.
TOE_BASE_FRACTION = 0.6

# Arms. The run of a column more than ARM_TRACK_GROWTH times the median of the last
# ARM_TRACK_MEMORY runs is the torso. ARM_BELOW_PELVIS: how far below the pelvis a hand
# may hang (A-pose) and still be followed.
ARM_TRACK_MEMORY = 12
# ... and at least this long (share of the height): a hand with its thumb or a sleeve
# is thicker than the wrist but shorter than a torso side.
TORSO_MIN_RUN = 0.12
ARM_BELOW_PELVIS = 0.1
ARM_AREA_SMOOTH = 0.015
# The wrist is searched over this share of the tip-to-armpit length (a hand is 20-50%
# of the visible arm: more for chibi characters whose upper arm is in the torso).
WRIST_WINDOW = (0.12, 0.6)
# Columns next to the armpit bend into the torso and are left out of the arm's line.
ARMPIT_SKIP = 0.02
# The shoulder joint this far outward of the armpit column (negative: inward), but no
# further out than SHOULDER_OVER_HIP times the outer side of the thigh (biacromial and
# hip breadth are about equal in people; chibi rigs put the shoulder inside the torso).
SHOULDER_PAST_PIT = 0.0
SHOULDER_OVER_HIP = 1.0
# The shoulder's depth: the median depth of the arm's centres this close to the armpit.
SHOULDER_DEPTH_PROBE = 0.06
# The clavicle joint: this share of the way out to the shoulder, a little higher.
CLAVICLE_FRACTION = 0.35
CLAVICLE_RISE = 0.015
# The two arms' tips may differ from mirror images by this share of the height.
ARM_MIRROR_TOLERANCE = 0.12
# Arms must reach at least this far from the mirror plane, and the head top this far
# above the shoulders.
MIN_ARM_REACH = 0.12
MIN_HEAD_ABOVE_SHOULDERS = 0.06

# Trunk. The neck is the narrowest slice in the lower NECK_SEARCH of the span from the
# shoulders to the head top (smoothed over NECK_SMOOTH); the Neck joint sits
# NECK_BELOW_NARROWEST below it (the base of the neck), the Head joint
# HEAD_ABOVE_NARROWEST above it (the base of the skull).
NECK_SEARCH = 0.6
NECK_SMOOTH = 0.015
NECK_BELOW_NARROWEST = 0.025
HEAD_ABOVE_NARROWEST = 0.015
NECK_NARROWING_FULL = 0.5
# The Hips bone (root) sits this far above the hip joints (Mixamo convention).
HIPS_ABOVE_HIP_JOINTS = 0.02

# Confidence: words for a cue's value, and how much the weakest cue counts.
CUE_CLEAR = 0.6
CUE_WEAK = 0.3
CONFIDENCE_WEAKEST_WEIGHT = 0.5
