"""Which model format a byte stream really is, from its content (never trust the file name).

GLB: ``glTF`` magic. glTF: JSON whose text has an ``"asset"`` key. FBX: ``Kaydara FBX Binary``
or an ASCII FBX header. OBJ: text whose first statements are OBJ keywords. ZIP: ``PK\\x03\\x04``
(a glTF or OBJ with its textures; the worker unpacks it).
"""

from __future__ import annotations

HEAD_BYTES = 64 * 1024  # enough to see the header of every format, and the first OBJ lines
OBJ_LINES_CHECKED = 50  # statements that must all be OBJ keywords
OBJ_KEYWORDS = frozenset(
    {"v", "vt", "vn", "vp", "f", "l", "p", "o", "g", "s", "mtllib", "usemtl", "cstype", "deg", "curv", "surf", "parm"}
)
FORMATS = ("glb", "gltf", "fbx", "obj", "zip")


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
        if head.startswith(b"glTF"):
            return "glb"
        if head.startswith(b"PK\x03\x04"):
            return "zip"
        if head.startswith(b"Kaydara FBX Binary"):
            return "fbx"
        if b"\x00" in head:
            return None
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
        if text.startswith("{"):
            return "gltf" if self._saw_asset else None
        if text.startswith("; FBX") or "FBXHeaderExtension:" in text:
            return "fbx"
        return "obj" if _looks_like_obj(text, complete=len(self.head) < HEAD_BYTES) else None


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
