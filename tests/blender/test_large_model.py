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
from autorig.rigging import clips  # noqa: E402

import synthetic  # noqa: E402

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
    doc = json.loads(data[20 : 20 + json_len])
    (bin_len,) = struct.unpack_from("<I", data, 20 + json_len)
    return doc, data[28 + json_len : 28 + json_len + bin_len]


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
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(Path(protocol.__file__).parents[1]), os.environ.get("PYTHONPATH")) if p),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "autorig", "rig", str(model), "-o", str(out), "--only", "all"],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
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
    # The default --fingers auto: the clips that need fingers come with finger bones only.
    has_fingers = any(hand.get("level") != "none" for hand in report["fingers"].values())
    expected = {c.name for c in clips.LIBRARY if has_fingers or not c.needs_fingers}
    assert set(report["animation"]["clips"]) == expected
    assert set(report["viewer"]["clips"]) == expected  # the web viewer plays them too


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
        turns = [
            turn_deg(
                accessor(doc, blob, anim["samplers"][ch["sampler"]]["output"]),
                doc["nodes"][ch["target"]["node"]].get("rotation", [0.0, 0.0, 0.0, 1.0]),
            )
            for ch in anim["channels"]
            if ch["target"]["path"] == "rotation"
        ]
        if name in HOLDS:
            continue  # held reference poses: the character's own rest pose may be one of them
        assert max(turns, default=0.0) > MOVES_DEG, f"clip {name} does not move (largest turn {max(turns, default=0.0):.2f} deg)"


# --- flat-shaded models: split vertices are welded, every output still written -------------


def flat_shaded_model(path: Path) -> tuple[int, int]:
    """The synthetic A-pose humanoid flat-shaded, as a flat-shaded file stores it: every face
    with its own three vertices (``split_edges``), faces flat, a UV map, written as GLB.
    Returns (triangles, vertices)."""
    import bmesh

    from autorig.blender import export, scene

    fig = synthetic.humanoid_figure("A", height=1.7)
    scene.reset()
    me = bpy.data.meshes.new("Body")
    me.from_pydata(fig.mesh.vertices.tolist(), [], fig.mesh.triangles.tolist())
    bm = bmesh.new()
    bm.from_mesh(me)
    bmesh.ops.split_edges(bm, edges=bm.edges[:])
    bm.to_mesh(me)
    bm.free()
    me.shade_flat()
    uv = me.uv_layers.new(name="UVMap")
    co = np.empty(len(me.vertices) * 3)
    me.vertices.foreach_get("co", co)
    corner = np.empty(len(me.loops), dtype=np.int64)
    me.loops.foreach_get("vertex_index", corner)
    uv.data.foreach_set("uv", (co.reshape(-1, 3)[corner][:, :2] * 0.5).ravel())
    ob = bpy.data.objects.new("Body", me)
    bpy.context.scene.collection.objects.link(ob)
    export.export_glb(path, [ob])
    return len(me.polygons), len(me.vertices)


def _corners(ob) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    me = ob.data
    c = len(me.loops)
    vert = np.empty(c, dtype=np.int64)
    me.loops.foreach_get("vertex_index", vert)
    co = np.empty(len(me.vertices) * 3)
    me.vertices.foreach_get("co", co)
    normals = np.empty(c * 3)
    me.corner_normals.foreach_get("vector", normals)
    uv = np.empty(c * 2)
    me.uv_layers.active.data.foreach_get("uv", uv)
    return co.reshape(-1, 3)[vert], normals.reshape(-1, 3), uv.reshape(-1, 2)


@pytest.mark.parametrize("colours", [False, True])
def test_weld_merges_split_vertices_and_keeps_every_corner(tmp_path, colours):
    from autorig.blender import scene, weld

    triangles, vertices = flat_shaded_model(tmp_path / "flat.glb")
    scene.import_file(tmp_path / "flat.glb")
    ob = scene.mesh_objects()[0]
    assert len(ob.data.vertices) == vertices == 3 * triangles  # imported as the file has it
    if colours:  # a per-vertex colour that differs between the copies of a position
        col = ob.data.color_attributes.new("Col", "FLOAT_COLOR", "POINT")
        rgba = np.ones((vertices, 4))
        rgba[:, 0] = np.arange(vertices) / vertices
        col.data.foreach_set("color", rgba.ravel())
    materials = list(ob.data.materials)
    before = _corners(ob)
    positions = len(np.unique(before[0], axis=0))
    merged = weld.weld_object(ob)
    after = _corners(ob)
    me = ob.data
    if colours:  # copies that differ in a per-vertex colour stay apart
        assert merged == 0 and len(me.vertices) == vertices
    else:
        assert merged == vertices - positions and len(me.vertices) == positions
    assert len(me.polygons) == triangles
    assert np.allclose(after[0], before[0], atol=0.0)  # every corner where it was
    assert np.allclose(after[2], before[2], atol=0.0)  # with its UV
    assert np.degrees(np.arccos(np.clip(np.sum(after[1] * before[1], axis=1), -1, 1))).max() < 1.0  # and normal
    assert list(me.materials) == materials


def test_weld_leaves_small_models_as_imported(tmp_path):
    from autorig.blender import scene, weld

    _, vertices = flat_shaded_model(tmp_path / "flat.glb")
    scene.import_file(tmp_path / "flat.glb")
    assert vertices < weld.WELD_ABOVE_VERTICES
    assert weld.weld_large(scene.mesh_objects()) == 0
    assert len(scene.mesh_objects()[0].data.vertices) == vertices


def test_weld_never_collapses_a_face(tmp_path):
    from autorig.blender import weld

    # Three faces: the second a copy of the first, the third with two corners at one position
    # (a degenerate triangle).
    keys = np.array([[0], [1], [2], [0], [1], [2], [0], [1], [1]], dtype=np.uint8)
    corner_vert = np.arange(9)
    first, inverse = weld.merge_map(keys, corner_vert, np.array([0, 3, 6]))
    assert (inverse[3:6] == inverse[0:3]).all()  # the copy merges
    assert len(set(inverse[6:].tolist()) | set(inverse[:3].tolist())) == 6  # the degenerate face keeps its own
    assert (inverse[first] == np.arange(len(first))).all() and (np.diff(first) > 0).all()


def test_the_vertices_left_after_the_weld_have_their_own_limit(tmp_path, monkeypatch):
    from autorig.blender import scene, weld
    from autorig.rigging.errors import RigError

    _, vertices = flat_shaded_model(tmp_path / "flat.glb")
    monkeypatch.setattr(weld, "WELD_ABOVE_VERTICES", 0)
    monkeypatch.setenv("AUTORIG_MAX_VERTICES", str(vertices))  # the file's count passes
    mesh, report = scene.load(tmp_path / "flat.glb")
    assert mesh.n_vertices == vertices - report.welded_vertices < vertices
    monkeypatch.setenv("AUTORIG_MAX_DISTINCT_VERTICES", str(mesh.n_vertices - 1))
    with pytest.raises(RigError) as refused:
        scene.load(tmp_path / "flat.glb")
    assert refused.value.code == "too_large"
    assert (
        f"{mesh.n_vertices:,} vertices at distinct places ({report.welded_vertices:,} split copies merged)"
        in refused.value.reason
    )


@pytest.mark.slow
def test_every_output_of_a_welded_flat_shaded_model(tmp_path, monkeypatch):
    """The path a flat-shaded model of more than WELD_ABOVE_VERTICES takes, on a small one:
    welded after the import, rigged and every output written, the preview shown by LOD2 (as
    for a model beyond preview.MAX_TRIANGLES); the rigged GLB is flat-shaded again (the
    exporter splits each corner by its normal)."""
    from autorig import engine
    from autorig.blender import preview, weld

    triangles, vertices = flat_shaded_model(tmp_path / "flat.glb")
    monkeypatch.setattr(weld, "WELD_ABOVE_VERTICES", 0)
    monkeypatch.setattr(preview, "MAX_TRIANGLES", 0)
    report = engine.rig_file(tmp_path / "flat.glb", tmp_path / "out", only="all")
    assert report["input"]["welded_vertices"] > vertices // 2
    assert report["vertices"] == vertices - report["input"]["welded_vertices"]
    assert not report.get("failed_outputs") and not report.get("animation_error"), report["warnings"]
    for f in protocol.output_files("flat"):
        assert (tmp_path / "out" / f).stat().st_size > 0, f
    shown = {o["file"]: o["triangles"] for o in report["outputs"]}
    assert report["preview"]["meshes"] == "lod2" and shown["preview.mp4"] == report["lods"]["lod2"]["triangles"] < triangles
    doc, blob = read_glb(tmp_path / "out" / "flat.glb")
    prim = doc["meshes"][0]["primitives"][0]
    count = doc["accessors"][prim["attributes"]["POSITION"]]["count"]
    assert report["vertices"] < count <= vertices  # split again by corner normal (coplanar faces share)
    corners = _ints(doc, blob, prim["indices"]).reshape(-1, 3)
    assert len(corners) == triangles
    normals = accessor(doc, blob, prim["attributes"]["NORMAL"])[corners]  # (triangles, 3, 3)
    assert np.abs(normals - normals[:, :1]).max() < 1e-3  # still flat-shaded: one normal a face


def _ints(doc: dict, blob: bytes, index: int) -> np.ndarray:
    acc = doc["accessors"][index]
    view = doc["bufferViews"][acc["bufferView"]]
    dtype = {5121: "<u1", 5123: "<u2", 5125: "<u4"}[acc["componentType"]]
    return np.frombuffer(blob, dtype=dtype, count=acc["count"], offset=view.get("byteOffset", 0) + acc.get("byteOffset", 0))
