"""The scene loader: every input format, rigged inputs, and clear errors for bad files."""

from __future__ import annotations

import numpy as np
import pytest
from riginputs import (
    write_ascii_fbx,
    write_cube_obj,
    write_empty,
    write_empty_gltf,
    write_garbage,
    write_gltf_without_meshes,
    write_obj_zip,
    write_truncated,
    write_zip_slip,
    write_zip_without_model,
)

bpy = pytest.importorskip("bpy")

from autorig.blender import scene  # noqa: E402
from autorig.rigging.errors import RigError  # noqa: E402

CHARACTER = "quaternius__Female_Dress"  # has .glb, .obj and a rigged .fbx in the eval set


def _bbox(vertices: np.ndarray) -> np.ndarray:
    return np.stack([vertices.min(0), vertices.max(0)])


def _expect(code: str, path) -> str:
    with pytest.raises(RigError) as info:
        scene.load(path)
    assert info.value.code == code, info.value.reason
    reason = info.value.reason
    assert reason and "\n" not in reason and "Traceback" not in reason
    return reason


@pytest.mark.slow
def test_formats_load_to_the_same_character(eval_data, tmp_path):
    glb, glb_report = scene.load(eval_data / "unrigged" / f"{CHARACTER}.glb")
    obj, obj_report = scene.load(eval_data / "unrigged" / f"{CHARACTER}.obj")
    zipped, zip_report = scene.load(write_obj_zip(eval_data / "unrigged" / f"{CHARACTER}.obj", tmp_path / "model.zip"))
    assert (glb_report.source_format, obj_report.source_format, zip_report.source_format) == ("glb", "obj", "obj")
    assert zip_report.imported == f"{CHARACTER}.obj"
    height = float(np.ptp(glb.vertices[:, 2]))
    for other in (obj, zipped):
        assert other.n_triangles == glb.n_triangles
        np.testing.assert_allclose(_bbox(other.vertices), _bbox(glb.vertices), atol=1e-4 * height)
    # the zip's folder is gone, so its texture must have been packed into memory
    images = [im for im in bpy.data.images if im.source == "FILE"]
    assert images and all(im.packed_file is not None for im in images)
    assert sum(p.count for p in glb.parts) == glb.n_vertices


@pytest.mark.slow
def test_fbx_loads_in_blender_frame(eval_data):
    glb, _ = scene.load(eval_data / "unrigged" / "runxaway__Xbot.glb")
    fbx, report = scene.load(eval_data / "unrigged" / "runxaway__Xbot.fbx")
    assert report.source_format == "fbx"
    assert fbx.n_triangles == glb.n_triangles
    height = float(np.ptp(glb.vertices[:, 2]))
    np.testing.assert_allclose(_bbox(fbx.vertices), _bbox(glb.vertices), atol=1e-3 * height)


@pytest.mark.slow
def test_rigged_input_drops_the_armature_and_keeps_the_rest_shape(eval_data):
    plain, _ = scene.load(eval_data / "unrigged" / f"{CHARACTER}.glb")
    rigged, report = scene.load(eval_data / "rigged" / f"{CHARACTER}.fbx")
    assert report.dropped_armatures == ["HumanArmature"]
    assert report.object_types.get("ARMATURE") == 1
    for ob in scene.mesh_objects():
        assert ob.parent is None
        assert not ob.vertex_groups
        assert not [m for m in ob.modifiers if m.type == "ARMATURE"]
    assert not bpy.data.actions
    height = float(np.ptp(plain.vertices[:, 2]))
    np.testing.assert_allclose(_bbox(rigged.vertices), _bbox(plain.vertices), atol=1e-3 * height)


@pytest.mark.slow
def test_convert_mode_keeps_the_rig(eval_data):
    report = scene.import_file(eval_data / "rigged" / f"{CHARACTER}.fbx", keep_rig=True)
    assert report.dropped_armatures == []
    arms = scene.objects_of_type("ARMATURE")
    assert len(arms) == 1
    meshes = scene.objects_of_type("MESH")
    assert meshes and all(ob.vertex_groups and any(m.type == "ARMATURE" for m in ob.modifiers) for ob in meshes)
    assert bpy.data.actions


@pytest.mark.slow
def test_fully_transparent_materials_are_made_opaque(eval_data):
    # Quaternius' GLBs say alphaMode MASK with alpha 0 and no texture: invisible in three.js.
    _, report = scene.load(eval_data / "unrigged" / f"{CHARACTER}.glb")
    assert any("made opaque" in w for w in report.warnings)
    for mat in bpy.data.materials:
        bsdf = next(n for n in mat.node_tree.nodes if n.type == "BSDF_PRINCIPLED")
        assert bsdf.inputs["Alpha"].default_value == 1.0


def test_vrm_loads_as_gltf(eval_data):
    mesh, report = scene.load(eval_data / "rigged" / "vrmsamples__cryptovoxels.vrm")
    assert report.source_format == "glb"
    assert report.dropped_armatures
    assert mesh.n_triangles > 1000


def test_unsupported_extension(tmp_path):
    path = tmp_path / "model.stl"
    path.write_text("solid cube\nendsolid cube\n")
    assert ".stl" in _expect("unsupported_format", path)


def test_missing_file(tmp_path):
    _expect("corrupt_file", tmp_path / "nothing.glb")


@pytest.mark.parametrize("suffix", [".glb", ".fbx", ".obj", ".zip", ".gltf"])
def test_empty_file(tmp_path, suffix):
    assert "empty" in _expect("corrupt_file", write_empty(tmp_path / f"model{suffix}"))


@pytest.mark.parametrize("suffix", [".glb", ".fbx", ".obj", ".zip", ".gltf", ".vrm"])
def test_garbage_bytes(tmp_path, suffix):
    _expect("corrupt_file", write_garbage(tmp_path / f"model{suffix}"))


def test_truncated_glb(eval_data, tmp_path):
    reason = _expect("corrupt_file", write_truncated(eval_data / "unrigged" / f"{CHARACTER}.glb", tmp_path / "cut.glb"))
    assert "truncated" in reason


def test_gltf_json_named_glb(tmp_path):
    src = write_gltf_without_meshes(tmp_path / "scene.gltf")
    assert ".gltf" in _expect("corrupt_file", src.rename(tmp_path / "scene.glb"))


def test_gltf_without_meshes(tmp_path):
    assert "no mesh" in _expect("not_a_mesh", write_gltf_without_meshes(tmp_path / "scene.gltf"))


def test_gltf_with_nothing(tmp_path):
    _expect("empty_scene", write_empty_gltf(tmp_path / "nothing.gltf"))


def test_ascii_fbx(tmp_path):
    assert "ASCII" in _expect("unsupported_format", write_ascii_fbx(tmp_path / "model.fbx"))


def test_zip_without_a_model(tmp_path):
    _expect("not_a_mesh", write_zip_without_model(tmp_path / "textures.zip"))


def test_zip_escaping_its_folder(tmp_path):
    assert "escapes" in _expect("corrupt_file", write_zip_slip(tmp_path / "evil.zip"))
    assert not (tmp_path.parent / "escaped.obj").exists()


def test_a_cube_loads_as_a_mesh(tmp_path):
    # Loading does not judge the shape: the skeleton stage says "not a biped".
    mesh, report = scene.load(write_cube_obj(tmp_path / "cube.obj"))
    assert report.source_format == "obj"
    assert mesh.n_triangles == 12
