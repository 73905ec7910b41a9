"""Checks on rigged files, shared by the export, engine and CLI tests (no bpy here).

``inspect`` loads a file in a fresh Blender process (inspect_rig.py), so the state of the test
process never leaks into what is checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from autorig.rigging import humanoid, presets

INSPECT = Path(__file__).with_name("inspect_rig.py")
# Positions survive a GLB/FBX round trip to this fraction of the height (float32 in the files).
ROUND_TRIP = 1e-4


def inspect(path: Path, pose_bone: str | None = None) -> dict:
    """What Blender sees in ``path``: armatures, bones (parent, head, axes), meshes (skin
    checks), world bounding box in the rest pose, images, actions; with ``pose_bone``, which
    vertices follow that bone when it turns."""
    argv = [sys.executable, str(INSPECT), str(path)] + ([pose_bone] if pose_bone else [])
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("INSPECT:"))
    return json.loads(line[len("INSPECT:") :])


def expected_parents(preset: presets.Preset, fingers: str = "none") -> dict[str, str | None]:
    """Bone name -> parent bone name for the armature a preset describes, with ``fingers``
    ("full", "mitten" or "none", as rig.json's ``fingers`` says)."""
    out: dict[str, str | None] = {preset.root: None} if preset.root else {}
    for h in (*humanoid.BONE_NAMES, *preset.end_joints(), *humanoid.finger_bones(fingers), *preset.finger_end_joints(fingers)):
        parent = presets.parent_of(preset, h)
        out[preset.bone(h)] = preset.bone(parent) if parent else preset.root
    return out


def check_rigged_file(info: dict, preset: presets.Preset, bbox: np.ndarray, height: float, fingers: str = "none") -> None:
    """What every rigged file must hold: our bones and hierarchy (with ``fingers``), a full skin
    (every vertex weighted, weights summing to 1, at most 4 influences), and the input's place
    and size."""
    assert len(info["armatures"]) == 1
    assert {n: b["parent"] for n, b in info["bones"].items()} == expected_parents(preset, fingers)
    deform = {preset.bone(n) for n in (*humanoid.BONE_NAMES, *humanoid.finger_bones(fingers))}
    assert {n for n, b in info["bones"].items() if b["deform"]} >= deform
    assert info["meshes"]
    for name, m in info["meshes"].items():
        assert m["parent"] == info["armatures"][0] and m["armature"] == info["armatures"][0], name
        assert m["unweighted"] == 0, name
        assert m["max_influences"] <= 4, name
        assert abs(m["weight_sum_min"] - 1) < 1e-5 and abs(m["weight_sum_max"] - 1) < 1e-5, name
        assert set(m["groups"]) <= set(info["bones"]), name
    np.testing.assert_allclose(np.array(info["bbox"]), bbox, atol=ROUND_TRIP * height)


def bbox(vertices: np.ndarray) -> np.ndarray:
    """(2, 3): min and max corner of (n, 3) points."""
    return np.stack([vertices.min(0), vertices.max(0)])
