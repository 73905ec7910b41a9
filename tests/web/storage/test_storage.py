"""Storage: local directory (served by the backend) and S3-compatible, against two servers on
loopback (``conftest.py``): moto's imitation and a real SeaweedFS (AWS itself is a third party
the tests cannot reach). Uploads, their public URLs, presigned downloads, deletes, and a bucket
that goes down: a clear 503, and nothing lost."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from s3kit import BUCKET, PREFIX, S3Server
from webkit import TINY_GLB, FakeWorker, free_port, running_backend, web_settings

from autorig.web.storage import LocalStorage
from autorig.web.storage.base import StorageUnavailable, check_key
from autorig.web.storage.s3 import S3Storage

MB = 1024 * 1024


@pytest.mark.parametrize("key", ["../x", "/etc/passwd", "a/../../b", ".incoming/upload-1", "a//b", "a b"])
def test_bad_keys_refused(key: str) -> None:
    with pytest.raises(ValueError):
        check_key(key)


async def test_local_storage_moves_files_in(tmp_path: Path) -> None:
    st = LocalStorage(tmp_path / "store", "http://h:1/storage")
    src = st.scratch_dir() / "upload-x"
    src.write_bytes(b"data")
    stored = await st.put_file("tasks/t1/input/m.glb", src)
    assert stored.size == 4 and not src.exists()
    assert await st.exists("tasks/t1/input/m.glb")
    assert st.public_url("tasks/t1/input/m.glb") == "http://h:1/storage/tasks/t1/input/m.glb"


def s3_storage(tmp_path: Path, server: S3Server) -> S3Storage:
    return S3Storage(web_settings(tmp_path, "sqlite://", [], free_port(), **server.settings()))


async def test_s3_storage_operations(tmp_path: Path, s3_server: S3Server) -> None:
    """Each storage operation against the server: a multipart upload, the public URL of an input
    (anyone may read it) and the privacy of the rest, a presigned download as an attachment,
    fetch, delete, delete of a task's prefix."""
    st = s3_storage(tmp_path, s3_server)
    big = st.scratch_dir() / f"big-{s3_server.kind}"
    data = bytes(range(256)) * (20 * MB // 256)  # 20 MB: boto3 uploads it in several parts
    big.write_bytes(data)
    stored = await st.put_file("tasks/t1/input/hero.glb", big)
    assert stored.size == len(data) and not big.exists()
    assert await st.exists("tasks/t1/input/hero.glb") and not await st.exists("tasks/t1/input/other.glb")
    url = st.public_url("tasks/t1/input/hero.glb")
    assert url == f"{s3_server.url}/{BUCKET}/{PREFIX}/tasks/t1/input/hero.glb"
    got = httpx.get(url, timeout=30)  # anonymous, as a worker fetches it
    assert got.status_code == 200 and got.content == data

    out = st.scratch_dir() / f"out-{s3_server.kind}"
    out.write_bytes(b"glTF result")
    await st.put_file("tasks/t1/out/hero.glb", out, "model/gltf-binary")
    assert httpx.get(f"{s3_server.url}/{BUCKET}/{PREFIX}/tasks/t1/out/hero.glb").status_code == 403
    r = await st.download_response("tasks/t1/out/hero.glb", "hero.glb")
    location = r.headers["location"]
    assert r.status_code == 307 and "X-Amz-Signature" in parse_qs(urlparse(location).query)
    got = httpx.get(location)
    assert got.status_code == 200 and got.content == b"glTF result"
    assert 'filename="hero.glb"' in got.headers["content-disposition"]
    if s3_server.kind == "seaweedfs":  # moto does not check signatures; a real server does
        other = st.scratch_dir() / "other"
        other.write_bytes(b"private")
        await st.put_file("tasks/t1/out/other.glb", other)
        assert httpx.get(location.replace("/out/hero.glb", "/out/other.glb")).status_code == 403

    await st.fetch("tasks/t1/out/hero.glb", tmp_path / "fetched.glb")
    assert (tmp_path / "fetched.glb").read_bytes() == b"glTF result"
    await st.delete("tasks/t1/out/hero.glb")
    assert not await st.exists("tasks/t1/out/hero.glb")
    for name in ("a", "b", "c"):
        f = st.scratch_dir() / f"{name}-{s3_server.kind}"
        f.write_bytes(name.encode())
        await st.put_file(f"tasks/t2/out/{name}.txt", f)
    assert await st.delete_prefix("tasks/t2/") == 3
    assert not await st.exists("tasks/t2/out/a.txt") and await st.exists("tasks/t1/input/hero.glb")


async def test_s3_storage_end_to_end(tmp_path: Path, sqlite_url: str, s3_server: S3Server, fake_workers) -> None:
    """Uploads go to the bucket, the worker fetches them from its public URL, results are copied
    into the bucket and handed out as presigned redirects."""
    w = FakeWorker(job_seconds=0.3).start()
    fake_workers.append(w)
    url = s3_server.url
    settings = web_settings(tmp_path, sqlite_url, [w.url], free_port(), **s3_server.settings())
    async with running_backend(settings) as b:
        tid = (await b.create(TINY_GLB, "hero.glb")).json()["task_id"]
        t = await b.task(tid)
        assert t["input_url"] == f"{url}/rigs/autorig/tasks/{tid}/input/hero.glb"
        assert httpx.get(t["input_url"]).content == TINY_GLB
        t = await b.until(tid, {"done", "error"})
        assert t["status"] == "done" and w.stats()["inputs"] == [t["input_url"]]
        # viewer.glb: a free preview, so no account is needed to fetch it.
        r = await b.http.get(f"/api/task/{tid}/files/viewer.glb")
        assert r.status_code == 307 and r.headers["location"].startswith(f"{url}/rigs/autorig/tasks/{tid}/out/viewer.glb?")
        got = httpx.get(r.headers["location"])
        assert got.status_code == 200 and got.content.startswith(b"glTF")
        assert 'filename="viewer.glb"' in got.headers.get("content-disposition", "")
        # The paid file is in the bucket but not public.
        assert httpx.get(f"{url}/rigs/autorig/tasks/{tid}/out/hero.glb").status_code == 403
        body = s3_server.client().get_object(Bucket="rigs", Key=f"autorig/tasks/{tid}/out/hero.glb")["Body"].read()
        guid = (await b.internal(tid))["guid"]
        assert body == httpx.get(f"{w.url}/files/{guid}/hero.glb").content


async def test_s3_bucket_down(tmp_path: Path, sqlite_url: str, s3_server: S3Server, fake_workers) -> None:
    """With the bucket down: an upload gets a clear 503 and no task; a running task's results
    wait on the worker (the task stays processing, no attempt lost) and are copied once the
    bucket is back, when the task finishes as usual."""
    w = FakeWorker(job_seconds=0.5).start()
    fake_workers.append(w)
    settings = web_settings(tmp_path, sqlite_url, [w.url], free_port(), **s3_server.settings())
    async with running_backend(settings) as b:
        tid = (await b.create(TINY_GLB, "hero.glb")).json()["task_id"]
        await b.ctx.dispatch.run_once()
        assert (await b.task(tid))["status"] == "processing"
        for _ in range(100):  # the worker has its input before the bucket goes
            if w.stats()["inputs"]:
                break
            await asyncio.sleep(0.05)
        s3_server.stop()
        try:
            # The storage itself: a clear error, and the file to store is kept.
            st = s3_storage(tmp_path, s3_server)
            f = st.scratch_dir() / f"kept-{s3_server.kind}"
            f.write_bytes(b"data")
            with pytest.raises(StorageUnavailable, match=f"bucket 'rigs' at {s3_server.url}"):
                await st.put_file("tasks/t9/input/x.glb", f)
            assert f.read_bytes() == b"data"
            # An upload: 503 with the reason, and no task was made.
            r = await b.create(TINY_GLB, "second.glb")
            assert r.status_code == 503 and r.json()["error"] == "StorageUnavailable", r.text
            assert "storage is unavailable" in r.json()["detail"]
            assert (await b.http.get("/api/queue/status")).json()["tasks_waiting"] == 0
            # The job finishes on the worker; its outputs cannot be copied yet.
            await asyncio.sleep(1.0)
            for _ in range(3):
                await b.ctx.progress.run_once()
            t = await b.task(tid)
            assert t["status"] == "processing" and t["attempts"] == 1 and t["ready_count"] == 0
        finally:
            s3_server.start()
        t = await b.until(tid, {"done", "error"})
        assert t["status"] == "done" and t["attempts"] == 1 and t["ready_count"] == 12 and w.stats()["submitted"] == 1
        r = await b.http.get(f"/api/task/{tid}/files/viewer.glb")
        assert httpx.get(r.headers["location"]).content.startswith(b"glTF")
