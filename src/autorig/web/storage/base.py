"""The storage interface."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from starlette.responses import Response

from autorig.web.errors import Unavailable

_KEY = re.compile(r"^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")


def check_key(key: str) -> str:
    """Refuse keys that could leave the storage root (``..``, absolute paths, odd characters)."""
    # Parts never start with a dot: no "..", and the scratch folder (".incoming") is unreachable.
    if not _KEY.match(key) or any(part.startswith(".") for part in key.split("/")):
        raise ValueError(f"bad storage key {key!r}")
    return key


class StorageUnavailable(Unavailable):
    """The storage could not be reached (a bucket that is down): 503, try again later. Nothing
    was stored, and nothing the caller still holds was consumed."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int


class Storage(ABC):
    """Put files in, get public URLs and download responses out."""

    @abstractmethod
    async def put_file(self, key: str, path: Path, content_type: str | None = None) -> StoredFile:
        """Move (local) or upload (S3) the finished file at ``path`` to ``key``; ``path`` is
        consumed once stored (kept when ``StorageUnavailable`` is raised)."""

    @abstractmethod
    async def exists(self, key: str) -> bool: ...

    @abstractmethod
    async def delete(self, key: str) -> None: ...

    @abstractmethod
    def public_url(self, key: str) -> str:
        """A URL anyone (a worker) can GET the object from."""

    @abstractmethod
    async def download_response(self, key: str, filename: str) -> Response:
        """The HTTP response that hands the object to a browser as an attachment."""

    def known_size(self, key: str) -> int | None:
        """The object's size in bytes when it can be told without a request (local files); None
        otherwise. The task page shows it next to each file (issue 7)."""
        return None

    @abstractmethod
    def scratch_dir(self) -> Path:
        """A local directory for files being received, on the same disk as local storage."""

    async def fetch(self, key: str, dest: Path) -> None:
        """Copy the object at ``key`` to the local file ``dest`` (issue 6: the download-all ZIP)."""
        raise NotImplementedError

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix`` (``tasks/<id>/``); how many (issue 6: admin delete)."""
        raise NotImplementedError
