"""The content check of uploads: what each format looks like, and what is refused."""

import json

import pytest
from webkit import TINY_FBX, TINY_GLB, TINY_OBJ

from autorig.web.domains.tasks.formats import FormatSniffer, sniff_bytes


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (TINY_GLB, "glb"),
        (json.dumps({"asset": {"version": "2.0"}, "scenes": []}).encode(), "gltf"),
        (b'\xef\xbb\xbf  {"asset": {"version": "2.0"}}', "gltf"),
        (TINY_FBX, "fbx"),
        (b"; FBX 7.4.0 project file\n; ----\nFBXHeaderExtension:  {\n", "fbx"),
        (TINY_OBJ, "obj"),
        (b"v 0 0 0\nvn 0 0 1\nvt 0 0\nf 1/1/1 1/1/1 1/1/1\n", "obj"),
        (b"PK\x03\x04" + b"\x00" * 40, "zip"),
    ],
)
def test_recognises_each_format(data: bytes, fmt: str) -> None:
    assert sniff_bytes(data) == fmt


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 30,
        b'{"hello": "world"}',
        b"<html><body>not a model</body></html>",
        b"hello world\nthis is text\n",
        b"v 0 0 0\n\x00\x01binary",
    ],
)
def test_refuses_what_is_not_a_model(data: bytes) -> None:
    assert sniff_bytes(data) is None


def test_gltf_asset_key_found_after_megabytes_and_across_chunks() -> None:
    big = b'{"buffers": [{"uri": "data:application/octet-stream;base64,' + b"A" * 3_000_000 + b'"}], "as'
    s = FormatSniffer()
    s.feed(big)
    s.feed(b'set": {"version": "2.0"}}')
    assert s.result() == "gltf"


def _refusal(data: bytes) -> str | None:
    from autorig.web.domains.tasks.formats import refusal

    s = FormatSniffer()
    s.feed(data)
    return refusal(s)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"; FBX 7.4.0 project file\nFBXHeaderExtension:  {\n}\n", "ASCII FBX"),
        (TINY_FBX[:23] + (6100).to_bytes(4, "little") + b"\x00" * 8, "6.1 is too old"),
        (b"glTF" + (1).to_bytes(4, "little") + b"\x00" * 8, "glTF version 1"),
        (b"glTF\x02\x00", "truncated"),
    ],
)
def test_refuses_at_upload_what_the_engine_refuses(data: bytes, words: str) -> None:
    """The engine's check (blender/scene.py sniff) and the upload agree (issue 11)."""
    assert words in (_refusal(data) or "")


def test_accepts_what_the_engine_reads() -> None:
    from autorig.web.domains.tasks.formats import FORMATS, format_from_name

    for data in (TINY_GLB, TINY_FBX, TINY_OBJ):
        assert _refusal(data) is None
    assert "vrm" in FORMATS and format_from_name("https://x.test/avatar.VRM") == "vrm"
