"""The content check of uploads: what each format looks like, and what is refused."""

import json

import pytest

from autorig.web.domains.tasks.formats import FormatSniffer, sniff_bytes
from webkit import TINY_FBX, TINY_GLB, TINY_OBJ


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (TINY_GLB, "glb"),
        (json.dumps({"asset": {"version": "2.0"}, "scenes": []}).encode(), "gltf"),
        (b"\xef\xbb\xbf  {\"asset\": {\"version\": \"2.0\"}}", "gltf"),
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
