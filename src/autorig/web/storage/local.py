"""Local directory storage, served by the backend under ``/storage/<key>``."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from starlette.responses import FileResponse, Response

from autorig.web.storage.base import Storage, StoredFile, check_key


class LocalStorage(Storage):
    def __init__(self, root: Path, base_url: str) -> None:
        self.root = Path(root).resolve()
        self.base_url = base_url.rstrip("/")
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / ".incoming").mkdir(exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put_file(self, key: str, path: Path, content_type: str | None = None) -> StoredFile:
        dest = self.path(key)

        def _move() -> int:
            dest.parent.mkdir(parents=True, exist_ok=True)
            size = Path(path).stat().st_size
            try:
                os.replace(path, dest)  # atomic on one file system: readers never see half a file
            except OSError:
                tmp = dest.with_name(dest.name + ".part")
                shutil.copyfile(path, tmp)
                os.replace(tmp, dest)
                Path(path).unlink(missing_ok=True)
            return size

        return StoredFile(key, await asyncio.to_thread(_move))

    async def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    async def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def known_size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except (OSError, ValueError):
            return None

    def public_url(self, key: str) -> str:
        return f"{self.base_url}/{check_key(key)}"

    async def download_response(self, key: str, filename: str) -> Response:
        return FileResponse(self.path(key), filename=filename)

    def scratch_dir(self) -> Path:
        return self.root / ".incoming"

    async def fetch(self, key: str, dest: Path) -> None:
        await asyncio.to_thread(shutil.copyfile, self.path(key), dest)

    async def delete_prefix(self, prefix: str) -> int:
        folder = self.path(prefix.rstrip("/"))

        def _delete() -> int:
            if not folder.is_dir():
                return 0
            n = sum(1 for p in folder.rglob("*") if p.is_file())
            shutil.rmtree(folder, ignore_errors=True)
            return n

        return await asyncio.to_thread(_delete)
