"""The pure parts of scripts/wild_check.py: the manifest's parsing and checks, the verdicts and the
summary (no network, no Blender)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "wild_check.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wild_check", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["wild_check"] = mod
    spec.loader.exec_module(mod)
    return mod


wc = _load()


def _entry(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "a",
        "registry": "debian",
        "package": "p",
        "version": "1",
        "path": "x/a.obj",
        "kind": "humanoid",
    }
    base.update(over)
    return base


def test_the_shipped_manifest_parses_with_enough_humanoids_and_others() -> None:
    entries = wc.load_manifest()
    humanoids = [e for e in entries if e.humanoid]
    assert len(humanoids) >= 10
    assert len(entries) - len(humanoids) >= 5
    assert all(e.registry in wc.REGISTRIES for e in entries)


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"registry": "github"}, "registry"),
        ({"kind": "robot"}, "kind"),
        ({"facing": "front"}, "facing"),
        ({"up": "Z"}, "up"),
        ({"convert": "blender"}, "convert"),
        ({"path": "../etc/passwd"}, "path"),
        ({"path": "/abs/a.glb"}, "path"),
        ({"version": ""}, "version"),
        ({"colour": "red"}, "unknown fields"),
    ],
)
def test_a_bad_entry_is_named_with_its_field(over: dict[str, Any], message: str) -> None:
    with pytest.raises(wc.ManifestError, match=message):
        wc.parse_manifest({"files": [_entry(**over)]})


def test_duplicate_names_and_a_missing_list_are_refused(tmp_path: Path) -> None:
    with pytest.raises(wc.ManifestError, match="duplicate"):
        wc.parse_manifest({"files": [_entry(), _entry()]})
    with pytest.raises(wc.ManifestError, match="'files' list"):
        wc.parse_manifest({"file": []})
    bad = tmp_path / "m.json"
    bad.write_text("{not json")
    with pytest.raises(wc.ManifestError, match="m.json"):
        wc.load_manifest(bad)


def test_read_result_takes_reason_rig_json_and_missing_outputs(tmp_path: Path) -> None:
    entry = wc.parse_manifest({"files": [_entry(facing="+Z")]})[0]
    (tmp_path / "rig.json").write_text(
        json.dumps(
            {
                "name": "a",
                "confidence": 0.8,
                "warnings": ["w"],
                "triangles": 10,
                "orientation": {"front_axis_gltf": "+Z", "up_axis_gltf": "+Y", "pose": "T"},
                "failed_outputs": [{"file": "a.usdz", "error": "boom"}],
            }
        )
    )
    (tmp_path / "a.glb").write_bytes(b"x")
    res = wc.read_result(entry, tmp_path, 0, "autorig: progress done 1.000\n", "rig", 3.0)
    assert (res.facing, res.up, res.pose, res.confidence) == ("+Z", "+Y", "T", 0.8)
    assert res.missing == ["a.fbx"] and res.failed_outputs == ["a.usdz"]
    assert wc.verdict(res) == (False, "missing a.fbx")

    refused = tmp_path / "r"
    refused.mkdir()
    (refused / "rig.json").write_text(json.dumps({"error": {"code": "not_a_biped", "reason": "no legs"}}))
    res = wc.read_result(entry, refused, 2, "blender noise\nautorig: error: not a biped: no legs\n", "all", 1.0)
    assert (res.error_code, res.reason, res.missing) == ("not_a_biped", "not a biped: no legs", [])


def _result(kind: str = "humanoid", **over: Any) -> Any:
    base: dict[str, Any] = {"name": "a", "kind": kind, "expected_facing": "+Z", "exit_code": 0, "facing": "+Z", "up": "+Y"}
    base.update(over)
    return wc.Result(**base)


def test_verdicts_and_summary() -> None:
    results = [
        _result(),  # OK
        _result(facing="-Z"),  # wrong facing
        _result(up="-Y"),  # upside down
        _result(exit_code=2, error_code="not_a_biped"),  # refused humanoid
        _result(missing=["preview.mp4"]),  # an output missing
        _result(expected_facing=None, facing="+X"),  # OK, facing not checked
        _result("animal", exit_code=2, error_code="not_a_biped"),
        _result("object", exit_code=0),  # rigged a box: wrong
        _result("vehicle", exit_code=1, reason="crash"),  # crashed: wrong
    ]
    assert [wc.verdict(r)[0] for r in results] == [True, False, False, False, False, True, True, False, False]
    assert "should face +Z" in wc.verdict(results[1])[1]
    assert "upside down" in wc.verdict(results[2])[1]
    s = wc.summarize(results)
    assert (s.humanoids, s.humanoids_ok, s.wrong_facing, s.refused_humanoids, s.missing_outputs) == (6, 2, 2, 1, 1)
    assert (s.others, s.others_refused) == (3, 1)
    assert s.lines()[0].startswith("humanoids rigged facing right with every output: 2/6")
    table = wc.table(results)
    assert table.count("\n") == len(results) + 1 and "| OK: rigged |" in table


def test_a_fetch_error_is_a_failure_that_says_so() -> None:
    res = wc.Result(name="a", kind="humanoid", expected_facing=None, fetch_error="apt-get download failed (100)")
    assert wc.verdict(res) == (False, "not fetched: apt-get download failed (100)")
