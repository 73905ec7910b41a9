"""Which way is up, which way the character faces, and its pose, from the shape alone.

Uploads come in every frame: glTF lands +Z up in Blender, FBX and OBJ exporters
differ, people model characters facing +X, or lying on their back. Nothing here
assumes a world axis. The passes, on the voxel solid of the whole character:

1. depth axis: the thinnest principal axis (a humanoid is thinner front-to-back than
   it is tall or wide, lying down or standing, in T- or A-pose);
2. left-right axis: the normal of the best mirror plane containing the depth axis
   (people are bilaterally symmetric; top/bottom never is: a head against two legs);
3. up: the remaining axis; its sign from the legs: seen from the front, the feet end
   has a gap between the legs running up to the crotch, the head end has none;
4. front: the feet point forward (toes stick out further ahead of the shins than the
   heels do behind);
5. pose: the angle of each arm below the horizontal.

An axis that comes within ``tolerances.SNAP_DEG`` of a world axis is snapped to it
when the snapped one explains the shape as well: uploads are nearly always
axis-aligned, and a rig a few degrees off looks wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from autorig.rigging import tolerances as tol
from autorig.rigging.errors import RigError
from autorig.rigging.mesh import CharacterMesh
from autorig.rigging.voxel import VoxelGrid, sample_surface, voxelize


@dataclass
class Orientation:
    """The character's own frame in world coordinates.

    up, front, left: (3,) unit vectors (left = cross(up, front): a character in Blender
    facing -Y with +Z up has its left at +X). to_canonical: (4, 4) rigid transform
    world -> canonical frame (+Z up, faces -Y, left = +X, feet at z = 0, the mirror plane
    at x = 0, centred in y). height: extent along up, world units. pose: "T", "A" or
    "other"; arm_angles_deg: (left, right) arm angle below the horizontal.
    symmetry: 0..1, how well the mirror plane explains the shape (1 = perfect).
    up_margin, front_margin: how clearly the cues decided the signs of up and front
    (0 = a coin toss, 1 = unambiguous).
    """

    up: npt.NDArray[np.float64]
    front: npt.NDArray[np.float64]
    left: npt.NDArray[np.float64]
    to_canonical: npt.NDArray[np.float64]
    height: float
    pose: str = "other"
    arm_angles_deg: tuple[float, float] = (float("nan"), float("nan"))
    warnings: list[str] = field(default_factory=list)
    symmetry: float = 0.0
    up_margin: float = 0.0
    front_margin: float = 0.0

    def flip_front(self) -> None:
        """Turn the character's frame half a turn about up: it faces the other way."""
        self.front = -self.front
        self.left = -self.left
        self.to_canonical = np.diag([-1.0, -1.0, 1.0, 1.0]) @ self.to_canonical

    @property
    def rotation(self) -> npt.NDArray[np.float64]:
        """(3, 3) world -> canonical rotation (rows: left, back, up)."""
        return self.to_canonical[:3, :3]

    @property
    def from_canonical(self) -> npt.NDArray[np.float64]:
        """(4, 4) canonical -> world."""
        return np.linalg.inv(self.to_canonical)

    def canonical(self, points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """(..., 3) world -> (..., 3) canonical."""
        canonical: npt.NDArray[np.float64] = (
            np.asarray(points, dtype=np.float64) @ self.to_canonical[:3, :3].T + self.to_canonical[:3, 3]
        )
        return canonical

    def world(self, points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """(..., 3) canonical -> (..., 3) world."""
        r = self.to_canonical[:3, :3]
        world: npt.NDArray[np.float64] = (np.asarray(points, dtype=np.float64) - self.to_canonical[:3, 3]) @ r
        return world


def analyze(mesh: CharacterMesh) -> Orientation:
    """Up, front, left, height and pose of a character in any orientation.

    Raises RigError("empty_scene") for a mesh without triangles and
    RigError("not_a_biped") for a shape that is flat or degenerate.
    """
    if mesh.n_triangles == 0 or mesh.n_vertices < 3:
        raise RigError("empty_scene", "the model has no triangles")
    v = mesh.vertices
    extent = float(np.ptp(v, axis=0).max())
    if not np.isfinite(extent) or extent <= 0:
        raise RigError("not_a_biped", "the model has no extent")
    grid = voxelize(v, mesh.triangles, extent / tol.ORIENT_VOXELS)
    _check_one_figure(v, mesh.triangles, grid)
    points = grid.to_world(np.argwhere(grid.solid))  # (k, 3) volume samples
    warnings: list[str] = []

    centre = points.mean(axis=0)
    evals, evecs = np.linalg.eigh(np.cov((points - centre).T))
    spread = np.sqrt(np.maximum(evals, 0.0))  # ascending
    if spread[1] < tol.MIN_SECOND_SPREAD * spread[2]:
        raise RigError("not_a_biped", "the model is a thin stick or a line, not a character")

    sample = _subsample(points, tol.SYMMETRY_SAMPLES)
    field_ = _DistanceField(grid)
    depth = evecs[:, 0]
    lateral, offset, sym_err = _mirror_plane(sample, field_, depth, grid.size)
    world = _nearest_world_axis(depth)
    if not np.allclose(world, depth) and abs(float(depth @ world)) >= np.cos(np.radians(tol.SNAP_DEG)):
        snapped = _mirror_plane(sample, field_, world, grid.size)
        if snapped[2] <= sym_err * (1.0 + tol.SNAP_SLACK):
            depth, (lateral, offset, sym_err) = world, snapped
    up_axis = np.cross(depth, lateral)
    up_axis /= np.linalg.norm(up_axis)
    across_err = _mirror_error(sample, field_, up_axis, float(np.mean(sample @ up_axis)), grid.size)[0]
    symmetry = float(np.clip(1.0 - sym_err / max(across_err, 1e-9), 0.0, 1.0))

    surface = _subsample(sample_surface(v, mesh.triangles, extent / tol.ORIENT_SURFACE_RES), tol.ORIENT_SURFACE_SAMPLES)
    # The leg gap is read on the surface and on the solid with sheets opened away (a cape
    # or a coat hanging to the floor behind the legs closes the gap in the outline).
    core = ndimage.binary_opening(grid.solid, structure=ndimage.generate_binary_structure(3, 1), iterations=1)
    core_points = grid.to_world(np.argwhere(core)) if core.sum() >= tol.MIN_CORE_FRACTION * grid.solid.sum() else None
    up_sign, up_margin, up_note = _up_sign(surface, points, up_axis, lateral, offset, grid.size, core_points)
    up = up_axis * up_sign
    front_sign, front_margin = _front_sign(surface, up, lateral, offset, depth)
    if front_margin < tol.NO_FEET_MARGIN and abs(float(depth[1])) >= np.cos(np.radians(tol.SNAP_DEG)):
        # No feet to read (a long dress): glTF characters face +Z, which is -Y in Blender.
        front_sign = -float(np.sign(depth[1]))
    front = depth * front_sign
    left = np.cross(up, front)
    left /= np.linalg.norm(left)
    if up_note:
        warnings.append(up_note)
    if up_margin < tol.WEAK_MARGIN:
        warnings.append("could not tell the head end from the feet end with confidence")
    if front_margin < tol.WEAK_MARGIN:
        warnings.append("could not tell which way the character faces with confidence (no clear feet)")
    if symmetry < tol.WEAK_SYMMETRY:
        warnings.append("the model is far from left-right symmetric")

    rot = np.stack([left, -front, up])  # rows: canonical x, y, z in world
    height = float(np.ptp(v @ up))
    if height <= 0:
        raise RigError("not_a_biped", "the model has no height")
    depth_along = points @ (-front)
    to_can = np.eye(4)
    to_can[:3, :3] = rot
    # x = 0 on the mirror plane (``offset`` is measured along ``lateral`` = +-left),
    # y centred on the body's depth, z = 0 under the feet.
    to_can[:3, 3] = (
        -float(offset) * float(np.sign(lateral @ left)),
        -0.5 * float(depth_along.min() + depth_along.max()),
        -float((v @ up).min()),
    )

    orientation = Orientation(
        up=up,
        front=front,
        left=left,
        to_canonical=to_can,
        height=height,
        warnings=warnings,
        symmetry=symmetry,
        up_margin=up_margin,
        front_margin=front_margin,
    )
    left_deg, right_deg = _arm_angles(orientation.canonical(surface), height / tol.ORIENT_SILHOUETTE_RES)
    orientation.arm_angles_deg = (left_deg, right_deg)
    orientation.pose = classify_pose(left_deg, right_deg)
    if abs(float(up @ _nearest_world_axis(up))) < np.cos(np.radians(tol.SNAP_DEG)):
        warnings.append("the character stands at an angle to every world axis")
    return orientation


def classify_pose(left_deg: float, right_deg: float) -> str:
    """ "T", "A" or "other" from the two arm angles below the horizontal (degrees)."""
    angles = np.array([left_deg, right_deg], dtype=np.float64)
    if not np.all(np.isfinite(angles)):
        return "other"
    if np.all(angles <= tol.T_POSE_MAX_DEG):
        return "T"
    if np.all(angles <= tol.A_POSE_MAX_DEG):
        return "A"
    return "other"


# --- passes ------------------------------------------------------------------------------


def _check_one_figure(vertices: npt.NDArray[np.float64], triangles: npt.NDArray[np.int64], grid: VoxelGrid) -> None:
    """Refuse a file holding several characters: two or more separate solids each of a
    size and extent comparable to the largest (props, eyes and loose armour are small
    next to a body; a character's shells touch or nearly touch after voxelization).
    Several small figures in a row are counted again on a grid fitted to one of them."""
    for attempt in range(2):
        lab, n = ndimage.label(grid.solid, structure=np.ones((3, 3, 3), dtype=bool))
        if n < 2:
            return
        sizes = np.bincount(lab.ravel())[1:]
        boxes = ndimage.find_objects(lab)
        extents = np.array([max(b.stop - b.start for b in box) if box is not None else 0 for box in boxes])
        big = int(np.argmax(extents))
        tall = extents >= tol.FIGURE_MIN_EXTENT * extents[big]
        if tall.sum() < 2:
            return
        if attempt == 0 and extents[big] < tol.ORIENT_VOXELS:
            size = max(
                grid.size * extents[big] / tol.ORIENT_VOXELS, float(np.ptp(vertices, axis=0).max()) / tol.FIGURE_MAX_VOXELS
            )
            grid = voxelize(vertices, triangles, size)
            continue
        count = int((tall & (sizes >= tol.FIGURE_MIN_VOLUME * sizes[tall].max())).sum())
        if count >= 2:
            raise RigError("not_a_biped", f"{count} separate figures: the file holds several characters; rig one at a time")
        return


def _subsample(points: npt.NDArray[np.float64], count: int) -> npt.NDArray[np.float64]:
    """At most ``count`` rows of ``points``, deterministically spread over the array."""
    if len(points) <= count:
        return points
    idx = np.linspace(0, len(points) - 1, count).astype(np.int64)
    return points[idx]


def _nearest_world_axis(a: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    k = int(np.argmax(np.abs(a)))
    out = np.zeros(3)
    out[k] = np.sign(a[k]) or 1.0
    return out


class _DistanceField:
    """Distance (world units) from any point to the nearest solid voxel, by lookup."""

    def __init__(self, grid: VoxelGrid) -> None:
        self.grid = grid
        self.dist = ndimage.distance_transform_edt(~grid.solid) * grid.size
        self.shape = np.array(grid.solid.shape)

    def query(self, points: npt.NDArray[np.float64], outside: float) -> npt.NDArray[np.float64]:
        """(k,) distances for (k, 3) points; ``outside`` for points off the grid."""
        ijk = np.rint(self.grid.to_voxel(points)).astype(np.int64)
        inside = np.all((ijk >= 0) & (ijk < self.shape), axis=1)
        out = np.full(len(points), outside)
        i = ijk[inside]
        out[inside] = self.dist[i[:, 0], i[:, 1], i[:, 2]]
        return out


def _mirror_error(
    sample: npt.NDArray[np.float64], field: _DistanceField, normal: npt.NDArray[np.float64], offset: float, voxel: float
) -> tuple[float, float]:
    """Mean distance (world units) from each point mirrored in the plane {p: p.normal =
    offset} to the shape, with distances capped so that one sword does not outweigh the
    body; and the offset (searched around the given one) where that is least."""
    cap = tol.MIRROR_DISTANCE_CAP_VOXELS * voxel
    d0 = sample @ normal

    def error(o: float) -> float:
        mirrored = sample - 2.0 * (d0 - o)[:, None] * normal
        return float(np.minimum(field.query(mirrored, cap), cap).mean())

    best_o, best_e = offset, error(offset)
    step = tol.MIRROR_OFFSET_SEARCH_VOXELS * voxel
    while step >= tol.MIRROR_OFFSET_FINE_VOXELS * voxel:
        for o in (best_o - step, best_o + step):
            e = error(o)
            if e < best_e:
                best_o, best_e = o, e
        step /= 2.0
    return best_e, best_o


def _mirror_plane(
    sample: npt.NDArray[np.float64], field: _DistanceField, depth: npt.NDArray[np.float64], voxel: float
) -> tuple[npt.NDArray[np.float64], float, float]:
    """The best mirror plane containing ``depth``: (normal (3,), offset, error)."""
    e1 = np.cross(depth, _nearest_world_axis(np.roll(depth, 1)))
    if np.linalg.norm(e1) < 1e-6:
        e1 = np.cross(depth, np.array([1.0, 0.0, 0.0]))
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(depth, e1)

    def normal(theta: float) -> npt.NDArray[np.float64]:
        n: npt.NDArray[np.float64] = np.cos(theta) * e1 + np.sin(theta) * e2
        return n

    coarse = _subsample(sample, tol.SYMMETRY_SAMPLES_COARSE)

    def err(n: npt.NDArray[np.float64], pts: npt.NDArray[np.float64] = sample) -> tuple[float, float]:
        return _mirror_error(pts, field, n, float(np.mean(pts @ n)), voxel)

    thetas = np.radians(np.arange(0.0, 180.0, tol.MIRROR_SEARCH_STEP_DEG))
    errors = [err(normal(t), coarse)[0] for t in thetas]
    best = float(thetas[int(np.argmin(errors))])
    step = np.radians(tol.MIRROR_SEARCH_STEP_DEG)
    while step > np.radians(tol.MIRROR_SEARCH_FINE_DEG):
        step /= 2.0
        cands = [best - step, best, best + step]
        best = cands[int(np.argmin([err(normal(t), coarse)[0] for t in cands]))]
    n = normal(best)
    e, offset = err(n)
    world = _nearest_world_axis(n)
    if abs(float(world @ depth)) < 1e-9 and abs(float(n @ world)) >= np.cos(np.radians(tol.SNAP_DEG)):
        e_world, offset_world = err(world)
        if e_world <= e * (1.0 + tol.SNAP_SLACK):
            return world, offset_world, e_world
    return n, offset, e


def _silhouette(
    points: npt.NDArray[np.float64], up: npt.NDArray[np.float64], lateral: npt.NDArray[np.float64], offset: float, res: int
) -> tuple[npt.NDArray[np.bool_], float]:
    """Front silhouette: (res + 1, 2 res + 1) bool image, row 0 at the lowest point along
    ``up``, the mirror plane at column ``res``; and the pixel size."""
    s = points @ up
    lat = points @ lateral - offset
    span = float(np.ptp(s))
    px = span / res
    rows = np.rint((s - s.min()) / px).astype(np.int64)
    cols = np.clip(np.rint(lat / px).astype(np.int64) + res, 0, 2 * res)
    img = np.zeros((res + 1, 2 * res + 1), dtype=bool)
    img[rows, cols] = True
    img = ndimage.binary_closing(img, iterations=1) | img
    return ndimage.binary_fill_holes(img), px


def _leg_gap(img: npt.NDArray[np.bool_], centre: int) -> int:
    """Rows from the first occupied row over which the silhouette is split at the mirror
    plane: empty around the centre column, filled on both sides (legs apart)."""
    first = int(np.argmax(img.any(axis=1)))
    k = 0
    for row in img[first:]:
        if row[centre] or not (row[:centre].any() and row[centre + 1 :].any()):
            break
        k += 1
    return k


def _up_sign(
    surface: npt.NDArray[np.float64],
    solid: npt.NDArray[np.float64],
    up: npt.NDArray[np.float64],
    lateral: npt.NDArray[np.float64],
    offset: float,
    voxel: float,
    core: npt.NDArray[np.float64] | None = None,
) -> tuple[float, float, str]:
    """+1 if ``up`` points from the feet to the head, else -1; a margin 0..1; a note.

    First cue: the gap between the legs in the front silhouette, measured from each end.
    When a long skirt or legs held together hide the gap, four cues are summed, none
    counting for more than a full vote: the spread of the two extreme slabs (two feet stand
    apart, the top of a head is one central blob), their depth (feet reach from heel to toe,
    the tips of wings are thin sheets), where the volume sits (a humanoid carries its mass
    above its middle: torso and head over thin legs), and, weakly, the world +Z.
    """
    res = tol.ORIENT_SILHOUETTE_RES
    vote = 0.0
    for pts, r in ((surface, res), (core, tol.ORIENT_VOXELS)):
        if pts is None or len(pts) == 0:
            continue
        img, _ = _silhouette(pts, up, lateral, offset, r)
        v = (_leg_gap(img, r) - _leg_gap(img[::-1], r)) / r
        if abs(v) > abs(vote):
            vote = v
    if abs(vote) >= tol.LEG_GAP_DECISIVE:
        return (1.0 if vote > 0 else -1.0), float(min(1.0, abs(vote) / tol.LEG_GAP_FULL)), ""
    # The ends are read without thin things (a sword held up, a cape's hem) where the
    # opened solid is available.
    ends = core if core is not None and len(core) else surface
    s = ends @ up
    lo, hi = s.min(), s.max()
    span = hi - lo
    lat = np.abs(ends @ lateral - offset)
    slab = tol.END_SLAB
    spread_low = float(np.median(lat[s <= lo + slab * span])) + voxel
    spread_high = float(np.median(lat[s >= hi - slab * span])) + voxel
    spread_vote = np.log(spread_low / spread_high)
    depth_vote = np.log(_end_depth(surface, up, lateral, offset, voxel, True)) - np.log(
        _end_depth(surface, up, lateral, offset, voxel, False)
    )
    mass_vote = (float(np.mean(solid @ up)) - (lo + hi) / 2.0) / span
    # Uploads land +Z up in Blender (glTF, FBX and OBJ importers convert to it): a weak
    # prior that only tips cues that disagree.
    prior_vote = float(up[2])
    # No cue counts for more than a full vote: wings spread wide at the top look like
    # feet set apart, but they are sheets, and feet reach from heel to toe.
    full = tol.SHAPE_VOTE_FULL
    score = (
        float(np.clip(spread_vote, -full, full))
        + float(np.clip(depth_vote, -full, full))
        + tol.MASS_VOTE_WEIGHT * mass_vote
        + tol.LEG_GAP_WEIGHT * vote
        + tol.UP_PRIOR_WEIGHT * prior_vote
    )
    note = "the legs are not apart (long skirt?): the head end was judged from the shape of the ends"
    return (1.0 if score >= 0 else -1.0), float(min(1.0, abs(score) / tol.SHAPE_VOTE_FULL) * 0.5), note


def _end_depth(
    surface: npt.NDArray[np.float64],
    up: npt.NDArray[np.float64],
    lateral: npt.NDArray[np.float64],
    offset: float,
    voxel: float,
    low: bool,
) -> float:
    """How deep (front to back, world units) the end slab of the surface is, plus a voxel:
    the median over voxel-wide columns across the body. Feet reach from heel to toe; the
    tip of a wing or a cape is a thin sheet."""
    s = surface @ up
    lo, hi = float(s.min()), float(s.max())
    cut = tol.END_SLAB * (hi - lo)
    pts = surface[s <= lo + cut] if low else surface[s >= hi - cut]
    if len(pts) == 0:
        return voxel
    cols = np.floor((pts @ lateral - offset) / voxel).astype(np.int64)
    order = np.argsort(cols, kind="stable")
    cols, d = cols[order], (pts @ np.cross(up, lateral))[order]
    starts = np.flatnonzero(np.r_[True, np.diff(cols) != 0])
    extents = np.maximum.reduceat(d, starts) - np.minimum.reduceat(d, starts)
    return float(np.median(extents)) + voxel


def _front_sign(
    surface: npt.NDArray[np.float64],
    up: npt.NDArray[np.float64],
    lateral: npt.NDArray[np.float64],
    offset: float,
    depth: npt.NDArray[np.float64],
) -> tuple[float, float]:
    """+1 if the character faces ``depth``, else -1; a margin 0..1.

    Feet point forward: on each side, the toes reach further ahead of the shins than
    the heels reach behind them.
    """
    s = surface @ up
    lo, span = s.min(), np.ptp(s)
    h = (s - lo) / span
    lat = surface @ lateral - offset
    d = surface @ depth
    votes = []
    for side in (1.0, -1.0):
        mine = lat * side > 0
        foot = mine & (h <= tol.FOOT_SLAB)
        shin = mine & (h >= tol.SHIN_SLAB[0]) & (h <= tol.SHIN_SLAB[1])
        if foot.sum() and shin.sum():
            ahead = d[foot].max() - d[shin].max()
            behind = d[shin].min() - d[foot].min()
            votes.append((ahead - behind) / span)
    if not votes:
        return 1.0, 0.0
    vote = float(np.mean(votes))
    return (1.0 if vote >= 0 else -1.0), float(min(1.0, abs(vote) / tol.FEET_VOTE_FULL))


def _arm_angles(canonical: npt.NDArray[np.float64], voxel: float) -> tuple[float, float]:
    """Angle of each arm below the horizontal (degrees), from the front silhouette.

    From the outermost column of a side inward, follow the run of filled pixels that
    overlaps the previous column's run (the arm, then the hand's wrist side) until the
    run grows past ARM_TRACK_GROWTH times the arm's thickness (the torso or the head);
    the line through the run centres gives the angle. canonical: (k, 3) surface samples
    in the canonical frame, spaced well under ``voxel``, the pixel size.
    """
    cols = np.floor((canonical[:, 0] - canonical[:, 0].min()) / voxel).astype(np.int64)
    rows = np.floor((canonical[:, 2] - canonical[:, 2].min()) / voxel).astype(np.int64)
    img = np.zeros((cols.max() + 1, rows.max() + 1), dtype=bool)  # [column, row]
    img[cols, rows] = True
    img = ndimage.binary_fill_holes(ndimage.binary_closing(img) | img)
    centre = int(np.floor(-canonical[:, 0].min() / voxel))
    out = []
    for side in (1, -1):
        columns = range(img.shape[0] - 1, centre, -1) if side > 0 else range(0, centre)
        prev: tuple[int, int] | None = None
        lengths: list[int] = []
        xs, zs = [], []
        for c in columns:
            filled = np.flatnonzero(img[c])
            if filled.size == 0:
                if prev is None:
                    continue
                break
            runs = np.split(filled, np.flatnonzero(np.diff(filled) > 1) + 1)
            if prev is None:
                run = max(runs, key=len)
            else:
                touching = [r for r in runs if r[0] <= prev[1] + 1 and r[-1] >= prev[0] - 1]
                if not touching:
                    break
                run = max(touching, key=len)
            lengths.append(len(run))
            if len(lengths) > tol.ARM_TRACK_MIN_COLUMNS and len(run) > tol.ARM_TRACK_GROWTH * np.median(lengths):
                break
            prev = (int(run[0]), int(run[-1]))
            xs.append(abs(c - centre))
            zs.append(0.5 * (run[0] + run[-1]))
        if len(xs) < tol.ARM_TRACK_MIN_COLUMNS:
            out.append(float("nan"))
            continue
        slope = np.polyfit(np.asarray(xs, dtype=np.float64), np.asarray(zs, dtype=np.float64), 1)[0]
        out.append(float(np.degrees(np.arctan(-slope))))
    return out[0], out[1]
