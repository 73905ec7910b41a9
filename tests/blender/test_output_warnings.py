"""A failed output is never a silent success: ``rig.json`` lists it in ``failed_outputs`` and
``warnings``, ``autorig rig`` says so on stderr, and the exit code stays 0 because the rigged
GLB and FBX exist. When the clips cannot be made, the files that go on without them are named.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

bpy = pytest.importorskip("bpy")

from autorig import protocol  # noqa: E402 (after the importorskip of bpy)
from autorig.blender import outputs  # noqa: E402 (after the importorskip of bpy)


def _failing_clips() -> outputs._Once:
    once = outputs._Once(lambda: (_ for _ in ()).throw(TypeError("slice indices must be integers")))
    with pytest.raises(TypeError):
        once.get()
    return once


def test_failures_become_warnings():
    report = {
        "warnings": [],
        "outputs": [
            {"file": "m.glb", "size": 10, "triangles": 1, "seconds": 0.1},
            {"file": "m_animated.glb", "error": "TypeError: slice indices must be integers", "seconds": 0.1},
            {"file": "m.usdz", "size": 10, "triangles": 1, "seconds": 0.1},
            {"file": "preview.mp4", "size": 10, "triangles": 1, "seconds": 0.1},
        ],
    }
    outputs._warn_failures(report, "m", _failing_clips())
    assert report["failed_outputs"] == [{"file": "m_animated.glb", "error": "TypeError: slice indices must be integers"}]
    assert report["animation_error"].startswith("TypeError")
    assert any("m_animated.glb was not written" in w for w in report["warnings"])
    assert any("no animation clips" in w and "m.usdz, preview.mp4" in w for w in report["warnings"])


def test_no_failure_no_warning():
    report = {"warnings": [], "outputs": [{"file": "m.glb", "size": 10, "triangles": 1, "seconds": 0.1}]}
    once = outputs._Once(lambda: {})
    once.get()
    outputs._warn_failures(report, "m", once)
    assert report["warnings"] == [] and "failed_outputs" not in report and "animation_error" not in report


@pytest.mark.slow
def test_cli_names_a_failed_output_on_stderr(tmp_path):
    from autorig.blender import export, scene

    import synthetic

    fig = synthetic.humanoid_figure("T", height=1.7)
    scene.reset()
    me = bpy.data.meshes.new("Body")
    me.from_pydata(fig.mesh.vertices.tolist(), [], fig.mesh.triangles.tolist())
    ob = bpy.data.objects.new("Body", me)
    bpy.context.scene.collection.objects.link(ob)
    model = export.export_glb(tmp_path / "figure.glb", [ob])
    out = tmp_path / "out"
    (out / "figure.usdz").mkdir(parents=True)  # a folder where the USDZ should go: it cannot be written
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
    assert proc.returncode == 0, proc.stderr  # the rigged GLB and FBX exist
    assert "warning: figure.usdz was not written" in proc.stderr
    report = json.loads((out / "rig.json").read_text())
    assert [f["file"] for f in report["failed_outputs"]] == ["figure.usdz"]
    assert any("figure.usdz was not written" in w for w in report["warnings"])
    for f in protocol.output_files("figure"):
        if f != "figure.usdz":
            assert (out / f).is_file(), f
