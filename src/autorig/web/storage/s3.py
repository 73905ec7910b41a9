"""S3-compatible storage (AWS, MinIO, R2...) with boto3.

Uploads become public objects under ``S3_PUBLIC_BASE_URL`` (workers fetch them from there);
downloads are short-lived presigned URLs handed out by the backend, which decides who may have
a file (and later charges for it) before redirecting.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from starlette.responses import RedirectResponse, Response

from autorig.config import WebSettings
from autorig.web.storage.base import Storage, StoredFile, check_key

PRESIGN_SECONDS = 300


class S3Storage(Storage):
    def __init__(self, settings: WebSettings) -> None:
        import boto3

        self.bucket = settings.s3_bucket or ""
        self.prefix = settings.s3_prefix.strip("/")
        self.public_base = (settings.s3_public_base_url or "").rstrip("/")
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key,
        )
        self._scratch = Path(tempfile.gettempdir()) / "autorig-incoming"
        self._scratch.mkdir(parents=True, exist_ok=True)

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put_file(self, key: str, path: Path, content_type: str | None = None) -> StoredFile:
        size = Path(path).stat().st_size
        extra = {"ContentType": content_type} if content_type else None
        try:
            # upload_file streams from disk in multipart chunks; never the whole file in memory.
            await asyncio.to_thread(self.client.upload_file, str(path), self.bucket, self._key(key), ExtraArgs=extra)
        finally:
            Path(path).unlink(missing_ok=True)
        return StoredFile(key, size)

    async def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            await asyncio.to_thread(self.client.head_object, Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError:
            return False

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.client.delete_object, Bucket=self.bucket, Key=self._key(key))

    def public_url(self, key: str) -> str:
        return f"{self.public_base}/{self._key(key)}"

    async def download_response(self, key: str, filename: str) -> Response:
        url = await asyncio.to_thread(
            self.client.generate_presigned_url,
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": self._key(key),
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=PRESIGN_SECONDS,
        )
        return RedirectResponse(url, status_code=307)

    def scratch_dir(self) -> Path:
        return self._scratch

    async def fetch(self, key: str, dest: Path) -> None:
        await asyncio.to_thread(self.client.download_file, self.bucket, self._key(key), str(dest))

    async def delete_prefix(self, prefix: str) -> int:
        def _delete() -> int:
            n = 0
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._key(prefix.rstrip("/")) + "/")
            for page in pages:
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
                    n += len(keys)
            return n

        return await asyncio.to_thread(_delete)
