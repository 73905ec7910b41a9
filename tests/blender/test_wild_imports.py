"""Import problems seen in files from the wild (scripts/wild_check.py): an FBX that holds a light (as
3ds Max and Maya scenes often do; Blender 5.0's FBX importer set a Cycles light property that no
longer exists, so every such file was refused as corrupt), and texture references to an artist's
own disk (``C:\\Users\\...\\skin.png``) whose file lies beside the model."""

from __future__ import annotations

from pathlib import Path

import pytest
from riginputs import write_cube_obj, write_png

bpy = pytest.importorskip("bpy")

from autorig.blender import scene  # noqa: E402 (after the importorskip of bpy)


def _write_cube_and_light_fbx(path: Path) -> None:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.mesh.primitive_cube_add(size=1.0)
    light = bpy.data.objects.new("Lamp", bpy.data.lights.new("Lamp", "POINT"))
    bpy.context.scene.collection.objects.link(light)
    light.location = (3.0, 2.0, 4.0)
    bpy.ops.export_scene.fbx(filepath=str(path), object_types={"MESH", "LIGHT"})


def test_an_fbx_with_a_light_loads_as_its_mesh(tmp_path: Path) -> None:
    path = tmp_path / "cube_and_light.fbx"
    _write_cube_and_light_fbx(path)
    mesh, report = scene.load(path)
    assert report.object_types.get("LIGHT") == 1
    assert mesh.n_vertices >= 8
    assert all(ob.type != "LIGHT" for ob in bpy.context.scene.objects)


@pytest.mark.parametrize(
    "reference", ["C:\\Users\\artist\\Desktop\\skin.png", "/home/artist/textures/skin.png", "textures/skin.png"]
)
def test_a_texture_named_by_an_outside_path_is_found_beside_the_model(tmp_path: Path, reference: str) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    write_png(folder / "skin.png", text=b"BESIDE")
    obj = write_cube_obj(folder / "cube.obj")
    obj.write_text("mtllib cube.mtl\nusemtl skin\n" + obj.read_text())
    (folder / "cube.mtl").write_text(f"newmtl skin\nmap_Kd {reference}\n")
    _, report = scene.load(obj)
    assert not [w for w in report.warnings if "dropped" in w], report.warnings
    assert any("found by its file name in the model's folder" in w for w in report.warnings), report.warnings
    packed = [bytes(im.packed_file.data) for im in bpy.data.images if im.packed_file]
    assert any(b"BESIDE" in p for p in packed)


def test_an_outside_texture_with_no_namesake_beside_the_model_is_still_dropped(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = write_png(outside / "secret.png", text=b"SECRET")
    folder = tmp_path / "model"
    folder.mkdir()
    obj = write_cube_obj(folder / "cube.obj")
    obj.write_text("mtllib cube.mtl\nusemtl skin\n" + obj.read_text())
    (folder / "cube.mtl").write_text(f"newmtl skin\nmap_Kd {secret}\nmap_Bump ../outside/secret.png\n")
    _, report = scene.load(obj)
    assert len([w for w in report.warnings if "outside the model's folder" in w]) == 2, report.warnings
    assert not any(im.packed_file and b"SECRET" in bytes(im.packed_file.data) for im in bpy.data.images)
