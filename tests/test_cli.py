"""`autorig rig` and `autorig convert` as a user runs them: exit codes, the one-line reason on
stderr, rig.json on failure, and conversion that keeps an existing rig."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "blender"))  # the shared input writers and checks
from rigcheck import inspect  # noqa: E402 (after the sys.path line that finds the helpers)
from riginputs import write_cube_obj, write_empty, write_garbage, write_gltf_without_meshes  # noqa: E402 (after the sys.path line that finds the helpers)

from autorig.cli import build_parser  # noqa: E402 (after the sys.path line that finds the helpers)


def autorig(*args, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autorig", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def assert_fails_cleanly(proc: subprocess.CompletedProcess, start: str) -> str:
    """Non-zero exit, nothing on stderr but our own lines, the last one being the reason."""
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert lines, proc.stdout[-2000:]
    assert lines[-1].startswith(start), proc.stderr
    assert all(ln.startswith("autorig: ") for ln in lines), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[-1]


def test_parser_knows_rig_and_convert():
    args = build_parser().parse_args(["rig", "in.glb", "-o", "out", "--skeleton", "unreal", "--mixamo-prefix", "--only", "rig"])
    assert (args.skeleton, args.mixamo_prefix, args.only) == ("unreal", True, "rig")
    args = build_parser().parse_args(["convert", "in.fbx", "out.glb"])
    assert args.output == Path("out.glb")


@pytest.mark.parametrize(
    "make,code,words",
    [
        (lambda d: write_garbage(d / "model.glb"), "corrupt_file", "corrupt file: not a GLB file"),
        (lambda d: write_empty(d / "model.fbx"), "corrupt_file", "corrupt file: the file is empty"),
        (lambda d: write_gltf_without_meshes(d / "scene.gltf"), "not_a_mesh", "not a mesh: "),
        (lambda d: (d / "model.stl").write_text("solid x\n") and d / "model.stl", "unsupported_format", "unsupported format: "),
        (lambda d: d / "missing.glb", "corrupt_file", "corrupt file: no such file"),
    ],
)
def test_rig_bad_input(tmp_path, make, code, words):
    src = make(tmp_path)
    out = tmp_path / "out"
    proc = autorig("rig", src, "-o", out)
    line = assert_fails_cleanly(proc, "autorig: error: ")
    assert words in line
    report = json.loads((out / "rig.json").read_text())
    assert report["error"]["code"] == code
    assert report["error"]["reason"] in line
    assert sorted(p.name for p in out.iterdir()) == ["rig.json"]


@pytest.mark.slow
def test_rig_not_a_biped(tmp_path):
    out = tmp_path / "out"
    proc = autorig("rig", write_cube_obj(tmp_path / "cube.obj"), "-o", out, "--only", "rig")
    assert_fails_cleanly(proc, "autorig: error: not a biped: ")
    report = json.loads((out / "rig.json").read_text())
    assert report["error"]["code"] == "not_a_biped"
    assert report["triangles"] == 12  # what was learnt before the failure stays in the report


def test_rig_internal_error_is_one_line(tmp_path, eval_data):
    blocker = tmp_path / "out"
    blocker.write_text("a file where the output folder should be")
    proc = autorig("rig", eval_data / "unrigged" / "quaternius__Female_Dress.glb", "-o", blocker)
    line = assert_fails_cleanly(proc, "autorig: internal error: ")
    assert "FileExistsError" in line


@pytest.mark.slow
def test_convert_keeps_the_rig(eval_data, tmp_path):
    src = eval_data / "rigged" / "quaternius__Female_Dress.fbx"
    out = tmp_path / "dress.glb"
    proc = autorig("convert", src, out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:4] == b"glTF"
    assert [p.name for p in tmp_path.iterdir()] == ["dress.glb"]
    before, after = inspect(src), inspect(out)
    assert after["armatures"] and set(after["bones"]) == set(before["bones"])
    assert after["actions"]  # the clips came along
    assert all(m["armature"] for m in after["meshes"].values())
    assert sorted(m for mesh in after["meshes"].values() for m in mesh["materials"]) == sorted(
        m for mesh in before["meshes"].values() for m in mesh["materials"]
    )
    height = before["bbox"][1][2] - before["bbox"][0][2]
    for a, b in zip(before["bbox"], after["bbox"], strict=False):
        assert max(abs(x - y) for x, y in zip(a, b, strict=False)) < 1e-4 * height


def test_convert_bad_input(tmp_path):
    proc = autorig("convert", write_garbage(tmp_path / "model.fbx"), tmp_path / "out.glb")
    assert "corrupt file: not an FBX file" in assert_fails_cleanly(proc, "autorig: error: ")
    assert not (tmp_path / "out.glb").exists()


def test_convert_writes_glb_only(tmp_path, eval_data):
    proc = autorig("convert", eval_data / "unrigged" / "quaternius__Female_Dress.glb", tmp_path / "out.fbx")
    assert "unsupported format: convert writes .glb" in assert_fails_cleanly(proc, "autorig: error: ")
