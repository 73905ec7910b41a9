"""Plain functions that write test inputs: broken files, odd archives, simple shapes.

Each takes the path to write and returns it, so a test reads as
``autorig_rig(write_garbage(tmp_path / "x.glb"))``. No Blender needed.
"""

from __future__ import annotations

import json
import shutil
import struct
import zipfile
import zlib
from pathlib import Path


def write_garbage(path: Path, size: int = 4096, seed: int = 7) -> Path:
    """Bytes that are no format at all (a fixed pseudo-random sequence)."""
    state, out = seed, bytearray()
    while len(out) < size:
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(state >> 16 & 0xFF)
    path.write_bytes(bytes(out))
    return path


def write_empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def write_truncated(src: Path, path: Path, fraction: float = 0.5) -> Path:
    """The first ``fraction`` of a real file, as an interrupted upload leaves it."""
    data = src.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def write_gltf_without_meshes(path: Path) -> Path:
    """A valid glTF 2.0 scene holding only an empty node and a camera."""
    doc = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0, 1]}],
        "nodes": [{"name": "Empty"}, {"name": "Camera", "camera": 0, "translation": [0, 1, 5]}],
        "cameras": [{"type": "perspective", "perspective": {"yfov": 0.8, "znear": 0.1}}],
    }
    path.write_text(json.dumps(doc))
    return path


def write_empty_gltf(path: Path) -> Path:
    """A valid glTF 2.0 file with nothing in it."""
    path.write_text(json.dumps({"asset": {"version": "2.0"}}))
    return path


def write_ascii_fbx(path: Path) -> Path:
    path.write_text("; FBX 7.4.0 project file\nFBXHeaderExtension:  {\n\tFBXHeaderVersion: 1003\n}\n")
    return path


def write_cube_obj(path: Path, size: float = 1.0) -> Path:
    """A closed cube: a mesh, but nothing like a biped."""
    s = size / 2
    verts = [(x, y, z) for x in (-s, s) for y in (-s, s) for z in (0.0, size)]
    faces = [(1, 2, 4, 3), (5, 7, 8, 6), (1, 5, 6, 2), (3, 4, 8, 7), (1, 3, 7, 5), (2, 6, 8, 4)]
    lines = [f"v {x} {y} {z}" for x, y, z in verts] + ["f " + " ".join(map(str, f)) for f in faces]
    path.write_text("o Cube\n" + "\n".join(lines) + "\n")
    return path


def write_png(path: Path, width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (200, 40, 40), text: bytes = b"") -> Path:
    """A solid-colour RGB PNG; ``text`` goes into a tEXt chunk (a marker to look for in outputs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    if text:
        png += chunk(b"tEXt", b"Comment\x00" + text)
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    path.write_bytes(png)
    return path


def write_obj_zip(obj: Path, path: Path, texture: str | None = "skin.png", folder: str = "model") -> Path:
    """A zip of an OBJ, its MTL and (optionally) a PNG that the first material uses as its
    base colour, under ``folder/`` as people zip them."""
    work = path.parent / (path.stem + "_files")
    work.mkdir(parents=True, exist_ok=True)
    mtl_src = obj.with_suffix(".mtl")
    mtl = mtl_src.read_text() if mtl_src.exists() else ""
    if texture:
        write_png(work / texture)
        first = mtl.find("newmtl")
        if first >= 0:
            end = mtl.find("\n", first)
            mtl = mtl[: end + 1] + f"map_Kd {texture}\n" + mtl[end + 1 :]
    shutil.copyfile(obj, work / obj.name)
    (work / mtl_src.name).write_text(mtl)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(work.iterdir()):
            zf.write(f, f"{folder}/{f.name}")
    return path


def write_zip_without_model(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "no model here")
    return path


def write_zip_slip(path: Path) -> Path:
    """A zip whose member would land outside the folder it is unpacked into."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("../../escaped.obj", "v 0 0 0\n")
    return path


def read_glb(path: Path) -> tuple[dict, bytes]:
    """(JSON, BIN chunk) of a GLB file."""
    data = path.read_bytes()
    n = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20 : 20 + n])
    m = struct.unpack_from("<I", data, 20 + n)[0]
    return doc, data[28 + n : 28 + n + m]


def write_glb(doc: dict, binary: bytes, path: Path) -> Path:
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\x00" * (-len(binary) % 4)
    body = struct.pack("<II", len(text), 0x4E4F534A) + text + struct.pack("<II", len(binary), 0x004E4942) + binary
    path.write_bytes(b"glTF" + struct.pack("<II", 2, 12 + len(body)) + body)
    return path


def write_gltf_with_images(src_glb: Path, folder: Path, image_uris: list[str], buffer_uri: str = "model.bin") -> Path:
    """``folder/model.gltf`` (+ its buffer file) from a GLB, its first material using one
    texture per entry of ``image_uris`` (base colour, normal, emissive, occlusion), each image
    named by that uri; the buffer is named ``buffer_uri``."""
    folder.mkdir(parents=True, exist_ok=True)
    doc, binary = read_glb(src_glb)
    if buffer_uri == "model.bin":
        (folder / "model.bin").write_bytes(binary)
    doc["buffers"] = [{"byteLength": len(binary), "uri": buffer_uri}]
    doc["images"] = [{"uri": u, "name": f"ref{i}"} for i, u in enumerate(image_uris)]
    doc["samplers"] = doc.get("samplers") or [{}]
    doc["textures"] = [{"source": i, "sampler": 0} for i in range(len(image_uris))]
    slots = ("baseColorTexture", "normalTexture", "emissiveTexture", "occlusionTexture")
    for mat in doc["materials"]:
        pbr = mat.setdefault("pbrMetallicRoughness", {})
        pbr.pop("baseColorTexture", None)
    mat = doc["materials"][0]
    for i, slot in enumerate(slots[: len(image_uris)]):
        target = mat["pbrMetallicRoughness"] if slot == "baseColorTexture" else mat
        target[slot] = {"index": i}
        if slot == "emissiveTexture":
            mat["emissiveFactor"] = [1, 1, 1]
    path = folder / "model.gltf"
    path.write_text(json.dumps(doc))
    return path


def write_obj_with_maps(obj: Path, folder: Path, maps: list[str]) -> Path:
    """``folder/<obj>`` and its MTL, whose first material names each of ``maps`` as a texture."""
    folder.mkdir(parents=True, exist_ok=True)
    mtl_src = obj.with_suffix(".mtl")
    mtl = mtl_src.read_text() if mtl_src.exists() else "newmtl skin\n"
    first = mtl.find("newmtl")
    end = mtl.find("\n", first)
    keys = ("map_Kd", "map_Bump -bm 1.0", "map_Ks", "map_d", "bump", "map_Ke")
    lines = "".join(f"{keys[i % len(keys)]} {m}\n" for i, m in enumerate(maps))
    (folder / mtl_src.name).write_text(mtl[: end + 1] + lines + mtl[end + 1 :])
    shutil.copyfile(obj, folder / obj.name)
    return folder / obj.name


def write_zip_with_symlink(obj: Path, path: Path, link_target: str) -> Path:
    """A zip of an OBJ whose MTL uses ``skin.png``, stored as a symlink to ``link_target``."""
    mtl_src = obj.with_suffix(".mtl")
    mtl = mtl_src.read_text() if mtl_src.exists() else "newmtl skin\n"
    first = mtl.find("newmtl")
    end = mtl.find("\n", first)
    mtl = mtl[: end + 1] + "map_Kd skin.png\n" + mtl[end + 1 :]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(obj, f"model/{obj.name}")
        zf.writestr(f"model/{mtl_src.name}", mtl)
        link = zipfile.ZipInfo("model/skin.png")
        link.create_system = 3  # Unix: the mode below is read
        link.external_attr = 0o120777 << 16  # a symlink
        zf.writestr(link, link_target)
    return path


def eval_characters() -> list[Path]:
    """One model file per development character in ``eval/unrigged`` (GLB first), for tests
    that must hold on every character; empty when the data is missing."""
    import os

    root = Path(os.environ.get("AUTORIG_EVAL_DATA", Path(__file__).resolve().parents[3] / "shared" / "eval"))
    folder = root / "unrigged"
    if not folder.is_dir():
        return []
    chosen: dict[str, Path] = {}
    order = {".glb": 0, ".fbx": 1, ".obj": 2}
    for path in sorted(folder.iterdir(), key=lambda p: order.get(p.suffix.lower(), 9)):
        if path.suffix.lower() in order:
            chosen.setdefault(path.stem, path)
    return [chosen[k] for k in sorted(chosen)]
