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
# Separate solids at least this share of the largest one's volume and extent are
# separate figures (several characters in one file), not props or loose armour.
FIGURE_MIN_VOLUME = 0.3
FIGURE_MIN_EXTENT = 0.6
# ... counted again with the largest figure this many voxels across, on a grid of at
# most FIGURE_MAX_VOXELS along the whole file's largest extent.
FIGURE_MAX_VOXELS = 384
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
# Without a clear leg gap, the world +Z (where Blender puts every importer's up) adds this
# much to the shape votes: it decides only between cues that cancel out.
UP_PRIOR_WEIGHT = 0.5
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
# Feet that point nowhere (toe-minus-heel reach under this share of FEET_VOTE_FULL):
# the facing falls back to the glTF convention.
NO_FEET_MARGIN = 0.05
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
# When no humanoid is found in the core, thin rods are put back and the fit tried again
# (thin limbs): a removed piece is a rod if its voxel count is at most this many times
# its length in voxels, and it is at least ROD_MIN_LENGTH of the height long.
ROD_MAX_SECTION_VOXELS = 8
ROD_MIN_LENGTH = 0.05
# The fit's attempts, in order, while no humanoid is found: (keep thin rods, opening
# voxels): as is; thin limbs kept; plates up to about 4 voxels (3 % of the height:
# shields, pauldrons) opened away.
FIT_RETRIES = ((False, 1), (True, 1), (False, 2))

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
# Legs whose inner faces touch along their whole length (blocky, voxel-style characters)
# leave no crease in the solid, but the two faces stay inside it as a seam on the mirror
# plane: a row is split when surface inside the solid covers at least SEAM_COVER of the
# depth of a column within SEAM_BAND of the plane (share of the height) and of no column
# further out (a horizontal face inside the solid, a collar's top, covers every column).
SEAM_COVER = 0.6
SEAM_BAND = 0.015
# A seam cut apart as a last try (skeleton_seams) is a wall at least this many rows tall.
SEAM_MIN_ROWS = 3
# Legs reach at least this share of the height up to the crotch (a chibi's about 0.15).
MIN_LEG_SHARE = 0.08
# The tops of the two legs are at most this many thigh widths apart.
MAX_CROTCH_GAP = 1.5
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
# No foot that long in the sole's rows: a foot tilted toes-down is looked for in the lowest
# TILTED_FOOT_SEARCH of the leg's rows (below the calf).
TILTED_FOOT_SEARCH = 0.15
ANKLE_PROBE = 0.02
# The knee halfway between hip and ankle (thigh and shin are about equally long).
KNEE_FRACTION = 0.5
# The ball of the foot, as a share of the way from the ankle to the toe tip.
TOE_BASE_FRACTION = 0.6

# Legs hidden under a long dress: placed by adult proportions relative to the shoulder
# joint (crotch at 0.6 of the shoulder height, hip joints a little above it and about
# half the shoulder's distance from the mirror plane, ankles 6% up, feet 12% long).
HIDDEN_PELVIS_OF_SHOULDER = 0.6
HIDDEN_HIP_ABOVE_PELVIS = 0.06
HIDDEN_HIP_OF_SHOULDER = 0.55
HIDDEN_ANKLE_OF_SHOULDER = 0.06
HIDDEN_FOOT_OF_SHOULDER = 0.12
# ... and only when the neck is at least this clear (a car's cabin is no head).
HIDDEN_LEGS_MIN_NECK = 0.5
# ... and under a body reaching at least this many times the head's height (head top
# to shoulders) below the shoulders: an adult in a dress about 4, a bust or half body 1-2.
HIDDEN_LEGS_MIN_BELOW_SHOULDERS = 2.5

# Arms. The run of a column more than ARM_TRACK_GROWTH times the median of the last
# ARM_TRACK_MEMORY runs is the torso. ARM_BELOW_PELVIS: how far below the pelvis a hand
# may hang (A-pose) and still be followed.
ARM_TRACK_MEMORY = 12
# Columns with nothing touching the arm (a crack between glove and sleeve) are crossed
# up to this share of the height.
ARM_TRACK_GAP = 0.012
# ... and at least this long (share of the height): a hand with its thumb or a sleeve
# is thicker than the wrist but shorter than a torso side.
TORSO_MIN_RUN = 0.12
# A torso is at most this many times as wide as the hips below it (chibi torsos are
# about 1.6 times): a long run further out is something held in the hand.
TORSO_MAX_OF_HIP = 2.0
ARM_BELOW_PELVIS = 0.1
ARM_AREA_SMOOTH = 0.015
# The wrist is searched between these multiples of a hand's length from the outermost
# point (a person's hand is about a tenth of the height; less seen from the side of a
# hand held down in A-pose, up to a quarter for a toy's mitten hands), and within
# WRIST_MAX_SHARE of the arm's visible length; columns within WRIST_WIDTH_SLACK voxels
# of the narrowest count as equally narrow, and the one nearest a hand's length wins.
HAND_LENGTH = 0.10
WRIST_WINDOW = (0.5, 2.5)
WRIST_MAX_SHARE = 0.7
WRIST_WIDTH_SLACK = 0.5
# The armpit is the last column whose run is at most ARMPIT_GROWTH times the arm's
# median run (columns further in are the torso's side rising into the shoulder).
ARMPIT_GROWTH = 1.6
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
# The two shoulders may differ from mirror images by this share of the height (and the
# arms' agreement falls to zero at it).
ARM_MIRROR_TOLERANCE = 0.12
# Arms must reach at least this far from the mirror plane, and the head top this far
# above the shoulders.
MIN_ARM_REACH = 0.12
MIN_HEAD_ABOVE_SHOULDERS = 0.06

# Trunk. The neck is the narrowest slice (smoothed over NECK_SMOOTH) between the
# shoulders and the head's widest slice, which is looked for above HEAD_WIDEST_FROM of
# the span from the shoulders to the head top (a head is widest around its middle,
# whether it is an eighth of the height or half of it); the Neck joint sits
# NECK_BELOW_NARROWEST below it (the base of the neck), the Head joint
# HEAD_ABOVE_NARROWEST above it (the base of the skull).
HEAD_WIDEST_FROM = 0.5
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
# Shoulders this share of the height above the Neck joint make the "arms below the
# head" cue zero (they start at it); arms found hanging beside the body count this much.
SHOULDER_ABOVE_NECK_FULL = 0.05
HANGING_ARMS_CUE = 0.6

# --- skin weights (skinning.py, voxel_bind.py) -------------------------------------------
# Lengths here are fractions of the character's largest extent, or voxels (*_VOXELS).
# Voxels along the largest extent: ~0.8% of a T-pose's height, so a finger is one or two
# voxels thick and a 50k-triangle character binds in about a second (96 to 160 score the
# same on the evaluation set).
SKIN_VOXELS = 128
# Bone segments are sampled this finely (voxels), so no voxel a bone passes is skipped.
SKIN_SEGMENT_STEP = 0.25
# A bone with less of its segment than this inside the solid lies outside the body.
SKIN_MIN_INSIDE = 0.5
# An outside bone still binds (to the nearest solid voxels) if it comes this close to
# the body: a misaligned artist bone, not an IK pole target floating in front of a knee.
SKIN_NEAR_BODY = 0.05
# A leaf bone roots a body part (a head, a hand, a toe) only if the part reaches beyond
# its head this many times as far as the head lies below the skin; otherwise it marks a
# point inside a part (a head-top or "_end" bone) and drives nothing.
SKIN_LEAF_MIN_REACH = 1.5
# Blends reach as far as the vertex's distance to its own bone (the limb's radius) times
# this, through the skin; no blend is searched further than SKIN_BLEND_SEARCH.
SKIN_BLEND_WIDTH = 1.0
SKIN_BLEND_SEARCH = 0.15
# The radius is at least this many voxels (a vertex right on its bone).
SKIN_MIN_RADIUS_VOXELS = 1.0
# Weights are diffused over the welded mesh by about this many voxels, so a blend's
# voxel steps become a ramp.
SKIN_SMOOTH_VOXELS = 1.0
SKIN_SMOOTH_MAX_STEPS = 24
# A closed loose part holding some bones (a helmet, a head shell, an eyeball) takes its
# labels from the bones inside it when one of them owns this share of it.
SKIN_PART_OWN_SHARE = 0.6
# A loose part's own solid takes voxels from which 5 of the 6 axis rays hit it: a head
# or a hood open at the neck still holds the head bone.
SKIN_PART_RAY_HITS = 5
# A loose part this much in one bone's region moves rigidly with it (armour plates,
# helmets, hair, eyes: what artists bind to one bone).
SKIN_RIGID_PART_SHARE = 0.8
# Vertices this close are one vertex (welding across UV seams).
SKIN_WELD = 1e-6
# Influences below this weight are dropped before the final normalisation.
SKIN_MIN_WEIGHT = 0.02

# Hanging arms (skeleton_arms._hanging_arms): arms from about 65 degrees below the
# horizontal to straight down, the commonest pose of scans and AI-made characters, are
# seen in horizontal slices as a piece beside the torso rather than in the front view.
# The front-view track is trusted up to HANG_SWITCH_DEG (A-poses reach 60); steeper, the slices decide.
HANG_SWITCH_DEG = 65.0
# A hanging arm's visible piece spans at least this share of the height (a forearm and
# a hand), and its lowest point is at most HANG_MAX_ABOVE_PELVIS above the pelvis (a
# pigtail or an ear beside the head is not an arm).
HANG_MIN_SPAN = 0.12
HANG_MAX_ABOVE_PELVIS = 0.2
# A slice piece smaller than this (share of the height, squared) is a strand or a crack.
HANG_MIN_SECTION = 0.0004
# The shoulder joint sits this many upper-arm widths above the armpit (the top of the
# arm's separate piece), on the arm's centre line.
HANG_SHOULDER_ABOVE_PIT = 0.7
# ... or half a width under the top of the shoulder over the arm, when that top is at
# most this share of the height above the armpit (further up it is a head or a hat).
HANG_SHOULDER_MAX_RISE = 0.15
# The body continues at the mirror plane at least this far above a hanging arm's armpit
# (shoulders, neck and head).
HANG_HEAD_ABOVE_PIT = 0.1
# A front-view arm whose shoulder lies this share of the height below the top of a
# hanging arm's piece was a forearm sticking out of it: the hanging arm wins.
HANG_OVERRIDE_DROP = 0.1
HANG_OVERRIDE_STUB = 0.5
# Slices are eroded by up to this many voxels to part an arm from the torso it touches.
HANG_SPLIT_EROSION = 2
# A piece whose lowest point is within this share of the height of the lowest point of
# the body stands on the ground: a leg, not a hanging arm. Four or more separate pieces
# standing on the ground and rising through the lowest LEG_COUNT_WINDOW: an animal.
GROUND_SLAB = 0.04
LEG_COUNT_WINDOW = 0.12
# Below a hanging hand, a piece thinner than this share of the arm's median width is a
# stick held in the hand.
HELD_STICK_SHARE = 0.5

# Facing (facing.py): each cue's weight, and the raw value at which its vote is full.
# Feet are the most telling (toes ahead of the ankle); calves (the leg bulges behind
# between ankle and knee, over CALF_WINDOW of that span), capes and hair hanging behind,
# the head forward of the neck, and the file's convention as a weak prior.
# The feet are read twice: on the outline of the lowest slab (``prepare``, which chose
# the provisional front) and on each leg's own slices (a cape on the floor is no heel).
FACING_WEIGHTS = {"outline": 0.5, "feet": 0.75, "calves": 0.35, "sheets": 0.5, "head": 0.25, "prior": 0.3}
# (toe reach ahead of the ankle minus heel reach behind it, share of the height)
FACING_FEET_FULL = 0.05
CALF_WINDOW = (0.25, 0.85)
FACING_CALF_FULL = 0.15
FACING_SHEET_FULL = 0.5
FACING_MIN_SHEET = 0.02
FACING_HEAD_FULL = 0.1
FACING_SCORE_FULL = 0.5
# Hands (skinning._refine_hands): a bone with this many child chains of 2+ bones, all within
# this fraction of the character's size, is a hand (or a foot with toes). Its skin is labelled
# again on a solid with this many voxels across the narrowest spacing of its chains (never finer
# than the character's size over SKIN_HAND_MAX_VOXELS), when that is below this fraction of the
# body's voxel; a hand with fewer vertices than this is left as it is.
SKIN_HAND_MIN_CHAINS = 3
SKIN_HAND_MAX_EXTENT = 0.2
SKIN_HAND_VOXELS_PER_GAP = 4.0
SKIN_HAND_MAX_VOXELS = 1024
SKIN_HAND_REFINE_BELOW = 0.75
SKIN_HAND_MIN_VERTICES = 20

# --- animation clips (rigging/clips/) -------------------------------------------------------
# Frames per second of every clip.
FPS = 30
# A clip's hands may enter the body by at most this (fraction of height) on any frame before
# its arms are moved out; small enough to read as "touching", not "inside".
PENETRATION_TOLERANCE_HEIGHT = 0.005
# Neutral arm abduction is searched in this range (degrees from hanging straight down);
# the minimum keeps a gap even on thin characters; the maximum is for toy-like characters
# whose arms are longer than their legs (hanging straight, the hands would go through the
# floor) and stops absurd spreads when a character's shape is odd.
NEUTRAL_ARM_MIN_DEG = 6.0
NEUTRAL_ARM_MAX_DEG = 75.0
# The neutral arm's abduction fades out as the arm is raised forward or back from this angle
# (degrees from hanging down) to this one (see `solve_pose`).
HANG_FADE_DEG = (45.0, 135.0)
# A clip whose hand goes into the body has that whole arm turned about the shoulder, in
# world axes, after the clip's own rotations: out to the side, in towards the midline (moves
# a raised hand away from the head), forward or back. The smallest turn that clears wins;
# tried in these steps up to this limit (big heads of toy-like characters need large turns
# for raised arms).
ARM_FIX_KINDS = ("out", "in", "forward", "back")
ARM_FIX_STEP_DEG = 4.0
ARM_FIX_MAX_DEG = 90.0
# A fix eases in and out over up to this long around the frames that need it, so the arm
# does not jump.
ARM_FIX_EASE_S = 0.2
# The ankle target stays within this fraction of the leg's full length, so the knee never
# snaps straight (a straight knee flips its bend direction under noise).
LEG_REACH = 0.985
# Hand points for the contact measure: skin dominated by the hand, no further than this
# (fraction of height) from the wrist, so a sword or shield held in the hand does not count.
HAND_RADIUS_HEIGHT = 0.12
# At most this many hand points per side (the measure is a maximum, a sample is enough).
HAND_POINTS = 96
# Body parts are convex polytopes bounded by planes facing this many directions spread over
# the sphere (a "k-DOP"): a little larger than the convex hull, and a fixed, small number of
# planes however dense the mesh, so checking every frame of every clip stays cheap.
BODY_DIRECTIONS = 64
# Body parts whose hulls the hands must stay out of (humanoid names); arms are not body here.
BODY_PARTS = (
    "Hips",
    "Spine",
    "Spine1",
    "Spine2",
    "Neck",
    "Head",
    "LeftUpLeg",
    "RightUpLeg",
    "LeftLeg",
    "RightLeg",
)
# When a rig lacks toes, the ball of the foot sits this far forward of the ankle (fraction of height).
FOOT_BALL_HEIGHT = 0.07

# --- raised arms (skeleton_arms.follow_raised_arm) ---------------------------------------------
# An arm found this many degrees above the horizontal is followed again along its own
# direction (the body turned until it is level); the turned fit counts only if the arm it
# finds there is within RAISED_LEVEL_DEG of level (the same arm, not the head).
RAISED_ARM_DEG = 30.0
RAISED_LEVEL_DEG = 25.0
# An arm the front view cannot follow at all (raised almost straight up, into the head) is
# looked for along these directions above the horizontal, in turn.
RAISED_ARM_GUESSES_DEG = (60.0, 75.0, 85.0)
# ... and counts only if it reaches at least this share of the other arm's length.
RAISED_MIN_OF_OTHER = 0.6
