"""The evaluation set (../shared/eval) and a cache of it as plain arrays.

Layout of the data folder: ``characters.txt``, ``unrigged/<name>.glb`` (and sometimes
``.fbx``/``.obj``), ``rigged/<name>.<glb|fbx|vrm>``, ``gt/<name>.json``. Everything here is
in Blender world space (+Z up), the frame the engine works in; ground-truth joints come
from ``canonical.<Joint>.pos_blender``.

Loading a character through Blender takes a fraction of a second to a few seconds; the
cache (``.npz`` per character) lets geometry code iterate with numpy alone.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from autorig.rigging.mesh import CharacterMesh, MeshPart

DEFAULT_CACHE = Path(os.environ.get("AUTORIG_EVAL_CACHE", Path.home() / ".cache" / "autorig" / "eval"))
CACHE_VERSION = 1


def character_names(data: Path) -> list[str]:
    text = (Path(data) / "characters.txt").read_text()
    return [line.split()[0] for line in text.splitlines() if line.strip() and not line.startswith("#")]


def unrigged_path(data: Path, name: str, fmt: str = "glb") -> Path:
    return Path(data) / "unrigged" / f"{name}.{fmt}"


def rigged_path(data: Path, name: str) -> Path:
    for ext in ("glb", "fbx", "vrm", "gltf"):
        p = Path(data) / "rigged" / f"{name}.{ext}"
        if p.exists():
            return p
    raise FileNotFoundError(f"no rigged file for {name} in {data}/rigged")


def read_gt(data: Path, name: str) -> dict[str, Any]:
    gt: dict[str, Any] = json.loads((Path(data) / "gt" / f"{name}.json").read_text())
    return gt


def gt_joints(gt: dict[str, Any]) -> dict[str, npt.NDArray[np.float64]]:
    """Ground-truth joints (Blender frame) by canonical name; missing joints left out."""
    out = {}
    for joint, rec in gt["canonical"].items():
        if rec is not None and rec.get("pos_blender") is not None:
            out[joint] = np.array(rec["pos_blender"], dtype=np.float64)
    hc = gt.get("derived", {}).get("HipsCenter")
    if hc is not None:  # given in the glTF frame (+Y up): Blender's is (x, -z, y)
        x, y, z = hc["pos"] if isinstance(hc, dict) else hc
        out["HipsCenter"] = np.array([x, -z, y], dtype=np.float64)
    return out


@dataclass
class CachedCharacter:
    name: str
    height: float
    unrigged: CharacterMesh  # what a user uploads (unrigged/<name>.glb)
    joints: dict[str, npt.NDArray[np.float64]]  # ground truth, canonical names (Hips, Chest, LeftArm, ...)
    rigged: CharacterMesh  # the artist's skinned meshes
    bone_names: list[str]
    bone_parents: npt.NDArray[np.int64]  # (b,) int64, -1 for roots
    bone_heads: npt.NDArray[np.float64]  # (b, 3)
    bone_tails: npt.NDArray[np.float64]  # (b, 3)
    bone_matrices: npt.NDArray[np.float64]  # (b, 4, 4) world rest matrices
    bone_deform: npt.NDArray[np.bool_]  # (b,) bool
    weights: sparse.csr_matrix  # (n_rigged_vertices, b)
    gt: dict[str, Any]


def _pack_mesh(prefix: str, mesh: CharacterMesh) -> dict[str, npt.NDArray[Any]]:
    return {
        f"{prefix}_vertices": mesh.vertices,
        f"{prefix}_triangles": mesh.triangles,
        f"{prefix}_part_names": np.array([p.name for p in mesh.parts]),
        f"{prefix}_part_ranges": np.array([[p.start, p.count] for p in mesh.parts], dtype=np.int64),
    }


def _unpack_mesh(prefix: str, z: np.lib.npyio.NpzFile) -> CharacterMesh:
    parts = [
        MeshPart(str(n), int(s), int(c)) for n, (s, c) in zip(z[f"{prefix}_part_names"], z[f"{prefix}_part_ranges"], strict=False)
    ]
    return CharacterMesh(z[f"{prefix}_vertices"], z[f"{prefix}_triangles"], parts)


def build_cache(data: Path, name: str, cache: Path = DEFAULT_CACHE) -> Path:
    """Load one character through Blender and store it as ``<cache>/<name>.npz``."""
    from autorig.blender import rigged as rigged_io
    from autorig.blender import scene as scene_io

    cache.mkdir(parents=True, exist_ok=True)
    unrigged, _ = scene_io.load(unrigged_path(data, name))
    r = rigged_io.load_rigged(rigged_path(data, name))
    w = r.weights.tocsr()
    out = cache / f"{name}.npz"
    np.savez_compressed(
        out,
        version=CACHE_VERSION,
        **_pack_mesh("unrigged", unrigged),
        **_pack_mesh("rigged", r.mesh),
        bone_names=np.array(r.bone_names),
        bone_parents=r.bone_parents,
        bone_heads=r.bone_heads,
        bone_tails=r.bone_tails,
        bone_matrices=r.bone_matrices,
        bone_deform=r.bone_deform,
        w_data=w.data,
        w_indices=w.indices,
        w_indptr=w.indptr,
        w_shape=np.array(w.shape),
    )
    return out


def load_cached(data: Path, name: str, cache: Path = DEFAULT_CACHE) -> CachedCharacter:
    path = cache / f"{name}.npz"
    if not path.exists() or int(np.load(path)["version"]) != CACHE_VERSION:
        build_cache(data, name, cache)
    z = np.load(path)
    gt = read_gt(data, name)
    w = sparse.csr_matrix((z["w_data"], z["w_indices"], z["w_indptr"]), shape=tuple(z["w_shape"]))
    return CachedCharacter(
        name=name,
        height=float(gt["mesh"]["height"]),
        unrigged=_unpack_mesh("unrigged", z),
        joints=gt_joints(gt),
        rigged=_unpack_mesh("rigged", z),
        bone_names=[str(n) for n in z["bone_names"]],
        bone_parents=z["bone_parents"],
        bone_heads=z["bone_heads"],
        bone_tails=z["bone_tails"],
        bone_matrices=z["bone_matrices"],
        bone_deform=z["bone_deform"],
        weights=w,
        gt=gt,
    )


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Build the numpy cache of the evaluation set")
    ap.add_argument("--data", type=Path, default=Path("../shared/eval"))
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = ap.parse_args()
    for n in character_names(args.data):
        print(n, build_cache(args.data, n, args.cache))
