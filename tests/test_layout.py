"""The import rules of the house: only blender/ imports bpy; web and worker share only protocol.py;
and inside web/, an import graph without cycles whose arrows only point down the layers."""

import ast
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
        if any(
            m.startswith("autorig.blender") or m.startswith("autorig.web") or m.startswith("autorig.worker") for m in _imports(p)
        )
    ]
    assert offenders == []


# --- the backend's own layers ----------------------------------------------------------------------

WEB = PKG / "web"

# Lower layers never import higher ones. The composition root (context) builds every service and
# loop; deps hands its parts to requests; endpoints are thin; the app mounts the routes.
LAYERS = {
    "base": 0,  # errors, cache, db, models, storage, migrations, processes: no domain knowledge
    "domain": 1,  # domains/*/ except endpoints: repositories, services, schemas and their mappers
    "loops": 2,  # services/: the background loops
    "root": 3,  # context.py
    "deps": 4,  # deps.py
    "routes": 5,  # domains/*/endpoints.py, pages.py
    "app": 6,  # app.py, serve.py
}


def _layer(module: str) -> str:
    parts = module.split(".")[2:]  # after "autorig.web"
    head = parts[0] if parts else ""
    if head == "domains":
        return "routes" if parts[-1] == "endpoints" else "domain"
    if head == "services":
        return "loops"
    return {"context": "root", "deps": "deps", "pages": "routes", "app": "app", "serve": "app"}.get(head, "base")


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (PKG.parent / rel).with_suffix(".py").is_file() or (PKG.parent / rel / "__init__.py").is_file()


def _web_imports(path: Path) -> set[str]:
    """Every ``autorig.web`` module this file imports, at the top or inside a function (a lazy
    import still ties the two modules together)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.add(sub if _is_module(sub) else node.module)
    return {m for m in found if m == "autorig.web" or m.startswith("autorig.web.")}


def _web_graph() -> dict[str, set[str]]:
    return {_module_name(p): _web_imports(p) for p in WEB.rglob("*.py")}


def test_web_has_no_import_cycle():
    graph = _web_graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []


def test_web_imports_point_down_the_layers():
    upward = [
        f"{m} ({_layer(m)}) imports {dep} ({_layer(dep)})"
        for m, deps in _web_graph().items()
        for dep in deps
        if LAYERS[_layer(dep)] > LAYERS[_layer(m)]
    ]
    assert upward == []


def test_only_the_app_and_deps_reach_the_composition_root():
    graph = _web_graph()
    assert sorted(m for m, deps in graph.items() if "autorig.web.context" in deps) == ["autorig.web.app", "autorig.web.deps"]
    assert sorted(m for m, deps in graph.items() if "autorig.web.app" in deps) == ["autorig.web.serve"]


def test_endpoints_borrow_nothing_from_each_other():
    graph = _web_graph()
    borrowed = [
        f"{m} imports {d}" for m, deps in graph.items() for d in deps if d.endswith(".endpoints") and m != "autorig.web.app"
    ]
    assert borrowed == []


def test_services_take_what_they_use():
    """No service receives the whole context as an untyped object to pick from."""
    assert [str(p.relative_to(PKG)) for p in WEB.rglob("*.py") if re.search(r"\bctx: object\b", p.read_text())] == []


def _readme_layout() -> str:
    """The README's folder table (from its header row to the first blank line)."""
    text = (PKG.parents[1] / "README.md").read_text()
    start = text.index("| folder | what lives there |")
    return text[start : text.index("\n\n", start)]


def test_readme_layout_table_matches_the_tree():
    """Every path the README's folder table names exists, and every module and package of
    ``src/autorig`` and every top-level folder of the repository is named there."""
    table = _readme_layout()
    root = PKG.parents[1]
    named = re.findall(r"`([\w./-]+)`", table.split("|")[0] + "\n".join(line.split("|")[1] for line in table.splitlines()[2:]))
    missing_paths = []
    for name in named:
        path = name if "/" in name else f"src/autorig/{name}"
        if not (root / path).exists():
            missing_paths.append(name)
    assert missing_paths == []
    first_column = " ".join(line.split("|")[1] for line in table.splitlines()[2:])
    unnamed = [
        p.name
        for p in sorted(PKG.iterdir())
        if (p.is_dir() and (p / "__init__.py").exists() or p.suffix == ".py")
        and p.name != "__init__.py"
        and p.name not in first_column
    ]
    unnamed += [
        p.name + "/"
        for p in sorted(root.iterdir())
        if p.is_dir()
        and not p.name.startswith(".")
        and p.name not in ("src", "node_modules", "var", "out", "test-artifacts")
        and p.name + "/" not in first_column
        and "egg-info" not in p.name
    ]
    assert unnamed == []
