"""Finger scores of `autorig eval`: joint error of the fingers and deformation with them curled.

Artists name finger bones in many ways: Mixamo ``mixamorig:LeftHandIndex1``, Ready Player Me
``LeftHandIndex1``, VRM ``IndexFinger1_L`` / ``J_Bip_L_Index1``, Quaternius ``MiddleFinger1.L``,
Unreal ``index_01_l``, Unity ``Left Index Proximal``. ``parse_finger`` reads side, finger and
place in the chain from any of them; each artist finger's first three bones (end bones and
tips left out) are its joints 1-3, scored against ours (``LeftHandIndex1..3``).

Deformation: the artist's skeleton posed as ``metrics.deformation_error`` poses it (every bone
turned up to 30 degrees about a random axis), and on top every finger bone curled towards the
palm by a random angle up to ``MAX_CURL_DEG`` about its own curl axis (from the artist's hand:
the finger's direction crossed with the palm's normal). Percentages are of the height.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.spatial.transform import Rotation

from autorig.rigging import humanoid
from autorig.rigging.bones import BoneSet
from autorig.rigging.posing import deform, random_poses, skinning_matrices

MAX_CURL_DEG = 60.0
# Words for the place of a bone in its finger, where a rig uses words instead of numbers.
_PLACES = {"metacarpal": 0, "proximal": 1, "intermediate": 2, "distal": 3}
_FINGER_WORDS = {"thumb": "Thumb", "index": "Index", "middle": "Middle", "ring": "Ring", "pinky": "Pinky", "little": "Pinky"}
_END_WORDS = {"end", "tip", "nub", "top"}


def _tokens(name: str) -> list[str]:
    name = name.split(":")[-1]
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    name = re.sub(r"([A-Za-z])(\d)", r"\1_\2", name)
    name = re.sub(r"(\d)([A-Za-z])", r"\1_\2", name)
    return [t for t in re.split(r"[^a-z0-9]+", name.lower()) if t]


def parse_finger(name: str) -> tuple[str, str, int, bool] | None:
    """(side, finger, place, is_end) for a finger bone name of any common convention, or None.
    side: "Left"/"Right" (the rig's own labels); finger: humanoid.FINGERS; place: the number
    or word in the name (ordering within the finger only)."""
    tokens = _tokens(name)
    finger = next((_FINGER_WORDS[t] for t in tokens if t in _FINGER_WORDS), None)
    if finger is None:
        return None
    if "left" in tokens or "l" in tokens:
        side = "Left"
    elif "right" in tokens or "r" in tokens:
        side = "Right"
    else:
        return None
    numbers = [int(t) for t in tokens if t.isdigit()]
    words = [_PLACES[t] for t in tokens if t in _PLACES]
    place = numbers[0] if numbers else words[0] if words else 0
    return side, finger, place, any(t in _END_WORDS for t in tokens)


def artist_finger_joints(
    names: list[str], heads: npt.NDArray[np.float64], wrists: dict[str, npt.NDArray[np.float64]] | None = None
) -> dict[str, npt.NDArray[np.float64]]:
    """Humanoid finger joint name (``LeftHandIndex1..3``) -> (3,) head of the artist's bone:
    each finger's first three bones by place in the chain, end bones left out. wrists: the
    character's own "Left"/"Right" wrist positions; when given, a bone's side is the nearer
    wrist's (an artist's ``Thumb.L`` can sit on the right hand), not its name's."""
    chains: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for i, n in enumerate(names):
        p = parse_finger(n)
        if p is not None and not p[3]:
            side = p[0]
            if wrists and all(k in wrists for k in ("Left", "Right")):
                side = min(("Left", "Right"), key=lambda k: float(np.linalg.norm(heads[i] - wrists[k])))
            chains.setdefault((side, p[1]), []).append((p[2], i))
    out = {}
    for (side, finger), bones in chains.items():
        for k, (_, i) in enumerate(sorted(bones)[: humanoid.PHALANGES], 1):
            out[f"{side}Hand{finger}{k}"] = np.asarray(heads[i], dtype=np.float64)
    return out


def joint_errors(
    pred: dict[str, npt.NDArray[np.float64]], artist: dict[str, npt.NDArray[np.float64]], height: float
) -> dict[str, float]:
    """% of height, for every finger joint 1-3 both skeletons have."""
    return {n: float(np.linalg.norm(np.asarray(pred[n]) - artist[n]) / height * 100.0) for n in artist if n in pred}


def complete(artist: dict[str, npt.NDArray[np.float64]]) -> bool:
    """The artist's hands have all five fingers with three joints each (a full hand)."""
    return all(f"{s}Hand{f}{k}" in artist for s in ("Left", "Right") for f in humanoid.FINGERS for k in range(1, 4))


def score(
    pred: dict[str, npt.NDArray[np.float64]],
    names: list[str],
    heads: npt.NDArray[np.float64],
    height: float,
    wrists: dict[str, npt.NDArray[np.float64]] | None = None,
) -> dict[str, Any] | None:
    """The ``fingers`` block of an eval row, or None when the artist's rig has no fingers.
    wrists: the ground truth's ``LeftHand``/``RightHand`` as {"Left", "Right"} (see
    ``artist_finger_joints``)."""
    artist = artist_finger_joints(names, heads, wrists)
    if not artist:
        return None
    errs = joint_errors(pred, artist, height)
    out: dict[str, Any] = {
        "artist_joints": len(artist),
        "full_hand": complete(artist),
        "ours": sum(1 for n in pred if humanoid.finger_of(n)),
    }
    if errs:
        worst = max(errs, key=errs.__getitem__)
        out.update(
            errors={k: round(v, 3) for k, v in errs.items()},
            mean=float(np.mean(list(errs.values()))),
            worst_joint=worst,
            worst=errs[worst],
            scored=len(errs),
        )
    return out


def curl_axes(bones: BoneSet) -> dict[int, npt.NDArray[np.float64]]:
    """Bone index -> (3,) world curl axis (towards the palm) of each deforming finger bone."""
    parsed = {i: parse_finger(n) for i, n in enumerate(bones.names)}
    assert bones.deform is not None  # BoneSet.__post_init__ always sets it
    fingers = {i: p for i, p in parsed.items() if p is not None and not p[3] and bones.deform[i]}
    out = {}
    for side in ("Left", "Right"):
        mine = {i: p for i, p in fingers.items() if p[0] == side}
        if not mine:
            continue
        first: dict[str, int] = {}
        for i, p in sorted(mine.items(), key=lambda kv: kv[1][2]):
            first.setdefault(p[1], i)
        knuckles = [bones.heads[first[f]] for f in ("Index", "Middle", "Ring", "Pinky") if f in first]
        some = next(iter(mine))
        wrist = bones.heads[bones.parents[first.get("Middle", first.get("Index", some))]]
        centre = np.mean(knuckles, axis=0) if knuckles else bones.tails[some]
        axis = centre - wrist
        if "Index" in first and "Pinky" in first:
            width = bones.heads[first["Index"]] - bones.heads[first["Pinky"]]
        elif "Thumb" in first:
            width = bones.heads[first["Thumb"]] - wrist
        else:
            continue
        normal = np.cross(axis, width)
        if np.linalg.norm(normal) == 0:
            continue
        # The side a rig calls left is on the character's left: mirror the normal on the right.
        normal = normal / np.linalg.norm(normal) * (1.0 if side == "Left" else -1.0)
        for i in mine:
            d = bones.tails[i] - bones.heads[i]
            a = np.cross(d, normal)
            if np.linalg.norm(a) > 0:
                out[i] = a / np.linalg.norm(a)
    return out


def curled_poses(bones: BoneSet, count: int, seed: int = 0) -> npt.NDArray[np.float64]:
    """(count, b, 3, 3): ``posing.random_poses`` with every finger bone curled instead, by a
    random angle up to MAX_CURL_DEG about its curl axis."""
    rots = random_poses(bones, count, seed=seed)
    axes = curl_axes(bones)
    rng = np.random.default_rng(seed + 1)
    for i, axis in axes.items():
        angles = np.radians(rng.uniform(0.0, MAX_CURL_DEG, size=count))
        rots[:, i] = Rotation.from_rotvec(angles[:, None] * axis[None]).as_matrix()
    return rots


def deformation(
    vertices: npt.NDArray[np.float64],
    bones: BoneSet,
    reference_weights: npt.NDArray[np.float64] | sparse.csr_matrix,
    weights: npt.NDArray[np.float64] | sparse.csr_matrix,
    height: float,
    poses: int = 20,
    seed: int = 0,
) -> dict[str, Any] | None:
    """Like ``metrics.deformation_error`` with the fingers curled; None when the rig has no
    finger bones. Also the mean over the vertices the artist gives mostly to finger bones."""
    axes = curl_axes(bones)
    if not axes:
        return None
    rots = curled_poses(bones, poses, seed)
    ref = reference_weights.tocsr() if hasattr(reference_weights, "tocsr") else reference_weights
    finger_cols = np.zeros(len(bones), dtype=bool)
    finger_cols[list(axes)] = True
    on_fingers = np.asarray(ref[:, finger_cols].sum(axis=1)).ravel() > 0.5
    dists = []
    for r in rots:
        m = skinning_matrices(bones, r)
        dists.append(np.linalg.norm(deform(vertices, ref, m) - deform(vertices, weights, m), axis=1))
    d = np.stack(dists) / height * 100.0
    return {
        "mean": float(d.mean()),
        "p99": float(np.percentile(d, 99)),
        "max": float(d.max()),
        "finger_vertices": int(on_fingers.sum()),
        "fingers_mean": float(d[:, on_fingers].mean()) if on_fingers.any() else None,
        "curled_bones": len(axes),
    }


# --- the eval report's finger lines (called from report.py) -------------------------------------

# Targets (issue 14), % of height: the finger joint error on characters whose artist rigged a
# full hand, and the deformation with the fingers curled (today's deformation mean, 0.46 %).
JOINT_MEAN_TARGET = 1.0
DEFORM_MEAN_TARGET = 0.46


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``fingers`` block of the summary: set means with targets and pass flags."""
    full = [r for r in rows if (r.get("fingers") or {}).get("full_hand") and r["fingers"].get("mean") is not None]
    jm = sum(r["fingers"]["mean"] for r in full) / len(full) if full else None
    worst = max(full, key=lambda r: r["fingers"]["mean"]) if full else None
    curled = [r for r in rows if r.get("skinning_fingers")]
    dm = sum(r["skinning_fingers"]["mean"] for r in curled) / len(curled) if curled else None
    return {
        "joint_mean": {
            "value": jm,
            "scored": len(full),
            "target": JOINT_MEAN_TARGET,
            "pass": jm is not None and jm <= JOINT_MEAN_TARGET,
            "worst": worst["fingers"]["mean"] if worst else None,
            "worst_name": worst["name"] if worst else None,
        },
        "deformation_mean": {
            "value": dm,
            "scored": len(curled),
            "target": DEFORM_MEAN_TARGET,
            "pass": dm is not None and dm <= DEFORM_MEAN_TARGET,
        },
    }


def format_character(row: dict[str, Any]) -> list[str]:
    """Lines for a character's block."""
    lines = []
    f = row.get("fingers")
    if f and f.get("mean") is not None:
        lines.append(
            f"  fingers: joint error mean {f['mean']:.2f} %, worst {f['worst_joint']} {f['worst']:.2f} % "
            f"({f['scored']} of the artist's {f['artist_joints']} joints{', full hand' if f['full_hand'] else ''})"
        )
    elif f:
        lines.append(f"  fingers: the artist's rig has {f['artist_joints']} finger joints, ours none")
    d = row.get("skinning_fingers")
    if d:
        on = f", on finger vertices {d['fingers_mean']:.3f} %" if d.get("fingers_mean") is not None else ""
        lines.append(f"  deformation, fingers curled: mean {d['mean']:.3f} %, p99 {d['p99']:.2f} %{on}")
    return lines


def format_summary(s: dict[str, Any] | None) -> list[str]:
    if not s:
        return []
    j, d = s["joint_mean"], s["deformation_mean"]
    out = []
    if j["scored"]:
        target = f"<= {j['target']:g} %"
        out.append(
            f"{'finger joint error, full hands':<32}{j['value']:>7.2f} %  {target:<14}"
            f"{'PASS' if j['pass'] else 'FAIL':<6}{j['scored']} characters; worst {j['worst_name']} {j['worst']:.2f} %"
        )
    if d["scored"]:
        target = f"<= {d['target']:g} %"
        out.append(
            f"{'deformation, fingers curled':<32}{d['value']:>7.3f} %  {target:<14}"
            f"{'PASS' if d['pass'] else 'FAIL':<6}{d['scored']} characters"
        )
    return out
