"""Which model format a byte stream really is, from its content (never trust the file name),
and whether the engine can read it.

GLB: ``glTF`` magic (a VRM is a GLB; the name tells them apart). glTF: JSON whose text has an
``"asset"`` key. FBX: ``Kaydara FBX Binary`` or an ASCII FBX header. OBJ: text whose first
statements are OBJ keywords. ZIP: ``PK\\x03\\x04`` (a model with its textures; the worker
unpacks it).

Which formats, versions and zip limits are accepted is ``autorig.formats``, the table the engine
(``blender/scene.py``) reads too: glTF 2.0 only, binary FBX 7.1 or later (ASCII FBX is refused),
and a zip must hold a model file and unpack inside itself within the engine's limits.
The whole file is checked once received (``file_refusal``): the glTF JSON (a GLB's JSON chunk)
must parse, however deep an attacker nests it, and GLB lengths must stay inside the file.
"""

from __future__ import annotations

import json
import posixpath
import struct
import zipfile
from pathlib import Path

from autorig import formats

HEAD_BYTES = 64 * 1024  # enough to see the header of every format, and the first OBJ lines
OBJ_LINES_CHECKED = 50  # statements that must all be OBJ keywords
OBJ_KEYWORDS = frozenset(
    {"v", "vt", "vn", "vp", "f", "l", "p", "o", "g", "s", "mtllib", "usemtl", "cstype", "deg", "curv", "surf", "parm"}
)
FORMATS = formats.FORMATS
GLB_JSON_CHUNK = 0x4E4F534A  # "JSON", the first chunk of every GLB


class FormatSniffer:
    """Feed the stream chunk by chunk; ``result()`` names the format or ``None``."""

    def __init__(self) -> None:
        self.head = bytearray()
        self._tail = b""
        self._saw_asset = False

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        if not self._saw_asset:
            # glTF JSON may put "asset" after megabytes of embedded buffers: look everywhere,
            # across chunk boundaries.
            window = self._tail + chunk
            self._saw_asset = b'"asset"' in window
            self._tail = window[-8:]

    def result(self) -> str | None:
        head = bytes(self.head)
        binary = formats.by_magic(head)
        if binary is not None:
            return binary.name
        if b"\x00" in head:
            return None
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
        if text.startswith("{"):
            return "gltf" if self._saw_asset else None
        if text.startswith("; FBX") or "FBXHeaderExtension:" in text:
            return "fbx"
        return "obj" if _looks_like_obj(text, complete=len(self.head) < HEAD_BYTES) else None


def refusal(sniffer: FormatSniffer) -> str | None:
    """Why a file of a recognised kind cannot be rigged (the engine would refuse it), else None."""
    head = bytes(sniffer.head)
    fmt = sniffer.result()
    if fmt == "glb":
        if len(head) < 12:
            return "the GLB file is truncated (shorter than its 12-byte header)"
        (version,) = struct.unpack_from("<I", head, 4)
        if version != formats.GLTF_VERSION:
            return f"glTF version {version} is not supported: export glTF {formats.GLTF_VERSION}.0"
    if fmt == "fbx":
        if not head.startswith(formats.FBX_BINARY_MAGIC):
            return "ASCII FBX is not supported: export a binary FBX (7.1 or later)"
        if len(head) < 27:
            return "the FBX file is truncated"
        (version,) = struct.unpack_from("<I", head, 23)
        if version < formats.FBX_MIN_VERSION:
            return f"FBX version {version / 1000:.1f} is too old: export FBX 7.1 or later"
    return None


def file_refusal(path: Path, fmt: str) -> str | None:
    """The whole-file checks of an upload (after ``refusal`` looked at its head): a zip's
    directory, a glTF's JSON (GLB: its JSON chunk) parsed in full, so a file nested thousands
    deep or with chunk lengths past its end is refused here as corrupt, not in the engine."""
    if fmt == "zip":
        return zip_refusal(path)
    if formats.reads_as(fmt) == "glb":
        return _glb_refusal(path)
    if fmt == "gltf":
        return _json_refusal(path.read_bytes(), "glTF")
    return None


def _glb_refusal(path: Path) -> str | None:
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(20)
        if len(head) < 20:
            return "the GLB file is truncated (no JSON chunk)"
        _, _, length, chunk_len, chunk_type = struct.unpack("<4sIIII", head)
        if length > size:
            return f"the GLB file is truncated ({size} of the {length} bytes its header gives)"
        if chunk_type != GLB_JSON_CHUNK:
            return "not a valid GLB file (its first chunk is not JSON)"
        if 20 + chunk_len > size:
            return f"not a valid GLB file (its JSON chunk claims {chunk_len} bytes, past the end of the file)"
        return _json_refusal(f.read(chunk_len), "GLB")


def _json_refusal(data: bytes, label: str) -> str | None:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except RecursionError:
        return f"not a valid {label} file (its JSON is nested too deeply)"
    except (UnicodeDecodeError, ValueError) as exc:
        return f"not a valid {label} file (invalid JSON: {str(exc)[:200]})"
    if not isinstance(doc, dict) or "asset" not in doc:
        return f"not a valid {label} file (no 'asset' in its JSON)"
    return None


def zip_refusal(path: Path) -> str | None:
    """Why a zip upload cannot be rigged (reads only its directory), else None."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return f"not a valid zip archive: {exc}"
    if len(infos) > formats.ZIP_MAX_MEMBERS:
        return f"the zip holds {len(infos)} files (limit {formats.ZIP_MAX_MEMBERS})"
    if sum(i.file_size for i in infos) > formats.ZIP_MAX_UNPACKED:
        return "the zip expands to more than 1 GiB"
    for i in infos:
        # Python's zipfile reads "\\" as "/" and the engine resolves each member below its folder.
        member = posixpath.normpath(i.filename.replace("\\", "/"))
        if member.startswith(("/", "../")) or member == ".." or ":" in member.split("/", 1)[0]:
            return f"a zip member escapes the archive: {i.filename[:200]!r}"
        if (i.external_attr >> 16) & 0o170000 == 0o120000:  # a Unix symlink member
            return f"a zip member is a symbolic link: {i.filename[:200]!r}"
    if not any(Path(i.filename).suffix.lower() in formats.MODEL_SUFFIXES and "__MACOSX" not in i.filename for i in infos):
        return f"the zip holds no {formats.listed(suffixes=True, models_only=True)} file"
    return None


def _looks_like_obj(text: str, *, complete: bool) -> bool:
    lines = text.splitlines()
    if not complete and lines:
        lines = lines[:-1]  # the head may cut the last line in half
    seen = 0
    geometry = False
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword = line.split(None, 1)[0]
        if keyword not in OBJ_KEYWORDS:
            return False
        geometry |= keyword in ("v", "f", "mtllib", "o", "g")
        seen += 1
        if seen >= OBJ_LINES_CHECKED:
            break
    return seen > 0 and geometry


def sniff_bytes(data: bytes) -> str | None:
    s = FormatSniffer()
    s.feed(data)
    return s.result()


def format_from_name(name: str) -> str | None:
    """The format an URL's or file's extension claims (for ``input_url`` tasks)."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return ext if ext in FORMATS else None
