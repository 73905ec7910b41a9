"""The whole pipeline through `autorig rig` (a real subprocess), its files loaded back in Blender."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rigcheck import check_rigged_file, inspect

from autorig import protocol
from autorig.rigging import humanoid, presets

CHARACTER = "quaternius__Female_Dress"  # 1,786 triangles, five materials, T-pose
ASSIMP = shutil.which("assimp")


def autorig(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autorig", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def input_bbox(path: Path) -> np.ndarray:
    """World bounding box of the input as Blender loads it (the frame of the outputs)."""
    return np.array(inspect(path)["bbox"])


@pytest.mark.slow
def test_rig_end_to_end(eval_data, tmp_path):
    src = eval_data / "unrigged" / f"{CHARACTER}.glb"
    out = tmp_path / "out"
    proc = autorig("rig", src, "-o", out, "--only", "rig")  # the default: --fingers auto
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ""
    name = protocol.safe_name(CHARACTER)
    # exactly the rigged pair and the report; no temporary files left behind
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{name}.glb", f"{name}.fbx", "rig.json"])
    stages = [ln.split()[2] for ln in proc.stdout.splitlines() if ln.startswith("autorig: progress ")]
    assert stages[:5] == ["load", "skeleton", "skinning", "armature", "export"]

    report = json.loads((out / "rig.json").read_text())
    assert report["error"] is None
    assert report["input"] == {"file": src.name, "format": "glb", "size": src.stat().st_size}
    # --fingers auto: a mitten hand gets five fingers spread across it, the same on both hands.
    level = report["fingers"]["Left"]["level"]
    assert report["fingers"]["Right"]["level"] == level == "full"
    assert report["options"]["fingers"] == "auto"
    fingers = [*humanoid.finger_bones(level), *presets.get("mixamo").finger_end_joints(level)]
    assert set(report["joints"]) == set(humanoid.JOINT_NAMES) | set(fingers)
    assert report["bone_names"] == {h: h for h in (*humanoid.BONE_NAMES, *humanoid.END_JOINTS, *fingers)}
    assert {b["name"] for b in report["bones"]} == set(presets.get("mixamo").all_bones(level))
    o = report["orientation"]
    assert (o["up_axis"], o["front_axis"]) == ("+Z", "-Y")  # glTF +Y up, facing +Z
    assert (o["up_axis_gltf"], o["front_axis_gltf"]) == ("+Y", "+Z")
    assert o["pose"] in ("T", "A", "other") and len(o["arm_angles_deg"]) == 2
    assert 0.0 <= report["confidence"] <= 1.0 and report["confidence_reasons"]
    assert isinstance(report["warnings"], list)
    assert {"load", "skeleton", "skinning", "armature", "export", "total"} <= set(report["timings"])
    assert report["triangles"] == 1786 and report["vertices"] > 0
    assert report["engine_version"]
    files = {o["file"]: o for o in report["outputs"]}
    assert set(files) == {f"{name}.glb", f"{name}.fbx"}
    for f, rec in files.items():
        assert rec["size"] == (out / f).stat().st_size and rec["triangles"] == 1786

    height = o["height"]
    expected = input_bbox(src)
    left = np.array(o["left"])
    hips = np.array(report["joints"]["Hips"])
    for f in (f"{name}.glb", f"{name}.fbx"):
        info = inspect(out / f, pose_bone="LeftForeArm")
        check_rigged_file(info, presets.get("mixamo"), expected, height, level)
        # "Left" is the character's own left: turning the left forearm moves vertices on that side only
        assert info["pose"]["moved"] > 0
        assert np.dot(np.array(info["pose"]["centroid"]) - hips, left) > 0.1 * height
    # An independent reader (assimp, Debian's assimp-utils) finds the finger bones in the FBX.
    if ASSIMP is not None:
        tree = subprocess.run(
            [ASSIMP, "info", str(out / f"{name}.fbx")], capture_output=True, text=True, timeout=120, check=True
        ).stdout
        nodes = {ln.split("╴")[-1].strip() for ln in tree.split("Node hierarchy:")[-1].splitlines() if "╴" in ln}
        assert set(humanoid.finger_bones(level)) <= nodes, sorted(set(humanoid.finger_bones(level)) - nodes)


@pytest.mark.slow
def test_rig_a_rigged_fbx_for_unreal(eval_data, tmp_path):
    """An artist-rigged FBX: its armature is dropped (and said so), ours is built with the UE
    mannequin's names under a root bone, and the model stays where it was."""
    src = eval_data / "rigged" / f"{CHARACTER}.fbx"
    out = tmp_path / "out"
    proc = autorig("rig", src, "-o", out, "--only", "rig", "--name", "hero model", "--skeleton", "unreal", "--fingers", "mitten")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "rig.json").read_text())
    assert report["name"] == "hero_model"
    assert "dropped existing armature HumanArmature (and its skin weights)" in report["warnings"]
    assert report["bone_names"]["Hips"] == "pelvis" and report["bone_names"]["root"] == "root"
    assert report["fingers"]["Left"]["level"] == "mitten"  # a thumb and a mitten bone, Unreal's names
    assert report["bone_names"]["LeftHandThumb1"] == "thumb_01_l" and report["bone_names"]["RightHandIndex3"] == "index_03_r"
    info = inspect(out / "hero_model.fbx")
    check_rigged_file(
        info,
        presets.get("unreal"),
        input_bbox(eval_data / "unrigged" / f"{CHARACTER}.glb"),
        report["orientation"]["height"],
        report["fingers"]["Left"]["level"],
    )


@pytest.mark.slow
def test_rig_file_calls_back_in_order(eval_data, tmp_path):
    from autorig.engine import rig_file

    stages, files = [], []
    report = rig_file(
        eval_data / "unrigged" / f"{CHARACTER}.obj",
        tmp_path,
        name="dress",
        skeleton="mixamo",
        mixamo_prefix=True,
        only="rig",
        on_progress=lambda s, f: stages.append((s, f)),
        on_file=files.append,
    )
    assert files == ["dress.glb", "dress.fbx", "rig.json"]
    fractions = [f for _, f in stages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert report["input"]["format"] == "obj"
    assert report["bone_names"]["LeftHand"] == "mixamorig:LeftHand"
    # The default is --fingers auto: finger bones when the hand has the shape for them.
    assert report["options"]["fingers"] == "auto"
    assert any(humanoid.finger_of(h) for h in report["bone_names"]) == (report["fingers"]["Left"]["level"] != "none")
    assert json.loads((tmp_path / "rig.json").read_text())["bone_names"] == report["bone_names"]


@pytest.mark.slow
def test_rig_keeps_a_lying_scaled_model_in_place(eval_data, tmp_path):
    """A character lying on its back, in centimetre-like units, off the origin: the rig follows
    the character's own axes and the files keep its place, size and orientation."""
    bpy = pytest.importorskip("bpy")
    from mathutils import Matrix

    from autorig.blender import scene

    scene.import_file(eval_data / "unrigged" / f"{CHARACTER}.glb")
    ob = scene.mesh_objects()[0]
    ob.matrix_world = (
        Matrix.Translation((1.0, 2.0, 0.3)) @ Matrix.Rotation(-np.pi / 2, 4, "X") @ Matrix.Diagonal((0.01, 0.01, 0.01, 1.0))
    )
    src = tmp_path / "lying.glb"
    bpy.ops.export_scene.gltf(filepath=str(src), export_format="GLB")

    out = tmp_path / "out"
    proc = autorig("rig", src, "-o", out, "--only", "rig")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "rig.json").read_text())
    o = report["orientation"]
    assert (o["up_axis"], o["front_axis"]) == ("+Y", "+Z")  # Blender world: head towards +Y, face up
    expected = input_bbox(src)
    for f in ("lying.glb", "lying.fbx"):
        check_rigged_file(inspect(out / f), presets.get("mixamo"), expected, o["height"], report["fingers"]["Left"]["level"])
