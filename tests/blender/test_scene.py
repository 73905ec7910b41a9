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
    write_gltf_with_images,
    write_gltf_without_meshes,
    write_obj_with_maps,
    write_obj_zip,
    write_png,
    write_truncated,
    write_zip_slip,
    write_zip_with_symlink,
    write_zip_without_model,
)

bpy = pytest.importorskip("bpy")

from autorig.blender import scene  # noqa: E402 (after the importorskip of bpy)
from autorig.rigging.errors import RigError  # noqa: E402 (after the importorskip of bpy)

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


# --- a file reads only itself ----------------------------------------------------------------

MARKER = b"AUTORIG-OUTSIDE-SECRET-7f3a"


def _secret(tmp_path):
    """An outside PNG holding a marker, and a model folder beside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    return write_png(outside / "secret.png", text=MARKER), tmp_path / "job" / "input"


def _no_outside_image(secret):
    for image in bpy.data.images:
        assert image.packed_file is None or MARKER not in bytes(image.packed_file.data), image.name
        assert secret.name not in image.filepath


def test_gltf_images_outside_the_folder_are_dropped(eval_data, tmp_path):
    secret, folder = _secret(tmp_path)
    folder.mkdir(parents=True)
    (folder / "link.png").symlink_to(secret)
    uris = [str(secret), secret.as_uri(), "../../outside/secret.png", "link.png"]
    path = write_gltf_with_images(eval_data / "unrigged" / "kenney__character_female_a.glb", folder, uris)
    mesh, report = scene.load(path)
    assert mesh.n_triangles > 100
    dropped = [w for w in report.warnings if "outside the model's folder" in w]
    assert len(dropped) == 4, report.warnings
    _no_outside_image(secret)


def test_gltf_images_inside_the_folder_still_load(eval_data, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    write_png(folder / "skin.png", text=b"INSIDE")
    (folder / "tex").mkdir()
    write_png(folder / "tex" / "b c.png")
    path = write_gltf_with_images(
        eval_data / "unrigged" / "kenney__character_female_a.glb", folder, ["skin.png", "tex/b%20c.png"]
    )
    _, report = scene.load(path)
    assert not [w for w in report.warnings if "outside" in w]
    packed = [bytes(im.packed_file.data) for im in bpy.data.images if im.packed_file]
    assert any(b"INSIDE" in p for p in packed)


@pytest.mark.parametrize("where", ["absolute", "file", "parent"])
def test_gltf_buffer_outside_the_folder_is_refused(eval_data, tmp_path, where):
    from riginputs import read_glb

    secret, folder = _secret(tmp_path)
    _, binary = read_glb(eval_data / "unrigged" / "kenney__character_female_a.glb")
    (secret.parent / "geometry.bin").write_bytes(binary)
    uri = {"absolute": str(secret.parent / "geometry.bin"), "file": (secret.parent / "geometry.bin").as_uri(),
           "parent": "../../outside/geometry.bin"}[where]  # fmt: skip
    path = write_gltf_with_images(eval_data / "unrigged" / "kenney__character_female_a.glb", folder, [], buffer_uri=uri)
    assert "outside the model's folder" in _expect("corrupt_file", path)


def test_obj_textures_outside_the_folder_are_dropped(eval_data, tmp_path):
    secret, folder = _secret(tmp_path)
    obj = write_obj_with_maps(
        eval_data / "unrigged" / f"{CHARACTER}.obj", folder, [str(secret), "../../outside/secret.png", secret.as_uri()]
    )
    _, report = scene.load(obj)
    assert len([w for w in report.warnings if "outside the model's folder" in w]) == 3, report.warnings
    _no_outside_image(secret)


def test_obj_material_library_outside_the_folder_is_dropped(tmp_path):
    secret, folder = _secret(tmp_path)
    (secret.parent / "evil.mtl").write_text(f"newmtl m\nmap_Kd {secret}\n")
    folder.mkdir(parents=True)
    obj = write_cube_obj(folder / "cube.obj")
    obj.write_text(f"mtllib {secret.parent / 'evil.mtl'}\nmtllib ../../outside/evil.mtl\n" + obj.read_text())
    _, report = scene.load(obj)
    assert len([w for w in report.warnings if "material library" in w]) == 2, report.warnings
    _no_outside_image(secret)


def test_a_symlink_in_a_zip_is_not_followed(eval_data, tmp_path):
    secret, _ = _secret(tmp_path)
    path = write_zip_with_symlink(eval_data / "unrigged" / f"{CHARACTER}.obj", tmp_path / "m.zip", str(secret))
    scene.load(path)
    _no_outside_image(secret)


def test_deeply_nested_gltf_json_is_corrupt(tmp_path):
    path = tmp_path / "deep.gltf"
    path.write_text('{"asset": {"version": "2.0"}, "extras": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert "deep" in _expect("corrupt_file", path)


def test_accessor_bomb_is_refused_before_import(tmp_path):
    doc = {"asset": {"version": "2.0"}, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
           "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
           "accessors": [{"componentType": 5126, "type": "VEC3", "count": 10**9}]}  # fmt: skip
    (tmp_path / "bomb.gltf").write_text(__import__("json").dumps(doc))
    assert "limit" in _expect("too_large", tmp_path / "bomb.gltf")
    doc["accessors"][0].update(count=1000, bufferView=0)
    doc["bufferViews"] = [{"buffer": 0, "byteLength": 12}]
    doc["buffers"] = [{"byteLength": 12, "uri": "data:application/octet-stream;base64,AAAAAAAAAAAAAAAA"}]
    (tmp_path / "past.gltf").write_text(__import__("json").dumps(doc))
    assert "past the end" in _expect("corrupt_file", tmp_path / "past.gltf")


def test_huge_obj_is_refused_before_import(tmp_path):
    from autorig.blender import sanitize

    path = tmp_path / "huge.obj"
    n = sanitize.MAX_TRIANGLES + 10
    with open(path, "wb") as f:
        f.write(b"v 0 0 0\nv 1 0 0\nv 0 1 0\n")
        f.write(b"f 1 2 3\n" * n)
    reason = _expect("too_large", path)
    assert f"{sanitize.MAX_TRIANGLES:,}" in reason


def test_fbx_textures_outside_the_folder_are_dropped(eval_data, tmp_path):
    secret, folder = _secret(tmp_path)
    folder.mkdir(parents=True)
    scene.load(eval_data / "unrigged" / "kenney__character_female_a.glb")
    for image in bpy.data.images:
        image.unpack(method="REMOVE") if image.packed_file else None
        image.filepath = str(secret)
        image.reload()
    fbx = folder / "model.fbx"
    bpy.ops.export_scene.fbx(filepath=str(fbx), path_mode="ABSOLUTE", embed_textures=False)
    assert str(secret).encode() in fbx.read_bytes()  # the file names the outside texture
    _, report = scene.load(fbx)
    assert any("outside the model's folder" in w for w in report.warnings), report.warnings
    _no_outside_image(secret)


def test_nan_vertices_are_corrupt(tmp_path):
    import base64
    import json
    import struct

    nan = float("nan")
    data = struct.pack("<9f", 0, 0, 0, 1, 0, 0, nan, nan, nan)
    doc = {"asset": {"version": "2.0"}, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0}],
           "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
           "accessors": [{"bufferView": 0, "componentType": 5126, "type": "VEC3", "count": 3}],
           "bufferViews": [{"buffer": 0, "byteLength": 36}],
           "buffers": [{"byteLength": 36, "uri": "data:application/octet-stream;base64," + base64.b64encode(data).decode()}]}  # fmt: skip
    (tmp_path / "nan.gltf").write_text(json.dumps(doc))
    assert "NaN" in _expect("corrupt_file", tmp_path / "nan.gltf")
    obj = tmp_path / "nan.obj"
    obj.write_text("v 0 0 0\nv 1 0 0\nv nan nan nan\nf 1 2 3\n")
    assert "NaN" in _expect("corrupt_file", obj)


def test_points_only_is_not_a_mesh(tmp_path):
    obj = tmp_path / "points.obj"
    obj.write_text("".join(f"v {i} {i % 7} {i % 3}\n" for i in range(50)) + "p " + " ".join(map(str, range(1, 51))) + "\n")
    _expect("not_a_mesh", obj)


def test_a_symlink_in_a_zip_is_not_unpacked(eval_data, tmp_path):
    secret, _ = _secret(tmp_path)
    path = write_zip_with_symlink(eval_data / "unrigged" / f"{CHARACTER}.obj", tmp_path / "m.zip", str(secret))
    _, report = scene.load(path)
    assert any("symbolic link" in w for w in report.warnings), report.warnings


def test_the_size_limit_can_be_set_by_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTORIG_MAX_TRIANGLES", "10")
    assert "the limit is 10 " in _expect("too_large", write_cube_obj(tmp_path / "cube.obj"))  # 12 triangles
    monkeypatch.setenv("AUTORIG_MAX_TRIANGLES", "12")
    monkeypatch.setenv("AUTORIG_MAX_VERTICES", "7")
    assert "8 vertices; the limit is 7 " in _expect("too_large", write_cube_obj(tmp_path / "cube.obj"))


def test_inside_accepts_only_files_in_the_folder(tmp_path):
    from autorig.blender.sanitize import inside

    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "a.png").write_bytes(b"a")
    (root / "sub" / "b c.png").write_bytes(b"b")
    (tmp_path / "out.png").write_bytes(b"o")
    (root / "link.png").symlink_to(tmp_path / "out.png")
    (root / "inner.png").symlink_to(root / "a.png")
    (root / "loop.png").symlink_to(root / "loop.png")
    base = root / "sub"
    assert inside(root, "../a.png", base) == (root / "a.png").resolve()
    assert inside(root, "b c.png", base) == (root / "sub" / "b c.png").resolve()
    assert inside(root, "..\\a.png", base) == (root / "a.png").resolve()  # Windows separators
    assert inside(root, "inner.png", root) == (root / "a.png").resolve()  # a link that stays inside
    for name in ["../../out.png", str(tmp_path / "out.png"), (tmp_path / "out.png").as_uri(), "link.png",
                 "loop.png", "C:/out.png", "http://example.com/a.png", "", "a.png\x00", "sub", "missing.png"]:  # fmt: skip
        assert inside(root, name, root if name != "../../out.png" else base) is None, name
