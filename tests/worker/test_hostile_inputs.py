"""Every hostile input we know of, with the answer it must get, through a real worker running the
real engine: each ends ``failed`` with its ``error_code`` (or is refused at submission), none
takes the worker down, and the worker rigs a normal character afterwards. Files that only try to
read outside their folder are rigged, with a warning, and the outside bytes in no output.

One list (``CASES``): add a case there. Files are made here, cheaply (a 10-million-face OBJ is
80 MB of one repeated line), and served from a local HTTP server the worker may fetch from.
"""

from __future__ import annotations

import base64
import json
import struct
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from workerkit import REPO, InputServer, start_worker, wait_for

sys.path.insert(0, str(REPO / "tests" / "blender"))
from riginputs import (  # noqa: E402 (after the sys.path line that finds the helpers)
    read_glb,
    write_ascii_fbx,
    write_cube_obj,
    write_empty,
    write_empty_gltf,
    write_garbage,
    write_gltf_with_images,
    write_gltf_without_meshes,
    write_obj_with_maps,
    write_png,
    write_truncated,
    write_zip_slip,
    write_zip_with_symlink,
)

pytestmark = pytest.mark.slow

MARKER = b"AUTORIG-HOSTILE-OUTSIDE-9c1e"
NORMAL = "kenney__character_female_a"
DRESS = "quaternius__Female_Dress"
JOB_WAIT_S = 600


@dataclass(frozen=True)
class Case:
    name: str  # the file name served (its extension is the format)
    make: Callable[[Path, Path, Path], Path | None]  # (path, eval unrigged folder, secret) -> path
    code: str | None  # the job's error_code; None: rigged ("done"), reading nothing outside


# --- makers ---------------------------------------------------------------------------------------


def _gltf(doc: dict, path: Path) -> Path:
    path.write_text(json.dumps(doc))
    return path


def _triangle_doc(positions: list[float], count: int | None = None) -> dict:
    data = struct.pack(f"<{len(positions)}f", *positions)
    uri = "data:application/octet-stream;base64," + base64.b64encode(data).decode()
    return {
        "asset": {"version": "2.0"},
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "type": "VEC3", "count": count or len(positions) // 3,
                       "min": [0, 0, 0], "max": [1, 1, 1]}],
        "bufferViews": [{"buffer": 0, "byteLength": len(data)}],
        "buffers": [{"byteLength": len(data), "uri": uri}],
    }  # fmt: skip


def huge_chunk(path: Path, src: Path, _s: Path) -> Path:
    data = bytearray((src / f"{NORMAL}.glb").read_bytes())
    struct.pack_into("<I", data, 12, 0xFFFFFFF0)  # the JSON chunk claims 4 GB
    path.write_bytes(bytes(data))
    return path


def glb_version_1(path: Path, src: Path, _s: Path) -> Path:
    data = bytearray((src / f"{NORMAL}.glb").read_bytes())
    struct.pack_into("<I", data, 4, 1)
    path.write_bytes(bytes(data))
    return path


def gltf_version_1(path: Path, _src: Path, _s: Path) -> Path:
    return _gltf({"asset": {"version": "1.0"}, "meshes": {}}, path)


def deep_json(path: Path, _src: Path, _s: Path) -> Path:
    path.write_text('{"asset": {"version": "2.0"}, "extras": ' + "[" * 200_000 + "]" * 200_000 + "}")
    return path


def accessor_bomb(path: Path, _src: Path, _s: Path) -> Path:
    doc = _triangle_doc([0, 0, 0, 1, 0, 0, 0, 1, 0])
    doc["accessors"][0].pop("bufferView")
    doc["accessors"][0]["count"] = 10**9
    return _gltf(doc, path)


def accessor_past_buffer(path: Path, _src: Path, _s: Path) -> Path:
    return _gltf(_triangle_doc([0, 0, 0, 1, 0, 0, 0, 1, 0], count=1_000_000), path)


def nan_vertices(path: Path, _src: Path, _s: Path) -> Path:
    nan = float("nan")
    return _gltf(_triangle_doc([0, 0, 0, 1, 0, 0, nan, nan, nan]), path)


def buffer_outside(path: Path, src: Path, secret: Path) -> Path:
    _, binary = read_glb(src / f"{NORMAL}.glb")
    outside = secret.parent / "geometry.bin"
    outside.write_bytes(binary)
    folder = path.parent / "buffer_outside"
    made = write_gltf_with_images(src / f"{NORMAL}.glb", folder, [], buffer_uri=outside.as_uri())
    return made.rename(path)


def images_outside(path: Path, src: Path, secret: Path) -> Path:
    uris = [str(secret), secret.as_uri(), "../../../../../../../../" + str(secret).lstrip("/")]
    folder = path.parent / "images_outside"
    made = write_gltf_with_images(src / f"{NORMAL}.glb", folder, uris, buffer_uri="data:application/octet-stream;base64,")
    doc = json.loads(made.read_text())
    _, binary = read_glb(src / f"{NORMAL}.glb")
    doc["buffers"] = [
        {"byteLength": len(binary), "uri": "data:application/octet-stream;base64," + base64.b64encode(binary).decode()}
    ]
    return _gltf(doc, path)


def obj_maps_outside(path: Path, src: Path, secret: Path) -> Path:
    folder = path.parent / "obj_maps"
    obj = write_obj_with_maps(src / f"{DRESS}.obj", folder, [str(secret), "../../../../../../../../" + str(secret).lstrip("/")])
    with zipfile.ZipFile(path, "w") as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f.name)
    assert obj.exists()
    return path


def zip_symlink(path: Path, src: Path, secret: Path) -> Path:
    return write_zip_with_symlink(src / f"{DRESS}.obj", path, str(secret))


def zip_bomb(path: Path, _src: Path, _s: Path) -> Path:
    """A zip whose member says it expands to 4 GB (honest sizes get the same check)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("model.obj", b"v 0 0 0\n" * 1000)
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 0xFFFFFFF0)
    path.write_bytes(bytes(data))
    return path


def zip_members(path: Path, _src: Path, _s: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(6000):
            zf.writestr(f"t/{i}.txt", b"")
        zf.writestr("model.obj", b"v 0 0 0\n")
    return path


def huge_obj(path: Path, _src: Path, _s: Path) -> Path:
    with open(path, "wb") as f:
        f.write(b"v 0 0 0\nv 1 0 0\nv 0 1 0\n")
        block = b"f 1 2 3\n" * 100_000
        for _ in range(100):  # 10 million faces
            f.write(block)
    return path


def points_only(path: Path, _src: Path, _s: Path) -> Path:
    path.write_text(
        "".join(f"v {i} {i % 7} {i % 3}\n" for i in range(100)) + "p " + " ".join(str(i) for i in range(1, 101)) + "\n"
    )
    return path


def fbx_texture_outside(path: Path, src: Path, secret: Path) -> Path:
    """A binary FBX (written by Blender) naming the outside file, by absolute path, as its texture."""
    import subprocess

    code = f"""
import bpy
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath={str(src / f"{NORMAL}.glb")!r})
for image in bpy.data.images:
    if image.packed_file:
        image.unpack(method="REMOVE")
    image.filepath = {str(secret)!r}
    image.reload()
bpy.ops.export_scene.fbx(filepath={str(path)!r}, path_mode="ABSOLUTE", embed_textures=False)
"""
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)
    assert str(secret).encode() in path.read_bytes()
    return path


def png_as_glb(path: Path, _src: Path, _s: Path) -> Path:
    return write_png(path)


def html_as_glb(path: Path, _src: Path, _s: Path) -> Path:
    path.write_text("<!doctype html><html><body>not a model</body></html>")
    return path


CASES: list[Case] = [
    Case("empty.glb", lambda p, s, x: write_empty(p), "corrupt_file"),
    Case("truncated.glb", lambda p, s, x: write_truncated(s / f"{NORMAL}.glb", p), "corrupt_file"),
    Case("huge_chunk.glb", huge_chunk, "corrupt_file"),
    Case("version1.glb", glb_version_1, "unsupported_format"),
    Case("version1.gltf", gltf_version_1, "unsupported_format"),
    Case("deep.gltf", deep_json, "corrupt_file"),
    Case("accessor_bomb.gltf", accessor_bomb, "too_large"),
    Case("accessor_past_buffer.gltf", accessor_past_buffer, "corrupt_file"),
    Case("buffer_outside.gltf", buffer_outside, "corrupt_file"),
    Case("nan.gltf", nan_vertices, "corrupt_file"),
    Case("no_mesh.gltf", lambda p, s, x: write_gltf_without_meshes(p), "not_a_mesh"),
    Case("nothing.gltf", lambda p, s, x: write_empty_gltf(p), "empty_scene"),
    Case("points.obj", points_only, "not_a_mesh"),
    Case("huge.obj", huge_obj, "too_large"),
    Case("cube.obj", lambda p, s, x: write_cube_obj(p), "not_a_biped"),
    Case("bomb.zip", zip_bomb, "too_large"),
    Case("traversal.zip", lambda p, s, x: write_zip_slip(p), "corrupt_file"),
    Case("members.zip", zip_members, "too_large"),
    Case("png.glb", png_as_glb, "corrupt_file"),
    Case("html.glb", html_as_glb, "corrupt_file"),
    Case("ascii.fbx", lambda p, s, x: write_ascii_fbx(p), "unsupported_format"),
    Case("garbage.fbx", lambda p, s, x: write_garbage(p), "corrupt_file"),
    Case("notes.txt", lambda p, s, x: p.write_text("hello") and p, "unsupported_format"),
    Case("images_outside.gltf", images_outside, None),
    Case("obj_maps_outside.zip", obj_maps_outside, None),
    Case("symlink.zip", zip_symlink, None),
    Case("texture_outside.fbx", fbx_texture_outside, None),
]
# Input URLs that go wrong while downloading: (path on the input server, error code).
DOWNLOADS = [
    ("/slow/60/cube.obj", "download_failed"),  # answers after the download time limit
    ("/drip/huge.obj", "download_failed"),  # a byte at a time, endlessly
    ("/status/500", "download_failed"),
    ("/status/404", "download_failed"),
    ("/redirect?to=http://169.254.169.254/latest/meta-data/", "refused_url"),
    ("/redirect?to=http://127.0.0.1:1/m.glb", "refused_url"),
]
# The FBX->GLB step (POST /api-converter-glb-to-fbx): (file, HTTP status, error code or None).
CONVERSIONS = [
    ("ascii.fbx", 422, "unsupported_format"),
    ("garbage.fbx", 422, "corrupt_file"),
    ("empty.glb", 422, "corrupt_file"),
    ("texture_outside.fbx", 200, None),
]
# Input URLs the worker refuses at submission (400 refused_url), before any connection.
REFUSED_URLS = [
    "http://127.0.0.1:9/m.glb",
    "http://169.254.169.254/latest/meta-data/",
    "http://2130706433/m.glb",
    "http://0x7f000001/m.glb",
    "http://[::ffff:127.0.0.1]/m.glb",
    "http://user@example.com/m.glb",
    "file:///etc/passwd",
    "ftp://example.com/m.glb",
    "http://10.1.2.3/m.glb",
]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, eval_data):
    """Serve every case, submit them all to one worker (two slots), wait for every end."""
    root = tmp_path_factory.mktemp("hostile")
    served = root / "served"
    served.mkdir()
    outside = root / "outside"
    outside.mkdir()
    secret = write_png(outside / "secret.png", text=MARKER)
    src = eval_data / "unrigged"
    server = InputServer(served)
    for case in CASES:
        made = case.make(served / case.name, src, secret)
        assert made is not None and made.exists(), case.name
    (served / f"{NORMAL}.glb").write_bytes((src / f"{NORMAL}.glb").read_bytes())
    worker = start_worker(root, allowed_hosts=[server.host], capacity=2, job_timeout_s=300, download_timeout_s=5)
    jobs: dict[str, dict] = {}
    try:
        with worker.client(token=True) as c:
            refused = {u: c.post("/api/jobs", json={"input_url": u}) for u in REFUSED_URLS}
            converted = {}
            for name, _, _ in CONVERSIONS:
                r = c.post("/api-converter-glb-to-fbx", json={"input_url": f"{server.url}/files/{name}"}, timeout=300)
                converted[name] = (r, c.get(r.json()["output_url"]).content if r.status_code == 200 else b"")
            pending = [(case.name, f"{server.url}/files/{case.name}") for case in CASES]
            pending += [(path, server.url + path) for path, _ in DOWNLOADS]
            deadline = time.monotonic() + JOB_WAIT_S
            while pending and time.monotonic() < deadline:
                r = c.post("/api/jobs", json={"input_url": pending[0][1]})
                if r.status_code == 503:
                    time.sleep(0.3)
                    continue
                assert r.status_code == 200, (pending[0], r.text)
                jobs[pending.pop(0)[0]] = r.json()
            statuses = {}
            for name, job in jobs.items():
                statuses[name] = wait_for(
                    lambda job=job: (s := c.get(f"/api/jobs/{job['worker_task_id']}").json())["state"] in ("done", "failed") and s,
                    JOB_WAIT_S, interval=0.3, what=name,
                )  # fmt: skip
            # Still serving: a normal character is rigged afterwards.
            normal = wait_for(
                lambda: (r := c.post("/api/jobs", json={"input_url": f"{server.url}/files/{NORMAL}.glb"})).status_code == 200 and r.json(),
                60, interval=0.5, what="a free slot",
            )  # fmt: skip
            normal_status = wait_for(
                lambda: (s := c.get(f"/api/jobs/{normal['worker_task_id']}").json())["state"] in ("done", "failed") and s,
                JOB_WAIT_S, interval=0.3, what="the normal job",
            )  # fmt: skip
            outputs = {name: {u.rsplit("/", 1)[1]: c.get(u) for u in job["output_urls"]} for name, job in jobs.items()}
        alive = worker.proc.poll() is None
        yield {
            "refused": refused,
            "converted": converted,
            "statuses": statuses,
            "outputs": outputs,
            "normal": normal_status,
            "alive": alive,
        }
    finally:
        worker.stop()
        server.close()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_input_gets_its_answer(hostile_run, case):
    status = hostile_run["statuses"][case.name]
    outputs = hostile_run["outputs"][case.name]
    if case.code is None:
        assert status["state"] == "done", status["error"]
        report = json.loads(outputs["rig.json"].content)
        assert any("outside" in w or "symbolic link" in w for w in report["warnings"]), report["warnings"]
    else:
        assert status["state"] == "failed"
        assert status["error_code"] == case.code, status["error"]
        assert status["error"] and "Traceback" not in status["error"] and "\n" not in status["error"]
    # The outside file's bytes (and its name) are in no output.
    for name, response in outputs.items():
        if response.status_code == 200:
            assert MARKER not in response.content, name
            assert b"secret.png" not in response.content or name == "rig.json", name


@pytest.mark.parametrize("name, status, code", CONVERSIONS)
def test_the_fbx_step_answers_with_the_engines_code(hostile_run, name, status, code):
    r, glb = hostile_run["converted"][name]
    assert r.status_code == status, r.text
    if code:
        assert r.json()["error"] == code and r.json()["detail"] and "127.0.0.1" not in r.json()["detail"]
    else:
        assert glb[:4] == b"glTF" and MARKER not in glb


@pytest.mark.parametrize("path, code", DOWNLOADS)
def test_downloads_that_go_wrong_end_with_their_code(hostile_run, path, code):
    status = hostile_run["statuses"][path]
    assert status["state"] == "failed" and status["error_code"] == code, status


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_refused_urls_answer_400_refused_url(hostile_run, url):
    r = hostile_run["refused"][url]
    assert r.status_code == 400 and r.json()["error"] == "refused_url", r.text


def test_the_worker_still_rigs_a_normal_character(hostile_run):
    assert hostile_run["alive"]
    assert hostile_run["normal"]["state"] == "done", hostile_run["normal"]["error"]


def test_outside_files_reach_no_output_of_a_full_job(tmp_path, eval_data):
    """Every output of a full job (LODs, animated files, USDZ, preview, viewer.glb), from a glTF
    whose images name an outside file: the file's bytes are in none of them, rig.json warns."""
    import subprocess

    outside = tmp_path / "outside"
    outside.mkdir()
    secret = write_png(outside / "secret.png", text=MARKER)
    folder = tmp_path / "job" / "input"
    folder.mkdir(parents=True)
    model = images_outside(folder / "model.gltf", eval_data / "unrigged", secret)
    out = tmp_path / "out"
    r = subprocess.run(
        [sys.executable, "-m", "autorig", "rig", str(model), "-o", str(out), "--only", "all"],
        capture_output=True, text=True, timeout=JOB_WAIT_S,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    from autorig.protocol import output_files

    produced = [f for f in output_files("model") if (out / f).exists()]
    assert {"model.glb", "model.fbx", "viewer.glb", "model_animated.glb", "rig.json"} <= set(produced), produced
    for f in produced:
        assert MARKER not in (out / f).read_bytes(), f
    report = json.loads((out / "rig.json").read_text())
    assert len([w for w in report["warnings"] if "outside the model's folder" in w]) == 3, report["warnings"]
