"""An FBX that holds a light (as 3ds Max and Maya scenes often do) loads: Blender 5.0's FBX importer
set a Cycles light property that no longer exists, so every such file was refused as corrupt."""

from __future__ import annotations

from pathlib import Path

import pytest

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
