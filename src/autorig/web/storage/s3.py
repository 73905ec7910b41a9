"""S3-compatible storage (AWS, MinIO, R2...) with boto3.

Uploads become public objects under ``S3_PUBLIC_BASE_URL`` (workers fetch them from there);
downloads are short-lived presigned URLs handed out by the backend, which decides who may have
a file (and later charges for it) before redirecting. Presigned URLs use Signature Version 4:
botocore's default for presigning is still V2 for many endpoints, which AWS has retired in new
regions and which SeaweedFS rejects once ``response-content-disposition`` is signed.

A bucket that cannot be reached raises ``StorageUnavailable`` (503) after a few quick retries;
the file being stored is kept, so the caller can try again (progress copies it next cycle).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from starlette.responses import RedirectResponse, Response

from autorig.config import WebSettings
from autorig.web.storage.base import Storage, StorageUnavailable, StoredFile, check_key

PRESIGN_SECONDS = 300
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 60
ATTEMPTS = 3  # botocore "standard" retries, with backoff: a bucket that is down fails in seconds


def _unreachable(exc: Exception) -> bool:
    """Errors that mean the bucket did not answer (as opposed to answering no)."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return True
    if isinstance(exc, ClientError):
        status: int = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status >= 500
    if isinstance(exc, S3UploadFailedError):  # upload_file wraps the cause in its message
        return any(w in str(exc) for w in ("Could not connect", "Connection", "(50", "timed out"))
    return False


class S3Storage(Storage):
    def __init__(self, settings: WebSettings) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = settings.s3_bucket or ""
        self.prefix = settings.s3_prefix.strip("/")
        self.public_base = (settings.s3_public_base_url or "").rstrip("/")
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None,
            config=Config(
                signature_version="s3v4",
                connect_timeout=CONNECT_TIMEOUT_S,
                read_timeout=READ_TIMEOUT_S,
                retries={"mode": "standard", "max_attempts": ATTEMPTS},
            ),
        )
        self.endpoint = settings.s3_endpoint_url or "AWS S3"
        self._scratch = Path(tempfile.gettempdir()) / "autorig-incoming"
        self._scratch.mkdir(parents=True, exist_ok=True)

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def _call(self, what: str, fn: Any, *args: Any, **kw: Any) -> Any:
        """Run a blocking boto3 call in a thread; a bucket that does not answer becomes
        ``StorageUnavailable`` naming the bucket and the endpoint."""
        try:
            return await asyncio.to_thread(fn, *args, **kw)
        except Exception as exc:
            if _unreachable(exc):
                raise StorageUnavailable(
                    f"storage is unavailable: {what} in bucket {self.bucket!r} at {self.endpoint} failed "
                    f"({type(exc).__name__}: {exc}); try again later"
                ) from exc
            raise

    async def put_file(self, key: str, path: Path, content_type: str | None = None) -> StoredFile:
        size = Path(path).stat().st_size
        extra = {"ContentType": content_type} if content_type else None
        # upload_file streams from disk in multipart chunks; never the whole file in memory.
        await self._call(f"storing {key}", self.client.upload_file, str(path), self.bucket, self._key(key), ExtraArgs=extra)
        Path(path).unlink(missing_ok=True)  # only once stored: a failed upload keeps the file
        return StoredFile(key, size)

    async def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            await self._call(f"looking up {key}", self.client.head_object, Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError:
            return False

    async def delete(self, key: str) -> None:
        await self._call(f"deleting {key}", self.client.delete_object, Bucket=self.bucket, Key=self._key(key))

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
        await self._call(f"reading {key}", self.client.download_file, self.bucket, self._key(key), str(dest))

    async def delete_prefix(self, prefix: str) -> int:
        def _delete() -> int:
            n = 0
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix.rstrip("/")) + "/"
            )
            for page in pages:
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
                    n += len(keys)
            return n

        deleted: int = await self._call(f"deleting {prefix}", _delete)
        return deleted
