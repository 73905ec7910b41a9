"""What a person should check in a finished rig, read once from the engine's ``rig.json``.

Three kinds of warning, each ``{"kind", "text", ...}`` (``text`` in English for API users; the
task page words them itself from the other fields):

- ``low_confidence``: a cue the skeleton fit relied on was weak or poor (``cue``, ``level``,
  ``value``): "check the result: the facing direction was unclear";
- ``output_failed``: an output the engine could not make (``file``, ``reason``);
- ``engine``: the engine's own warnings (``text`` only): dropped parts, ignored options, ...

``rig.json`` is the engine's report (README, "Outputs"): ``confidence_reasons`` are strings
``"<cue>: <clear|weak|poor> (<value>)"``; ``outputs`` rows with an ``error`` failed.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_WARNINGS = 50
MAX_TEXT = 500

_REASON = re.compile(r"^\s*(?P<cue>[^:]+?)\s*:\s*(?P<level>weak|poor)\b(?:\s*\((?P<value>[-+0-9.eE]+)\))?")


def warnings_from_report(raw: bytes | str | dict[str, Any]) -> list[dict[str, Any]]:
    """The warnings of one ``rig.json`` (bytes, text or parsed); [] when it cannot be read."""
    try:
        report = raw if isinstance(raw, dict) else json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(report, dict):
        return []
    out: list[dict[str, Any]] = []
    for reason in _strings(report.get("confidence_reasons")):
        m = _REASON.match(reason)
        if not m:
            continue
        cue, level = m["cue"].strip(), m["level"]
        item: dict[str, Any] = {
            "kind": "low_confidence",
            "cue": cue[:100],
            "level": level,
            "text": f"check the result: the {cue} was unclear ({level})"[:MAX_TEXT],
        }
        if m["value"]:
            try:
                item["value"] = float(m["value"])
            except ValueError:
                pass
        out.append(item)
    outputs = report.get("outputs")
    for row in outputs if isinstance(outputs, list) else []:
        if isinstance(row, dict) and row.get("error") and isinstance(row.get("file"), str):
            reason = str(row["error"])[:MAX_TEXT]
            out.append(
                {
                    "kind": "output_failed",
                    "file": row["file"][:255],
                    "reason": reason,
                    "text": f"{row['file']} could not be made: {reason}"[:MAX_TEXT],
                }
            )
    for text in _strings(report.get("warnings")):
        out.append({"kind": "engine", "text": text[:MAX_TEXT]})
    return out[:MAX_WARNINGS]


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str) and v.strip()] if isinstance(value, list) else []
