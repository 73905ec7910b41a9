"""Every output for a model of any size: ``autorig rig --only all`` on a character of more
than 100,000 vertices (a synthetic humanoid, subdivided) writes every file of
``protocol.output_files``, reports no failed output, and its animated GLB holds every clip of
the library, each of which moves the skeleton.

Models over 30,000 vertices used to get no animation at all (a slice of Blender's vertex
collection raised inside the clips) while the command exited 0.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from autorig import protocol  # noqa: E402
from autorig.rigging import clips, synthetic  # noqa: E402

MIN_VERTICES = 100_000
# A clip "moves" when some bone turns by more than this over the clip (degrees).
MOVES_DEG = 5.0
COMPONENT_SIZE = {5126: 4}  # float32: what Blender writes for animation samplers
# Clips that hold one reference pose: on an A-pose character "a_pose" is its rest pose.
HOLDS = {"a_pose", "t_pose"}
TYPE_COUNT = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}


def write_large_model(path: Path) -> int:
    """A synthetic A-pose humanoid subdivided past MIN_VERTICES, written as GLB. Returns
    the vertex count."""
    import bmesh

    from autorig.blender import export, scene

    fig = synthetic.humanoid_figure("A", height=1.7)
    scene.reset()
    me = bpy.data.meshes.new("Body")
    me.from_pydata(fig.mesh.vertices.tolist(), [], fig.mesh.triangles.tolist())
    bm = bmesh.new()
    bm.from_mesh(me)
    cuts = int(np.ceil(np.sqrt(MIN_VERTICES / max(1, len(bm.verts)) * 1.2)))
    bmesh.ops.subdivide_edges(bm, edges=bm.edges[:], cuts=max(1, cuts), use_grid_fill=True)
    bm.to_mesh(me)
    bm.free()
    ob = bpy.data.objects.new("Body", me)
    bpy.context.scene.collection.objects.link(ob)
    export.export_glb(path, [ob])
    return len(me.vertices)


def read_glb(path: Path) -> tuple[dict, bytes]:
    data = path.read_bytes()
    (json_len,) = struct.unpack_from("<I", data, 12)
    doc = json.loads(data[20:20 + json_len])
    (bin_len,) = struct.unpack_from("<I", data, 20 + json_len)
    return doc, data[28 + json_len:28 + json_len + bin_len]


def accessor(doc: dict, blob: bytes, index: int) -> np.ndarray:
    acc = doc["accessors"][index]
    view = doc["bufferViews"][acc["bufferView"]]
    n = TYPE_COUNT[acc["type"]]
    assert acc["componentType"] in COMPONENT_SIZE
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    stride = view.get("byteStride", n * 4)
    rows = [np.frombuffer(blob, dtype="<f4", count=n, offset=start + i * stride) for i in range(acc["count"])]
    return np.array(rows, dtype=np.float64)


def turn_deg(q: np.ndarray, rest: np.ndarray) -> float:
    """The largest angle between any key's rotation and the first key's or the rest
    rotation (glTF quaternions (k, 4), x y z w)."""
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    rest = np.asarray(rest, dtype=np.float64) / np.linalg.norm(rest)
    dots = np.clip(np.minimum(np.abs(q @ q[0]), np.abs(q @ rest)), 0.0, 1.0)
    return float(np.degrees(2 * np.arccos(dots)).max())


@pytest.fixture(scope="module")
def large_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("large")
    model = folder / "large.glb"
    vertices = write_large_model(model)
    out = folder / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(Path(protocol.__file__).parents[1]),
                                                                      os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.run([sys.executable, "-m", "autorig", "rig", str(model), "-o", str(out), "--only", "all"],
                          capture_output=True, text=True, env=env, timeout=1800)
    return vertices, out, proc


@pytest.mark.slow
def test_every_output_of_a_large_model(large_run):
    vertices, out, proc = large_run
    assert vertices > MIN_VERTICES
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr, proc.stderr  # a failed output would be named on stderr
    report = json.loads((out / "rig.json").read_text())
    assert report["vertices"] > MIN_VERTICES
    assert not report.get("failed_outputs") and not report.get("animation_error"), report.get("warnings")
    for f in protocol.output_files("large"):
        assert (out / f).is_file() and (out / f).stat().st_size > 0, f
    assert set(report["animation"]["clips"]) == set(clips.CLIP_NAMES)
    assert set(report["viewer"]["clips"]) == set(clips.CLIP_NAMES)  # the web viewer plays them too


@pytest.mark.slow
def test_animated_glb_of_a_large_model_has_every_clip_moving(large_run):
    _, out, _ = large_run
    report = json.loads((out / "rig.json").read_text())
    expected = set(report["animation"]["clips"])
    assert {"idle", "walk", "run", "wave"} <= expected
    doc, blob = read_glb(out / "large_animated.glb")
    animations = {a["name"]: a for a in doc.get("animations", [])}
    assert set(animations) == expected
    for name, anim in animations.items():
        turns = [turn_deg(accessor(doc, blob, anim["samplers"][ch["sampler"]]["output"]),
                          doc["nodes"][ch["target"]["node"]].get("rotation", [0.0, 0.0, 0.0, 1.0]))
                 for ch in anim["channels"] if ch["target"]["path"] == "rotation"]
        if name in HOLDS:
            continue  # held reference poses: the character's own rest pose may be one of them
        assert max(turns, default=0.0) > MOVES_DEG, f"clip {name} does not move (largest turn {max(turns, default=0.0):.2f} deg)"
