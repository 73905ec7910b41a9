"""The warnings of a finished rig, read from the engine's ``rig.json``; and error texts with the
workers' addresses taken out."""

from __future__ import annotations

import json

from autorig.web.domains.tasks.report import warnings_from_report
from autorig.web.domains.tasks.service import output_name_for, public_text


def test_weak_cues_failed_outputs_and_engine_warnings_become_warnings() -> None:
    report = {
        "confidence": 0.41,
        "confidence_reasons": ["left-right symmetry: clear (0.91)", "facing direction: weak (0.34)", "neck: poor (0.12)"],
        "warnings": ["dropped Camera: not a mesh", ""],
        "outputs": [{"file": "hero.glb", "size": 10}, {"file": "hero.usdz", "error": "RuntimeError: usd export failed"}],
    }
    got = warnings_from_report(json.dumps(report).encode())
    assert [w["kind"] for w in got] == ["low_confidence", "low_confidence", "output_failed", "engine"]
    assert got[0] == {
        "kind": "low_confidence",
        "cue": "facing direction",
        "level": "weak",
        "value": 0.34,
        "text": "check the result: the facing direction was unclear (weak)",
    }
    assert got[1]["cue"] == "neck" and got[1]["level"] == "poor"
    assert got[2]["file"] == "hero.usdz" and "usd export failed" in got[2]["text"]
    assert got[3]["text"] == "dropped Camera: not a mesh"


def test_a_clear_or_unreadable_report_has_no_warnings() -> None:
    assert warnings_from_report(b'{"confidence_reasons": ["neck: clear (0.9)"], "warnings": [], "outputs": []}') == []
    for raw in (b"", b"not json", b"[1, 2]", b'{"warnings": "text", "outputs": {"a": 1}}', b"\xff\xfe"):
        assert warnings_from_report(raw) == []


def test_public_texts_never_name_a_worker() -> None:
    workers = ["http://10.0.0.5:8001"]
    assert public_text("the worker http://10.0.0.5:8001 stopped answering", workers) == "the worker a worker stopped answering"
    assert "10.0.0.5" not in public_text("Cannot connect to host 10.0.0.5:8001 ssl:default", workers)
    assert "files" not in public_text("could not read http://192.168.1.9:8001/files/abc/x.glb", [])
    assert public_text(None, workers) is None


def test_output_names_never_take_a_free_preview_name() -> None:
    assert output_name_for("viewer") == "viewer_model"
    assert output_name_for("hero") == "hero"
    assert output_name_for("") == "model"
