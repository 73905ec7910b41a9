"""Uploads stream to disk: the limit holds without Content-Length (chunked), nothing is left
behind, and a big allowed file arrives intact."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from webkit import TINY_GLB, free_port, running_backend, web_settings

pytestmark = pytest.mark.asyncio
BOUNDARY = "autorigtestboundary"


def _chunked_body(head: bytes, filler_mb: int):
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.glb"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + head
    for _ in range(filler_mb * 16):
        yield b"\x00" * 65536
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


async def test_chunked_upload_over_the_limit_is_refused(tmp_path: Path, sqlite_url: str) -> None:
    settings = web_settings(tmp_path, sqlite_url, [], free_port(), max_upload_mb=1)
    async with running_backend(settings) as b:

        async def gen():
            for part in _chunked_body(TINY_GLB, 3):
                yield part

        r = await b.http.post(
            "/api/task/create", content=gen(), headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
        )
        assert r.status_code == 413 and r.json()["error"] == "UploadTooLarge"
        assert [p for p in settings.storage_root.rglob("*") if p.is_file()] == []


async def test_large_upload_arrives_intact(tmp_path: Path, sqlite_url: str) -> None:
    settings = web_settings(tmp_path, sqlite_url, [], free_port(), max_upload_mb=20)
    body = TINY_GLB + bytes(range(256)) * (12 * 4096)  # ~12.6 MB
    async with running_backend(settings) as b:
        r = await b.create(body, "big.glb")
        assert r.status_code == 201, r.text
        t = await b.task(r.json()["task_id"])
        got = (await b.http.get(t["input_url"])).content
        assert hashlib.sha256(got).digest() == hashlib.sha256(body).digest()
