"""The two import rules of the house: only blender/ imports bpy; web and worker share only protocol.py."""

import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "src" / "autorig"


def _imports(path: Path) -> list[str]:
    return re.findall(r"^\s*(?:from|import)\s+([\w.]+)", path.read_text(), flags=re.M)


def test_only_blender_package_imports_bpy():
    offenders = [
        str(p.relative_to(PKG))
        for p in PKG.rglob("*.py")
        if "blender" not in p.relative_to(PKG).parts and any(m == "bpy" or m.startswith("bpy.") for m in _imports(p))
    ]
    assert offenders == []


def test_web_and_worker_do_not_import_each_other():
    pairs = (("web", "autorig.worker"), ("worker", "autorig.web"))
    offenders = []
    for pkg, forbidden in pairs:
        for p in (PKG / pkg).rglob("*.py"):
            if any(m == forbidden or m.startswith(forbidden + ".") for m in _imports(p)):
                offenders.append(str(p.relative_to(PKG)))
    assert offenders == []


def test_rigging_is_pure_geometry():
    offenders = [
        str(p.relative_to(PKG))
        for p in (PKG / "rigging").rglob("*.py")
        if any(m.startswith("autorig.blender") or m.startswith("autorig.web") or m.startswith("autorig.worker") for m in _imports(p))
    ]
    assert offenders == []
