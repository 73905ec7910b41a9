"""Hostile requests against a real backend process (issue 11): every odd file name, multipart
body, JSON body and path gets a 4xx with ``{"error", "detail"}`` (or, for a good model under an
odd name, a task), never a 500 or a dropped connection; afterwards the service still runs a
normal task to ``done``.

Each case is ``(id, request, expected status)``; the list is the issue's campaign plus the forms
around it. The backend runs once for the module (uvicorn on ``create_app``, its own process, the
background loops on, SQLite) in front of a fake worker.
"""

from __future__ import annotations

import io
import json
import random
import socket
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from webkit import TINY_FBX, TINY_GLB, BackendProcess, FakeWorker, free_port

NOISE = random.Random(11)  # the same "random" bytes every run
BOUNDARY = "hostileBoundary7MA4YWxkTrZu0gW"
MP = f"multipart/form-data; boundary={BOUNDARY}"


def part(name: str, content: bytes, filename: bytes | None = None, ctype: bytes | None = None) -> bytes:
    disp = b'form-data; name="' + name.encode() + b'"'
    if filename is not None:
        disp += b'; filename="' + filename + b'"'
    head = b"Content-Disposition: " + disp + b"\r\n"
    if ctype:
        head += b"Content-Type: " + ctype + b"\r\n"
    return b"--" + BOUNDARY.encode() + b"\r\n" + head + b"\r\n" + content + b"\r\n"


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + b"--" + BOUNDARY.encode() + b"--\r\n"


def upload(filename: bytes, content: bytes = TINY_GLB) -> bytes:
    return body(part("file", content, filename, b"application/octet-stream"))


def zipped(*members: tuple[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def zip_symlink() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hero.glb", TINY_GLB)
        link = zipfile.ZipInfo("tex.png")
        link.external_attr = 0o120777 << 16  # a symlink, its target as content
        zf.writestr(link, "/etc/passwd")
    return buf.getvalue()


def zip_bomb() -> bytes:
    """A zip whose directory says it unpacks to 4 GiB (the sizes patched, as a bomb declares them)."""
    data = bytearray(zipped(("hero.glb", TINY_GLB), ("pad.bin", b"\x00" * 1000)))
    cd = data.rfind(b"PK\x01\x02")  # the last central directory entry: pad.bin
    data[cd + 24 : cd + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    return bytes(data)


def deep_glb() -> bytes:
    doc = b'{"asset":{"version":"2.0"},"x":' + nested(100_000).encode() + b"}"
    doc += b" " * (-len(doc) % 4)
    return (
        b"glTF"
        + (2).to_bytes(4, "little")
        + (20 + len(doc)).to_bytes(4, "little")
        + len(doc).to_bytes(4, "little")
        + b"JSON"
        + doc
    )


def glb(version: int) -> bytes:
    return b"glTF" + version.to_bytes(4, "little") + TINY_GLB[8:]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@dataclass
class Case:
    id: str
    method: str
    path: str
    expect: int | tuple[int, ...]
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    words: str = ""  # in the detail, when the reason matters


GOOD_NAMES = [
    ("unicode-name", "персонаж 角色 🦊.glb".encode()),
    ("long-name-300", ("a" * 300 + ".glb").encode()),
    ("long-unicode-name", ("ж" * 200 + ".glb").encode()),
    ("path-name", b"../../x.glb"),
    ("windows-path-name", b"..\\..\\windows\\x.glb"),
    ("absolute-name", b"/etc/passwd"),
    ("empty-name", b""),
    ("dot-name", b"."),
    ("dotdot-name", b".."),
    ("no-extension", b"model"),
    ("wrong-extension", b"picture.png"),
    ("viewer-name", b"viewer.glb"),
    ("preview-name", b"preview.mp4"),
    ("percent-name", b"%2e%2e%2fx.glb"),
    ("invalid-utf8-name", b"\xff\xfe\xc3(.glb"),
    ("control-chars-name", b"a\x01\x02\x7fb.glb"),
    ("spaces-only-name", b"   "),
    ("quote-name", b'a\\"b.glb'),
]

CASES: list[Case] = [
    *[Case(f"upload-{cid}", "POST", "/api/task/create", (201,), upload(name), {"content-type": MP}) for cid, name in GOOD_NAMES],
    # multipart bodies that are not what they claim
    Case("garbage-multipart", "POST", "/api/task/create", 400, NOISE.randbytes(4096), {"content-type": MP}, words="malformed"),
    Case(
        "text-garbage-multipart", "POST", "/api/task/create", 400, b"hello\r\nthis is not a form\r\n" * 50, {"content-type": MP}
    ),
    Case("missing-boundary", "POST", "/api/task/create", 400, upload(b"x.glb"), {"content-type": "multipart/form-data"}),
    Case("empty-boundary", "POST", "/api/task/create", 400, upload(b"x.glb"), {"content-type": "multipart/form-data; boundary="}),
    Case(
        "wrong-boundary",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.glb"),
        {"content-type": "multipart/form-data; boundary=other"},
    ),
    Case(
        "overlong-boundary",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.glb"),
        {"content-type": "multipart/form-data; boundary=" + "b" * 300},
    ),
    Case("empty-multipart", "POST", "/api/task/create", 400, b"", {"content-type": MP}),
    Case("truncated-in-file", "POST", "/api/task/create", 400, upload(b"x.glb")[:120], {"content-type": MP}, words="ended early"),
    Case("truncated-in-headers", "POST", "/api/task/create", 400, upload(b"x.glb")[:50], {"content-type": MP}),
    Case("no-final-boundary", "POST", "/api/task/create", 400, part("file", TINY_GLB, b"x.glb"), {"content-type": MP}),
    Case(
        "no-content-disposition",
        "POST",
        "/api/task/create",
        400,
        b"--" + BOUNDARY.encode() + b"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--" + BOUNDARY.encode() + b"--\r\n",
        {"content-type": MP},
    ),
    Case(
        "endless-header",
        "POST",
        "/api/task/create",
        400,
        b"--" + BOUNDARY.encode() + b"\r\nX-Long: " + b"a" * 200_000 + b"\r\n\r\nx\r\n--" + BOUNDARY.encode() + b"--\r\n",
        {"content-type": MP},
    ),
    Case(
        "two-files",
        "POST",
        "/api/task/create",
        400,
        body(part("file", TINY_GLB, b"a.glb"), part("file", TINY_GLB, b"b.glb")),
        {"content-type": MP},
        words="one file",
    ),
    Case("file-not-a-model", "POST", "/api/task/create", 400, upload(b"x.glb", b"<html>hello</html>"), {"content-type": MP}),
    Case(
        "png-renamed",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.glb", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),
        {"content-type": MP},
        words="not a GLB",
    ),
    Case("empty-file", "POST", "/api/task/create", 400, upload(b"x.glb", b""), {"content-type": MP}, words="empty"),
    Case(
        "ascii-fbx",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.fbx", b"; FBX 7.4.0 project file\nFBXHeaderExtension:  {\n}\n"),
        {"content-type": MP},
        words="ASCII FBX",
    ),
    Case(
        "fbx-6.1",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.fbx", TINY_FBX[:23] + (6100).to_bytes(4, "little") + b"\x00" * 40),
        {"content-type": MP},
        words="too old",
    ),
    Case(
        "glb-version-1", "POST", "/api/task/create", 400, upload(b"x.glb", glb(1)), {"content-type": MP}, words="glTF version 1"
    ),
    Case(
        "glb-huge-chunk-length",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.glb", TINY_GLB[:12] + (1 << 30).to_bytes(4, "little") + TINY_GLB[16:]),
        {"content-type": MP},
        words="past the end",
    ),
    Case(
        "glb-length-past-end",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.glb", TINY_GLB[:8] + (1 << 20).to_bytes(4, "little") + TINY_GLB[12:]),
        {"content-type": MP},
        words="truncated",
    ),
    Case(
        "glb-binary-first-chunk",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.glb", TINY_GLB[:16] + b"BIN\x00" + TINY_GLB[20:]),
        {"content-type": MP},
        words="not JSON",
    ),
    Case(
        "glb-deep-json",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.glb", deep_glb()),
        {"content-type": MP},
        words="nested too deeply",
    ),
    Case(
        "gltf-deep-json",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.gltf", b'{"asset": {"version": "2.0"}, "x": ' + nested(100_000).encode() + b"}"),
        {"content-type": MP},
        words="nested too deeply",
    ),
    Case(
        "gltf-invalid-json",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.gltf", b'{"asset": {"version": "2.0"}, '),
        {"content-type": MP},
        words="invalid JSON",
    ),
    Case("glb-truncated-header", "POST", "/api/task/create", 400, upload(b"x.glb", b"glTF\x02\x00"), {"content-type": MP}),
    Case(
        "zip-traversal",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.zip", zipped(("../../evil.glb", TINY_GLB))),
        {"content-type": MP},
        words="escapes",
    ),
    Case(
        "zip-absolute",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.zip", zipped(("/etc/evil.glb", TINY_GLB))),
        {"content-type": MP},
        words="escapes",
    ),
    Case(
        "zip-no-model",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.zip", zipped(("readme.txt", b"hi"), ("tex.png", b"\x89PNG"))),
        {"content-type": MP},
        words="holds no",
    ),
    Case(
        "zip-broken",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.zip", b"PK\x03\x04" + NOISE.randbytes(300)),
        {"content-type": MP},
    ),
    Case(
        "zip-6000-members",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.zip", zipped(*[(f"m{i}.txt", b"") for i in range(6000)], ("a.glb", TINY_GLB))),
        {"content-type": MP},
        words="limit 5000",
    ),
    Case(
        "zip-symlink",
        "POST",
        "/api/task/create",
        400,
        upload(b"x.zip", zip_symlink()),
        {"content-type": MP},
        words="symbolic link",
    ),
    Case("zip-bomb-declared", "POST", "/api/task/create", 400, upload(b"x.zip", zip_bomb()), {"content-type": MP}, words="1 GiB"),
    Case("vrm-upload", "POST", "/api/task/create", 201, upload(b"avatar.vrm", TINY_GLB), {"content-type": MP}),
    Case(
        "zip-with-model",
        "POST",
        "/api/task/create",
        201,
        upload(b"x.zip", zipped(("hero/hero.glb", TINY_GLB), ("hero/tex.png", b"\x89PNG"))),
        {"content-type": MP},
    ),
    Case(
        "field-too-long",
        "POST",
        "/api/task/create",
        400,
        body(part("email", b"a" * 100_000), part("file", TINY_GLB, b"x.glb")),
        {"content-type": MP},
    ),
    Case(
        "bad-skeleton-field",
        "POST",
        "/api/task/create",
        400,
        body(part("skeleton", b"\xff\xfe"), part("file", TINY_GLB, b"x.glb")),
        {"content-type": MP},
    ),
    Case("only-fields", "POST", "/api/task/create", 400, body(part("email", b"a@b.co")), {"content-type": MP}),
    Case(
        "oversize-sent",
        "POST",
        "/api/task/create",
        413,
        upload(b"x.glb", TINY_GLB + b"\x00" * (1024 * 1024 + 100)),
        {"content-type": MP},
    ),
    # JSON bodies
    Case("json-garbage", "POST", "/api/task/create", 400, b"{not json", {"content-type": "application/json"}),
    Case("json-empty", "POST", "/api/task/create", 400, b"", {"content-type": "application/json"}),
    Case(
        "json-deep",
        "POST",
        "/api/task/create",
        400,
        json.dumps({"input_url": "x"})[:-1].encode() + b', "a": ' + nested(20_000).encode() + b"}",
        {"content-type": "application/json"},
    ),
    Case("json-deep-array", "POST", "/api/task/create", 400, nested(30_000).encode(), {"content-type": "application/json"}),
    Case("json-deep-huge", "POST", "/api/task/create", 413, nested(200_000).encode(), {"content-type": "application/json"}),
    Case("json-wrong-type", "POST", "/api/task/create", 400, b'{"input_url": 5}', {"content-type": "application/json"}),
    Case("json-list", "POST", "/api/task/create", 400, b"[1,2,3]", {"content-type": "application/json"}),
    Case(
        "json-huge",
        "POST",
        "/api/task/create",
        413,
        b'{"input_url": "http://x/' + b"a" * (3 * 1024 * 1024) + b'.glb"}',
        {"content-type": "application/json"},
    ),
    Case(
        "json-invalid-utf8", "POST", "/api/task/create", 400, b'{"input_url": "\xff\xfe"}', {"content-type": "application/json"}
    ),
    Case(
        "json-deep-auth-email",
        "POST",
        "/api/auth/email",
        (400, 422),
        nested(100_000).encode(),
        {"content-type": "application/json"},
    ),
    Case("json-deep-keys", "POST", "/api/keys", (400, 401, 422), nested(100_000).encode(), {"content-type": "application/json"}),
    Case(
        "json-garbage-auth-email", "POST", "/api/auth/email", (400, 422), b"\x00\x01garbage", {"content-type": "application/json"}
    ),
    Case("json-null-url", "POST", "/api/task/create", 400, b'{"input_url": null}', {"content-type": "application/json"}),
    Case(
        "json-url-control",
        "POST",
        "/api/task/create",
        400,
        b'{"input_url": "http://\\u0000/a.glb"}',
        {"content-type": "application/json"},
    ),
    # other bodies
    Case(
        "urlencoded-garbage",
        "POST",
        "/api/task/create",
        400,
        NOISE.randbytes(2048),
        {"content-type": "application/x-www-form-urlencoded"},
    ),
    Case(
        "urlencoded-many-fields",
        "POST",
        "/api/task/create",
        400,
        b"&".join(b"a%d=b" % i for i in range(5000)),
        {"content-type": "application/x-www-form-urlencoded"},
    ),
    Case(
        "urlencoded-huge",
        "POST",
        "/api/task/create",
        413,
        b"input_url=" + b"a" * 2_000_000,
        {"content-type": "application/x-www-form-urlencoded"},
    ),
    Case("urlencoded-no-url", "POST", "/api/task/create", 400, b"a=b&c", {"content-type": "application/x-www-form-urlencoded"}),
    Case("no-content-type", "POST", "/api/task/create", 400, b"hello", {}),
    Case("text-plain", "POST", "/api/task/create", 400, b"hello", {"content-type": "text/plain"}),
    Case("weird-content-type", "POST", "/api/task/create", 400, b"hello", {"content-type": "multipart/mixed; boundary=x"}),
    # paths and methods
    Case("unknown-task", "GET", "/api/task/nope", 404),
    Case("long-task-id", "GET", "/api/task/" + "a" * 5000, 404),
    Case("unicode-task-id", "GET", "/api/task/%D0%B6%F0%9F%A6%8A", 404),
    Case("traversal-file", "GET", "/api/task/nope/files/..%2F..%2Fetc%2Fpasswd", 404),
    Case("traversal-storage", "GET", "/storage/tasks/..%2F..%2F..%2Fetc%2Fpasswd", 404),
    Case("storage-nul", "GET", "/storage/tasks/a/input/%00", 404),
    Case("unknown-route", "GET", "/api/nothing-here", 404),
    Case("wrong-method", "DELETE", "/api/task/create", 405),
    Case("queue-unknown-task", "GET", "/api/queue/status?task_id=" + "z" * 3000, 404),
    Case("credits-query-garbage", "GET", "/api/credits?limit=abc", (401, 422)),
    Case("restart-unknown", "POST", "/api/task/nope/restart", (403, 404)),
    Case("download-all-unknown", "GET", "/api/task/nope/download-all", 404),
]


def _env(tmp: Path, worker: str, port: int) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp / 'hostile.db'}",
        "AUTORIG_DATA_DIR": str(tmp),
        "WORKERS": worker,
        "WORKER_TOKEN": "test-token",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DISPATCH_INTERVAL_S": "0.5",
        "PROGRESS_INTERVAL_S": "0.3",
        "MAILER_INTERVAL_S": "5",
        "MAX_UPLOAD_MB": "1",
        "ANON_FREE_LIMIT": "10000",
        "INSTANCE_ID": "hostile-test",
    }


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    tmp = tmp_path_factory.mktemp("hostile")
    worker = FakeWorker(job_seconds=0.3, capacity=8).start()
    port = free_port()
    b = BackendProcess(_env(tmp, worker.url, port), port, tmp).start()
    try:
        yield b
    finally:
        b.stop()
        worker.kill()


def _send(b: BackendProcess, case: Case) -> httpx.Response:
    with httpx.Client(base_url=b.url, timeout=30) as http:
        return http.request(case.method, case.path, content=case.content, headers=case.headers)


def _raw(b: BackendProcess, head: bytes, body: bytes) -> tuple[int, dict]:
    """Send bytes as they are (a client that lies in its headers) and read the answer."""
    with socket.create_connection(("127.0.0.1", b.port), timeout=30) as s:
        s.sendall(head + body)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + _length(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, json.loads(data.split(b"\r\n\r\n", 1)[1])


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            return int(v)
    return 0


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_request_gets_a_clear_4xx(backend: BackendProcess, case: Case) -> None:
    r = _send(backend, case)
    expected = case.expect if isinstance(case.expect, tuple) else (case.expect,)
    assert r.status_code in expected, f"{case.id}: {r.status_code} {r.text[:300]}"
    body = r.json()
    if r.status_code >= 400:
        assert set(body) >= {"error", "detail"} and isinstance(body["detail"], str) and body["detail"], body
        assert case.words in body["detail"], body
    else:
        assert body["task_id"]
        if case.id == "vrm-upload":
            t = httpx.get(f"{backend.url}/api/task/{body['task_id']}", timeout=10).json()
            assert t["source_format"] == "vrm" and t["input_url"].endswith(".vrm")


def test_declared_oversize_upload_refused_before_the_body(backend: BackendProcess) -> None:
    """A client that announces 50 MB gets 413 at once, without sending them."""
    payload = upload(b"x.glb")
    head = (
        f"POST /api/task/create HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {MP}\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n"
    ).encode()
    status, body = _raw(backend, head, payload)
    assert status == 413 and "1 MB" in body["detail"] and body["error"] == "UploadTooLarge"


def test_service_still_runs_a_normal_task(backend: BackendProcess) -> None:
    """After the whole list (pytest runs this file in order): a plain upload ends ``done``."""
    r = httpx.post(f"{backend.url}/api/task/create", files={"file": ("hero.glb", TINY_GLB)}, timeout=30)
    assert r.status_code == 201, r.text
    tid = r.json()["task_id"]
    deadline = time.monotonic() + 120  # the tasks the list created go first
    while True:
        t = httpx.get(f"{backend.url}/api/task/{tid}", timeout=10).json()
        if t["status"] in ("done", "error") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert t["status"] == "done", t
    assert httpx.get(f"{backend.url}/api/health", timeout=5).json()["status"] in ("ok", "degraded")
