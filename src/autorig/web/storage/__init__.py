"""Where uploads and results live: a local directory served by the backend (default) or an
S3-compatible bucket. Keys are ``/``-separated relative paths, e.g. ``tasks/<id>/out/x.glb``."""

from __future__ import annotations

from autorig.config import WebSettings
from autorig.web.storage.base import Storage, StoredFile
from autorig.web.storage.local import LocalStorage


def make_storage(settings: WebSettings) -> Storage:
    if settings.storage_backend == "s3":
        from autorig.web.storage.s3 import S3Storage

        return S3Storage(settings)
    return LocalStorage(settings.storage_root, f"{settings.base_url}/storage")


__all__ = ["LocalStorage", "Storage", "StoredFile", "make_storage"]
