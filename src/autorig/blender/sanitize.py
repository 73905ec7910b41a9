"""Input files made safe to import, before any importer sees them (no bpy here).

A model file may name other files: glTF buffers and images (``uri``), an OBJ's ``mtllib`` and its
MTL's texture maps. Blender's importers follow those names wherever they lead, so a model could
embed ``/etc/passwd`` or a settings file in every output. Here every such name is resolved in
the model's own folder (``root``: the upload's folder, or the unpacked zip) and kept only if it
stays there: no absolute paths, no ``file:`` (or any other scheme), no ``..`` escape, no symlink
pointing out. What passes is copied into a private folder and the model rewritten to name the
copies, so the importer reads nothing else. What does not pass is dropped with a warning
(a texture), or refuses the file as ``corrupt_file`` (a buffer: the geometry itself).

The same pass measures the model cheaply, from glTF accessor counts or OBJ lines, so a model
beyond what the engine can hold is refused as ``too_large`` before a slow import, and checks the
glTF structure Blender would otherwise trip over (deep JSON, accessors past their buffers, chunk
lengths past the end of a GLB).

    prepare_gltf(path, root, workdir) -> Prepared     .gltf / .glb / .vrm
    prepare_obj(path, root, workdir) -> Prepared      .obj (+ .mtl)
    fbx_min_triangles(path) -> int                    a lower bound, from the binary FBX's arrays
    too_large(triangles, vertices)                    the limit, for counts made after an import
    too_many_distinct(vertices, merged)               the limit once split copies are merged
    inside(root, name, base) -> Path | None           the one rule for every external name
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import struct
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import numpy as np

from autorig import formats
from autorig.rigging.errors import RigError

# What the engine can hold in a worker job (8 GB of address space, 600 s). Measured with
# scripts/bench_large.py (every output; 2-core machine), see README "Size limit":
#   442 k triangles,   232 k vertices:  54 s, 3.4 GB address space (load 4-10)
#   1.23 M triangles,  632 k vertices: 371 s, 6.4 GB (load 4-10)
#   513 k triangles, 1.54 M vertices, flat-shaded (every face split apart): see README; its
#     split copies are merged after the import (weld.py), so it is rigged as 257 k vertices
# Before the weld, 442 k triangles with every face split (1.33 M vertices) took 10.5 GB.
# MAX_VERTICES counts the vertices as the file stores them (checked before the import where the
# file tells), MAX_DISTINCT_VERTICES what is left after the weld: a model whose vertices cannot
# be merged is held to the old, measured limit.
# A machine that gives jobs more memory (AUTORIG_WORKER_JOB_MEMORY_MB) may raise them with the
# environment variables AUTORIG_MAX_TRIANGLES, AUTORIG_MAX_VERTICES, AUTORIG_MAX_DISTINCT_VERTICES.
MAX_TRIANGLES = 1_200_000
MAX_VERTICES = 1_550_000
MAX_DISTINCT_VERTICES = 750_000
# JSON nested deeper than this is no glTF (the schema nests a handful of levels; extras a few more).
MAX_JSON_DEPTH = 64

GLB_MAGIC = formats.GLB_MAGIC
CHUNK_JSON = 0x4E4F534A
CHUNK_BIN = 0x004E4942
COMPONENT_BYTES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
TYPE_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
# A 1x1 white PNG: stands in for a glTF image whose file is refused, so indices stay valid.
BLANK_PNG_URI = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4//8/AAX+Av4N70a4AAAAAElFTkSuQmCC"
)
# MTL statements that name a texture file, and how many arguments each option takes.
MTL_MAPS = re.compile(r"^(map_\w+|bump|disp|decal|refl|norm)$", re.I)
MTL_OPTION_ARGS = {
    "-blendu": 1, "-blendv": 1, "-boost": 1, "-mm": 2, "-o": 3, "-s": 3, "-t": 3, "-texres": 1,
    "-clamp": 1, "-bm": 1, "-imfchan": 1, "-type": 1, "-cc": 1,
}  # fmt: skip


@dataclass
class Prepared:
    """The file to hand to the importer (inside ``workdir``), what was dropped, and the size."""

    path: Path
    warnings: list[str] = field(default_factory=list)
    triangles: int = 0
    vertices: int = 0


def _env(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "").replace("_", "")) or default
    except ValueError:
        return default


def limits() -> tuple[int, int]:
    """(max triangles, max vertices): MAX_TRIANGLES / MAX_VERTICES unless the environment says."""
    return _env("AUTORIG_MAX_TRIANGLES", MAX_TRIANGLES), _env("AUTORIG_MAX_VERTICES", MAX_VERTICES)


def too_many_distinct(vertices: int, merged: int) -> None:
    """Raise ``too_large`` when, after split copies were merged (``merged`` of them), more than
    MAX_DISTINCT_VERTICES vertices are left (AUTORIG_MAX_DISTINCT_VERTICES may say otherwise)."""
    limit = _env("AUTORIG_MAX_DISTINCT_VERTICES", MAX_DISTINCT_VERTICES)
    if vertices > limit:
        copies = f" ({merged:,} split copies merged)" if merged else ""
        raise RigError(
            "too_large",
            f"the model has {vertices:,} vertices at distinct places{copies}; the limit is {limit:,} (decimate it first)",
        )


def too_large(triangles: int, vertices: int) -> None:
    """Raise ``too_large`` when a model is beyond the limits."""
    max_triangles, max_vertices = limits()
    if triangles > max_triangles:
        raise RigError("too_large", f"the model has {triangles:,} triangles; the limit is {max_triangles:,} (decimate it first)")
    if vertices > max_vertices:
        raise RigError("too_large", f"the model has {vertices:,} vertices; the limit is {max_vertices:,} (decimate it first)")


def inside(root: Path, name: str, base: Path) -> Path | None:
    """The real path of the file ``name`` (relative to the folder ``base``) if it is a regular
    file inside ``root``, else None: absolute paths, URLs (``file:``, ``http:``...), ``..``
    escapes and symlinks out of ``root`` are all refused."""
    name = name.strip().replace("\\", "/")
    if not name or "\x00" in name:
        return None
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", name):  # a scheme, or a Windows drive letter
        return None
    if name.startswith("/"):
        return None
    try:
        real_root = root.resolve(strict=True)
        real = (base / name).resolve(strict=True)
    except (OSError, RuntimeError):  # missing, or a symlink loop
        return None
    if real_root not in real.parents or not real.is_file():
        return None
    return real


def beside(root: Path, name: str, base: Path, warnings: list[str]) -> Path | None:
    """For a texture reference that points elsewhere (an artist's absolute path such as
    ``C:\\Users\\me\\Desktop\\skin.png``, or a folder the upload does not have): the file of the
    same name in ``base``, the model's own folder, checked like any reference (so still only
    inside ``root``); said in ``warnings`` when found."""
    leaf = name.strip().replace("\\", "/").rsplit("/", 1)[-1]
    if leaf in ("", ".", "..") or leaf == name.strip():
        return None
    real = inside(root, leaf, base)
    if real is not None:
        warnings.append(f"texture {name[:100]!r} found by its file name in the model's folder")
    return real


def _copy_in(real: Path, workdir: Path, n: int) -> str:
    """Copy a checked file into the private folder; returns its new (relative) name."""
    suffix = re.sub(r"[^A-Za-z0-9.]", "", real.suffix)[:10]
    new = f"ref_{n}{suffix}"
    shutil.copyfile(real, workdir / new)
    return new


# --- glTF ---------------------------------------------------------------------------------------


def _depth(doc: object) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if d > MAX_JSON_DEPTH:
            return d
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node)
    return deepest


def _parse_json(data: bytes, label: str) -> dict:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except RecursionError:
        raise RigError("corrupt_file", f"the {label} JSON nests too deep to be glTF") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise RigError("corrupt_file", f"not a glTF file (invalid JSON: {exc})") from None
    if not isinstance(doc, dict) or "asset" not in doc:
        raise RigError("corrupt_file", "not a glTF file (no 'asset' in the JSON)")
    if _depth(doc) > MAX_JSON_DEPTH:
        raise RigError("corrupt_file", f"the {label} JSON nests deeper than {MAX_JSON_DEPTH} levels: not glTF")
    version = str((doc.get("asset") or {}).get("version", "")) if isinstance(doc.get("asset"), dict) else ""
    if not version.startswith("2"):
        raise RigError("unsupported_format", f"glTF version {version or '(none)'} is not supported (use glTF 2.0)")
    return doc


def read_glb(data: bytes, label: str = "GLB") -> tuple[dict, bytes | None]:
    """(JSON document, BIN chunk) of a GLB; ``corrupt_file`` for any chunk past the end."""
    if len(data) < 20 or data[:4] != GLB_MAGIC:
        raise RigError("corrupt_file", f"the {label} file is truncated ({len(data)} bytes)")
    version, length = struct.unpack_from("<II", data, 4)
    if version != 2:
        raise RigError("unsupported_format", f"glTF version {version} is not supported (use glTF 2.0)")
    if length > len(data):
        raise RigError("corrupt_file", f"the {label} file is truncated ({len(data)} of {length} bytes)")
    offset, doc, binary = 12, None, None
    while offset + 8 <= length:
        chunk_len, chunk_type = struct.unpack_from("<II", data, offset)
        start, end = offset + 8, offset + 8 + chunk_len
        if end > length:
            raise RigError("corrupt_file", f"a {label} chunk claims {chunk_len:,} bytes, past the end of the file")
        if doc is None:
            if chunk_type != CHUNK_JSON:
                raise RigError("corrupt_file", f"the {label} file does not start with its JSON chunk")
            doc = _parse_json(data[start:end], label)
        elif chunk_type == CHUNK_BIN and binary is None:
            binary = data[start:end]
        offset = end + (-chunk_len % 4)
    if doc is None:
        raise RigError("corrupt_file", f"the {label} file has no JSON chunk")
    return doc, binary


def _items(doc: dict, key: str) -> list:
    items = doc.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise RigError("corrupt_file", f"the glTF '{key}' is not a list of objects")
    return items


def _int(value: object, what: str, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RigError("corrupt_file", f"the glTF {what} is not a count ({value!r})")
    return value


def _check_buffers(doc: dict, root: Path, base: Path, workdir: Path, binary: bytes | None) -> list[int]:
    """Confine buffer URIs (or refuse the file); returns each buffer's available byte length."""
    lengths = []
    for i, buf in enumerate(_items(doc, "buffers")):
        declared = _int(buf.get("byteLength"), f"buffers[{i}].byteLength")
        uri = buf.get("uri")
        if uri is None:
            fallback = (buf.get("extensions") or {}).get("EXT_meshopt_compression", {}).get("fallback")
            if i == 0 and binary is not None:
                lengths.append(len(binary))
            elif fallback:  # placeholder for compressed data decoded elsewhere: never read as is
                lengths.append(declared)
            else:
                raise RigError("corrupt_file", f"glTF buffer {i} has no data (no uri and no GLB binary chunk)")
            continue
        if not isinstance(uri, str):
            raise RigError("corrupt_file", f"glTF buffer {i} has a uri that is not text")
        if uri.startswith("data:"):
            lengths.append(declared)  # embedded: the importer decodes it; its length is checked there
            continue
        real = inside(root, unquote(uri), base)
        if real is None:
            raise RigError(
                "corrupt_file", f"glTF buffer {i} refers to a file outside the model's folder or missing: {uri[:100]!r}"
            )
        buf["uri"] = _copy_in(real, workdir, len(os.listdir(workdir)))
        lengths.append(real.stat().st_size)
    return lengths


def _check_images(doc: dict, root: Path, base: Path, workdir: Path, warnings: list[str]) -> None:
    for i, image in enumerate(_items(doc, "images")):
        uri = image.get("uri")
        if uri is None or (isinstance(uri, str) and uri.startswith("data:")):
            continue
        real = inside(root, unquote(uri), base) if isinstance(uri, str) else None
        if real is None and isinstance(uri, str):
            real = beside(root, unquote(uri), base, warnings)
        if real is None:
            image["uri"] = BLANK_PNG_URI
            image.pop("mimeType", None)
            label = image.get("name") or f"image {i}"
            warnings.append(
                f"texture {label} dropped: it refers to a file outside the model's folder or missing ({str(uri)[:100]!r})"
            )
        else:
            image["uri"] = _copy_in(real, workdir, len(os.listdir(workdir)))


def _check_accessors(doc: dict, buffer_lengths: list[int]) -> list[int]:
    """Every accessor's reads stay inside its buffer view and buffer; returns their counts."""
    views = _items(doc, "bufferViews")
    for i, view in enumerate(views):
        b = _int(view.get("buffer"), f"bufferViews[{i}].buffer")
        if b >= len(buffer_lengths):
            raise RigError("corrupt_file", f"glTF buffer view {i} names buffer {b}, which does not exist")
        start = _int(view.get("byteOffset"), f"bufferViews[{i}].byteOffset", 0)
        end = start + _int(view.get("byteLength"), f"bufferViews[{i}].byteLength")
        if end > buffer_lengths[b]:
            raise RigError(
                "corrupt_file", f"glTF buffer view {i} ends at byte {end:,}, past its buffer ({buffer_lengths[b]:,} bytes)"
            )
    counts = []
    for i, acc in enumerate(_items(doc, "accessors")):
        count = _int(acc.get("count"), f"accessors[{i}].count")
        counts.append(count)
        if count > 3 * limits()[0]:
            too_large(count // 3, count)
        size = COMPONENT_BYTES.get(acc.get("componentType")), TYPE_COMPONENTS.get(acc.get("type"))
        if None in size:
            raise RigError("corrupt_file", f"glTF accessor {i} has an unknown type")
        element = size[0] * size[1]
        v = acc.get("bufferView")
        if v is None or count == 0:
            continue
        v = _int(v, f"accessors[{i}].bufferView")
        if v >= len(views):
            raise RigError("corrupt_file", f"glTF accessor {i} names buffer view {v}, which does not exist")
        stride = _int(views[v].get("byteStride"), f"bufferViews[{v}].byteStride", 0) or element
        end = _int(acc.get("byteOffset"), f"accessors[{i}].byteOffset", 0) + stride * (count - 1) + element
        if end > _int(views[v].get("byteLength"), f"bufferViews[{v}].byteLength"):
            raise RigError("corrupt_file", f"glTF accessor {i} ({count:,} items) reads past the end of its buffer view")
    return counts


def _buffer_bytes(buf: dict, binary: bytes | None, workdir: Path) -> bytes | None:
    """A buffer's bytes: the GLB chunk, a data URI, or the checked copy in ``workdir``."""
    uri = buf.get("uri")
    if uri is None:
        return binary
    if uri.startswith("data:"):
        try:
            return base64.b64decode(uri.split(",", 1)[1], validate=False)
        except (IndexError, binascii.Error, ValueError):
            raise RigError("corrupt_file", "a glTF buffer's data URI is not valid base64") from None
    return (workdir / uri).read_bytes()


def _check_positions(doc: dict, binary: bytes | None, workdir: Path) -> None:
    """``corrupt_file`` when a mesh's float positions hold NaN or infinite coordinates (the
    importer would carry them into the skeleton fitting as garbage)."""
    accessors, views, buffers = doc.get("accessors", []), doc.get("bufferViews", []), doc.get("buffers", [])
    wanted = set()
    for mesh in doc.get("meshes", []):
        for prim in mesh.get("primitives", []) if isinstance(mesh.get("primitives"), list) else []:
            if isinstance(prim, dict) and isinstance(prim.get("attributes"), dict):
                wanted.add(prim["attributes"].get("POSITION"))
    loaded: dict[int, bytes | None] = {}
    for a in sorted(i for i in wanted if isinstance(i, int) and 0 <= i < len(accessors)):
        acc = accessors[a]
        if acc.get("componentType") != 5126 or acc.get("type") != "VEC3" or acc.get("bufferView") is None:
            continue
        view = views[acc["bufferView"]]
        if view.get("extensions"):  # compressed (meshopt): the buffer does not hold plain floats
            continue
        b = view["buffer"]
        if b not in loaded:
            loaded[b] = _buffer_bytes(buffers[b], binary if b == 0 else None, workdir)
        data = loaded[b]
        count = acc["count"]
        if data is None or count == 0:
            continue
        start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
        stride = view.get("byteStride") or 12
        if start + stride * (count - 1) + 12 > len(data):
            raise RigError("corrupt_file", f"glTF accessor {a} reads past the end of its buffer")
        co = np.ndarray((count, 3), dtype="<f4", buffer=data, offset=start, strides=(stride, 4))
        bad = int((~np.isfinite(co).all(axis=1)).sum())
        if bad:
            raise RigError("corrupt_file", f"{bad:,} of {count:,} vertices have no valid position (NaN or infinite coordinates)")


def _gltf_size(doc: dict, counts: list[int]) -> tuple[int, int]:
    """(triangles, vertices) the scene's meshes make, each mesh counted once per node using it."""
    meshes = _items(doc, "meshes")

    def acc_count(i: object) -> int:
        return counts[i] if isinstance(i, int) and 0 <= i < len(counts) else 0

    per_mesh = []
    for mesh in meshes:
        tris = verts = 0
        for prim in mesh.get("primitives", []) if isinstance(mesh.get("primitives"), list) else []:
            if not isinstance(prim, dict) or not isinstance(prim.get("attributes"), dict):
                continue
            n = acc_count(prim["attributes"].get("POSITION"))
            idx = acc_count(prim["indices"]) if "indices" in prim else n
            mode = prim.get("mode", 4)
            tris += idx // 3 if mode == 4 else max(0, idx - 2) if mode in (5, 6) else 0
            verts += n
        per_mesh.append((tris, verts))
    uses = [n.get("mesh") for n in _items(doc, "nodes") if isinstance(n.get("mesh"), int)]
    uses = [m for m in uses if 0 <= m < len(per_mesh)] or list(range(len(per_mesh)))
    return sum(per_mesh[m][0] for m in uses), sum(per_mesh[m][1] for m in uses)


def prepare_gltf(path: Path, root: Path, workdir: Path) -> Prepared:
    """Check a .gltf/.glb/.vrm and write the copy to import into ``workdir``."""
    data = path.read_bytes()
    is_glb = formats.reads_as(path.suffix) == "glb"
    label = path.suffix.lstrip(".").upper()
    doc, binary = read_glb(data, label) if is_glb else (_parse_json(data, "glTF"), None)
    warnings: list[str] = []
    before = json.dumps(doc, separators=(",", ":"))
    lengths = _check_buffers(doc, root, path.parent, workdir, binary)
    _check_images(doc, root, path.parent, workdir, warnings)
    counts = _check_accessors(doc, lengths)
    triangles, vertices = _gltf_size(doc, counts)
    too_large(triangles, vertices)
    _check_positions(doc, binary, workdir)
    if json.dumps(doc, separators=(",", ":")) == before:  # no external file named: import it as it is
        return Prepared(path, warnings, triangles, vertices)
    out = workdir / ("model.glb" if is_glb else "model.gltf")
    text = json.dumps(doc, separators=(",", ":")).encode()
    if is_glb:
        text += b" " * (-len(text) % 4)
        chunks = struct.pack("<II", len(text), CHUNK_JSON) + text
        if binary is not None:
            pad = binary + b"\x00" * (-len(binary) % 4)
            chunks += struct.pack("<II", len(pad), CHUNK_BIN) + pad
        out.write_bytes(GLB_MAGIC + struct.pack("<II", 2, 12 + len(chunks)) + chunks)
    else:
        out.write_bytes(text)
    return Prepared(out, warnings, triangles, vertices)


# --- FBX ----------------------------------------------------------------------------------------

# A binary FBX property ``PolygonVertexIndex`` (name length 18) holding an int32 array ('i'),
# followed by the array's length.
FBX_POLYGON_INDEX = b"\x12PolygonVertexIndexi"


def fbx_min_triangles(path: Path) -> int:
    """At least this many triangles are in a binary FBX: each polygon of k corners is k-2 >= k/3
    triangles, so a third of every ``PolygonVertexIndex`` array's length. Read without
    decompressing anything (a scan for the property's header)."""
    data = path.read_bytes()
    corners, at = 0, data.find(FBX_POLYGON_INDEX)
    while at >= 0 and at + len(FBX_POLYGON_INDEX) + 4 <= len(data):
        (n,) = struct.unpack_from("<I", data, at + len(FBX_POLYGON_INDEX))
        corners += n
        at = data.find(FBX_POLYGON_INDEX, at + 1)
    return corners // 3


# --- OBJ ----------------------------------------------------------------------------------------


def _mtl_texture(rest: str) -> tuple[str, str]:
    """Split an MTL map statement's arguments into (options, file name)."""
    tokens = rest.split()
    i = 0
    while i < len(tokens) and tokens[i].lower() in MTL_OPTION_ARGS:
        n = MTL_OPTION_ARGS[tokens[i].lower()]
        i += 1
        taken = 0
        while taken < n and i < len(tokens) - 1 and (taken == 0 or re.match(r"^-?[0-9.]+$", tokens[i])):
            i += 1
            taken += 1
    return " ".join(tokens[:i]), " ".join(tokens[i:])


def _prepare_mtl(real: Path, root: Path, workdir: Path, warnings: list[str]) -> str:
    """A copy of the MTL file in ``workdir`` whose texture maps are confined; returns its name."""
    lines = []
    for raw in real.read_text("utf-8", "replace").splitlines():
        parts = raw.strip().split(None, 1)
        if len(parts) == 2 and MTL_MAPS.match(parts[0]):
            options, name = _mtl_texture(parts[1])
            tex = inside(root, name, real.parent) or beside(root, name, real.parent, warnings)
            if tex is None:
                warnings.append(f"texture {name[:100]!r} dropped: it is outside the model's folder or missing")
                continue
            raw = f"{parts[0]} {options} {_copy_in(tex, workdir, len(os.listdir(workdir)))}".replace("  ", " ")
        lines.append(raw)
    new = f"mtl_{len(os.listdir(workdir))}.mtl"
    (workdir / new).write_text("\n".join(lines) + "\n")
    return new


def _finite_vertex(line: bytes) -> bool:
    try:
        return all(np.isfinite(float(t)) for t in line.split()[1:4])
    except ValueError:
        return True  # not a number at all: the importer's business


def prepare_obj(path: Path, root: Path, workdir: Path) -> Prepared:
    """Copy an OBJ into ``workdir`` with its MTL files confined and its size counted."""
    warnings: list[str] = []
    triangles = vertices = 0
    max_triangles, max_vertices = limits()
    out = workdir / "model.obj"
    with open(path, "rb") as src, open(out, "wb") as dst:
        for line in src:
            head = line[:2]
            if head == b"f " or head == b"f\t":
                corners = len(line.split()) - 1
                triangles += max(0, corners - 2)
                if triangles > max_triangles:
                    too_large(triangles, vertices)
            elif head == b"v " or head == b"v\t":
                vertices += 1
                if vertices > max_vertices:
                    too_large(triangles, vertices)
                if b"n" in line.lower() and not _finite_vertex(line):  # nan, inf (Blender reads them as 0)
                    raise RigError("corrupt_file", f"vertex {vertices:,} has no valid position (NaN or infinite coordinates)")
            elif line.lstrip().startswith(b"mtllib"):
                names = line.decode("utf-8", "replace").split(None, 1)[1:]
                name = names[0].strip() if names else ""
                real = inside(root, name, path.parent) if name else None
                if real is None:
                    warnings.append(f"material library {name[:100]!r} dropped: it is outside the model's folder or missing")
                    continue
                line = f"mtllib {_prepare_mtl(real, root, workdir, warnings)}\n".encode()
            dst.write(line)
    return Prepared(out, warnings, triangles, vertices)
