"""Storage: local directory (served by the backend) and S3-compatible (against moto's S3
server on loopback: the real S3 is a third party the tests cannot reach)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from autorig.web.storage import LocalStorage
from autorig.web.storage.base import check_key
from webkit import TINY_GLB, FakeWorker, free_port, running_backend, web_settings

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


@pytest.fixture
def s3_server():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    import boto3

    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    s3.create_bucket(Bucket="rigs")
    # As the README asks of a real bucket: uploads are publicly readable (workers fetch them),
    # results are not (the backend hands them out, and charges for them).
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::rigs/autorig/tasks/*/input/*"}
        ],
    }
    s3.put_bucket_policy(Bucket="rigs", Policy=json.dumps(policy))
    yield url
    server.stop()


async def test_s3_storage_end_to_end(tmp_path: Path, sqlite_url: str, s3_server: str, fake_workers) -> None:
    """Uploads go to the bucket, the worker fetches them from its public URL, results are copied
    into the bucket and handed out as presigned redirects."""
    w = FakeWorker(job_seconds=0.3).start()
    fake_workers.append(w)
    settings = web_settings(
        tmp_path, sqlite_url, [w.url], free_port(),
        storage_backend="s3", s3_bucket="rigs", s3_endpoint_url=s3_server, s3_region="us-east-1",
        s3_access_key_id="k", s3_secret_access_key="s", s3_public_base_url=f"{s3_server}/rigs", s3_prefix="autorig",
    )
    async with running_backend(settings) as b:
        tid = (await b.create(TINY_GLB, "hero.glb")).json()["task_id"]
        t = await b.task(tid)
        assert t["input_url"] == f"{s3_server}/rigs/autorig/tasks/{tid}/input/hero.glb"
        assert httpx.get(t["input_url"]).content == TINY_GLB
        t = await b.until(tid, {"done", "error"})
        assert t["status"] == "done" and w.stats()["inputs"] == [t["input_url"]]
        # viewer.glb: a free preview, so no account is needed to fetch it.
        r = await b.http.get(f"/api/task/{tid}/files/viewer.glb")
        assert r.status_code == 307 and r.headers["location"].startswith(f"{s3_server}/rigs/autorig/tasks/{tid}/out/viewer.glb?")
        got = httpx.get(r.headers["location"])
        assert got.status_code == 200 and got.content.startswith(b"glTF")
        assert 'filename="viewer.glb"' in got.headers.get("content-disposition", "")
        # The paid file is in the bucket but not public.
        assert httpx.get(f"{s3_server}/rigs/autorig/tasks/{tid}/out/hero.glb").status_code == 403
        body = b.ctx.storage.client.get_object(Bucket="rigs", Key=f"autorig/tasks/{tid}/out/hero.glb")["Body"].read()
        guid = (await b.internal(tid))["guid"]
        assert body == httpx.get(f"{w.url}/files/{guid}/hero.glb").content
